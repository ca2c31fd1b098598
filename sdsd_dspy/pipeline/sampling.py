"""Deterministic sampling: record ``index`` of a run with ``seed`` always gets the same topic, principles and goal.

Each sample draws from its own RNG seeded by (seed, index), so growing a run from 10 to 1000 records keeps the
first 10 identical, and a resumed run regenerates exactly the missing ones. Domains are drawn first and then a
subarea, so every domain is equally likely whatever its number of subareas.
"""

from __future__ import annotations

import random

from sdsd_dspy.formatting import record_id
from sdsd_dspy.taskdata import TaskData
from sdsd_dspy.types import Sample, Topic


def make_sample(task: TaskData, seed: int, index: int, principles_per_dialogue: int = 2) -> Sample:
    rng = random.Random(f"sdsd:{seed}:{index}")
    domain = rng.choice(task.domains)
    subarea = rng.choice(domain.subareas)
    goal = rng.choice(task.goals)
    k = max(1, min(principles_per_dialogue, len(task.principles)))
    principles = rng.sample(task.principles, k)
    return Sample(record_id=record_id(seed, index), index=index, seed=seed,
                  topic=Topic(domain=domain.name, subarea=subarea), principles=principles, goal=goal)


def make_samples(task: TaskData, seed: int, count: int, principles_per_dialogue: int = 2) -> list[Sample]:
    return [make_sample(task, seed, i, principles_per_dialogue) for i in range(count)]
