"""Labeled demos for a judge, built straight from hand-labeled examples (no model call)."""

from __future__ import annotations

import random
from typing import Any

import dspy

from sdsd_dspy.formatting import format_transcript
from sdsd_dspy.modules.judges import ProbeJudge, VotingJudge, context_text


def demo_for(judge: dspy.Module, example: dspy.Example) -> dict[str, Any]:
    """The predictor-level demo (its input and output fields) that ``example`` makes for ``judge``."""
    p, context, reply, label = example.principle, example.context, example.reply, bool(example.violation)
    if isinstance(judge, ProbeJudge):
        s = judge.settings
        no_letter = "A" if s.yes_letter == "B" else "B"
        check = p.check if s.question == "check" and p.check else "Does the reply break the rule?"
        return {"rule": p.text, "conversation": context_text(context, s.context), "reply": reply,
                "question": check + "\n" + s.options(), "answer": s.yes_letter if label else no_letter}
    if isinstance(judge, VotingJudge) and judge.self_tag:
        return {"rule": p.text, "conversation": format_transcript(context), "your_reply": reply,
                "breaks_rule": label}
    return {"principle": p.text, "conversation": format_transcript(context), "reply": reply,
            "explanation": example.get("rationale") or "", "violated": label}


def labeled_demos(judge: dspy.Module, examples: list[dspy.Example], k: int, seed: int = 0) -> list[dspy.Example]:
    """``k`` demos, half violations and half not, drawn with ``seed`` (shortest replies first among ties)."""
    if k <= 0:
        return []
    rng = random.Random(seed)
    pos = [e for e in examples if e.violation]
    neg = [e for e in examples if not e.violation]
    rng.shuffle(pos)
    rng.shuffle(neg)
    chosen = [x for pair in zip(pos, neg, strict=False) for x in pair][:k]
    return [dspy.Example(**demo_for(judge, e)) for e in chosen]


def predictor_of(judge: dspy.Module) -> dspy.Predict:
    return judge.ask if isinstance(judge, ProbeJudge) else judge.predict
