"""A few tests on the real embedded model (marked ``embedded``; CI runs them). They need the [local] extra."""

import dspy
import pytest

from sdsd_dspy.lm.factory import LMConfig, build_lm

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def lm():
    pytest.importorskip("llama_cpp")
    lm, info = build_lm(LMConfig(temperature=0.0, max_tokens=64, cache=False))
    assert info.sha256 and info.file.endswith(".gguf")
    return lm


def test_engine_answers_and_reports_usage_and_logprobs(lm):
    from dspy.lm15 import Config, Message, Request
    response = lm(Request(model=lm.model, messages=(Message.user("Reply with the single word: yes"),),
                          config=Config(max_tokens=3, temperature=0.0, logprobs=3)))
    assert "yes" in response.text.lower()
    assert response.usage.input_tokens > 0 and response.usage.output_tokens >= 1
    top = response.logprobs[0].top
    assert len(top) == 3 and top[0].logprob >= top[1].logprob


def test_probe_reads_a_probability(lm):
    from sdsd_dspy.detection import LabeledDetector, to_dspy_examples
    from sdsd_dspy.labeled import load_labeled
    from sdsd_dspy.modules.judges import DetectorSettings
    from sdsd_dspy.taskdata import TaskData
    [ex] = to_dspy_examples(load_labeled("evals/detector/test.jsonl")[:1], TaskData.load())
    with dspy.context(lm=lm):
        out = LabeledDetector(DetectorSettings(strategy="probe"))(**ex.inputs())
    assert 0.0 < out.p_violation < 1.0  # a real distribution, not a parsed letter


def test_engine_scores_a_given_reply_and_keeps_its_cache_consistent(lm):
    from sdsd_dspy.lm.scoring import continuation_logprobs
    messages = [{"role": "system", "content": "You are a careful assistant."},
                {"role": "user", "content": "What is 2+2? Answer with the equation."}]
    with dspy.context(lm=lm):
        right = continuation_logprobs(messages, "2 + 2 = 4.")
        wrong = continuation_logprobs(messages, "2 + 2 = 5.")
        again = continuation_logprobs(messages, "2 + 2 = 4.")  # reuses the evaluated prefix
    assert len(right) == len(wrong) >= 5 and all(x <= 0 for x in right)
    assert sum(right) > sum(wrong) + 3
    assert again == pytest.approx(right, abs=1e-3)
    # generation after scoring still sees a clean context
    from dspy.lm15 import Config, Message, Request
    response = lm(Request(model=lm.model, system=messages[0]["content"],
                          messages=(Message.user(messages[1]["content"]),),
                          config=Config(max_tokens=12, temperature=0.0)))
    assert "4" in response.text


def test_one_full_record(lm, tmp_path):
    from sdsd_dspy.pipeline.config import RunConfig
    from sdsd_dspy.pipeline.runner import generate
    gen_lm = lm.copy(temperature=0.7, max_tokens=256)  # what run uses: a shorter limit truncates plans
    config = RunConfig(records=1, out=tmp_path / "run", max_turns=2, principles_per_dialogue=1, max_revisions=1)
    result = generate(config, lm=gen_lm)
    assert result.written == 1, (tmp_path / "run" / "failures.jsonl").read_text()
    import datasets
    row = datasets.load_from_disk(str(tmp_path / "run" / "dataset"))["dialogues"][0]
    assert row["messages"][0]["role"] == "user" and row["messages"][-1]["role"] == "assistant"
    assert row["plan"]["opening_message"] and row["verdicts"]
    assert all(v["turn_index"] < len(row["messages"]) for v in row["verdicts"])
    stages = result.stages
    assert stages["plan"]["calls"] >= 1 and stages["self_chat"]["completion_tokens"] > 0
