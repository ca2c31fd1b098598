"""Export a run folder's JSONL records as a Hugging Face ``DatasetDict`` (saved to disk) and as Parquet."""

from __future__ import annotations

from pathlib import Path

import datasets

from sdsd_dspy.pipeline.store import DIALOGUES, PREFERENCES, read_jsonl

_STR = datasets.Value("string")
_MESSAGES = [{"role": _STR, "content": _STR}]
# Fixed so that an empty split (no violation yet) still has TRL's columns and types.
PREFERENCE_FEATURES = datasets.Features({
    "id": _STR, "dialogue_id": _STR, "prompt": _MESSAGES, "chosen": _MESSAGES, "rejected": _MESSAGES,
    "critique": _STR, "violated_principles": [_STR], "domain": _STR, "subarea": _STR, "goal": _STR, "model": _STR,
})


def _split(path: Path, features: datasets.Features | None = None) -> datasets.Dataset:
    rows = read_jsonl(path)
    if features is not None and not rows:
        return datasets.Dataset.from_dict({name: [] for name in features}, features=features)
    return datasets.Dataset.from_list(rows, features=features)


def export_run(folder: Path, formats: tuple[str, ...] = ("parquet",)) -> datasets.DatasetDict:
    """Build the DatasetDict from ``folder``'s records, save it under ``folder/dataset`` and write extra formats.

    JSONL is always there (it is what the run appends to); ``parquet`` adds ``<split>.parquet``.
    """
    folder = Path(folder)
    datasets.disable_progress_bars()  # library code draws nothing; the CLI shows its own progress
    ds = datasets.DatasetDict({
        "dialogues": _split(folder / DIALOGUES),
        "preferences": _split(folder / PREFERENCES, PREFERENCE_FEATURES),
    })
    # One shard per split: datasets writes no shard for an empty split and then cannot load it back.
    empty = {name: 1 for name, split in ds.items() if len(split) == 0}
    ds.save_to_disk(str(folder / "dataset"), num_shards=empty or None)
    if "parquet" in formats:
        for name, split in ds.items():
            split.to_parquet(str(folder / f"{name}.parquet"))
    return ds
