"""Build a ``dspy.LM`` from ``--lm``: the embedded model, any litellm model string, or a vLLM server."""

from __future__ import annotations

from typing import Any

import dspy
from pydantic import BaseModel, ConfigDict, Field

from sdsd_dspy.lm.embedded import QWEN_CODER_1_5B, ensure_model

EMBEDDED = "embedded"


class LMConfig(BaseModel):
    """Which model answers, and how it samples.

    ``model`` is ``embedded`` (the verified local GGUF through llama.cpp) or any litellm model string:
    ``openai/gpt-4o-mini``, ``anthropic/claude-...``, ``hosted_vllm/Qwen/Qwen2.5-7B-Instruct`` with ``api_base``.
    API keys come from the environment (``OPENAI_API_KEY`` …) and are never written anywhere.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = EMBEDDED
    api_base: str | None = None
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=256, ge=1)
    num_retries: int = Field(default=3, ge=0)
    cache: bool = True
    n_ctx: int = Field(default=4096, ge=512, description="embedded model only: context length")
    n_threads: int | None = Field(default=None, description="embedded model only: CPU threads (all by default)")


class ModelInfo(BaseModel):
    """What the manifest records about the model (never a key)."""

    id: str
    api_base: str | None = None
    file: str | None = None
    sha256: str | None = None


def build_lm(config: LMConfig) -> tuple[dspy.LM, ModelInfo]:
    """The LM and what to record about it. The embedded model is assembled and verified first if needed."""
    common: dict[str, Any] = dict(temperature=config.temperature, max_tokens=config.max_tokens,
                                  num_retries=config.num_retries, cache=config.cache)
    if config.model in (EMBEDDED, f"{EMBEDDED}/{QWEN_CODER_1_5B.name}"):
        from sdsd_dspy.lm.llama_engine import LlamaCppEngine

        path = ensure_model(QWEN_CODER_1_5B)
        engine = LlamaCppEngine(path, n_ctx=config.n_ctx, n_threads=config.n_threads)
        model_id = f"{EMBEDDED}/{QWEN_CODER_1_5B.name}"
        lm = dspy.LM(model_id, engine=engine, **common)
        return lm, ModelInfo(id=model_id, file=str(path), sha256=QWEN_CODER_1_5B.sha256)
    if config.api_base:
        common["api_base"] = config.api_base
    lm = dspy.LM(config.model, **common)
    return lm, ModelInfo(id=config.model, api_base=config.api_base)
