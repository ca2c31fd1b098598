"""Violation detection on labeled data: the program optimizers tune, the one metric, and the eval report.

:class:`LabeledDetector` wraps the pipeline's own :class:`~sdsd_dspy.modules.detector.ViolationDetector`, so what
an optimizer tunes here is what ``run`` uses. :func:`detection_metric` serves ``dspy.Evaluate``, MIPROv2,
bootstrap, SIMBA (a float) and GEPA (score and textual feedback when it names a predictor).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import dspy

from sdsd_dspy.labeled import LabeledExample
from sdsd_dspy.modules.detector import ViolationDetector
from sdsd_dspy.modules.judges import DetectorSettings
from sdsd_dspy.taskdata import TaskData
from sdsd_dspy.types import Principle, PrincipleCategory, Turn

_CATEGORIES = set(PrincipleCategory.__args__)


def principle_of(example: LabeledExample, task: TaskData | None) -> Principle:
    """The principle an example is judged against: ours (with its ``check`` question) when the id and text match,
    else an ad-hoc one built from the example's own text."""
    if task is not None and example.principle_id:
        try:
            known = task.principle(example.principle_id)
        except KeyError:
            known = None
        if known is not None and known.text.strip() == example.principle.strip():
            return known
    category = (example.principle_id or "").split(".", 1)[0]
    # Not validated on purpose: a user's principle may have no category of ours; "custom" makes per-category
    # detector weights fall back to the shared ones.
    return Principle.model_construct(id=example.principle_id or "custom.principle",
                                     category=category if category in _CATEGORIES else "custom",
                                     source="labeled file", text=example.principle, check=None, options=None)


def to_dspy_examples(examples: Sequence[LabeledExample], task: TaskData | None = None) -> list[dspy.Example]:
    out = []
    for e in examples:
        out.append(dspy.Example(
            principle=principle_of(e, task), context=e.context, reply=e.reply, violation=e.violation,
            id=e.id, principle_id=e.principle_id or "", rationale=e.rationale or "",
        ).with_inputs("principle", "context", "reply"))
    return out


class LabeledDetector(dspy.Module):
    """(principle, context, reply) → Prediction(violated, p_violation), through the pipeline's detector."""

    def __init__(self, settings: DetectorSettings | None = None):
        super().__init__()
        self.detector = ViolationDetector(turns="final", settings=settings)

    def forward(self, principle: Principle, context: list[Turn], reply: str) -> dspy.Prediction:
        violated, why, p = self.detector.judge_reply(principle, context, reply)
        return dspy.Prediction(violated=violated, p_violation=p, explanation=why)


def detection_metric(gold: Any, pred: Any, trace: Any = None, pred_name: str | None = None,
                     pred_trace: Any = None) -> float | dspy.Prediction:
    """1.0 when the verdict matches the label. With ``pred_name`` (GEPA), also feedback explaining a miss."""
    correct = bool(getattr(pred, "violated", False)) == bool(gold.violation)
    score = 1.0 if correct else 0.0
    if pred_name is None:
        return score
    p = getattr(pred, "p_violation", None)
    said = f" (P(violation)={p:.2f})" if isinstance(p, float) else ""
    if correct:
        feedback = f"Correct{said}: the reply {'breaks' if gold.violation else 'follows'} the rule."
    else:
        truth = "breaks" if gold.violation else "does not break"
        feedback = (f"Wrong{said}: the reply {truth} the rule [{gold.principle_id}]. "
                    f"Why: {gold.rationale or 'see the rule'}")
    return dspy.Prediction(score=score, feedback=feedback)


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Area under the ROC curve (probability a violation outscores a non-violation; ties count half)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def best_threshold(labels: Sequence[bool], scores: Sequence[float]) -> tuple[float, float]:
    """The threshold maximizing accuracy (midpoint between neighbouring scores) and that accuracy."""
    pts = sorted(set(scores))
    candidates = [0.5] + [(a + b) / 2 for a, b in zip(pts, pts[1:], strict=False)] + [pts[0] - 1e-9, pts[-1] + 1e-9]
    def acc(t: float) -> float:
        return sum((s >= t) == y for s, y in zip(scores, labels, strict=True)) / len(labels)
    best = max(candidates, key=lambda t: (acc(t), -abs(t - 0.5)))
    return best, acc(best)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy, precision, recall, F1, confusion matrix, per-principle accuracy, AUC, cost per example."""
    tp = sum(r["label"] and r["pred"] for r in rows)
    tn = sum(not r["label"] and not r["pred"] for r in rows)
    fp = sum(not r["label"] and r["pred"] for r in rows)
    fn = sum(r["label"] and not r["pred"] for r in rows)
    n = len(rows)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        per[r["principle_id"]][0] += r["label"] == r["pred"]
        per[r["principle_id"]][1] += 1
    scored = [r for r in rows if isinstance(r.get("p"), float) and not math.isnan(r["p"])]
    report: dict[str, Any] = {
        "n": n, "accuracy": (tp + tn) / n if n else 0.0, "precision": precision, "recall": recall, "f1": f1,
        "confusion": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
        "per_principle": {k: {"accuracy": c / t, "n": t} for k, (c, t) in sorted(per.items())},
        "errors": sum(1 for r in rows if r.get("error")),
        "cached_calls": sum(r.get("cached_calls", 0) for r in rows),  # cached calls cost no time and no tokens
        "seconds_per_example": sum(r["seconds"] for r in rows) / n if n else 0.0,
        "prompt_tokens_per_example": sum(r["prompt_tokens"] for r in rows) / n if n else 0.0,
        "completion_tokens_per_example": sum(r["completion_tokens"] for r in rows) / n if n else 0.0,
    }
    if scored:
        labels, scores = [r["label"] for r in scored], [r["p"] for r in scored]
        report["auc"] = roc_auc(labels, scores)
        t, a = best_threshold(labels, scores)
        report["oracle_threshold"] = {"threshold": t, "accuracy": a, "note": "best on this set: not a test score"}
    return report


def evaluate(program: LabeledDetector, examples: list[dspy.Example], lm: dspy.BaseLM,
             progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run ``program`` on every example (sequentially: one CPU model) and return (report, per-example rows)."""
    rows = []
    for i, ex in enumerate(examples):
        call_lm = lm.copy()
        t0 = time.perf_counter()
        row: dict[str, Any] = {"id": ex.id, "principle_id": ex.principle_id, "label": bool(ex.violation)}
        try:
            with dspy.context(lm=call_lm):
                pred = program(**ex.inputs())
            row.update(pred=bool(pred.violated), p=pred.p_violation, error=None)
        except Exception as exc:  # a garbage answer counts as a miss, and is reported
            row.update(pred=not ex.violation, p=None, error=f"{type(exc).__name__}: {exc}"[:500])
        row["seconds"] = time.perf_counter() - t0
        usage = [h.get("usage") or {} for h in call_lm.history]
        row["prompt_tokens"] = sum(u.get("prompt_tokens", u.get("input_tokens")) or 0 for u in usage)
        row["completion_tokens"] = sum(u.get("completion_tokens", u.get("output_tokens")) or 0 for u in usage)
        row["calls"] = len(call_lm.history)
        # a call answered from DSPy's cache reports no usage: it cost neither tokens nor model time
        row["cached_calls"] = sum(not any((h.get("usage") or {}).values()) for h in call_lm.history)
        rows.append(row)
        if progress:
            progress(i + 1, len(examples))
    return summarize(rows), rows
