import json

import datasets

from sdsd_dspy import run
from sdsd_dspy.lm.factory import ModelInfo
from sdsd_dspy.pipeline import runner
from tests.fakes import clean_run_scripts, scripted_lm


def test_run_cli_in_process(tmp_path, monkeypatch, capsys):
    lm, _ = scripted_lm(clean_run_scripts())
    seen = {}

    def fake_build(config):
        seen["config"] = config
        return lm, ModelInfo(id="scripted/test-model")

    monkeypatch.setattr(runner, "build_lm", fake_build)
    out = tmp_path / "run"
    code = run.main(["--records", "2", "--seed", "4", "--out", str(out), "--max-turns", "2",
                     "--temperature", "0.3", "--lm", "openai/gpt-4o-mini", "--concurrency", "2"])
    assert code == 0
    assert seen["config"].temperature == 0.3 and seen["config"].model == "openai/gpt-4o-mini"
    assert len(datasets.load_from_disk(str(out / "dataset"))["dialogues"]) == 2
    assert json.loads((out / "config.json").read_text())["resolved"]["seed"] == 4
    assert "wrote 2 records" in capsys.readouterr().err


def test_run_cli_bad_config_is_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_turns: zero\n")
    assert run.main(["--config", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "max_turns" in err


def test_run_cli_unknown_program_version(tmp_path, capsys):
    assert run.main(["--program", "nope-v9", "--out", str(tmp_path / "o")]) == 2
    assert "nope-v9" in capsys.readouterr().err
