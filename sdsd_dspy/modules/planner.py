"""Step 1 of SDSD: write a plan for the conversation."""

from __future__ import annotations

import dspy

from sdsd_dspy.formatting import clean_turn, format_principles, parse_steps
from sdsd_dspy.lm.ledger import stage
from sdsd_dspy.modules.errors import GenerationError
from sdsd_dspy.signatures import seeded
from sdsd_dspy.types import Goal, Plan, Principle, Topic


class Planner(dspy.Module):
    """Topic + principles + goal → :class:`~sdsd_dspy.types.Plan`.

    Example:
        >>> plan = Planner()(topic=topic, principles=principles, goal=goal).plan   # doctest: +SKIP
    """

    def __init__(self):
        super().__init__()
        self.plan = dspy.Predict(seeded("plan_conversation"))

    def forward(self, topic: Topic, principles: list[Principle], goal: Goal) -> dspy.Prediction:
        with stage("plan"):
            out = self.plan(domain=topic.domain, subarea=topic.subarea,
                            principles=format_principles(principles), goal=goal.text)
        steps = parse_steps(out.steps or "")
        opening = clean_turn(out.opening_message or "")
        if not opening:
            raise GenerationError("plan", "the model wrote no opening message")
        return dspy.Prediction(plan=Plan(persona=clean_turn(out.persona or ""), steps=steps, opening_message=opening))
