"""Evaluate a program version's violation detector on a labeled file.

Prints accuracy, precision, recall, F1, the confusion matrix, per-principle accuracy, and tokens and seconds per
example, and writes them as JSON next to the program version
(``artifacts/programs/<version>/evals/<file>[-<strategy>].json``). Works on any file in the labeled format
(see ``sdsd_dspy/labeled.py``).

Examples:
    python -m sdsd_dspy.eval --labeled evals/detector/test.jsonl                     # the default version
    python -m sdsd_dspy.eval --labeled evals/detector/test.jsonl --program seed      # uncompiled baseline
    python -m sdsd_dspy.eval --labeled evals/detector/test.jsonl --program seed --strategy inline
    python -m sdsd_dspy.eval --labeled my.jsonl --lm openai/gpt-4o-mini
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from sdsd_dspy.cli_common import console, progress_bar, setup


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sdsd_dspy.eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--labeled", type=Path, required=True, help="labeled JSONL file")
    p.add_argument("--program", default="default", help="program version (default: the default version)")
    p.add_argument("--strategy", choices=["probe", "features", "predict", "inline", "contrast"],
                   help="override the detector's strategy")
    p.add_argument("--context", choices=["none", "last_user", "all"],
                   help="override how much of the dialogue the detector sees")
    p.add_argument("--lm", default="embedded", help="'embedded' or a litellm model string")
    p.add_argument("--api-base")
    p.add_argument("--limit", type=int, help="only the first N examples")
    p.add_argument("--no-cache", action="store_true", help="bypass DSPy's cache (for honest seconds and tokens)")
    p.add_argument("--out", type=Path, help="report path (default: next to the program version)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def print_report(report: dict, title: str) -> None:
    c = report["confusion"]
    console.print(f"[bold]{title}[/bold]")
    console.print(f"  accuracy {report['accuracy']:.3f}  precision {report['precision']:.3f}  "
                  f"recall {report['recall']:.3f}  F1 {report['f1']:.3f}  (n={report['n']}, "
                  f"{report['errors']} unparseable)")
    console.print(f"  confusion: TP {c['tp']}  FP {c['fp']}  TN {c['tn']}  FN {c['fn']}")
    if report.get("auc") is not None:
        console.print(f"  AUC {report['auc']:.3f}")
    console.print(f"  per example: {report['seconds_per_example']:.2f} s, "
                  f"{report['prompt_tokens_per_example']:.0f} prompt + "
                  f"{report['completion_tokens_per_example']:.0f} completion tokens"
                  + (f"  ({report['cached_calls']} calls answered from cache: rerun with --no-cache to time them)"
                     if report.get("cached_calls") else ""))
    worst = sorted(report["per_principle"].items(), key=lambda kv: kv[1]["accuracy"])[:8]
    console.print("  weakest principles: " + ", ".join(f"{k} {v['accuracy']:.2f} (n={v['n']})" for k, v in worst))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup(args.verbose)
    from sdsd_dspy import artifacts
    from sdsd_dspy.detection import LabeledDetector, evaluate, to_dspy_examples
    from sdsd_dspy.labeled import LabeledFileError, load_labeled
    from sdsd_dspy.lm.embedded import EmbeddedModelError
    from sdsd_dspy.lm.factory import LMConfig, build_lm
    from sdsd_dspy.provenance import git_commit, now
    from sdsd_dspy.taskdata import TaskData

    try:
        labeled = load_labeled(args.labeled)
        program = LabeledDetector()
        version = artifacts.load_into(program, args.program)
        if args.strategy:
            program.detector.settings.strategy = args.strategy
        if args.context:
            program.detector.settings.context = args.context
        lm, info = build_lm(LMConfig(model=args.lm, api_base=args.api_base, temperature=0.0, max_tokens=256,
                                     cache=not args.no_cache))
    except (LabeledFileError, FileNotFoundError, EmbeddedModelError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    examples = to_dspy_examples(labeled, TaskData.load())[: args.limit]
    bar = progress_bar("evaluating")
    task = bar.add_task("examples", total=len(examples), status="")
    with bar:
        report, rows = evaluate(program, examples, lm,
                                progress=lambda i, n: bar.update(task, completed=i))
    settings = program.detector.settings.dump_state()
    report = {
        "program_version": version, "labeled_file": str(args.labeled),
        "labeled_sha256": hashlib.sha256(args.labeled.read_bytes()).hexdigest(),
        "model": info.model_dump(), "detector_settings": settings, "git_commit": git_commit(),
        "finished": now(), "command": "python -m sdsd_dspy.eval " + " ".join(argv or sys.argv[1:]),
        **report, "rows": rows,
    }
    out = args.out or artifacts.programs_dir() / version / "evals" / (
        args.labeled.stem + (f"-{args.strategy}" if args.strategy else "")
        + (f"-{args.context}" if args.context else "") + (f"-n{args.limit}" if args.limit else "")
        + ("" if args.lm == "embedded" else "-" + args.lm.replace("/", "_")) + ".json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_report(report, f"{args.labeled} · program {version} · {settings['strategy']} · {info.id}")
    console.print(f"report → {out}")
    return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
