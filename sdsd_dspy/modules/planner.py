"""Step 1 of SDSD: write a plan for the conversation."""

from __future__ import annotations

import dspy
from dspy.utils.exceptions import AdapterParseError

from sdsd_dspy.formatting import clean_turn, format_principles, off_role_user_turn, parse_steps
from sdsd_dspy.lm.ledger import stage
from sdsd_dspy.modules.errors import GenerationError
from sdsd_dspy.modules.rollouts import rollout_config
from sdsd_dspy.signatures import seeded
from sdsd_dspy.types import Goal, Plan, Principle, Topic


class Planner(dspy.Module):
    """Topic + principles + goal → :class:`~sdsd_dspy.types.Plan`.

    Example:
        >>> plan = Planner()(topic=topic, principles=principles, goal=goal).plan   # doctest: +SKIP
    """

    def __init__(self, attempts: int = 3):
        super().__init__()
        self.attempts = max(1, attempts)
        self.plan = dspy.Predict(seeded("plan_conversation"))

    def forward(self, topic: Topic, principles: list[Principle], goal: Goal) -> dspy.Prediction:
        # an unparseable plan, or an opening message that narrates the plan ("The user asks ...") or speaks as
        # the assistant, is asked for again as a new rollout with its own seed
        problem = "the model wrote no opening message"
        for attempt in range(1, self.attempts + 1):
            try:
                with stage("plan"):
                    out = self.plan(domain=topic.domain, subarea=topic.subarea,
                                    principles=format_principles(principles), goal=goal.text,
                                    config=rollout_config(attempt))
            except AdapterParseError as exc:
                problem = f"the plan could not be parsed ({str(exc).splitlines()[0]})"
                continue
            opening = clean_turn(out.opening_message or "")
            why = off_role_user_turn(opening) if opening else "is empty"
            if why is None:
                break
            problem = f"the opening message {why}: {opening[:120]!r}"
        else:
            raise GenerationError("plan", f"{problem} (after {self.attempts} attempts)")
        steps = parse_steps(out.steps or "")
        return dspy.Prediction(plan=Plan(persona=clean_turn(out.persona or ""), steps=steps, opening_message=opening))
