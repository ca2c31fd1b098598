"""Assemble and verify the embedded model (run by ``make install``): ``python -m sdsd_dspy.lm.check``."""

from __future__ import annotations

import sys

from sdsd_dspy.lm.embedded import QWEN_CODER_1_5B, EmbeddedModelError, ensure_model


def main() -> int:
    try:
        path = ensure_model(QWEN_CODER_1_5B)
    except EmbeddedModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"embedded model ok: {path} (sha256 {QWEN_CODER_1_5B.sha256[:12]}…)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
