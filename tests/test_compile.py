import json

import pytest

from sdsd_dspy import artifacts, run
from sdsd_dspy import compile as compile_cli
from sdsd_dspy import eval as eval_cli
from sdsd_dspy.lm.factory import ModelInfo
from sdsd_dspy.tuning.recipe import RecipeError, load_recipe
from tests.fakes import scripted_lm


@pytest.fixture
def scripted(monkeypatch, tmp_path):
    """Every CLI builds this scripted LM instead of the embedded model; artifacts go to a temp folder."""
    monkeypatch.setenv("SDSD_ARTIFACTS", str(tmp_path / "artifacts"))
    answers = [{"answer": "B"}, {"answer": "A"}, {"answer": "A"}, {"answer": "B"}, {"answer": "B"}]
    scripts = {"check_reply": answers * 200, "judge_reply": [{"explanation": "x", "violated": False}],
               "self_tag": [{"breaks_rule": True}]}

    def fake_build(config):
        lm, _ = scripted_lm(scripts)
        return lm, ModelInfo(id="scripted/test-model")

    import sdsd_dspy.lm.factory as factory
    monkeypatch.setattr(factory, "build_lm", fake_build)
    return tmp_path


def _recipe(tmp_path, **fields):
    base = {"name": "t", "optimizer": "calibrate", "detector": {"strategy": "probe"},
            "train_limit": 6, "dev_limit": 6}
    path = tmp_path / "recipe.yaml"
    import yaml
    path.write_text(yaml.safe_dump({**base, **fields}))
    return path


def test_shipped_recipes_are_valid():
    from pathlib import Path
    recipes = {load_recipe(p).optimizer for p in Path("optimizers").glob("*.yaml")}
    assert {"mipro", "gepa", "bootstrap_rs", "simba", "optuna"} <= recipes


def test_bad_recipe_names_file_and_field(tmp_path):
    path = _recipe(tmp_path, optimizer="annealing")
    with pytest.raises(RecipeError) as err:
        load_recipe(path)
    assert str(path) in str(err.value) and "optimizer" in str(err.value)


def test_calibrate_compile_saves_a_version_that_eval_and_run_load(scripted, capsys):
    path = _recipe(scripted)
    assert compile_cli.main(["--recipe", str(path), "--name", "v1", "--scores", "dev"]) == 0
    folder = artifacts.programs_dir() / "v1"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["parent"] == "seed" and manifest["scores"]["dev"]["n"] == 6
    assert manifest["compile"]["calls"] > 0 and manifest["model"]["id"] == "scripted/test-model"
    assert "threshold" in manifest["calibration"]
    # the seed had no dev score: it was measured, and the default moved only if v1 beat it on dev
    comparison = manifest["default_comparison"]
    assert comparison["default"] == "seed" and 0.0 <= comparison["default_dev_accuracy"] <= 1.0
    beat = comparison["dev_accuracy"] > comparison["default_dev_accuracy"]
    assert artifacts.resolve_version("default") == ("v1" if beat else "seed")
    assert compile_cli.main(["--recipe", str(path), "--name", "v1b", "--scores", "dev", "--make-default"]) == 0
    assert artifacts.resolve_version("default") == "v1b"
    state = json.loads((folder / "program.json").read_text())
    assert state["detector.settings"]["strategy"] == "probe"
    # eval loads it by name and writes its report next to it
    assert eval_cli.main(["--labeled", "evals/detector/dev.jsonl", "--program", "v1", "--limit", "5"]) == 0
    report = json.loads((folder / "evals" / "dev-n5.json").read_text())
    assert report["n"] == 5 and report["detector_settings"]["strategy"] == "probe"
    assert set(report["confusion"]) == {"tp", "fp", "tn", "fn"} and "per_principle" in report
    # --no-default never moves it
    assert compile_cli.main(["--recipe", str(path), "--name", "v2", "--scores", "dev", "--no-default"]) == 0
    assert artifacts.resolve_version("default") == "v1b"
    with pytest.raises(FileExistsError):
        artifacts.save_version(__import__("sdsd_dspy.program").program.SDSDProgram(), "v1", {})


def test_optuna_study_is_stored_and_resumable(scripted):
    path = _recipe(scripted, optimizer="optuna", budget={"n_trials": 2},
                   search_space={"context": ["none", "all"], "n_demos": [0, 2]})
    assert compile_cli.main(["--recipe", str(path), "--name", "o1", "--scores", ""]) == 0
    import optuna
    storage = f"sqlite:///{scripted / 'artifacts' / 'optuna' / 't.db'}"
    study = optuna.load_study(study_name="t", storage=storage)
    assert len(study.trials) == 2
    manifest = json.loads((artifacts.programs_dir() / "o1" / "manifest.json").read_text())
    assert manifest["optuna"]["trials"] == 2 and set(manifest["optuna"]["best_params"]) >= {"context", "n_demos"}
    # resuming with a bigger budget runs only the missing trials
    assert compile_cli.main(["--recipe", str(path), "--name", "o2", "--scores", "", "--budget", "1.5"]) == 0
    assert len(optuna.load_study(study_name="t", storage=storage).trials) == 3


def test_bootstrap_compile_runs(scripted):
    path = _recipe(scripted, optimizer="bootstrap_rs", budget={"num_candidate_programs": 1},
                   params={"max_bootstrapped_demos": 1, "max_labeled_demos": 0})
    assert compile_cli.main(["--recipe", str(path), "--name", "b1", "--scores", ""]) == 0
    assert (artifacts.programs_dir() / "b1" / "program.json").exists()


def test_eval_bad_labeled_file_is_exit_2(scripted, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1"}\n')
    assert eval_cli.main(["--labeled", str(bad)]) == 2
    assert f"{bad}:1" in capsys.readouterr().err


def test_run_uses_a_compiled_version(scripted, tmp_path, monkeypatch):
    path = _recipe(scripted)
    assert compile_cli.main(["--recipe", str(path), "--name", "v1", "--scores", ""]) == 0
    from sdsd_dspy.pipeline.config import RunConfig
    from sdsd_dspy.pipeline.runner import build_program
    program, version = build_program(RunConfig(program="v1"))
    assert version == "v1" and program.detector.settings.strategy == "probe"
    assert run.main(["--program", "nope", "--out", str(tmp_path / "o")]) == 2


def test_shipped_versions_load_into_the_current_program(monkeypatch):
    from pathlib import Path

    from sdsd_dspy.program import SDSDProgram
    monkeypatch.setenv("SDSD_ARTIFACTS", str(Path("artifacts").resolve()))
    for version in artifacts.list_versions():
        program = SDSDProgram()
        assert artifacts.load_into(program, version) == version
        manifest = json.loads((artifacts.programs_dir() / version / "manifest.json").read_text())
        # settings added after a version was saved take their defaults; every saved one loads as saved
        saved = manifest["detector_settings"]
        assert {k: v for k, v in program.detector.settings.dump_state().items() if k in saved} == saved
        assert {"train", "dev", "test"} <= set(manifest["scores"])


def test_a_version_saved_by_an_older_program_still_loads(scripted, caplog):
    from sdsd_dspy.program import SDSDProgram
    program = SDSDProgram()
    program.detector.settings.threshold = 0.42
    folder = artifacts.save_version(program, "old", {"model": {"id": "x"}})
    state = json.loads((folder / "program.json").read_text())
    del state["self_chat.assistant_tagged"]
    (folder / "program.json").write_text(json.dumps(state))
    fresh = SDSDProgram()
    assert artifacts.load_into(fresh, "old") == "old"
    assert fresh.detector.settings.threshold == 0.42 and "self_chat.assistant_tagged" in caplog.text
    assert artifacts.compiled_for("old") == "x" and artifacts.compiled_for("seed") is None


def test_report_compares_eval_reports(scripted, capsys):
    from sdsd_dspy import report
    assert report.main([]) == 1
    assert eval_cli.main(["--labeled", "evals/detector/dev.jsonl", "--program", "seed", "--limit", "3"]) == 0
    assert eval_cli.main(["--labeled", "evals/detector/dev.jsonl", "--program", "seed", "--limit", "3",
                          "--strategy", "inline"]) == 0
    out = scripted / "cmp.md"
    assert report.main(["--out", str(out)]) == 0
    text = out.read_text()
    assert "| seed | predict | dev.jsonl |" in text and "| seed | inline | dev.jsonl |" in text


def test_optuna_study_over_the_contrast_judge_saves_its_framing_texts(monkeypatch, tmp_path):
    monkeypatch.setenv("SDSD_ARTIFACTS", str(tmp_path / "artifacts"))
    import sdsd_dspy.lm.factory as factory
    from tests.fakes import scoring_lm
    monkeypatch.setattr(factory, "build_lm", lambda config: (scoring_lm()[0], ModelInfo(id="scripted/scoring")))
    path = _recipe(tmp_path, optimizer="optuna", budget={"n_trials": 3}, detector={"strategy": "contrast"},
                   search_space={"strategy": ["contrast"], "framings": ["careful", "careful+behaviour"],
                                 "aggregate": ["sum", "mean"]})
    assert compile_cli.main(["--recipe", str(path), "--name", "c1", "--scores", "dev"]) == 0
    manifest = json.loads((artifacts.programs_dir() / "c1" / "manifest.json").read_text())
    # only the contrast space is searched (no probe questions or demos), and the threshold is calibrated
    assert set(manifest["optuna"]["best_params"]) == {"strategy", "framings", "aggregate"}
    settings = manifest["detector_settings"]
    assert settings["strategy"] == "contrast" and "threshold" in manifest["calibration"]
    assert set(settings["instructions"]) == set(settings["framings"])
    assert all({"follows", "breaks"} == set(v) for v in settings["instructions"].values())
    assert manifest["scores"]["dev"]["n"] == 6
