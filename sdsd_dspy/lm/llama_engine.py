"""An in-process llama.cpp engine for DSPy 3.4's canonical engine interface (``complete(Request) -> Response``).

DSPy keeps its cache, retries, history and callbacks above the engine; this class only turns one
``dspy.lm15.Request`` into one llama.cpp chat completion. llama.cpp contexts are not thread-safe, so calls are
serialized by a lock: concurrency on one CPU model buys nothing anyway, while a vLLM server batches for real.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

from dspy.lm15 import Message, Response, TextPart, TokenLogprob, TopLogprob, Usage, response_to_events

_FINISH = {"stop": "stop", "length": "length"}


class LogprobCapture:
    """A llama.cpp logits processor that records the top-k log-probabilities of every generated position.

    llama-cpp-python returns log-probabilities only when the model keeps logits for *every prompt token*
    (``logits_all=True``), which costs a vocabulary-sized output row per prompt token: on this 1.5B model it
    nearly doubles the time of a judgment. Reading the next-token logits as they are sampled gives the same
    numbers for the generated tokens only.
    """

    def __init__(self, top_k: int):
        self.top_k = max(1, top_k)
        self.steps: list[list[tuple[int, float]]] = []
        self.chosen: list[int] = []

    def __call__(self, input_ids, logits):
        import numpy as np

        if self.steps:
            self.chosen.append(int(input_ids[-1]))  # what the previous step sampled
        x = np.asarray(logits, dtype=np.float64)
        m = x.max()
        lse = m + np.log(np.exp(x - m).sum())
        k = min(self.top_k, x.size - 1)
        top = np.argpartition(-x, k)[:k]
        top = top[np.argsort(-x[top])]
        self.steps.append([(int(i), float(x[i] - lse)) for i in top])
        return logits

    def content(self, detokenize) -> list[dict[str, Any]]:
        """OpenAI-shaped ``logprobs.content``; the last step's chosen token is taken as its most likely one."""
        chosen = self.chosen + [self.steps[-1][0][0]] if len(self.chosen) < len(self.steps) else self.chosen
        out = []
        for token_id, top in zip(chosen, self.steps, strict=False):
            lp = dict(top).get(token_id, top[-1][1])
            out.append({"token": detokenize(token_id), "logprob": lp,
                        "top_logprobs": [{"token": detokenize(i), "logprob": v} for i, v in top]})
        return out


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
        self._formatters = None
        self._lock = threading.Lock()

    def _load(self):
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise ImportError('the embedded model needs llama-cpp-python: pip install -e ".[local]"') from exc
            # llama-cpp-python defaults to half the cores (1 thread on a 2-core laptop): use them all.
            threads = self.n_threads or os.cpu_count() or 1
            self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, n_threads=threads,
                                n_threads_batch=threads, seed=self.seed, logits_all=False, verbose=False)
            # free the model before interpreter teardown, where llama-cpp-python's __del__ fails noisily
            atexit.register(self.close)
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
        capture = LogprobCapture(cfg.logprobs or 5) if cfg.logprobs is not None else None
        if capture is not None:
            kwargs["logits_processor"] = [capture]
        with self._lock:
            llama = self._load()
            completion = llama.create_chat_completion(messages=request_messages(request), **kwargs)
            if capture is not None and capture.steps:
                def detok(i: int) -> str:
                    return llama.detokenize([i]).decode("utf-8", errors="replace")
                completion["choices"][0]["logprobs"] = {"content": capture.content(detok)}
        return completion_to_response(completion, request.model)

    def score_continuation(self, messages: list[dict[str, str]], continuation: str) -> tuple[list[float], int]:
        """Log-probability of each token of ``continuation`` said as the assistant's next message after
        ``messages`` (the end-of-turn token included), and the number of tokens evaluated.

        This is scoring, not generation: the model reads the chat-formatted prompt and the continuation in one
        pass and the logits of the continuation's positions are read off. Only those positions compute a
        vocabulary row, so the cost is about that of reading the prompt.
        """
        import numpy as np

        with self._lock:
            llama = self._load()
            prefix, suffix = self._chat_split(messages, continuation)
            pre = llama.tokenize(prefix.encode(), add_bos=True, special=True)
            cont = llama.tokenize(suffix.encode(), add_bos=False, special=True)
            if not cont:
                return [], len(pre)
            if len(pre) + len(cont) > llama.n_ctx():
                raise ValueError(f"{len(pre) + len(cont)} tokens do not fit the context of {llama.n_ctx()}")
            # reuse the cached prefix like generation does, then decode the scored positions with logits on
            common = min(llama.longest_token_prefix(llama.input_ids[: llama.n_tokens].tolist(), pre), len(pre) - 1)
            llama.n_tokens = common
            llama.eval(pre[common:-1])
            chunk, out, n_vocab = [pre[-1], *cont[:-1]], [], llama.n_vocab()
            for start in range(0, len(chunk), llama.n_batch):
                part = chunk[start: start + llama.n_batch]
                n_past = llama.n_tokens
                llama._ctx.kv_cache_seq_rm(-1, n_past, -1)
                llama._batch.set_batch(batch=part, n_past=n_past, logits_all=True)
                llama._ctx.decode(llama._batch)
                logits = np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(len(part) * n_vocab,))
                x = logits.reshape(len(part), n_vocab).astype(np.float64)
                m = x.max(axis=1, keepdims=True)
                lse = (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]
                targets = cont[start: start + len(part)]
                out.extend((x[np.arange(len(part)), targets] - lse).tolist())
                llama.input_ids[n_past: n_past + len(part)] = part
                llama.n_tokens += len(part)
            return out, len(pre) + len(cont)

    def _chat_formatters(self) -> tuple[Any, Any]:
        """The GGUF's chat template, compiled once: (with the assistant's generation prompt, without)."""
        if self._formatters is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llama = self._llama
            template = llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise ValueError("this GGUF has no chat template to score a reply with")
            eos = llama.detokenize([llama.token_eos()], special=True).decode("utf-8", errors="replace")
            bos = llama.detokenize([llama.token_bos()], special=True).decode("utf-8", errors="replace")
            self._formatters = tuple(
                Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos, add_generation_prompt=g)
                for g in (True, False))
        return self._formatters

    def _chat_split(self, messages: list[dict[str, str]], continuation: str) -> tuple[str, str]:
        """(prompt up to the assistant's turn, the continuation with its end-of-turn marker) in the model's
        own chat template."""
        prompt, full = self._chat_formatters()
        prefix = prompt(messages=messages).prompt
        whole = full(messages=[*messages, {"role": "assistant", "content": continuation}]).prompt
        if not whole.startswith(prefix):
            raise ValueError("the chat template does not extend the prompt with the assistant's message")
        return prefix, whole[len(prefix):].rstrip()

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
