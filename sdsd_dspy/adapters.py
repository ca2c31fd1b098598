"""Compact adapters for a small local model: lettered-option questions, and self-chat turns as real chat.

DSPy's ChatAdapter wraps every call in field markers and a long format description (about 250 tokens here), and
the answer comes after a dozen marker tokens. For a 1.5B model on a CPU that is slow, and the framing itself moves
the model's judgment. This adapter renders inputs as ``Name: value`` lines, demos as user/assistant turns whose
assistant part is the letter alone, and parses the first option letter of the reply.
"""

from __future__ import annotations

import re
from typing import Any

import dspy
from dspy.utils.exceptions import AdapterParseError

_LETTER = re.compile(r"\b([A-Z])\b")


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


class OptionAdapter(dspy.Adapter):
    """For signatures with one ``Literal`` output of option letters.

    Example:
        >>> with dspy.context(adapter=OptionAdapter()):                   # doctest: +SKIP
        ...     dspy.Predict(CheckReply)(rule=..., conversation=..., reply=..., question="...A) No   B) Yes")
    """

    def _user(self, signature: type[dspy.Signature], values: dict[str, Any]) -> str:
        lines = [f"{_label(name)}: {values.get(name, '')}" for name in signature.input_fields]
        return "\n\n".join(lines) + "\n\nAnswer with the letter only."

    def format(self, signature: type[dspy.Signature], demos: list[dict[str, Any]],
               inputs: dict[str, Any]) -> list[dict[str, Any]]:
        (output,) = signature.output_fields
        messages = [{"role": "system", "content": signature.instructions}]
        for demo in demos:
            if all(name in demo for name in signature.input_fields) and demo.get(output):
                messages.append({"role": "user", "content": self._user(signature, demo)})
                messages.append({"role": "assistant", "content": str(demo[output])})
        messages.append({"role": "user", "content": self._user(signature, inputs)})
        return messages

    def parse(self, signature: type[dspy.Signature], completion: str) -> dict[str, Any]:
        (output,) = signature.output_fields
        allowed = set(getattr(signature.output_fields[output].annotation, "__args__", ()) or "ABCD")
        for match in _LETTER.finditer(completion or ""):
            if match.group(1) in allowed:
                return {output: match.group(1)}
        raise AdapterParseError(adapter_name="OptionAdapter", signature=signature, lm_response=completion,
                                message=f"no option letter among {sorted(allowed)}")


class ChatTurnAdapter(dspy.Adapter):
    """For self-chat: the history becomes real chat messages and the whole completion is the one output field.

    The instructions and every input other than ``history`` go in the system message (so the plan is the user
    simulator's system context); ``history`` is a list of turns from the speaker's side. A small model plays a
    role far better in its native chat format than when filling marked fields about a transcript. Demos are not
    used: a demo would be a whole conversation.
    """

    def format(self, signature: type[dspy.Signature], demos: list[dict[str, Any]],
               inputs: dict[str, Any]) -> list[dict[str, Any]]:
        system = [signature.instructions]
        for name in signature.input_fields:
            if name != "history" and inputs.get(name):
                system.append(f"{_label(name)}:\n{inputs[name]}")
        messages = [{"role": "system", "content": "\n\n".join(system)}]
        for turn in inputs.get("history") or []:
            role, content = (turn.role, turn.content) if hasattr(turn, "role") else (turn["role"], turn["content"])
            messages.append({"role": role, "content": content})
        return messages

    def parse(self, signature: type[dspy.Signature], completion: str) -> dict[str, Any]:
        (output,) = signature.output_fields
        return {output: (completion or "").strip()}

class UserTranscriptAdapter(ChatTurnAdapter):
    """For the user simulator: the dialogue as one labeled transcript in a single user message.

    Given the dialogue as chat turns with the roles flipped (its own lines as ``assistant``), a 1.5B model mostly
    echoes the assistant's last reply word for word; asked to continue a labeled transcript ("User (you): …",
    "AI assistant: …") it writes a user's next message. ``history`` keeps the dialogue's real roles.
    """

    closing = "Write your next message as the user, and nothing else."

    def format(self, signature: type[dspy.Signature], demos: list[dict[str, Any]],
               inputs: dict[str, Any]) -> list[dict[str, Any]]:
        system = super().format(signature, demos, {**inputs, "history": []})
        lines = []
        for turn in inputs.get("history") or []:
            role, content = (turn.role, turn.content) if hasattr(turn, "role") else (turn["role"], turn["content"])
            lines.append(f"{'User (you)' if role == 'user' else 'AI assistant'}: {content}")
        transcript = "The conversation so far:\n\n" + "\n\n".join(lines) + "\n\n" + self.closing
        return [*system, {"role": "user", "content": transcript}]
