"""Run one DSPy optimizer on a judge: BootstrapFewShotWithRandomSearch, MIPROv2, GEPA or SIMBA.

Every optimizer gets the same metric (:func:`sdsd_dspy.detection.detection_metric`), compiles a copy of the judge
(DSPy optimizers never mutate their student), and runs single-threaded: one CPU model serves one call at a time.
"""

from __future__ import annotations

from typing import Any

import dspy

from sdsd_dspy.detection import detection_metric
from sdsd_dspy.tuning.recipe import Recipe


def run_dspy_optimizer(recipe: Recipe, judge: dspy.Module, trainset: list[dspy.Example],
                       devset: list[dspy.Example], lm: dspy.BaseLM, budget: dict[str, Any],
                       reflection_lm: dspy.BaseLM | None = None) -> dspy.Module:
    params = {**recipe.params, **budget}
    threads = params.pop("num_threads", 1)
    if recipe.optimizer == "bootstrap_rs":
        optimizer = dspy.BootstrapFewShotWithRandomSearch(metric=detection_metric, num_threads=threads, **params)
        return optimizer.compile(judge, trainset=trainset, valset=devset)
    if recipe.optimizer == "mipro":
        compile_keys = {"num_trials", "minibatch_size", "minibatch_full_eval_steps", "minibatch"}
        compile_args = {k: params.pop(k) for k in list(params) if k in compile_keys}
        optimizer = dspy.MIPROv2(metric=detection_metric, prompt_model=lm, task_model=lm, num_threads=threads,
                                 auto=None, verbose=False, seed=recipe.seed, **params)
        return optimizer.compile(judge, trainset=trainset, valset=devset, **compile_args)
    if recipe.optimizer == "gepa":
        optimizer = dspy.GEPA(metric=detection_metric, reflection_lm=reflection_lm or lm, num_threads=threads,
                              seed=recipe.seed, **params)
        return optimizer.compile(judge, trainset=trainset, valset=devset)
    if recipe.optimizer == "simba":
        optimizer = dspy.SIMBA(metric=detection_metric, num_threads=threads, **params)
        return optimizer.compile(judge, trainset=trainset, seed=recipe.seed)
    raise ValueError(f"{recipe.optimizer!r} is not a DSPy optimizer recipe")
