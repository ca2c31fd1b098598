"""Optimize the violation detector's prompts and settings on the hand-labeled set; save a new program version.

A recipe (``optimizers/*.yaml``) names the optimizer (MIPROv2, GEPA, BootstrapFewShotWithRandomSearch, SIMBA, an
optuna study over the detector's settings, or threshold calibration alone), its budget and its search space.
The optimizer sees train and dev only. For judges that output P(violation) the threshold is then calibrated on
dev. The version is saved under ``artifacts/programs/<version>/`` (DSPy JSON, no pickle) with a manifest:
recipe, model and hash, parent version, train/dev/test scores, LM calls and tokens, wall time. It becomes the
default that ``run`` uses when its dev accuracy beats the current default's (or with ``--make-default``).

Examples:
    python -m sdsd_dspy.compile --recipe optimizers/optuna_probe.yaml
    python -m sdsd_dspy.compile --recipe optimizers/mipro.yaml --budget 4 --lm hosted_vllm/Qwen/Qwen2.5-7B-Instruct \\
        --api-base http://localhost:8000/v1
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from sdsd_dspy.cli_common import console, setup


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sdsd_dspy.compile", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipe", type=Path, required=True)
    p.add_argument("--budget", type=float, default=1.0, help="multiply the recipe's budget (e.g. 4 on a GPU)")
    p.add_argument("--name", help="version name (default: <recipe name>-<UTC timestamp>)")
    p.add_argument("--parent", help="start from this version instead of the recipe's parent")
    p.add_argument("--lm", default="embedded")
    p.add_argument("--api-base")
    p.add_argument("--reflection-lm", help="GEPA's reflection model (default: the task model)")
    p.add_argument("--scores", default="train,dev,test", help="splits to score after compiling (comma-separated)")
    default = p.add_mutually_exclusive_group()
    default.add_argument("--make-default", action="store_true", help="make this version the default")
    default.add_argument("--no-default", action="store_true", help="never change the default")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def usage_since(lm: Any, start: int) -> dict[str, int]:
    entries = lm.history[start:]
    prompt = sum((e.get("usage") or {}).get("prompt_tokens", (e.get("usage") or {}).get("input_tokens")) or 0
                 for e in entries)
    completion = sum((e.get("usage") or {}).get("completion_tokens", (e.get("usage") or {}).get("output_tokens"))
                     or 0 for e in entries)
    return {"calls": len(entries), "prompt_tokens": prompt, "completion_tokens": completion}


def recorded_dev_accuracy(version: str, devset: Path, limit: int | None) -> float | None:
    """A version's dev accuracy on this dev file, from its manifest or its eval reports; None if never measured."""
    from sdsd_dspy import artifacts

    folder = artifacts.programs_dir() / version
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        recipe = manifest["recipe"]
        if Path(recipe["devset"]) == devset and recipe.get("dev_limit") == limit:
            return manifest["scores"]["dev"]["accuracy"]
    except (OSError, KeyError, ValueError):
        pass
    report = folder / "evals" / (devset.stem + (f"-n{limit}" if limit else "") + ".json")
    try:
        return json.loads(report.read_text())["accuracy"]
    except (OSError, KeyError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup(args.verbose)
    import dspy

    from sdsd_dspy import artifacts
    from sdsd_dspy.detection import LabeledDetector, evaluate, to_dspy_examples
    from sdsd_dspy.labeled import LabeledFileError, load_labeled
    from sdsd_dspy.lm.embedded import EmbeddedModelError
    from sdsd_dspy.lm.factory import LMConfig, build_lm
    from sdsd_dspy.modules.judges import THRESHOLD_STRATEGIES
    from sdsd_dspy.paths import artifacts_dir
    from sdsd_dspy.program import SDSDProgram
    from sdsd_dspy.provenance import git_commit, now, package_versions
    from sdsd_dspy.taskdata import TaskData
    from sdsd_dspy.tuning.calibrate import calibrate_threshold, judge_scores
    from sdsd_dspy.tuning.fit import fit_feature_judge
    from sdsd_dspy.tuning.optimizers import run_dspy_optimizer
    from sdsd_dspy.tuning.recipe import RecipeError, load_recipe
    from sdsd_dspy.tuning.study import run_study, trial_judge

    try:
        recipe = load_recipe(args.recipe)
        task = TaskData.load()
        train = to_dspy_examples(load_labeled(recipe.trainset), task)[: recipe.train_limit]
        dev = to_dspy_examples(load_labeled(recipe.devset), task)[: recipe.dev_limit]
        test = to_dspy_examples(load_labeled(recipe.testset), task) if recipe.testset else []
        program = SDSDProgram()
        parent = artifacts.load_into(program, args.parent or recipe.parent)
        version = args.name or f"{recipe.name}-{dt.datetime.now(dt.timezone.utc):%Y%m%d-%H%M%S}"
        if (artifacts.programs_dir() / version).exists():
            raise FileExistsError(f"version {version!r} exists; pick another --name")
        lm, info = build_lm(LMConfig(model=args.lm, api_base=args.api_base, temperature=0.0, max_tokens=512))
        reflection = None
        if args.reflection_lm:
            reflection, _ = build_lm(LMConfig(model=args.reflection_lm, temperature=1.0, max_tokens=2000))
    except (RecipeError, LabeledFileError, FileNotFoundError, FileExistsError, EmbeddedModelError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2

    detector = program.detector
    detector.settings.load_state(recipe.detector)
    budget = recipe.scaled_budget(args.budget)
    t0, h0 = time.perf_counter(), len(lm.history)
    console.print(f"compiling {version}: {recipe.optimizer} on {len(train)} train / {len(dev)} dev examples, "
                  f"budget {budget}")
    extra: dict[str, Any] = {}
    with dspy.context(lm=lm):
        if recipe.optimizer == "optuna":
            best, study = run_study(recipe.name, artifacts_dir() / "optuna", detector.settings, recipe.search_space,
                                    train, dev, lm, int(budget.get("n_trials", 8)), seed=recipe.seed)
            judge = trial_judge(detector.settings, best, train)
            extra["optuna"] = {"study": recipe.name, "storage": f"artifacts/optuna/{recipe.name}.db",
                               "best_params": best, "best_value": study.best_value, "trials": len(study.trials)}
        elif recipe.optimizer == "calibrate":
            judge = detector.active_judge()
        elif recipe.optimizer == "features":
            judge = detector.active_judge()
            weights = fit_feature_judge(judge, train, lm, **{k: float(v) for k, v in recipe.params.items()})
            extra["features"] = {"features": judge.settings.features, "weights": weights}
        else:
            judge = run_dspy_optimizer(recipe, detector.active_judge(), train, dev, lm, budget, reflection)
    detector.set_active_judge(judge)
    if detector.settings.strategy == "contrast":  # the version keeps the texts it was tuned with
        for name in detector.settings.framings:
            detector.settings.instructions.setdefault(name, detector.contrast.framing(name).model_dump())
    dev_scores = None
    if recipe.calibrate and detector.settings.strategy in THRESHOLD_STRATEGIES:
        dev_scores = judge_scores(detector.active_judge(), dev, lm)
        threshold, dev_acc = calibrate_threshold([bool(e.violation) for e in dev], dev_scores)
        detector.settings.threshold = threshold
        extra["calibration"] = {"threshold": threshold, "dev_accuracy_at_threshold": dev_acc}
    compile_usage = usage_since(lm, h0)
    compile_seconds = time.perf_counter() - t0

    scores: dict[str, Any] = {}
    wrapped = LabeledDetector()
    wrapped.detector = detector
    for split_name in [s for s in args.scores.split(",") if s]:
        examples = {"train": train, "dev": dev, "test": test}.get(split_name)
        if not examples:
            continue
        report, _ = evaluate(wrapped, examples, lm)
        scores[split_name] = {k: report[k] for k in ("n", "accuracy", "precision", "recall", "f1", "confusion")}
        scores[split_name]["auc"] = report.get("auc")
        console.print(f"  {split_name}: accuracy {report['accuracy']:.3f}  precision {report['precision']:.3f}  "
                      f"recall {report['recall']:.3f}")

    manifest = {
        "version": version, "parent": parent, "created": now(), "recipe_file": str(args.recipe),
        "recipe": recipe.model_dump(mode="json"), "budget_scale": args.budget, "model": info.model_dump(),
        "detector_settings": detector.settings.dump_state(), "scores": scores,
        "compile": {"wall_seconds": round(compile_seconds, 1), **compile_usage},
        "git_commit": git_commit(), "packages": package_versions(),
        "command": "python -m sdsd_dspy.compile " + " ".join(argv if argv is not None else sys.argv[1:]), **extra,
    }
    # The default changes only for a version that beats the current default on dev (never on test). A default
    # with no dev score on this dev file (the seed, at first) is measured now, so "better" is always measured.
    current = artifacts.resolve_version("default")
    new_dev = scores.get("dev", {}).get("accuracy")
    current_dev = None
    if new_dev is not None and not args.make_default and not args.no_default:
        current_dev = recorded_dev_accuracy(current, recipe.devset, recipe.dev_limit)
        if current_dev is None:
            baseline = LabeledDetector()
            artifacts.load_into(baseline, current)
            report, _ = evaluate(baseline, dev, lm)
            current_dev = report["accuracy"]
        manifest["default_comparison"] = {"default": current, "default_dev_accuracy": current_dev,
                                          "dev_accuracy": new_dev}
        console.print(f"  default {current}: dev accuracy {current_dev:.3f}")
    make_default = args.make_default or (not args.no_default and new_dev is not None and new_dev > current_dev)
    folder = artifacts.save_version(program, version, manifest, make_default=make_default)
    console.print(f"saved {folder} ({compile_seconds / 60:.1f} min to compile, {compile_usage['calls']} LM calls)"
                  + (" — now the default" if make_default else ""))
    return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
