"""Run configuration: a YAML recipe → :class:`RunConfig` → CLI overrides. The resolved config goes in the run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sdsd_dspy.lm.factory import LMConfig
from sdsd_dspy.yamlfile import describe, read_yaml_mapping


class ConfigError(ValueError):
    """A config file or override is invalid; the message names the file and field."""


class RunConfig(BaseModel):
    """Everything that decides what a run generates.

    Example YAML (``--config run.yaml``)::

        records: 100
        seed: 7
        max_turns: 4
        lm: {model: hosted_vllm/Qwen/Qwen2.5-7B-Instruct, api_base: http://localhost:8000/v1, temperature: 0.8}
    """

    model_config = ConfigDict(extra="forbid")

    records: int = Field(default=3, ge=1)
    seed: int = 0
    out: Path = Path("runs/sample")
    lm: LMConfig = Field(default_factory=LMConfig)
    max_turns: int = Field(default=3, ge=1, description="assistant replies before a dialogue is cut off")
    judge_turns: Literal["all", "final"] = "all"
    inline_tags: bool = Field(default=False, description="the assistant tags its own violations (the paper's way)")
    principles_per_dialogue: int = Field(default=2, ge=1)
    max_revisions: int = Field(default=2, ge=1)
    concurrency: int = Field(default=1, ge=1)
    program: str = "default"
    formats: list[Literal["jsonl", "parquet"]] = ["jsonl", "parquet"]
    topics: Path | None = None
    principles: Path | None = None
    goals: Path | None = None

    # Fields that may change when a run folder is resumed or extended: they do not change any record.
    RESUMABLE_FIELDS: ClassVar[frozenset[str]] = frozenset({"records", "out", "concurrency", "formats"})

    def generation_key(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude=set(self.RESUMABLE_FIELDS))
        data["lm"].pop("num_retries", None)
        return data


def load_config(path: Path | None, overrides: dict[str, Any]) -> RunConfig:
    """Merge a YAML file (if any) with CLI overrides (``None`` values ignored; ``lm.*`` keys nested)."""
    data: dict[str, Any] = {}
    if path is not None:
        data = read_yaml_mapping(path, ConfigError, "config file")
    for key, value in overrides.items():
        if value is None:
            continue
        if key.startswith("lm."):
            data.setdefault("lm", {})
            if not isinstance(data["lm"], dict):
                raise ConfigError(f"{path}: field 'lm' must be a mapping")
            data["lm"][key[3:]] = value
        else:
            data[key] = value
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path or 'command line'}: {describe(exc)}") from exc
