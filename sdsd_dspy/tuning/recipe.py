"""Optimizer recipes (``optimizers/*.yaml``), checked by a pydantic model.

Example::

    name: probe-bootstrap
    optimizer: bootstrap_rs
    detector: {strategy: probe, context: last_user}
    budget: {num_candidate_programs: 4}      # numbers here scale with --budget
    params: {max_bootstrapped_demos: 2, max_labeled_demos: 0}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sdsd_dspy.yamlfile import describe, read_yaml_mapping


class RecipeError(ValueError):
    """A recipe file is missing or invalid; the message names the file and field."""


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    optimizer: Literal["bootstrap_rs", "mipro", "gepa", "simba", "optuna", "calibrate", "features"]
    description: str = ""
    parent: str = "seed"
    detector: dict[str, Any] = Field(default_factory=dict, description="DetectorSettings to start from")
    trainset: Path = Path("evals/detector/train.jsonl")
    devset: Path = Path("evals/detector/dev.jsonl")
    testset: Path | None = Path("evals/detector/test.jsonl")
    train_limit: int | None = Field(default=None, ge=1)
    dev_limit: int | None = Field(default=None, ge=1)
    budget: dict[str, int | float] = Field(default_factory=dict, description="scaled by --budget")
    params: dict[str, Any] = Field(default_factory=dict)
    search_space: dict[str, list[Any]] = Field(default_factory=dict, description="optuna: choices per setting")
    calibrate: bool = True
    seed: int = 0
    expected_minutes_on_2_cores: float | None = None

    def scaled_budget(self, factor: float) -> dict[str, int | float]:
        return {k: (max(1, round(v * factor)) if isinstance(v, int) else v * factor) for k, v in self.budget.items()}


def load_recipe(path: Path) -> Recipe:
    data = read_yaml_mapping(path, RecipeError, "recipe")
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        raise RecipeError(f"{path}: {describe(exc)}") from exc
