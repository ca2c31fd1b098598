"""A scripted engine for unit tests: recorded responses per signature, served through DSPy's engine interface."""

from __future__ import annotations

import json
from typing import Any

import dspy
from dspy.lm15 import Message, Response, TextPart, Usage, response_to_events

from sdsd_dspy.lm.llama_engine import request_messages
from sdsd_dspy.signatures import seed_instructions


def chat_format(fields: dict[str, Any]) -> str:
    """What a well-behaved model answers under DSPy's ChatAdapter."""
    parts = [f"[[ ## {k} ## ]]\n{v if isinstance(v, str) else json.dumps(v)}" for k, v in fields.items()]
    return "\n\n".join(parts + ["[[ ## completed ## ]]"])


class ScriptedEngine:
    """Serves ``scripts[signature_name]`` in order; a dict is formatted as ChatAdapter fields, a str sent raw.

    A list that runs out repeats its last answer. ``calls`` records (signature_name, messages) of every call.
    """

    def __init__(self, scripts: dict[str, list[Any]], usage: tuple[int, int] = (100, 20)):
        self.scripts = {k: list(v) for k, v in scripts.items()}
        self.calls: list[tuple[str, list[dict]]] = []
        self.requests: list[Any] = []
        self.usage = usage

    def _route(self, system: str) -> str:
        flat = " ".join(system.split())  # ChatAdapter re-indents multi-line instructions
        matches = [name for name in self.scripts if " ".join(seed_instructions(name).split()) in flat]
        if not matches:
            raise AssertionError(f"no script for system prompt: {system[:200]!r}")
        return max(matches, key=lambda name: len(seed_instructions(name)))

    def complete(self, request):
        messages = request_messages(request)
        name = self._route(messages[0]["content"])
        self.calls.append((name, messages))
        self.requests.append(request)
        queue = self.scripts[name]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        text = answer if isinstance(answer, str) else chat_format(answer)
        return Response(id=None, model=request.model, message=Message.assistant((TextPart(text),)),
                        finish_reason="stop", usage=Usage(input_tokens=self.usage[0], output_tokens=self.usage[1]))

    def stream(self, request):
        return response_to_events(self.complete(request))

    def close(self):
        pass


def scripted_lm(scripts: dict[str, list[Any]]) -> tuple[dspy.LM, ScriptedEngine]:
    engine = ScriptedEngine(scripts)
    return dspy.LM("scripted/test-model", engine=engine, cache=False, num_retries=0), engine


PLAN = {"persona": "A home baker", "steps": "1. ask about bread\n2. ask about sourdough",
        "opening_message": "How do I bake bread?"}


def clean_run_scripts(**overrides: list[Any]) -> dict[str, list[Any]]:
    """Scripts for one record whose self-chat ends on [DONE] after two replies and has no violation."""
    scripts: dict[str, list[Any]] = {
        "plan_conversation": [PLAN],
        # self-chat turns are plain chat completions (ChatTurnAdapter), not marked fields
        "assistant_reply": ["Mix flour, water, yeast and salt, knead, proof, bake.",
                            "Sourdough uses a starter instead of yeast."],
        "simulate_user": ["What about sourdough?", "[DONE]"],
        "judge_reply": [{"explanation": "The reply is fine.", "violated": False}],
        "critique_reply": [{"critique": "The reply states an invented fact."}],
        "revise_reply": [{"revision": "I am not sure; please check a reliable recipe source."}],
    }
    scripts.update(overrides)
    return scripts


class ScoringEngine(ScriptedEngine):
    """A scripted engine that also scores given text, like the embedded llama.cpp engine.

    Each word of the continuation costs -1.0 (-1.1 when the system prompt tells the assistant to break its rule:
    plain text reads slightly more like a rule-follower's), except the words in ``breaker_words``, which cost
    -0.2 under the rule-breaker's prompt and -3.0 otherwise, and the words in ``follower_words``, the other way
    round.
    """

    def __init__(self, scripts: dict[str, list[Any]] | None = None, breaker_words: tuple[str, ...] = ("precursors",),
                 follower_words: tuple[str, ...] = ("can't",)):
        super().__init__(scripts or {})
        self.breaker_words = breaker_words
        self.follower_words = follower_words
        self.scored: list[tuple[list[dict], str]] = []

    def score_continuation(self, messages: list[dict[str, str]], continuation: str) -> tuple[list[float], int]:
        self.scored.append((messages, continuation))
        breaking = "break" in messages[0]["content"].lower()
        def cost(word: str) -> float:
            word = word.strip(".,").lower()
            if word in self.breaker_words:
                return -0.2 if breaking else -3.0
            if word in self.follower_words:
                return -3.0 if breaking else -0.2
            return -1.1 if breaking else -1.0

        out = [cost(w) for w in continuation.split()]
        return out, sum(len(m["content"].split()) for m in messages) + len(out)


def scoring_lm(scripts: dict[str, list[Any]] | None = None, cache: bool = False) -> tuple[dspy.LM, ScoringEngine]:
    engine = ScoringEngine(scripts)
    return dspy.LM("scripted/scoring-model", engine=engine, cache=cache, num_retries=0), engine
