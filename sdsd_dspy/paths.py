"""Where the project's text and data live: the checkout's top-level folders, and the user cache."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir


def project_root() -> Path:
    """The checkout holding ``signatures/``, ``optimizers/``, ``evals/`` and ``artifacts/``.

    ``SDSD_HOME`` overrides it; otherwise it is the folder above the package (an editable install or a checkout).
    """
    env = os.environ.get("SDSD_HOME")
    root = Path(env) if env else Path(__file__).resolve().parent.parent
    if not (root / "signatures").is_dir():
        raise FileNotFoundError(
            f"no signatures/ folder under {root}: run from a checkout of sdsd-dspy (pip install -e .) "
            "or set SDSD_HOME to one"
        )
    return root


def signatures_dir() -> Path:
    return project_root() / "signatures"


def artifacts_dir() -> Path:
    """Compiled programs, eval reports and optuna studies; ``SDSD_ARTIFACTS`` overrides it (tests, scratch work)."""
    env = os.environ.get("SDSD_ARTIFACTS")
    return Path(env) if env else project_root() / "artifacts"


def cache_dir() -> Path:
    """User cache (the assembled model, DSPy's response cache); ``SDSD_CACHE_DIR`` overrides it."""
    return Path(os.environ.get("SDSD_CACHE_DIR") or user_cache_dir("sdsd-dspy"))
