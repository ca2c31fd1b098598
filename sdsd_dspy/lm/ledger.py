"""The one place every LM call is accounted for: per-stage tokens and wall time, and the call history file.

Modules mark their stage with ``with stage("plan"):``. When a :class:`Ledger` is active for the current record
(a context variable, so threads and records never mix), the calls made inside are read from the record's own LM
copy, summed per stage and appended to ``lm_history.jsonl``. With no active ledger, ``stage`` costs nothing.
Retries live in ``dspy.LM(num_retries=...)``; caching in DSPy's cache.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dspy

_ACTIVE: contextvars.ContextVar[tuple[Ledger, str] | None] = contextvars.ContextVar("sdsd_ledger", default=None)


def _usage_tokens(entry: dict[str, Any]) -> tuple[int, int]:
    usage = entry.get("usage") or {}
    prompt = usage.get("prompt_tokens", usage.get("input_tokens")) or 0
    completion = usage.get("completion_tokens", usage.get("output_tokens")) or 0
    return int(prompt), int(completion)


def history_row(entry: dict[str, Any], *, record_id: str, stage_name: str) -> dict[str, Any]:
    """A JSON-safe row of an LM history entry (messages, outputs, usage), with no client settings or keys."""
    prompt_tokens, completion_tokens = _usage_tokens(entry)
    outputs = [o if isinstance(o, (str, dict)) else str(o) for o in entry.get("outputs") or []]
    return {
        "record_id": record_id,
        "stage": stage_name,
        "model": entry.get("model"),
        "timestamp": entry.get("timestamp"),
        "messages": entry.get("messages"),
        "outputs": [{k: v for k, v in o.items() if k != "logprobs"} if isinstance(o, dict) else o for o in outputs],
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        # DSPy answers a cached call with no usage at all: nothing was computed
        "cache_hit": (bool(getattr(entry.get("response"), "cache_hit", False))
                      or not (prompt_tokens or completion_tokens)),
    }


class Ledger:
    """Sums tokens, calls and seconds per stage across a run, and writes the LM call history."""

    def __init__(self, history_path: Path | None = None):
        self.history_path = history_path
        self._lock = threading.Lock()
        self.stages: dict[str, dict[str, float]] = defaultdict(
            lambda: {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "seconds": 0.0, "cache_hits": 0})

    @contextmanager
    def record(self, record_id: str) -> Iterator[None]:
        token = _ACTIVE.set((self, record_id))
        try:
            yield
        finally:
            _ACTIVE.reset(token)

    def add(self, record_id: str, stage_name: str, entries: list[dict[str, Any]], seconds: float) -> None:
        rows = [history_row(e, record_id=record_id, stage_name=stage_name) for e in entries]
        with self._lock:
            s = self.stages[stage_name]
            s["seconds"] += seconds
            for r in rows:
                s["calls"] += 1
                s["prompt_tokens"] += r["prompt_tokens"]
                s["completion_tokens"] += r["completion_tokens"]
                s["cache_hits"] += int(r["cache_hit"])
            if self.history_path and rows:
                with self.history_path.open("a", encoding="utf-8") as fh:
                    for r in rows:
                        fh.write(json.dumps(r, ensure_ascii=False, default=str) + "\n")

    def summary(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {k: {**v, "seconds": round(v["seconds"], 3)} for k, v in self.stages.items()}


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Attribute the LM calls made inside to pipeline stage ``name``."""
    active = _ACTIVE.get()
    lm = dspy.settings.lm
    if active is None or lm is None:
        yield
        return
    ledger, record_id = active
    start, t0 = len(lm.history), time.perf_counter()
    try:
        yield
    finally:
        ledger.add(record_id, name, list(lm.history[start:]), time.perf_counter() - t0)
