"""Scoring a given reply: the log-probability a model gives each token of a continuation, through ``dspy.LM``.

Generation is what DSPy calls models for; the contrast judge instead asks how likely an existing reply is, said
by an assistant with one instruction or another. A backend that can score (the embedded llama.cpp engine:
``LlamaCppEngine.score_continuation``) is asked directly; the result is cached in DSPy's cache under a key that
names the model, and the call is written to the LM's history so the ledger and the eval reports count its
tokens like any other call. Backends that cannot score return ``None`` and the caller falls back.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import dspy


def can_score(lm: Any) -> bool:
    """Whether ``lm`` (a ``dspy.LM``) can score a continuation."""
    return callable(getattr(getattr(lm, "engine", None), "score_continuation", None))


def continuation_logprobs(messages: list[dict[str, str]], continuation: str, lm: Any = None) -> list[float] | None:
    """Per-token log-probabilities of ``continuation`` as the assistant's next message after ``messages``.

    Returns ``None`` when the LM's backend cannot score. Example:
        >>> continuation_logprobs([{"role": "user", "content": "2+2?"}], "4.")     # doctest: +SKIP
        [-0.26, -0.01, -0.0001]
    """
    lm = lm or dspy.settings.lm
    if lm is None or not can_score(lm):
        return None
    key = {"sdsd_score_continuation": 1, "model": lm.model, "messages": messages, "continuation": continuation}
    use_cache = bool(getattr(lm, "cache", False))
    cached = dspy.cache.get(key) if use_cache else None
    started = time.time()
    if cached is not None:
        logprobs, usage = list(cached), {}
    else:
        logprobs, tokens = lm.engine.score_continuation(messages, continuation)
        usage = {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens}
        if use_cache:
            dspy.cache.put(key, list(logprobs))
    lm.update_history({
        "model": lm.model, "messages": [*messages, {"role": "assistant", "content": continuation}],
        "kwargs": {"score_continuation": True}, "outputs": [], "usage": usage, "cost": None,
        "timestamp": started, "uuid": str(uuid.uuid4()), "model_type": "score",
        "response": None,  # a cached score has no usage, which is how the ledger and eval count cache hits
    })
    return logprobs
