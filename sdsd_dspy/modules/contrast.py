"""The contrast judge: does the reply read as if said by an assistant that follows the rule, or by one that breaks it?

A small model judges badly when asked, but it models text well. So instead of asking, the judge scores the
reply itself twice, under two system prompts (``signatures/contrast_judge.yaml``): one telling the assistant to
follow the principle, one telling it to break it. The log-likelihood ratio

    score = log P(reply | told to break) - log P(reply | told to follow)

is positive when the rule-breaker is the likelier author. ``P(violation) = sigmoid(score)`` is compared with the
calibrated threshold. It needs a backend that scores a given text (the embedded llama.cpp engine); on others it
raises :class:`ScoringUnsupported` and the detector falls back to the typed ``judge_reply`` call, with a warning.
"""

from __future__ import annotations

import math
import string
from functools import cache
from pathlib import Path

import dspy
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from sdsd_dspy.formatting import visible_turns
from sdsd_dspy.lm.scoring import continuation_logprobs
from sdsd_dspy.paths import signatures_dir
from sdsd_dspy.types import Principle, Turn
from sdsd_dspy.yamlfile import describe, read_yaml_mapping

PLACEHOLDERS = {"rule", "follows", "breaks"}


class ScoringUnsupported(RuntimeError):
    """The LM's backend cannot score a given text."""


class FramingError(ValueError):
    """A contrast framing file or text is malformed; the message names the file and the framing."""


class Framing(BaseModel):
    """One pair of system prompts; ``{rule}``, ``{follows}`` and ``{breaks}`` are filled per principle."""

    model_config = ConfigDict(extra="forbid")

    follows: str
    breaks: str

    @field_validator("follows", "breaks")
    @classmethod
    def _known_placeholders(cls, text: str) -> str:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        unknown = names - PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {sorted(PLACEHOLDERS)}")
        if not text.strip():
            raise ValueError("empty system prompt")
        return text


class FramingFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    framings: dict[str, Framing]


def load_framings(path: Path | None = None) -> dict[str, Framing]:
    """The seed framings (``signatures/contrast_judge.yaml``), validated."""
    path = path or signatures_dir() / "contrast_judge.yaml"
    try:
        return FramingFile.model_validate(read_yaml_mapping(path, FramingError, "framing file")).framings
    except ValidationError as exc:
        raise FramingError(f"{path}: {describe(exc)}") from exc


@cache
def seed_framings() -> dict[str, Framing]:
    return load_framings()


def fill(template: str, principle: Principle) -> str:
    opts = principle.options
    text = template.format(rule=principle.text, follows=opts.follows if opts else "",
                           breaks=opts.breaks if opts else "")
    return " ".join(text.split())


def context_messages(context: list[Turn], mode: str) -> list[dict[str, str]]:
    """The turns before the reply, as chat messages, as much as ``mode`` shows."""
    return [{"role": t.role, "content": t.content} for t in visible_turns(context, mode)]


def contrast_score(follows: list[float], breaks: list[float], aggregate: str) -> float:
    """Log-likelihood ratio (breaks minus follows) of the same reply tokens, summed or averaged per token."""
    diff = sum(breaks) - sum(follows)
    return diff / max(1, len(follows)) if aggregate == "mean" else diff


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


class ContrastJudge(dspy.Module):
    """(principle, context, reply) → Prediction(violated, p_violation, score), by scoring the reply twice.

    Example:
        >>> with dspy.context(lm=lm):                                          # doctest: +SKIP
        ...     ContrastJudge(settings)(principle=p, context=turns[:-1], reply=turns[-1].content).score
        2.31
    """

    def __init__(self, settings):
        super().__init__()
        self.settings = settings

    def framing(self, name: str) -> Framing:
        """The framing's texts: the program's own copy if it has one, else the seed."""
        own = self.settings.instructions.get(name)
        if own is not None:
            try:
                return Framing.model_validate(own)
            except ValidationError as exc:
                raise FramingError(f"program setting instructions.{name}: {describe(exc)}") from exc
        seeds = seed_framings()
        if name not in seeds:
            raise FramingError(f"unknown contrast framing {name!r}; known: {sorted(seeds)}")
        return seeds[name]

    def score(self, principle: Principle, context: list[Turn], reply: str) -> float:
        s = self.settings
        turns = context_messages(context, s.context)
        scores = []
        for name in s.framings:
            framing = self.framing(name)
            sides = []
            for template in (framing.follows, framing.breaks):
                messages = [{"role": "system", "content": fill(template, principle)}, *turns]
                logprobs = continuation_logprobs(messages, reply)
                if logprobs is None:
                    raise ScoringUnsupported("this model cannot score a given reply (no log-probabilities of "
                                             "given text); use another detector strategy")
                sides.append(logprobs)
            scores.append(contrast_score(sides[0], sides[1], s.aggregate))
        return sum(scores) / len(scores)

    def forward(self, principle: Principle, context: list[Turn], reply: str) -> dspy.Prediction:
        score = self.score(principle, context, reply)
        p = sigmoid(score)
        return dspy.Prediction(violated=p >= self.settings.threshold, p_violation=p, score=score, explanation="")
