import json

import datasets
import pytest

from sdsd_dspy.pipeline.config import ConfigError, RunConfig, load_config
from sdsd_dspy.pipeline.records import preference_record
from sdsd_dspy.pipeline.runner import RunAborted, generate
from sdsd_dspy.pipeline.sampling import make_sample, make_samples
from sdsd_dspy.pipeline.store import DIALOGUES, PREFERENCES, RecordStore
from sdsd_dspy.taskdata import TaskData
from tests.fakes import clean_run_scripts, scripted_lm

TASK = TaskData.load()

VIOLATING_JUDGE = [{"explanation": "bad", "violated": True}, {"explanation": "ok", "violated": False},
                   {"explanation": "ok", "violated": False}, {"explanation": "ok", "violated": False},
                   {"explanation": "fixed", "violated": False}]


def test_sampling_is_deterministic_and_prefix_stable():
    a = make_samples(TASK, seed=5, count=20)
    b = make_samples(TASK, seed=5, count=40)
    assert a == b[:20]
    assert len({s.record_id for s in b}) == 40
    assert make_sample(TASK, 6, 0) != a[0]
    assert all(len(s.principles) == 2 and len({p.id for p in s.principles}) == 2 for s in a)


def _run(tmp_path, scripts, **kw):
    lm, engine = scripted_lm(scripts)
    config = RunConfig(out=tmp_path / "run", **{"records": 2, "max_turns": 2, **kw})
    return generate(config, lm=lm), engine


def test_run_writes_records_dataset_and_manifest(tmp_path):
    result, _ = _run(tmp_path, clean_run_scripts(judge_reply=VIOLATING_JUDGE))
    folder = result.folder
    assert result.written == 2 and result.failed == 0
    ds = datasets.load_from_disk(str(folder / "dataset"))
    assert set(ds) == {"dialogues", "preferences"} and len(ds["dialogues"]) == 2
    row = ds["dialogues"][0]
    assert row["messages"][0]["role"] == "user" and row["is_violation"] is True
    assert {"domain", "subarea", "principles", "goal", "plan", "is_truncated", "verdicts"} <= set(row)
    pref = ds["preferences"][0]
    assert pref["rejected"][0]["role"] == "assistant" and pref["chosen"][0]["content"]
    assert pref["prompt"][-1]["role"] == "user"
    assert (folder / "dialogues.parquet").exists() and (folder / "preferences.parquet").exists()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "finished" and manifest["records_written"] == 2
    assert manifest["stages"]["self_chat"]["prompt_tokens"] > 0 and manifest["stages"]["plan"]["calls"] == 2
    assert "dspy" in manifest["packages"] and manifest["model"]["id"] == "scripted/test-model"
    history = [json.loads(line) for line in (folder / "lm_history.jsonl").read_text().splitlines()]
    assert {h["stage"] for h in history} >= {"plan", "self_chat", "detect", "critique", "revise", "recheck"}
    assert all("api_key" not in json.dumps(h) for h in history)


def test_resume_skips_done_records_and_extends(tmp_path):
    _run(tmp_path, clean_run_scripts())
    result, engine = _run(tmp_path, clean_run_scripts(), records=3)
    assert result.skipped == 2 and result.written == 1
    assert sum(name == "plan_conversation" for name, _ in engine.calls) == 1
    ids = [json.loads(line)["id"] for line in (result.folder / DIALOGUES).read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 3


def test_resume_refuses_changed_settings(tmp_path):
    _run(tmp_path, clean_run_scripts())
    with pytest.raises(ConfigError, match="max_turns"):
        _run(tmp_path, clean_run_scripts(), max_turns=3)


def test_a_failing_record_is_logged_and_the_run_goes_on(tmp_path):
    empty = {"persona": "x", "steps": [], "opening_message": ""}  # the planner asks three times before giving up
    plans = [empty, empty, empty, clean_run_scripts()["plan_conversation"][0]]
    result, _ = _run(tmp_path, clean_run_scripts(plan_conversation=plans))
    assert result.written == 1 and result.failed == 1
    failure = json.loads((result.folder / "failures.jsonl").read_text())
    assert failure["stage"] == "plan" and "opening message" in failure["error"]


def test_an_unreachable_model_aborts_without_losing_anything(tmp_path):
    result, _ = _run(tmp_path, clean_run_scripts(), records=1)  # one good record already written
    scripts = clean_run_scripts(plan_conversation=[ConnectionError("connection refused")])
    lm, _ = scripted_lm(scripts)
    config = RunConfig(out=tmp_path / "run", records=6, max_turns=2)
    with pytest.raises(RunAborted, match="connection refused"):
        generate(config, lm=lm)
    assert len((result.folder / DIALOGUES).read_text().splitlines()) == 1
    assert len((result.folder / "failures.jsonl").read_text().splitlines()) == 3
    assert json.loads((result.folder / "manifest.json").read_text())["status"] == "aborted"


def test_store_repairs_a_torn_tail_and_orphan_preferences(tmp_path):
    result, _ = _run(tmp_path, clean_run_scripts(judge_reply=VIOLATING_JUDGE), records=1)
    folder = result.folder
    good = (folder / DIALOGUES).read_text()
    (folder / DIALOGUES).write_text(good + '{"id": "torn", "ind')
    pref = json.loads((folder / PREFERENCES).read_text())
    orphan = {**pref, "id": "x-r1", "dialogue_id": "never-written"}
    with (folder / PREFERENCES).open("a") as fh:
        fh.write(json.dumps(orphan) + "\n")
    store = RecordStore(folder)
    assert (folder / DIALOGUES).read_text() == good
    assert len(store.done_ids) == 1
    assert [json.loads(x)["id"] for x in (folder / PREFERENCES).read_text().splitlines()] == [pref["id"]]


def test_preference_only_for_a_passing_revision(tmp_path):
    result, _ = _run(tmp_path, clean_run_scripts(judge_reply=VIOLATING_JUDGE[:4] + [
        {"explanation": "still bad", "violated": True}]), records=1, max_revisions=1)
    from sdsd_dspy.types import DialogueRecord
    record = DialogueRecord.model_validate_json((result.folder / DIALOGUES).read_text())
    assert record.revision is not None and not record.revision.passes
    assert preference_record(record) is None
    assert (result.folder / PREFERENCES).read_text() == ""


def test_config_file_and_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("records: 5\nlm: {model: openai/gpt-4o-mini, temperature: 0.2}\n")
    config = load_config(path, {"seed": 3, "lm.api_base": "http://localhost:8000/v1", "max_turns": None})
    assert (config.records, config.seed, config.max_turns) == (5, 3, 3)
    assert config.lm.model == "openai/gpt-4o-mini" and config.lm.api_base.endswith("/v1")
    path.write_text("records: 0\nbogus: 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    assert str(path) in str(err.value) and "records" in str(err.value) and "bogus" in str(err.value)
    path.write_text("[1, 2")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, {})
