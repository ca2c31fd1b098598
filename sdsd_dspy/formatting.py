"""Pure helpers that turn records into prompt text and model text back into records. No model, no I/O."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from sdsd_dspy.types import Principle, Turn

STOP_MARKER = "[DONE]"
_ROLE_PREFIX = re.compile(r"^\s*(?:\*\*)?(user|assistant|ai|human)(?:\*\*)?\s*:\s*", re.IGNORECASE)
_FIELD_MARKER = re.compile(r"\[\[\s*##\s*\w+\s*##\s*\]\]")


def record_id(seed: int, index: int) -> str:
    """A stable id for record ``index`` of a run seeded with ``seed``.

    >>> record_id(0, 0) == record_id(0, 0) != record_id(0, 1)
    True
    """
    return hashlib.sha256(f"sdsd:{seed}:{index}".encode()).hexdigest()[:16]


def format_principles(principles: Iterable[Principle]) -> str:
    """One principle a line, with its id, as the model sees them."""
    return "\n".join(f"- [{p.id}] {p.text}" for p in principles)


def format_transcript(turns: Sequence[Turn]) -> str:
    """The dialogue as the model reads it: ``User: ...`` / ``Assistant: ...`` blocks."""
    if not turns:
        return "(the conversation has not started)"
    return "\n\n".join(f"{t.role.capitalize()}: {t.content}" for t in turns)


def clean_turn(text: str) -> str:
    """Strip what small models wrap around a turn: a role prefix, stray field markers, surrounding quotes."""
    text = _FIELD_MARKER.sub("", text or "").strip()
    text = _ROLE_PREFIX.sub("", text, count=1).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def split_stop_marker(text: str) -> tuple[str, bool]:
    """Split a user-simulator message into (message, done). The marker may end a message or stand alone.

    >>> split_stop_marker("Thanks, that helps! [DONE]")
    ('Thanks, that helps!', True)
    >>> split_stop_marker("Tell me more.")
    ('Tell me more.', False)
    """
    cleaned = clean_turn(text)
    if STOP_MARKER.lower() in cleaned.lower():
        idx = cleaned.lower().index(STOP_MARKER.lower())
        return cleaned[:idx].strip(), True
    return cleaned, False


def parse_steps(text: str) -> list[str]:
    """Plan steps from a numbered or bulleted list (or one step a line).

    >>> parse_steps("1. Ask about X\\n2) **Push** for Y\\n- Thank them")
    ['Ask about X', 'Push for Y', 'Thank them']
    """
    steps = []
    for line in (text or "").splitlines():
        line = re.sub(r"^\s*(?:\d+[.)]|[-*•])\s*", "", line).replace("**", "").strip()
        if line:
            steps.append(line)
    return steps


_INLINE_TAG = re.compile(r"\[\s*(OK|BREAKS?\b[^\]]*)\]\s*$", re.IGNORECASE)


def split_inline_tag(text: str, known_ids: Iterable[str]) -> tuple[str, list[str] | None]:
    """Split a self-tagged reply into (reply, broken principle ids); ``None`` when the model wrote no tag.

    >>> split_inline_tag("Sure, here it is.\\n[BREAKS: harm.weapons, x.y]", ["harm.weapons"])
    ('Sure, here it is.', ['harm.weapons'])
    >>> split_inline_tag("Happy to help. [OK]", ["harm.weapons"])
    ('Happy to help.', [])
    """
    text = (text or "").rstrip()
    match = _INLINE_TAG.search(text)
    if not match:
        return text, None
    known = list(known_ids)
    body = match.group(1)
    broken = [] if body.upper() == "OK" else [k for k in known if k.lower() in body.lower()]
    return text[: match.start()].rstrip(), broken


def visible_turns(context: Sequence[Turn], mode: str) -> list[Turn]:
    """The turns before a judged reply that a judge shows: ``none``, the ``last_user`` message, or ``all``."""
    if mode == "none":
        return []
    if mode == "last_user":
        return [t for t in context if t.role == "user"][-1:]
    return list(context)


def assistant_indices(turns: Sequence[Turn]) -> list[int]:
    return [i for i, t in enumerate(turns) if t.role == "assistant"]


def normalize_name(name: str) -> str:
    """Lower-case, punctuation-free form of a topic name, for deduplication."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    stop = {"and", "the", "of", "a", "an", "for", "in", "to", "&"}
    return " ".join(w.rstrip("s") if len(w) > 3 else w for w in words if w not in stop)


def is_near_duplicate(name: str, existing: Iterable[str], threshold: float = 0.6) -> bool:
    """True when ``name`` equals an existing name after normalization, or shares most of its words (Jaccard)."""
    words = set(normalize_name(name).split())
    if not words:
        return True
    for other in existing:
        other_words = set(normalize_name(other).split())
        if not other_words:
            continue
        if words == other_words or len(words & other_words) / len(words | other_words) >= threshold:
            return True
    return False


_NARRATION = re.compile(
    r"^\W*(?:the\s+)?(?:user|human|customer|persona)\s+(?:asks|wants|says|will|is|would|starts|begins|opens|inquires"
    r"|requests|expresses|mentions|explains|writes|replies|responds|thanks|tries)\b"
    r"|\bthe (?:ai )?assistant (?:will|should|would|must)\b|\bin this conversation\b|^\W*(?:persona|step \d)\s*:",
    re.IGNORECASE)
_ASSISTANT_VOICE = re.compile(
    r"\bhow (?:can|may) i (?:help|assist)\b|\bi'?m here to help\b|\bas an ai\b|\bi'?d be (?:happy|glad) to help\b"
    r"|\bfeel free to ask\b|\blet me know if you (?:have|need)\b|\bi can help you\b",
    re.IGNORECASE)


def off_role_user_turn(text: str) -> str | None:
    """Why a simulated user's message is not a user speaking, or ``None`` when it is.

    Small models playing the user often narrate the plan ("The user asks about ...") or slip into the
    assistant's voice ("How can I help you today?"); such a message is no user turn.

    >>> off_role_user_turn("The user asks how to bake bread.")
    'narrates'
    >>> off_role_user_turn("Great, how can I help you with anything else?")
    'speaks as the assistant'
    >>> off_role_user_turn("How do I bake bread without yeast?") is None
    True
    """
    if _NARRATION.search(text or ""):
        return "narrates"
    if _ASSISTANT_VOICE.search(text or ""):
        return "speaks as the assistant"
    return None
