"""An in-process llama.cpp engine for DSPy 3.4's canonical engine interface (``complete(Request) -> Response``).

DSPy keeps its cache, retries, history and callbacks above the engine; this class only turns one
``dspy.lm15.Request`` into one llama.cpp chat completion. llama.cpp contexts are not thread-safe, so calls are
serialized by a lock: concurrency on one CPU model buys nothing anyway, while a vLLM server batches for real.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from dspy.lm15 import Message, Response, TextPart, TokenLogprob, TopLogprob, Usage, response_to_events

_FINISH = {"stop": "stop", "length": "length"}


def request_messages(request: Any) -> list[dict[str, str]]:
    """OpenAI-style chat messages from a ``dspy.lm15.Request`` (system first)."""
    messages = []
    if request.system is not None:
        system = request.system if isinstance(request.system, str) else "".join(p.text for p in request.system)
        messages.append({"role": "system", "content": system})
    for m in request.messages:
        messages.append({"role": m.role, "content": m.text or ""})
    return messages


def completion_to_response(completion: dict[str, Any], model: str) -> Response:
    """Build a ``dspy.lm15.Response`` from a llama.cpp (OpenAI-shaped) chat completion."""
    choice = completion["choices"][0]
    text = (choice.get("message") or {}).get("content") or ""
    usage = completion.get("usage") or {}
    logprobs = None
    content = (choice.get("logprobs") or {}).get("content")
    if content:
        logprobs = tuple(
            TokenLogprob(
                token=item["token"],
                logprob=float(item["logprob"]),
                top=tuple(TopLogprob(token=t["token"], logprob=float(t["logprob"]))
                          for t in item.get("top_logprobs") or ()),
            )
            for item in content
        )
    return Response(
        id=completion.get("id"),
        model=model,
        message=Message.assistant((TextPart(text),)),
        finish_reason=_FINISH.get(choice.get("finish_reason") or "stop", "stop"),
        usage=Usage(input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens")),
        logprobs=logprobs,
    )


class LlamaCppEngine:
    """Runs a GGUF file in-process with llama-cpp-python.

    Example:
        >>> engine = LlamaCppEngine("/path/model.gguf", n_ctx=4096)       # doctest: +SKIP
        >>> lm = dspy.LM("embedded/qwen2.5-coder-1.5b", engine=engine)      # doctest: +SKIP
    """

    def __init__(self, model_path: str | Path, *, n_ctx: int = 4096, n_threads: int | None = None,
                 seed: int = 0, name: str = "embedded"):
        self.model_path = str(model_path)
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.seed = seed
        self.name = name
        self._llama = None
        self._lock = threading.Lock()

    def _load(self):
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ImportError('the embedded model needs llama-cpp-python: pip install -e ".[local]"') from exc
            # logits_all lets a call ask for log-probabilities (the detector reads P(option) from them).
            self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads,
                                seed=self.seed, logits_all=True, verbose=False)
        return self._llama

    def complete(self, request: Any) -> Response:
        cfg = request.config
        kwargs: dict[str, Any] = {
            "temperature": 0.0 if cfg.temperature is None else cfg.temperature,
            "max_tokens": cfg.max_tokens or 512,
            "stop": list(cfg.stop) or None,
        }
        if cfg.top_p is not None:
            kwargs["top_p"] = cfg.top_p
        if cfg.top_k is not None:
            kwargs["top_k"] = cfg.top_k
        if cfg.seed is not None:
            kwargs["seed"] = cfg.seed
        if cfg.logprobs is not None:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = max(cfg.logprobs, 1)
        with self._lock:
            llama = self._load()
            completion = llama.create_chat_completion(messages=request_messages(request), **kwargs)
        return completion_to_response(completion, request.model)

    def stream(self, request: Any):
        return response_to_events(self.complete(request))

    def close(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

    def dump_state(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "n_threads": self.n_threads,
                "seed": self.seed, "name": self.name}

    @classmethod
    def load_state(cls, state: dict[str, Any]) -> LlamaCppEngine:
        return cls(**state)
