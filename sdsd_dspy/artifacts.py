"""Versioned compiled programs under ``artifacts/programs/<version>/`` (DSPy JSON state + manifest).

``seed`` is the uncompiled program (instructions from ``signatures/*.md``, no demos). ``default`` resolves to
the version named in ``artifacts/programs/DEFAULT`` when that file exists, else to ``seed``.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import dspy

from sdsd_dspy.paths import artifacts_dir

SEED = "seed"
logger = logging.getLogger(__name__)
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def programs_dir() -> Path:
    return artifacts_dir() / "programs"


def resolve_version(name: str) -> str:
    if name == "default":
        pointer = programs_dir() / "DEFAULT"
        return pointer.read_text().strip() if pointer.exists() else SEED
    return name


def list_versions() -> list[str]:
    if not programs_dir().is_dir():
        return []
    return sorted(p.name for p in programs_dir().iterdir() if (p / "program.json").is_file())


def load_into(program: dspy.Module, name: str) -> str:
    """Load version ``name`` into ``program`` (in place) and return the resolved version name."""
    version = resolve_version(name)
    if version == SEED:
        return version
    if not _VERSION.match(version):
        raise ValueError(f"invalid program version name {version!r}")
    path = programs_dir() / version / "program.json"
    if not path.is_file():
        known = ", ".join(list_versions()) or "none compiled yet"
        raise FileNotFoundError(f"program version {version!r} not found at {path} (known: seed, {known})")
    state = json.loads(path.read_text())
    known = dict(program.named_parameters())
    missing = sorted(set(known) - set(state))
    if missing:  # saved by an older program: those parts keep their seed state
        logger.warning("program version %s has no state for %s; they keep their seed state", version,
                       ", ".join(missing))
    for name, param in known.items():
        if name in state:
            param.load_state(state[name])
    return version


def compiled_for(version: str) -> str | None:
    """The model id a version was compiled with (its weights and thresholds are calibrated to that model)."""
    if version == SEED:
        return None
    try:
        return json.loads((programs_dir() / version / "manifest.json").read_text())["model"]["id"]
    except (OSError, ValueError, KeyError):
        return None


def save_version(program: dspy.Module, version: str, manifest: dict[str, Any], *, make_default: bool = False) -> Path:
    if not _VERSION.match(version) or version in (SEED, "default"):
        raise ValueError(f"invalid program version name {version!r}")
    folder = programs_dir() / version
    if folder.exists():
        raise FileExistsError(f"{folder} exists: versions are immutable, pick a new name")
    folder.mkdir(parents=True)
    program.save(str(folder / "program.json"))
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    if make_default:
        (programs_dir() / "DEFAULT").write_text(version + "\n")
    return folder
