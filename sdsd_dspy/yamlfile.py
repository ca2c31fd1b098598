"""Reading the YAML files people edit (configs, recipes, task data) with errors that name the file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


def read_yaml_mapping(path: Path, error: type[Exception], what: str = "file") -> dict[str, Any]:
    """The mapping in ``path``; ``error`` names the file when it is missing, not YAML, or not a mapping."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise error(f"{path}: {what} not found") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping")
    return data


def describe(exc: ValidationError) -> str:
    """``field.sub: message; ...`` for a pydantic error."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
