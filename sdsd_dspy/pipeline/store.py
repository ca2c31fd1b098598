"""Append-only record files of a run folder, safe to resume after a crash.

Each finished record is appended (and flushed to disk) as soon as it is done: ``dialogues.jsonl``,
``preferences.jsonl`` and, for records whose generation failed, ``failures.jsonl``. On opening an existing folder
a torn last line (a crash mid-write) is cut off, and preference rows whose dialogue was never written are dropped,
so a resumed run regenerates exactly the missing records: no loss, no duplicates.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from sdsd_dspy.types import DialogueRecord, PreferenceRecord

DIALOGUES, PREFERENCES, FAILURES = "dialogues.jsonl", "preferences.jsonl", "failures.jsonl"


def _repair_tail(path: Path) -> None:
    """Cut a trailing partial line (no newline, or not JSON) left by an interrupted write."""
    if not path.exists():
        return
    data = path.read_bytes()
    if not data:
        return
    keep = data if data.endswith(b"\n") else data[: data.rfind(b"\n") + 1]
    lines = keep.splitlines(keepends=True)
    while lines:
        try:
            json.loads(lines[-1])
            break
        except ValueError:
            lines.pop()
    fixed = b"".join(lines)
    if fixed != data:
        path.write_bytes(fixed)


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise ValueError(f"{path}:{n}: not valid JSON: {exc}") from exc
    return rows


class RecordStore:
    """The run folder's record files. Thread-safe; every write is flushed and fsynced."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        for name in (DIALOGUES, PREFERENCES, FAILURES):
            _repair_tail(self.folder / name)
            (self.folder / name).touch()
        self._done = {row["id"] for row in read_jsonl(self.folder / DIALOGUES)}
        prefs = read_jsonl(self.folder / PREFERENCES)
        orphans = [p for p in prefs if p.get("dialogue_id") not in self._done]
        if orphans:
            self._rewrite(PREFERENCES, [p for p in prefs if p.get("dialogue_id") in self._done])

    def _rewrite(self, name: str, rows: list[dict]) -> None:
        tmp = self.folder / (name + ".tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        os.replace(tmp, self.folder / name)

    def _append(self, name: str, row: dict) -> None:
        with (self.folder / name).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    @property
    def done_ids(self) -> set[str]:
        with self._lock:
            return set(self._done)

    def write(self, dialogue: DialogueRecord, preference: PreferenceRecord | None) -> None:
        """Write one finished record; its preference row first, so a crash between the two is repaired on open."""
        with self._lock:
            if dialogue.id in self._done:
                return
            if preference is not None:
                self._append(PREFERENCES, preference.model_dump(mode="json"))
            self._append(DIALOGUES, dialogue.model_dump(mode="json"))
            self._done.add(dialogue.id)

    def write_failure(self, record_id: str, index: int, stage: str, error: str) -> None:
        with self._lock:
            self._append(FAILURES, {"id": record_id, "index": index, "stage": stage, "error": error})

    def counts(self) -> dict[str, int]:
        return {name.split(".")[0]: len(read_jsonl(self.folder / name)) for name in (DIALOGUES, PREFERENCES, FAILURES)}
