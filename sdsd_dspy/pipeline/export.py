"""Export a run folder's JSONL records as a Hugging Face ``DatasetDict`` (saved to disk) and as Parquet."""

from __future__ import annotations

from pathlib import Path

import datasets

from sdsd_dspy.pipeline.store import DIALOGUES, PREFERENCES, read_jsonl
from sdsd_dspy.types import DialogueRecord, PreferenceRecord


def _split(path: Path, model: type) -> datasets.Dataset:
    rows = read_jsonl(path)
    if rows:
        return datasets.Dataset.from_list(rows)
    return datasets.Dataset.from_dict({name: [] for name in model.model_fields})


def export_run(folder: Path, formats: tuple[str, ...] = ("parquet",)) -> datasets.DatasetDict:
    """Build the DatasetDict from ``folder``'s records, save it under ``folder/dataset`` and write extra formats.

    JSONL is always there (it is what the run appends to); ``parquet`` adds ``<split>.parquet``.
    """
    folder = Path(folder)
    datasets.disable_progress_bars()  # library code draws nothing; the CLI shows its own progress
    ds = datasets.DatasetDict({
        "dialogues": _split(folder / DIALOGUES, DialogueRecord),
        "preferences": _split(folder / PREFERENCES, PreferenceRecord),
    })
    ds.save_to_disk(str(folder / "dataset"))
    if "parquet" in formats:
        for name, split in ds.items():
            split.to_parquet(str(folder / f"{name}.parquet"))
    return ds
