"""Every test runs isolated: DSPy settings reset, caches in a temp folder, no real model unless marked."""

from __future__ import annotations

import os
import tempfile

# DSPy reads its cache folder at import: point it at a throwaway folder before anything imports dspy.
os.environ["DSPY_CACHEDIR"] = tempfile.mkdtemp(prefix="sdsd-test-dspy-")

import dspy  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    # compiled versions in the checkout's artifacts/ must not change what a test runs
    monkeypatch.setenv("SDSD_ARTIFACTS", str(tmp_path / "artifacts"))
    with dspy.context(lm=None, adapter=None):
        yield


def pytest_collection_modifyitems(config, items):
    if os.environ.get("SDSD_SKIP_EMBEDDED"):
        skip = pytest.mark.skip(reason="SDSD_SKIP_EMBEDDED is set")
        for item in items:
            if "embedded" in item.keywords:
                item.add_marker(skip)
