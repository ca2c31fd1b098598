"""Step 4b of SDSD-R: rewrite the violating turn following the critique."""

from __future__ import annotations

import dspy

from sdsd_dspy.formatting import clean_turn, format_principles, format_transcript, is_near_duplicate
from sdsd_dspy.lm.ledger import stage
from sdsd_dspy.modules.errors import GenerationError
from sdsd_dspy.modules.rollouts import rollout_config
from sdsd_dspy.signatures import seeded
from sdsd_dspy.types import Principle, Turn


class Reviser(dspy.Module):
    """(context, reply, critique, principles) → revised reply; ``unchanged`` flags a copy of the original."""

    def __init__(self):
        super().__init__()
        self.revise = dspy.Predict(seeded("revise_reply"))

    def forward(self, principles: list[Principle], context: list[Turn], reply: str, critique: str,
                attempt: int = 1) -> dspy.Prediction:
        # each attempt is its own rollout and sample: a cached answer would make a retry repeat the failed revision
        config = rollout_config(attempt)
        with stage("revise"):
            out = self.revise(principles=format_principles(principles), conversation=format_transcript(context),
                              reply=reply, critique=critique, config=config)
        text = clean_turn(out.revision or "")
        if not text:
            raise GenerationError("revise", "the model wrote an empty revision")
        return dspy.Prediction(revision=text, unchanged=is_near_duplicate(text, [reply], threshold=0.9))
