"""Compare program versions: every eval report under ``artifacts/programs/*/evals/`` in one Markdown table.

Examples:
    python -m sdsd_dspy.report                       # print the table
    python -m sdsd_dspy.report --out artifacts/reports/detector.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def seconds_cell(report: dict[str, Any]) -> float | str | None:
    """Seconds per example, flagged when DSPy's cache answered some calls (those cost no time)."""
    cached = report.get("cached_calls") or 0
    calls = sum(row.get("calls", 0) for row in report.get("rows") or [])
    seconds = report.get("seconds_per_example")
    if not cached:
        return seconds
    if not calls or cached >= calls or seconds is None:
        return "cached"
    return f"{seconds:.3f} ({cached} of {calls} calls cached)"


def collect(programs: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(programs.glob("*/evals/*.json")):
        try:
            r = json.loads(path.read_text())
        except ValueError:
            continue
        rows.append({
            "version": r.get("program_version", path.parent.parent.name),
            "strategy": (r.get("detector_settings") or {}).get("strategy", "?"),
            "file": Path(r.get("labeled_file", path.stem)).name, "model": (r.get("model") or {}).get("id", "?"),
            "n": r["n"], "accuracy": r["accuracy"], "precision": r["precision"], "recall": r["recall"],
            "f1": r["f1"], "auc": r.get("auc"),
            "seconds": seconds_cell(r),
            "command": r.get("command", ""),
        })
    return rows


def to_markdown(rows: list[dict[str, Any]]) -> str:
    head = ("| version | strategy | file | model | n | accuracy | precision | recall | F1 | AUC | s/example |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n")
    def fmt(v: Any) -> str:
        return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
    body = "".join(
        f"| {r['version']} | {r['strategy']} | {r['file']} | {r['model']} | {r['n']} | {fmt(r['accuracy'])} | "
        f"{fmt(r['precision'])} | {fmt(r['recall'])} | {fmt(r['f1'])} | {fmt(r['auc'])} | "
        f"{fmt(r['seconds'])} |\n" for r in sorted(rows, key=lambda r: (r["file"], -r["accuracy"])))
    commands = "".join(f"- `{r['command']}`\n" for r in rows if r["command"])
    return head + body + ("\nCommands:\n" + commands if commands else "")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sdsd_dspy.report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = p.parse_args(argv)
    from sdsd_dspy.artifacts import programs_dir

    rows = collect(programs_dir())
    if not rows:
        print("no eval reports yet: run python -m sdsd_dspy.eval", file=sys.stderr)
        return 1
    text = to_markdown(rows)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("# Detector versions compared\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
