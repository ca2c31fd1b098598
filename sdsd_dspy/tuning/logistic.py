"""A small logistic regression, pooled across principle categories (pure numpy, no model calls).

The detector's features are probabilities the model gives to a few lettered questions. How they combine differs
by category: a refusal is a violation of a helpfulness principle and the opposite for a harm principle. With a few
dozen labeled examples per category, each category's weights are pulled toward weights shared by all categories
(an L2 penalty toward the shared fit), so a category with little data borrows strength from the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def logit(p: float, eps: float = 1e-4) -> float:
    p = min(max(p, eps), 1 - eps)
    return math.log(p / (1 - p))


def _fit(x: np.ndarray, y: np.ndarray, prior: np.ndarray, strength: float, steps: int = 3000,
         lr: float = 0.1) -> np.ndarray:
    """Weights (bias last) minimizing mean log-loss + strength * |w - prior|^2 / n, by gradient descent."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = prior.copy()
    n = max(len(y), 1)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) / n + 2 * strength * (w - prior) / n
        w -= lr * grad
    return w


def fit_pooled(features: Sequence[Sequence[float]], labels: Sequence[bool], groups: Sequence[str],
               shared_strength: float = 1.0, group_strength: float = 4.0) -> dict[str, list[float]]:
    """``{"*": shared weights, group: weights, ...}``; features are used as logits of the given probabilities."""
    x = np.array([[logit(v) for v in row] for row in features], dtype=float)
    y = np.array([1.0 if v else 0.0 for v in labels])
    zero = np.zeros(x.shape[1] + 1)
    shared = _fit(x, y, zero, shared_strength)
    weights = {"*": shared.tolist()}
    for g in sorted(set(groups)):
        idx = [i for i, gg in enumerate(groups) if gg == g]
        weights[g] = _fit(x[idx], y[idx], shared, group_strength).tolist()
    return weights


def predict_pooled(weights: dict[str, list[float]], features: Sequence[float], group: str) -> float:
    w = np.array(weights.get(group) or weights["*"])
    x = np.array([logit(v) for v in features] + [1.0])
    return float(1 / (1 + math.exp(-float(x @ w))))
