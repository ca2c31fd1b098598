"""Step 4a of SDSD-R: critique the violating assistant turn."""

from __future__ import annotations

import dspy

from sdsd_dspy.formatting import clean_turn, format_principles, format_transcript
from sdsd_dspy.lm.ledger import stage
from sdsd_dspy.modules.errors import GenerationError
from sdsd_dspy.signatures import seeded
from sdsd_dspy.types import Principle, Turn


class Critic(dspy.Module):
    """(context, reply, broken principles) → critique text."""

    def __init__(self):
        super().__init__()
        self.critique = dspy.Predict(seeded("critique_reply"))

    def forward(self, principles: list[Principle], context: list[Turn], reply: str) -> dspy.Prediction:
        with stage("critique"):
            out = self.critique(principles=format_principles(principles), conversation=format_transcript(context),
                                reply=reply)
        text = clean_turn(out.critique or "")
        if not text:
            raise GenerationError("critique", "the model wrote an empty critique")
        return dspy.Prediction(critique=text)
