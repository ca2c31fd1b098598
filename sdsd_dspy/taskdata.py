"""Load and validate the task data: topics, principles and goals (``signatures/*.yaml``).

Every file is checked by a pydantic model on load; a malformed entry raises :class:`TaskDataError` naming the
file and the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sdsd_dspy.paths import signatures_dir
from sdsd_dspy.types import Domain, Goal, Principle
from sdsd_dspy.yamlfile import read_yaml_mapping


class TaskDataError(ValueError):
    """A task-data file is missing, unreadable or holds an invalid entry."""


def _entries(path: Path, key: str) -> list[Any]:
    data = read_yaml_mapping(path, TaskDataError)
    if not isinstance(data.get(key), list):
        raise TaskDataError(f"{path}: expected a mapping with a list under '{key}'")
    return data[key]


def _validate(path: Path, key: str, model: type[BaseModel], raw: list[Any], label: str) -> list[Any]:
    items, seen = [], {}
    for i, entry in enumerate(raw):
        name = entry.get(label) if isinstance(entry, dict) else None
        where = f"{path}: {key}[{i}]" + (f" ({label}={name!r})" if name else "")
        try:
            item = model.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or label}: {e['msg']}" for e in exc.errors())
            raise TaskDataError(f"{where}: {problems}") from exc
        ident = str(getattr(item, label)).strip().lower()
        if ident in seen:
            raise TaskDataError(f"{where}: duplicate {label}, first at {key}[{seen[ident]}]")
        seen[ident] = i
        items.append(item)
    if not items:
        raise TaskDataError(f"{path}: '{key}' is empty")
    return items


def load_principles(path: Path | None = None) -> list[Principle]:
    path = path or signatures_dir() / "principles.yaml"
    sources = read_yaml_mapping(path, TaskDataError).get("sources", {})
    principles = _validate(path, "principles", Principle, _entries(path, "principles"), "id")
    for i, p in enumerate(principles):
        if sources and p.source not in sources:
            raise TaskDataError(f"{path}: principles[{i}] (id={p.id!r}): source {p.source!r} is not under 'sources'")
        if p.id.split(".", 1)[0] != p.category:
            raise TaskDataError(f"{path}: principles[{i}] (id={p.id!r}): id prefix must be its category {p.category!r}")
    return principles


def load_goals(path: Path | None = None) -> list[Goal]:
    path = path or signatures_dir() / "goals.yaml"
    return _validate(path, "goals", Goal, _entries(path, "goals"), "id")


def load_domains(path: Path | None = None) -> list[Domain]:
    path = path or signatures_dir() / "topics.yaml"
    return _validate(path, "domains", Domain, _entries(path, "domains"), "name")


@dataclass(frozen=True)
class TaskData:
    """Everything a run samples from."""

    domains: list[Domain]
    principles: list[Principle]
    goals: list[Goal]

    @classmethod
    def load(cls, topics: Path | None = None, principles: Path | None = None, goals: Path | None = None) -> TaskData:
        return cls(load_domains(topics), load_principles(principles), load_goals(goals))

    def principle(self, principle_id: str) -> Principle:
        for p in self.principles:
            if p.id == principle_id:
                return p
        raise KeyError(f"unknown principle id {principle_id!r}")
