"""LM settings for retrying a generation step."""

from __future__ import annotations

from typing import Any


def rollout_config(attempt: int) -> dict[str, Any]:
    """Call config for try ``attempt`` (from 1): the first is a plain call; each retry is its own DSPy rollout (a
    new cache entry) with its own sampling seed.

    The seed matters as much as the cache key: a local sampler starts every process from the same seed, so
    without one a retry computed in a new process can reproduce, word for word, the cached first try that an
    earlier process computed from that same starting seed.

    >>> rollout_config(1), rollout_config(3)
    ({}, {'rollout_id': 3, 'seed': 3})
    """
    return {} if attempt <= 1 else {"rollout_id": attempt, "seed": attempt}
