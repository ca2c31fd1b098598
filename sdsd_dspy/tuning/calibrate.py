"""Decision-threshold calibration for judges that output P(violation)."""

from __future__ import annotations

from collections.abc import Sequence

import dspy

from sdsd_dspy.detection import best_threshold


def judge_scores(judge: dspy.Module, examples: Sequence[dspy.Example], lm: dspy.BaseLM) -> list[float]:
    """P(violation) of each example (0.5 when the call failed, so it counts as undecided)."""
    scores = []
    with dspy.context(lm=lm):
        for ex in examples:
            try:
                p = judge(**ex.inputs()).p_violation
            except Exception:  # a garbage answer must not stop a calibration pass
                p = None
            scores.append(0.5 if p is None else float(p))
    return scores


def calibrate_threshold(labels: Sequence[bool], scores: Sequence[float]) -> tuple[float, float]:
    """(threshold, accuracy at it) maximizing accuracy on these labels."""
    return best_threshold(list(labels), list(scores))


def cross_validated_accuracy(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """Two-fold: a threshold fit on each half is scored on the other half (an honest number for selection)."""
    idx = list(range(len(labels)))
    folds = [idx[0::2], idx[1::2]]
    correct = 0
    for fit, score in ((folds[0], folds[1]), (folds[1], folds[0])):
        t, _ = best_threshold([labels[i] for i in fit], [scores[i] for i in fit])
        correct += sum((scores[i] >= t) == labels[i] for i in score)
    return correct / len(labels)
