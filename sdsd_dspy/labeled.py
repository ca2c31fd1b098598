"""The hand-labeled file format (a public contract) and its loader.

One JSON object per line::

    {"id": "str", "principle": "str", "dialogue": [{"role": "user" | "assistant", "content": "str"}, ...],
     "violation": true | false, "rationale": "str (optional)", "principle_id": "str (optional)",
     "source": "str (optional)"}

The label is about the **last assistant message**, judged in the context of the turns before it. Extra fields are
kept and ignored. A bad line (invalid JSON, missing field, no assistant message, wrong type, duplicate id) raises
:class:`LabeledFileError` naming the file and line, and nothing is returned from a half-read file.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError, field_validator

from sdsd_dspy.types import Turn


class LabeledFileError(ValueError):
    """A labeled file is unreadable or holds a bad line; the message names the file and line."""


class LabeledExample(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    id: StrictStr = Field(min_length=1)
    principle: StrictStr = Field(min_length=1)
    dialogue: list[Turn] = Field(min_length=1)
    violation: StrictBool
    rationale: StrictStr | None = None
    principle_id: StrictStr | None = None
    source: StrictStr | None = None

    @field_validator("dialogue")
    @classmethod
    def _has_assistant(cls, turns: list[Turn]) -> list[Turn]:
        if not any(t.role == "assistant" for t in turns):
            raise ValueError("the dialogue has no assistant message to judge")
        return turns

    @property
    def judged_index(self) -> int:
        """Index of the last assistant message (the one the label is about)."""
        return max(i for i, t in enumerate(self.dialogue) if t.role == "assistant")

    @property
    def context(self) -> list[Turn]:
        return list(self.dialogue[: self.judged_index])

    @property
    def reply(self) -> str:
        return self.dialogue[self.judged_index].content


def _describe(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(map(str, e["loc"])) or "line"
        parts.append(f"{loc}: {'missing' if e['type'] == 'missing' else e['msg']}")
    return "; ".join(parts)


def load_labeled(path: str | Path) -> list[LabeledExample]:
    """Read and validate a whole labeled file; any bad line is an error and nothing is returned."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LabeledFileError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise LabeledFileError(f"{path}: not UTF-8 text ({exc})") from exc
    examples: list[LabeledExample] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabeledFileError(f"{path}:{n}: invalid JSON: {exc.msg} (column {exc.colno})") from exc
        if not isinstance(raw, dict):
            raise LabeledFileError(f"{path}:{n}: expected a JSON object, got {type(raw).__name__}")
        try:
            example = LabeledExample.model_validate(raw)
        except ValidationError as exc:
            raise LabeledFileError(f"{path}:{n}: {_describe(exc)}") from exc
        if example.id in seen:
            raise LabeledFileError(f"{path}:{n}: duplicate id {example.id!r} (first on line {seen[example.id]})")
        seen[example.id] = n
        examples.append(example)
    if not examples:
        raise LabeledFileError(f"{path}: no examples")
    return examples


def dump_labeled(examples: list[LabeledExample], path: str | Path) -> None:
    Path(path).write_text("".join(json.dumps(e.model_dump(exclude_none=True), ensure_ascii=False) + "\n"
                                  for e in examples), encoding="utf-8")
