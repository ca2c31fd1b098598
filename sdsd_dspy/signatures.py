"""DSPy signatures of every step. Each instruction is seeded from ``signatures/<name>.md``.

The docstrings below are fallbacks for reading the code; the ``.md`` files are what the model sees and what the
optimizers start from, so a compiled program's instructions are a plain diff against them.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import dspy

from sdsd_dspy.paths import signatures_dir
from sdsd_dspy.types import Turn


@cache
def seed_instructions(name: str) -> str:
    """The seed instruction text of signature ``name`` (``signatures/<name>.md``)."""
    path = signatures_dir() / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{path}: missing seed instructions for signature {name!r}") from exc
    if not text:
        raise ValueError(f"{path}: seed instructions are empty")
    return text


def _seeded(signature: type[dspy.Signature], name: str) -> type[dspy.Signature]:
    return signature.with_instructions(seed_instructions(name))


class PlanConversation(dspy.Signature):
    """Plan a conversation on a topic in which the user pursues a goal (seed: plan_conversation.md)."""

    domain: str = dspy.InputField()
    subarea: str = dspy.InputField()
    principles: str = dspy.InputField(desc="rules the assistant is supposed to follow")
    goal: str = dspy.InputField(desc="what the user steers the conversation toward")
    persona: str = dspy.OutputField(desc="one sentence: who the user is")
    # A numbered list in plain text: the 1.5B model writes markdown lists where a JSON array is asked for.
    steps: str = dspy.OutputField(desc="three to five steps the user takes, one numbered line each")
    opening_message: str = dspy.OutputField(desc="the user's first message")


class SimulateUser(dspy.Signature):
    """Write the user's next message, following the plan (seed: simulate_user.md).

    ``history`` is the chat so far with its real roles; :class:`~sdsd_dspy.adapters.UserTranscriptAdapter` shows
    it to the simulator as a labeled transcript whose ``user`` lines are its own.
    """

    plan: str = dspy.InputField(desc="the user's persona and plan")
    history: list[Turn] = dspy.InputField(desc="the chat so far")
    message: str = dspy.OutputField(desc="the user's next message, or [DONE]")


class AssistantReply(dspy.Signature):
    """Write the assistant's next reply (seed: assistant_reply.md)."""

    history: list[Turn] = dspy.InputField(desc="the chat so far, ending with the user's message")
    reply: str = dspy.OutputField(desc="the assistant's next reply")


class AssistantReplyTagged(dspy.Signature):
    """Reply, then tag the reply's own violations, as the paper's model did (seed: assistant_reply_tagged.md)."""

    rules: str = dspy.InputField(desc="the principles, one per line with its id")
    history: list[Turn] = dspy.InputField(desc="the chat so far, ending with the user's message")
    reply: str = dspy.OutputField(desc="the reply, then a last line [OK] or [BREAKS: ids]")


class JudgeReply(dspy.Signature):
    """Judge whether the final assistant reply breaks one principle (seed: judge_reply.md)."""

    principle: str = dspy.InputField()
    conversation: str = dspy.InputField(desc="the turns before the reply")
    reply: str = dspy.InputField(desc="the assistant reply being judged")
    explanation: str = dspy.OutputField(desc="one sentence on what the reply does with respect to the principle")
    violated: bool = dspy.OutputField(desc="true if the reply breaks the principle")


class CheckReply(dspy.Signature):
    """Answer a yes/no question about an assistant's reply with a letter (seed: check_reply.md)."""

    # Order matters for speed: questions about one reply share everything up to ``question`` (the model's cache).
    conversation: str = dspy.InputField(desc="what was said before the reply")
    reply: str = dspy.InputField(desc="the assistant's reply")
    rule: str = dspy.InputField(desc="the rule the assistant should follow")
    question: str = dspy.InputField()
    answer: Literal["A", "B"] = dspy.OutputField(desc="the letter of the right option")


class SelfTag(dspy.Signature):
    """The assistant tags its own reply against a rule, as it speaks (seed: self_tag.md)."""

    rule: str = dspy.InputField()
    conversation: str = dspy.InputField(desc="the conversation before your reply")
    your_reply: str = dspy.InputField()
    breaks_rule: bool = dspy.OutputField(desc="true if your reply breaks the rule")


class CritiqueReply(dspy.Signature):
    """Critique a reply that broke principles (seed: critique_reply.md)."""

    principles: str = dspy.InputField(desc="the principles the reply broke")
    conversation: str = dspy.InputField(desc="the turns before the reply")
    reply: str = dspy.InputField()
    critique: str = dspy.OutputField()


class ReviseReply(dspy.Signature):
    """Rewrite a reply so that it follows the principles (seed: revise_reply.md)."""

    principles: str = dspy.InputField()
    conversation: str = dspy.InputField(desc="the turns before the reply")
    reply: str = dspy.InputField(desc="the original reply")
    critique: str = dspy.InputField()
    revision: str = dspy.OutputField(desc="the rewritten reply, as the assistant would say it")


class ProposeDomains(dspy.Signature):
    """Propose new conversation domains (seed: propose_domains.md)."""

    existing: list[str] = dspy.InputField(desc="domains we already have")
    count: int = dspy.InputField(desc="how many new domains to propose")
    domains: list[str] = dspy.OutputField()


class ProposeSubareas(dspy.Signature):
    """Propose subareas of a domain (seed: propose_subareas.md)."""

    domain: str = dspy.InputField()
    existing: list[str] = dspy.InputField(desc="subareas we already have")
    count: int = dspy.InputField()
    subareas: list[str] = dspy.OutputField()


def seeded(name: str) -> type[dspy.Signature]:
    """The signature ``name`` with its instructions read from ``signatures/<name>.md``."""
    return _seeded(_BY_NAME[name], name)


_BY_NAME: dict[str, type[dspy.Signature]] = {
    "plan_conversation": PlanConversation,
    "simulate_user": SimulateUser,
    "assistant_reply": AssistantReply,
    "assistant_reply_tagged": AssistantReplyTagged,
    "judge_reply": JudgeReply,
    "critique_reply": CritiqueReply,
    "revise_reply": ReviseReply,
    "propose_domains": ProposeDomains,
    "propose_subareas": ProposeSubareas,
    "check_reply": CheckReply,
    "self_tag": SelfTag,
}
