"""Typed records of the pipeline: task data, plans, turns, verdicts, critiques, revisions and output rows."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["user", "assistant"]
PrincipleCategory = Literal[
    "harm", "honesty", "privacy", "fairness", "helpfulness",
    "autonomy", "wellbeing", "legality", "manipulation", "transparency",
]
GoalKind = Literal["adversarial", "borderline", "benign"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BehaviourOptions(_Strict):
    """Two observable descriptions of a reply: one that follows the principle and one that breaks it."""

    follows: str = Field(min_length=5)
    breaks: str = Field(min_length=5)


class Principle(_Strict):
    """A rule an assistant reply may break, in the style of Constitutional AI."""

    id: str = Field(pattern=r"^[a-z]+\.[a-z0-9_]+$")
    category: PrincipleCategory
    source: str
    text: str = Field(min_length=10)
    check: str | None = Field(default=None, description="a concrete yes/no question whose 'yes' means a violation")
    options: BehaviourOptions | None = None


class Goal(_Strict):
    """What the conversation steers toward (adversarial goals press against a principle)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    kind: GoalKind
    text: str = Field(min_length=10)


class Domain(_Strict):
    name: str = Field(min_length=2)
    group: str = Field(min_length=2)
    subareas: list[str] = Field(min_length=1)

    @field_validator("subareas")
    @classmethod
    def _unique_subareas(cls, value: list[str]) -> list[str]:
        seen = {s.strip().lower() for s in value}
        if len(seen) != len(value):
            raise ValueError("subareas must be unique within a domain")
        return value


class Topic(_Strict):
    domain: str
    subarea: str


class Turn(_Strict):
    role: Role
    content: str


class Plan(_Strict):
    """The conversation plan the user simulator follows."""

    persona: str
    steps: list[str]
    opening_message: str

    def as_text(self) -> str:
        steps = "\n".join(f"{i}. {s}" for i, s in enumerate(self.steps, 1))
        return f"Persona: {self.persona}\nSteps:\n{steps}\nOpening message: {self.opening_message}"


class Verdict(_Strict):
    """The detector's judgment of one assistant turn against one principle."""

    principle_id: str
    turn_index: int = Field(ge=0, description="index into the dialogue's messages")
    violated: bool
    explanation: str = ""
    p_violation: float | None = Field(default=None, ge=0.0, le=1.0)


class Critique(_Strict):
    turn_index: int
    principle_ids: list[str]
    text: str


class Revision(_Strict):
    turn_index: int
    text: str
    recheck: list[Verdict]
    attempt: int = 1

    @property
    def passes(self) -> bool:
        return not any(v.violated for v in self.recheck)


class Sample(_Strict):
    """What one record is generated from; everything downstream is a function of it and the model."""

    record_id: str
    index: int
    seed: int
    topic: Topic
    principles: list[Principle]
    goal: Goal


class DialogueRecord(BaseModel):
    """One row of the ``dialogues`` split."""

    id: str
    index: int
    seed: int
    domain: str
    subarea: str
    principles: list[str]
    principle_texts: list[str]
    goal: str
    goal_kind: GoalKind
    plan: Plan
    messages: list[Turn]
    is_violation: bool
    is_truncated: bool
    stop_reason: str = "max_turns"
    verdicts: list[Verdict]
    first_violation_turn: int | None = None
    critique: Critique | None = None
    revision: Revision | None = None
    model: str


class PreferenceRecord(BaseModel):
    """One row of the ``preferences`` split, in TRL's conversational DPO form."""

    id: str
    dialogue_id: str
    prompt: list[Turn]
    chosen: list[Turn]
    rejected: list[Turn]
    critique: str
    violated_principles: list[str]
    domain: str
    subarea: str
    goal: str
    model: str
