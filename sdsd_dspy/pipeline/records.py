"""Pure conversion of a program prediction into output rows (``dialogues`` and TRL-style ``preferences``)."""

from __future__ import annotations

from typing import Any

from sdsd_dspy.types import DialogueRecord, PreferenceRecord, Sample, Turn


def dialogue_record(sample: Sample, pred: Any, model_id: str) -> DialogueRecord:
    return DialogueRecord(
        id=sample.record_id, index=sample.index, seed=sample.seed,
        domain=sample.topic.domain, subarea=sample.topic.subarea,
        principles=[p.id for p in sample.principles], principle_texts=[p.text for p in sample.principles],
        goal=sample.goal.id, goal_kind=sample.goal.kind,
        plan=pred.plan, messages=pred.turns,
        is_violation=pred.violation_turn is not None, is_truncated=pred.truncated, stop_reason=pred.stop_reason,
        verdicts=pred.verdicts, first_violation_turn=pred.violation_turn,
        critique=pred.critique, revision=pred.revision, model=model_id,
    )


def preference_record(record: DialogueRecord) -> PreferenceRecord | None:
    """The DPO pair of a violating dialogue whose revision passed the re-check; ``None`` otherwise.

    ``prompt`` is every message before the violating turn, ``rejected`` the original turn, ``chosen`` the revision.
    """
    if record.revision is None or record.critique is None or not record.revision.passes:
        return None
    i = record.revision.turn_index
    return PreferenceRecord(
        id=f"{record.id}-r{record.revision.attempt}", dialogue_id=record.id,
        prompt=record.messages[:i],
        chosen=[Turn(role="assistant", content=record.revision.text)],
        rejected=[record.messages[i]],
        critique=record.critique.text, violated_principles=record.critique.principle_ids,
        domain=record.domain, subarea=record.subarea, goal=record.goal, model=record.model,
    )
