"""Step 2 of SDSD: the same model plays user and assistant until the user is done or ``max_turns`` is reached."""

from __future__ import annotations

import dspy

from sdsd_dspy.adapters import ChatTurnAdapter, UserTranscriptAdapter
from sdsd_dspy.formatting import (
    clean_turn,
    format_principles,
    is_near_duplicate,
    off_role_user_turn,
    split_inline_tag,
    split_stop_marker,
)
from sdsd_dspy.lm.ledger import stage
from sdsd_dspy.modules.errors import GenerationError
from sdsd_dspy.modules.rollouts import rollout_config
from sdsd_dspy.signatures import seeded
from sdsd_dspy.types import Plan, Principle, Turn


def user_turn_problem(message: str, previous: list[str]) -> str | None:
    """``repetition`` (a near-copy of an earlier user turn or of the assistant's last reply), ``off_role`` (it
    narrates or speaks as the assistant) or ``None`` for a usable user turn."""
    if is_near_duplicate(message, previous, threshold=0.8):
        return "repetition"
    return "off_role" if off_role_user_turn(message) else None


class SelfChat(dspy.Module):
    """Plan → dialogue. The plan is the user simulator's system context; the assistant sees only the dialogue.

    The assistant sees the dialogue as real chat messages (:class:`ChatTurnAdapter`); the user simulator sees it
    as a labeled transcript to continue (:class:`UserTranscriptAdapter`), which keeps a small model from echoing.

    ``max_turns`` counts assistant replies. The user simulator ends the chat by writing the stop marker
    (``[DONE]``); a chat that reaches ``max_turns`` is marked truncated. With ``inline_tags`` the assistant also
    sees the principles and ends each reply with ``[OK]`` or ``[BREAKS: ids]`` (the paper's self-tagging); the
    tags come back per assistant turn index. A user message that repeats an earlier one or parrots the
    assistant's last reply, or that narrates the plan or speaks as the assistant, is asked for once more as a new
    rollout; if the second is no better, the chat ends with ``stop_reason`` ``repetition`` or ``off_role``.

    Example:
        >>> chat = SelfChat(max_turns=3)(plan=plan)          # doctest: +SKIP
        >>> chat.turns[-1].role, chat.truncated, chat.stop_reason
        ('assistant', True, 'max_turns')
    """

    def __init__(self, max_turns: int = 3, inline_tags: bool = False):
        super().__init__()
        if max_turns < 1:
            raise ValueError("max_turns must be at least 1")
        self.max_turns = max_turns
        self.inline_tags = inline_tags
        self.assistant_tagged = dspy.Predict(seeded("assistant_reply_tagged"))
        self.user = dspy.Predict(seeded("simulate_user"))
        self.assistant = dspy.Predict(seeded("assistant_reply"))
        self.adapter = ChatTurnAdapter()
        self.user_adapter = UserTranscriptAdapter()

    def forward(self, plan: Plan, principles: list[Principle] | None = None) -> dspy.Prediction:
        turns = [Turn(role="user", content=plan.opening_message)]
        tags: dict[int, list[str] | None] = {}
        stop_reason = "max_turns"
        for turn in range(self.max_turns):
            with stage("self_chat"), dspy.context(adapter=self.adapter):
                if self.inline_tags:
                    raw = self.assistant_tagged(rules=format_principles(principles or []), history=turns).reply
                    reply, tags[len(turns)] = split_inline_tag(raw or "", [p.id for p in principles or []])
                    reply = clean_turn(reply)
                else:
                    reply = clean_turn(self.assistant(history=turns).reply or "")
            if not reply:
                raise GenerationError("self_chat", f"empty assistant reply at turn {len(turns)}")
            turns.append(Turn(role="assistant", content=reply))
            if turn == self.max_turns - 1:
                break
            # small models drift: a user turn that repeats an earlier one, parrots the assistant's last reply,
            # narrates the plan or speaks as the assistant is asked for once more, then ends the chat
            previous = [t.content for t in turns if t.role == "user"] + [turns[-1].content]
            for attempt in (1, 2):
                with stage("self_chat"), dspy.context(adapter=self.user_adapter):
                    raw = self.user(plan=plan.as_text(), history=turns, config=rollout_config(attempt)).message or ""
                message, done = split_stop_marker(raw)
                problem = None if done or not message else user_turn_problem(message, previous)
                if problem is None:
                    break
            if done or not message:
                stop_reason = "done"
                break
            if problem is not None:
                stop_reason = problem
                break
            turns.append(Turn(role="user", content=message))
        return dspy.Prediction(turns=turns, truncated=stop_reason == "max_turns", stop_reason=stop_reason, tags=tags)
