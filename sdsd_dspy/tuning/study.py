"""An optuna study over the detector's own settings: strategy, framing, demos, samples, temperature, threshold.

Each trial sets :class:`~sdsd_dspy.modules.judges.DetectorSettings` and a choice of labeled demos, scores the dev
set once, and reports accuracy with a two-fold cross-validated threshold (P(violation) backends) so selection is
not fooled by a threshold fit on the very examples it scores. The study lives in SQLite
(``artifacts/optuna/<name>.db``): an interrupted study resumes where it stopped, and
``optuna-dashboard sqlite:///artifacts/optuna/<name>.db`` shows it. DSPy's cache makes repeated framings free.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import dspy
import optuna

from sdsd_dspy.modules.detector import ViolationDetector
from sdsd_dspy.modules.judges import THRESHOLD_STRATEGIES, DetectorSettings
from sdsd_dspy.tuning.calibrate import cross_validated_accuracy, judge_scores
from sdsd_dspy.tuning.demos import labeled_demos, predictor_of

DEFAULT_SPACE: dict[str, list[Any]] = {
    "strategy": ["probe"],
    "context": ["none", "last_user", "all"],
    "question": ["check", "rule"],
    "yes_letter": ["A", "B"],
    "n_demos": [0, 2, 4],
    "demo_seed": [0, 1, 2],
}


def settings_of(params: dict[str, Any]) -> dict[str, Any]:
    """Trial params as DetectorSettings fields: ``framings`` is searched as one string, ``careful+rule``."""
    state = {k: v for k, v in params.items() if k not in ("n_demos", "demo_seed")}
    if isinstance(state.get("framings"), str):
        state["framings"] = state["framings"].split("+")
    return state


def trial_judge(base: DetectorSettings, params: dict[str, Any], trainset: list[dspy.Example]) -> dspy.Module:
    settings = copy.deepcopy(base)
    settings.load_state(settings_of(params))
    judge = ViolationDetector(turns="final", settings=settings).active_judge()
    if params.get("n_demos"):  # the contrast judge has no prompt to put demos in; its space has no n_demos
        predictor_of(judge).demos = labeled_demos(judge, trainset, params["n_demos"], params.get("demo_seed", 0))
    return judge


def run_study(name: str, storage_dir: Path, base: DetectorSettings, space: dict[str, list[Any]],
              trainset: list[dspy.Example], devset: list[dspy.Example], lm: dspy.BaseLM, n_trials: int,
              seed: int = 0) -> tuple[dict[str, Any], optuna.Study]:
    """Run (or resume) the study; returns the best trial's params and the study."""
    storage_dir.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{storage_dir / (name + '.db')}"
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True,
                                sampler=optuna.samplers.TPESampler(seed=seed))
    # the probe's framing space by default; a recipe that searches another strategy gives its whole space
    space = dict(space) if "probe" not in space.get("strategy", ["probe"]) else {**DEFAULT_SPACE, **space}
    labels = [bool(e.violation) for e in devset]

    def objective(trial: optuna.Trial) -> float:
        params = {key: trial.suggest_categorical(key, choices) for key, choices in space.items()}
        judge = trial_judge(base, params, trainset)
        scores = judge_scores(judge, devset, lm)
        if params.get("strategy", base.strategy) in THRESHOLD_STRATEGIES:
            accuracy = cross_validated_accuracy(labels, scores)
        else:
            accuracy = sum((s > 0.5) == y for s, y in zip(scores, labels, strict=True)) / len(labels)
        trial.set_user_attr("dev_scores", scores)
        return accuracy

    remaining = n_trials - len([t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE])
    if remaining > 0:
        study.optimize(objective, n_trials=remaining, catch=(RuntimeError, ValueError))
    return study.best_trial.params, study
