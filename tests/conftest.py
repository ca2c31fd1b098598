"""Every test runs isolated: DSPy settings reset, caches in a temp folder, no real model unless marked."""

from __future__ import annotations

import os

import dspy
import pytest


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("DSPY_CACHEDIR", str(tmp_path / "dspy-cache"))
    with dspy.context(lm=None, adapter=None):
        yield


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SDSD_SKIP_EMBEDDED"):
        skip = pytest.mark.skip(reason="SDSD_SKIP_EMBEDDED is set")
        for item in items:
            if "embedded" in item.keywords:
                item.add_marker(skip)
