"""Shared pieces of the command-line entry points: logging setup and a rich progress callback."""

from __future__ import annotations

import logging
import os

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sdsd_dspy.paths import cache_dir

console = Console(stderr=True)


def setup(verbose: bool = False) -> None:
    """Configure logging (only entry points do this) and keep DSPy's response cache in our user cache."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("LiteLLM", "litellm", "httpx", "dspy"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.ERROR)
    os.environ.setdefault("DSPY_CACHEDIR", str(cache_dir() / "dspy"))


def progress_bar(description: str) -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=console, transient=False)
