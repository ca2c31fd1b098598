"""Fit the feature judge: per-category logistic weights on train, then a threshold on dev."""

from __future__ import annotations

from collections.abc import Sequence

import dspy

from sdsd_dspy.modules.judges import FeatureJudge
from sdsd_dspy.tuning.logistic import fit_pooled


def feature_matrix(judge: FeatureJudge, examples: Sequence[dspy.Example], lm: dspy.BaseLM) -> list[list[float]]:
    rows = []
    with dspy.context(lm=lm):
        for ex in examples:
            try:
                rows.append(judge.features(ex.principle, ex.context, ex.reply))
            except Exception:  # an unusable answer leaves the example undecided rather than stopping the fit
                rows.append([0.5] * len(judge.settings.features))
    return rows


def fit_feature_judge(judge: FeatureJudge, trainset: Sequence[dspy.Example], lm: dspy.BaseLM,
                      shared_strength: float = 1.0, group_strength: float = 4.0) -> dict[str, list[float]]:
    """Fit and set ``judge.settings.weights`` from the train examples; returns the weights."""
    x = feature_matrix(judge, trainset, lm)
    weights = fit_pooled(x, [bool(e.violation) for e in trainset], [e.principle.category for e in trainset],
                         shared_strength=shared_strength, group_strength=group_strength)
    judge.settings.weights = weights
    return weights
