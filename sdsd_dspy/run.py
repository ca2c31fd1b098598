"""Generate SDSD dialogues and preference pairs.

With no arguments, generates a small sample (3 records) on the embedded model (Qwen2.5-Coder-1.5B-Instruct
through llama.cpp, on the CPU) into runs/sample/. Rerunning the same command resumes: finished records are kept
and only missing ones are generated.

Examples:
    python -m sdsd_dspy.run
    python -m sdsd_dspy.run --records 200 --seed 7 --out runs/s7 --max-turns 4
    python -m sdsd_dspy.run --lm openai/gpt-4o-mini --records 50 --concurrency 8
    python -m sdsd_dspy.run --lm hosted_vllm/Qwen/Qwen2.5-7B-Instruct \
        --api-base http://localhost:8000/v1 --concurrency 64

Output (in --out): dialogues.jsonl, preferences.jsonl, failures.jsonl, dataset/ (datasets.load_from_disk),
<split>.parquet, config.yaml, manifest.json (config, git commit, versions, model and hash, tokens and seconds per
stage) and lm_history.jsonl (every LM call).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sdsd_dspy.cli_common import console, progress_bar, setup


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sdsd_dspy.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, help="YAML file of run settings; flags override it")
    p.add_argument("-n", "--records", type=int, help="number of records (default 3)")
    p.add_argument("--seed", type=int, help="sampling seed (default 0); record ids derive from it")
    p.add_argument("--out", type=Path, help="run folder (default runs/sample)")
    p.add_argument("--lm", dest="lm.model", metavar="MODEL",
                   help="'embedded' (default) or a litellm model, e.g. openai/gpt-4o-mini, hosted_vllm/<model>")
    p.add_argument("--api-base", dest="lm.api_base", metavar="URL", help="OpenAI-compatible server, e.g. vLLM")
    p.add_argument("--temperature", dest="lm.temperature", type=float, help="sampling temperature (default 0.7)")
    p.add_argument("--max-tokens", dest="lm.max_tokens", type=int, help="max tokens per call (default 256)")
    p.add_argument("--no-cache", dest="lm.cache", action="store_const", const=False, help="bypass DSPy's cache")
    p.add_argument("--max-turns", type=int, help="assistant replies before a dialogue is truncated (default 3)")
    p.add_argument("--judge-turns", choices=["all", "final"], help="which assistant turns the detector judges")
    p.add_argument("--inline-tags", action="store_const", const=True,
                   help="the assistant tags its own violations as it speaks (the paper's way) instead of the detector")
    p.add_argument("--principles-per-dialogue", type=int, help="principles sampled per dialogue (default 2)")
    p.add_argument("--max-revisions", type=int, help="revision attempts per violating turn (default 2)")
    p.add_argument("--concurrency", type=int, help="records in flight at once (default 1)")
    p.add_argument("--program", help="compiled program version from artifacts/programs (default: 'default')")
    p.add_argument("--format", dest="formats", action="append", choices=["jsonl", "parquet"],
                   help="output formats besides the saved DatasetDict (default: jsonl and parquet)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup(args.verbose)
    from sdsd_dspy.lm.embedded import EmbeddedModelError
    from sdsd_dspy.pipeline.config import ConfigError, load_config
    from sdsd_dspy.pipeline.runner import RunAborted, RunCallbacks, generate
    from sdsd_dspy.taskdata import TaskDataError

    overrides = {k: v for k, v in vars(args).items() if k not in ("config", "verbose")}
    bar = progress_bar("generating")

    class Progress(RunCallbacks):
        def on_run_start(self, total, pending):
            self.task = bar.add_task("records", total=total, completed=total - pending, status="")
            bar.start()

        def on_record_end(self, record):
            flags = ("violation" if record.is_violation else "clean") + (", truncated" if record.is_truncated else "")
            bar.update(self.task, advance=1, status=f"{record.id} {flags}")

        def on_record_error(self, sample, error):
            bar.update(self.task, advance=1, status=f"[red]{sample.record_id} failed: {type(error).__name__}")

        def on_run_end(self, result):
            bar.stop()

    try:
        config = load_config(args.config, overrides)
        result = generate(config, Progress())
    except (ConfigError, TaskDataError, EmbeddedModelError, FileNotFoundError, RunAborted) as exc:
        bar.stop()
        console.print(f"[red]error:[/red] {exc}")
        return 2
    per = f", {result.seconds / result.written:.1f} s/record" if result.written else ""
    console.print(f"wrote {result.written} records ({result.failed} failed, {result.skipped} already done) "
                  f"in {result.seconds:.0f} s{per} → {result.folder}")
    console.print(f"totals: {result.counts}")
    for name, s in result.stages.items():
        console.print(f"  {name:10s} {int(s['calls']):4d} calls {int(s['prompt_tokens']):7d} in "
                      f"{int(s['completion_tokens']):6d} out {s['seconds']:7.1f} s")
    return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
