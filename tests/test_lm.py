import json
import sys

import dspy
import pytest
from dspy.lm15 import Config, Message, Request

from sdsd_dspy.lm import embedded
from sdsd_dspy.lm.embedded import EmbeddedModelError, EmbeddedModelSpec, ensure_model, part_files, sha256_file
from sdsd_dspy.lm.factory import LMConfig, build_lm
from sdsd_dspy.lm.ledger import Ledger, history_row, stage
from sdsd_dspy.lm.llama_engine import completion_to_response, request_messages
from tests.fakes import clean_run_scripts, scripted_lm


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Three importable part packages holding a tiny 'model'."""
    blobs = [b"GGUF-part-one|", b"part-two|", b"part-three"]
    for i, blob in enumerate(blobs, 1):
        pkg = tmp_path / "site" / f"fakemodel_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(blob)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    whole = b"".join(blobs)
    import hashlib
    spec = EmbeddedModelSpec(name="fake", package_prefix="fakemodel-part", parts=3, version="0.0.1",
                             sha256=hashlib.sha256(whole).hexdigest(), size=len(whole), filename="fake.gguf")
    return spec, whole


def test_assembles_verifies_and_stamps(fake_parts, tmp_path, monkeypatch):
    spec, whole = fake_parts
    path = ensure_model(spec, tmp_path / "cache")
    assert path.read_bytes() == whole and sha256_file(path) == spec.sha256
    assert json.loads(path.with_suffix(".gguf.verified.json").read_text())["sha256"] == spec.sha256
    calls = []
    monkeypatch.setattr(embedded, "sha256_file", lambda p: calls.append(p) or spec.sha256)
    assert ensure_model(spec, tmp_path / "cache") == path and calls == []  # stamp matches: no re-hash


def test_a_changed_file_is_rehashed_and_rejected(fake_parts, tmp_path):
    spec, whole = fake_parts
    path = ensure_model(spec, tmp_path / "cache")
    path.write_bytes(whole[:-1] + b"X")
    with pytest.raises(EmbeddedModelError, match="sha256 .* does not match"):
        ensure_model(spec, tmp_path / "cache")


def test_wrong_hash_leaves_no_file(fake_parts, tmp_path):
    spec, _ = fake_parts
    bad = EmbeddedModelSpec(**{**spec.__dict__, "sha256": "0" * 64})
    with pytest.raises(EmbeddedModelError, match="does not match"):
        ensure_model(bad, tmp_path / "cache")
    assert not any((tmp_path / "cache").iterdir())


def test_missing_parts_name_the_packages_and_the_fix():
    spec = EmbeddedModelSpec(name="nope", package_prefix="no-such-model-part", parts=2, version="1.0",
                             sha256="0" * 64, size=1, filename="x.gguf")
    with pytest.raises(EmbeddedModelError) as err:
        part_files(spec)
    assert "no-such-model-part1" in str(err.value) and "pip install" in str(err.value)


def test_request_messages_and_response_with_logprobs():
    request = Request(model="m", system="sys", messages=(Message.user("hi"),), config=Config(logprobs=2))
    assert request_messages(request) == [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]
    completion = {"id": "c1", "choices": [{"message": {"content": "B"}, "finish_reason": "stop", "logprobs": {
        "content": [{"token": "B", "logprob": -0.1, "top_logprobs": [{"token": "B", "logprob": -0.1},
                                                                    {"token": "A", "logprob": -2.4}]}]}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 1}}
    response = completion_to_response(completion, "m")
    assert response.text == "B" and response.usage.input_tokens == 12 and response.usage.total_tokens == 13
    assert [t.token for t in response.logprobs[0].top] == ["B", "A"]
    assert completion_to_response({"choices": [{"message": {"content": "x"}, "finish_reason": "length"}]},
                                  "m").finish_reason == "length"


def test_build_lm_for_api_models_keeps_no_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    lm, info = build_lm(LMConfig(model="hosted_vllm/Qwen/Qwen2.5-7B-Instruct", api_base="http://localhost:8000/v1"))
    assert lm.model == "hosted_vllm/Qwen/Qwen2.5-7B-Instruct" and lm.kwargs["api_base"].endswith("/v1")
    assert "sk-secret" not in info.model_dump_json()


def test_ledger_attributes_calls_to_stages(tmp_path):
    lm, _ = scripted_lm(clean_run_scripts())
    ledger = Ledger(tmp_path / "h.jsonl")
    from sdsd_dspy.modules import Critic
    from sdsd_dspy.taskdata import TaskData
    p = TaskData.load().principles[0]
    with dspy.context(lm=lm.copy()), ledger.record("r1"):
        Critic()(principles=[p], context=[], reply="x")
        with stage("custom"):
            pass
    summary = ledger.summary()
    assert summary["critique"]["calls"] == 1 and summary["critique"]["prompt_tokens"] == 100
    row = json.loads((tmp_path / "h.jsonl").read_text())
    assert row["record_id"] == "r1" and row["stage"] == "critique" and row["messages"]
    # outside a ledger, stage() is a no-op
    with dspy.context(lm=lm), stage("x"):
        Critic()(principles=[p], context=[], reply="x")
    assert "x" not in ledger.summary()
    assert history_row({"usage": {"input_tokens": 3, "output_tokens": 4}}, record_id="a", stage_name="b")[
        "completion_tokens"] == 4


def test_check_cli_reports_missing_parts(monkeypatch, capsys):
    from sdsd_dspy.lm import check
    spec = EmbeddedModelSpec(name="nope", package_prefix="no-such-model-part", parts=1, version="1",
                             sha256="0" * 64, size=1, filename="x.gguf")
    monkeypatch.setattr(check, "QWEN_CODER_1_5B", spec)
    monkeypatch.setattr(check, "ensure_model", lambda s: part_files(s))
    assert check.main() == 2 and "no-such-model-part1" in capsys.readouterr().err
    assert sys.modules["sdsd_dspy.lm.check"] is check
