"""The SDSD program: plan → self-chat → detect violations → critique → revise → re-check. Reads like the paper."""

from __future__ import annotations

import dspy

from sdsd_dspy.lm.ledger import stage
from sdsd_dspy.modules import Critic, Planner, Reviser, SelfChat, ViolationDetector
from sdsd_dspy.types import Critique, Revision, Sample, Turn, Verdict


def first_violation(verdicts: list[Verdict]) -> int | None:
    """Index of the earliest assistant turn any verdict marks as violating."""
    return min((v.turn_index for v in verdicts if v.violated), default=None)


def inline_verdicts(tags: dict[int, list[str] | None], principles: list) -> list[Verdict]:
    """Verdicts from the assistant's own tags; an untagged turn counts as no violation, and says so."""
    return [
        Verdict(principle_id=p.id, turn_index=i, violated=bool(broken and p.id in broken),
                explanation="self-tagged" if broken is not None else "no tag written")
        for i, broken in sorted(tags.items()) for p in principles
    ]


class SDSDProgram(dspy.Module):
    """Generates one SDSD record from a :class:`~sdsd_dspy.types.Sample`.

    Args:
        max_turns: assistant replies before the self-chat is cut off (and marked truncated).
        judge_turns: ``"all"`` assistant turns or only the ``"final"`` one.
        max_revisions: revision attempts; each is re-checked by the detector and the first that passes is kept.
        inline_tags: the assistant tags its own violations as it speaks (the paper's setting) instead of the
            separate detector judging each turn; revisions are still re-checked by the detector.

    Example:
        >>> with dspy.context(lm=lm):                                        # doctest: +SKIP
        ...     out = SDSDProgram(max_turns=3)(sample=sample)
        >>> out.plan, out.turns, out.verdicts, out.critique, out.revision   # doctest: +SKIP
    """

    def __init__(self, max_turns: int = 3, judge_turns: str = "all", max_revisions: int = 2,
                 inline_tags: bool = False):
        super().__init__()
        self.max_revisions = max_revisions
        self.inline_tags = inline_tags
        self.planner = Planner()
        self.self_chat = SelfChat(max_turns=max_turns, inline_tags=inline_tags)
        self.detector = ViolationDetector(turns=judge_turns)
        self.critic = Critic()
        self.reviser = Reviser()

    def forward(self, sample: Sample) -> dspy.Prediction:
        # 1. plan
        plan = self.planner(topic=sample.topic, principles=sample.principles, goal=sample.goal).plan
        # 2. self-chat
        chat = self.self_chat(plan=plan, principles=sample.principles)
        turns: list[Turn] = chat.turns
        # 3. detect violations: by the separate detector, or from the assistant's own inline tags
        if self.inline_tags:
            verdicts = inline_verdicts(chat.tags, sample.principles)
        else:
            verdicts = self.detector(turns=turns, principles=sample.principles).verdicts
        violation_turn = first_violation(verdicts)
        critique = revision = None
        if violation_turn is not None:
            # 4. critique and revise the earliest violating turn; the revision is judged again
            broken_ids = [v.principle_id for v in verdicts if v.turn_index == violation_turn and v.violated]
            broken = [p for p in sample.principles if p.id in broken_ids]
            context, original = turns[:violation_turn], turns[violation_turn].content
            text = self.critic(principles=broken, context=context, reply=original).critique
            critique = Critique(turn_index=violation_turn, principle_ids=broken_ids, text=text)
            for attempt in range(1, self.max_revisions + 1):
                rewrite = self.reviser(principles=broken, context=context, reply=original, critique=text,
                                       attempt=attempt)
                new = rewrite.revision
                with stage("recheck"):
                    if rewrite.unchanged:  # the model copied the original: it still breaks the same principles
                        recheck = [Verdict(principle_id=p.id, turn_index=violation_turn, violated=True,
                                           explanation="the revision repeats the original reply") for p in broken]
                    else:
                        recheck = [
                            Verdict(principle_id=p.id, turn_index=violation_turn, violated=violated,
                                    explanation=why, p_violation=p_yes)
                            for p in broken
                            for violated, why, p_yes in [self.detector.judge_reply(p, context, new)]
                        ]
                revision = Revision(turn_index=violation_turn, text=new, recheck=recheck, attempt=attempt)
                if revision.passes:
                    break
        return dspy.Prediction(plan=plan, turns=turns, truncated=chat.truncated, stop_reason=chat.stop_reason,
                               verdicts=verdicts, violation_turn=violation_turn, critique=critique, revision=revision)
