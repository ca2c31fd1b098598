import json

import dspy
import pytest

from sdsd_dspy.detection import (
    LabeledDetector,
    best_threshold,
    detection_metric,
    evaluate,
    principle_of,
    roc_auc,
    to_dspy_examples,
)
from sdsd_dspy.labeled import LabeledExample, LabeledFileError, load_labeled
from sdsd_dspy.modules.judges import DetectorSettings, context_text, option_probability
from sdsd_dspy.taskdata import TaskData
from sdsd_dspy.types import Turn
from tests.fakes import scripted_lm

TASK = TaskData.load()
GOOD = {"id": "x1", "principle": "Be nice.", "dialogue": [{"role": "user", "content": "hi"},
                                                          {"role": "assistant", "content": "go away"}],
        "violation": True, "extra": "kept"}


def _file(tmp_path, rows):
    path = tmp_path / "set.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_labeled_format_reads_and_keeps_extra_fields(tmp_path):
    [ex] = load_labeled(_file(tmp_path, [GOOD]))
    assert ex.reply == "go away" and ex.context[0].content == "hi" and ex.model_extra == {"extra": "kept"}


def test_judged_message_is_the_last_assistant_one():
    ex = LabeledExample.model_validate({**GOOD, "dialogue": GOOD["dialogue"] + [{"role": "user", "content": "?"}]})
    assert ex.judged_index == 1 and ex.reply == "go away"


@pytest.mark.parametrize("row, problem", [
    ('{"id": "x", ', "invalid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ({k: v for k, v in GOOD.items() if k != "principle"}, "principle: missing"),
    ({**GOOD, "violation": "yes"}, "violation"),
    ({**GOOD, "dialogue": [{"role": "user", "content": "hi"}]}, "no assistant message"),
    ({**GOOD, "dialogue": [{"role": "bot", "content": "hi"}]}, "role"),
    ({**GOOD, "id": 3}, "id"),
])
def test_a_bad_line_names_file_and_line(tmp_path, row, problem):
    path = _file(tmp_path, [GOOD | {"id": "ok"}, row])
    with pytest.raises(LabeledFileError) as err:
        load_labeled(path)
    assert f"{path}:2:" in str(err.value) and problem in str(err.value)


def test_duplicate_ids_and_empty_files(tmp_path):
    with pytest.raises(LabeledFileError, match="duplicate id 'x1'"):
        load_labeled(_file(tmp_path, [GOOD, GOOD]))
    with pytest.raises(LabeledFileError, match="no examples"):
        load_labeled(_file(tmp_path, [""]))


def test_shipped_sets_meet_the_spec():
    sets = {name: load_labeled(f"evals/detector/{name}.jsonl") for name in ("train", "dev", "test")}
    everything = [e for s in sets.values() for e in s]
    assert len(everything) >= 240 and len(sets["test"]) >= 80
    assert len({e.principle_id for e in everything}) >= 30
    assert abs(sum(e.violation for e in everything) / len(everything) - 0.5) < 0.02
    assert all(e.rationale for e in everything)
    assert all(1 <= len(e.dialogue) <= 8 for e in everything)
    from sdsd_dspy.labels import find_duplicates
    assert find_duplicates({k: v for k, v in sets.items()}) == []
    # every shipped example's principle resolves to ours, with a check question
    assert all(principle_of(e, TASK).check for e in everything)


def test_option_probability_reads_the_answer_token():
    logprobs = {"content": [
        {"token": "[[", "logprob": 0.0, "top_logprobs": []},
        {"token": " ]]\n", "logprob": -0.1, "top_logprobs": [{"token": "A", "logprob": -3.0}]},
        {"token": "B", "logprob": -0.2, "top_logprobs": [
            {"token": "B", "logprob": -0.2}, {"token": "A", "logprob": -1.8}, {"token": "C", "logprob": -4.0}]}]}
    p = option_probability(logprobs, ("A", "B"), yes_letter="B")
    assert p == pytest.approx(0.832, abs=1e-3)
    assert option_probability(logprobs, ("A", "B"), yes_letter="A") == pytest.approx(1 - p)
    assert option_probability({"content": [{"token": "Sure", "logprob": 0.0}]}, ("A", "B"), "B") is None
    assert option_probability(None, ("A", "B"), "B") is None


def test_context_modes():
    turns = [Turn(role="user", content="u1"), Turn(role="assistant", content="a1"), Turn(role="user", content="u2")]
    assert context_text(turns, "none") == "(not shown)"
    assert context_text(turns, "last_user") == "User: u2"
    assert context_text(turns, "all").count("\n\n") == 2
    assert DetectorSettings(yes_letter="A").options() == "A) Yes   B) No"


def test_metric_scores_and_feedback():
    gold = dspy.Example(violation=True, principle_id="harm.x", rationale="It gives the steps.")
    assert detection_metric(gold, dspy.Prediction(violated=True)) == 1.0
    assert detection_metric(gold, dspy.Prediction(violated=False), None) == 0.0
    fb = detection_metric(gold, dspy.Prediction(violated=False, p_violation=0.2), None, "judge", None)
    assert fb.score == 0.0 and "gives the steps" in fb.feedback and "0.20" in fb.feedback


def test_auc_and_threshold():
    labels, scores = [True, True, False, False], [0.9, 0.4, 0.3, 0.1]
    assert roc_auc(labels, scores) == 1.0 and roc_auc([True], [0.2]) is None
    t, acc = best_threshold(labels, scores)
    assert acc == 1.0 and 0.3 < t <= 0.4


def test_probe_detector_through_the_engine_and_settings_round_trip(tmp_path):
    ex = to_dspy_examples(load_labeled("evals/detector/dev.jsonl")[:3], TASK)
    lm, engine = scripted_lm({"check_reply": [{"answer": "B"}, {"answer": "A"}, {"answer": "B"}]})
    program = LabeledDetector(DetectorSettings(strategy="probe", context="all", threshold=0.5))
    report, rows = evaluate(program, ex, lm)
    assert [r["pred"] for r in rows] == [True, False, True]  # no logprobs from the fake: the letter decides
    assert report["n"] == 3 and rows[0]["prompt_tokens"] == 100
    assert ex[0].principle.check in engine.calls[0][1][-1]["content"]
    program.detector.settings.threshold = 0.37
    path = tmp_path / "p.json"
    program.save(str(path))
    fresh = LabeledDetector()
    fresh.load(str(path))
    assert fresh.detector.settings.threshold == 0.37 and fresh.detector.settings.strategy == "probe"
    assert fresh.detector.probe.settings is fresh.detector.settings


def test_predict_and_inline_strategies_vote():
    ex = to_dspy_examples(load_labeled("evals/detector/dev.jsonl")[:1], TASK)
    lm, _ = scripted_lm({"judge_reply": [{"explanation": "x", "violated": True},
                                         {"explanation": "x", "violated": False},
                                         {"explanation": "x", "violated": True}],
                         "self_tag": [{"breaks_rule": False}]})
    with dspy.context(lm=lm):
        voted = LabeledDetector(DetectorSettings(strategy="predict", samples=3, temperature=0.7))(**ex[0].inputs())
        inline = LabeledDetector(DetectorSettings(strategy="inline"))(**ex[0].inputs())
    assert voted.violated and voted.p_violation == pytest.approx(2 / 3)
    assert not inline.violated


def test_custom_principles_fall_back_to_the_generic_question():
    ex = LabeledExample.model_validate({**GOOD, "principle_id": "harm.weapons"})
    p = principle_of(ex, TASK)  # text differs from ours: not our principle
    assert p.text == "Be nice." and p.check is None
