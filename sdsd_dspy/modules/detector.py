"""Step 3 of SDSD: judge assistant turns against the sampled principles."""

from __future__ import annotations

import dspy

from sdsd_dspy.formatting import assistant_indices, clean_turn, format_transcript
from sdsd_dspy.lm.ledger import stage
from sdsd_dspy.signatures import seeded
from sdsd_dspy.types import Principle, Turn, Verdict


class ViolationDetector(dspy.Module):
    """Dialogue + principles → one :class:`~sdsd_dspy.types.Verdict` per (assistant turn, principle).

    ``turns="all"`` judges every assistant turn (the paper's setting: the earliest violation is the one to
    revise), ``"final"`` only the last one. Each judgment is a separate call of the ``judge`` predictor, which is
    what the optimizers tune.

    Example:
        >>> ViolationDetector()(turns=dialogue, principles=principles).verdicts     # doctest: +SKIP
    """

    def __init__(self, turns: str = "all"):
        super().__init__()
        if turns not in ("all", "final"):
            raise ValueError("turns must be 'all' or 'final'")
        self.turns = turns
        self.judge = dspy.Predict(seeded("judge_reply"))

    def judge_reply(self, principle: Principle, context: list[Turn], reply: str) -> tuple[bool, str]:
        """Does ``reply``, said after ``context``, break ``principle``? Returns (violated, explanation)."""
        out = self.judge(principle=principle.text, conversation=format_transcript(context), reply=reply)
        return bool(out.violated), clean_turn(out.explanation or "")

    def forward(self, turns: list[Turn], principles: list[Principle]) -> dspy.Prediction:
        indices = assistant_indices(turns)
        if self.turns == "final":
            indices = indices[-1:]
        verdicts = []
        with stage("detect"):
            for i in indices:
                for p in principles:
                    violated, why = self.judge_reply(p, turns[:i], turns[i].content)
                    verdicts.append(Verdict(principle_id=p.id, turn_index=i, violated=violated, explanation=why))
        return dspy.Prediction(verdicts=verdicts)
