"""Inspect and split hand-labeled sets: balance per principle and label, duplicates across splits, splitting.

Examples:
    python -m sdsd_dspy.labels stats evals/detector/train.jsonl evals/detector/dev.jsonl evals/detector/test.jsonl
    python -m sdsd_dspy.labels dups evals/detector/*.jsonl
    python -m sdsd_dspy.labels split pool_a.jsonl pool_b.jsonl --out evals/detector --seed 0
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from sdsd_dspy.labeled import LabeledExample, LabeledFileError, dump_labeled, load_labeled

SPLITS = {"train": 0.40, "dev": 0.27, "test": 0.33}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def group_key(example: LabeledExample) -> str:
    """Examples that open with the same user message are one group: they must not straddle splits."""
    first = next((t.content for t in example.dialogue if t.role == "user"), example.reply)
    return " ".join(sorted(_words(first)))


def balance(examples: list[LabeledExample]) -> dict[str, Counter]:
    table: dict[str, Counter] = defaultdict(Counter)
    for e in examples:
        table[e.principle_id or e.principle[:60]][e.violation] += 1
    return dict(table)


def find_duplicates(named: dict[str, list[LabeledExample]], threshold: float = 0.8) -> list[tuple]:
    """Pairs (file_a, id_a, file_b, id_b, kind, similarity) of exact or near-duplicate examples in different files.

    ``kind`` is ``exact`` (same principle, same dialogue), ``reply`` (judged replies nearly equal) or
    ``prompt`` (same opening user message: the pair leaks a prompt from one split into another).
    """
    items = [(name, e, _words(e.reply), group_key(e)) for name, exs in named.items() for e in exs]
    pairs = []
    for i, (fa, a, wa, ga) in enumerate(items):
        for fb, b, wb, gb in items[i + 1:]:
            if fa == fb:
                continue
            if a.principle == b.principle and a.dialogue == b.dialogue:
                pairs.append((fa, a.id, fb, b.id, "exact", 1.0))
                continue
            sim = _jaccard(wa, wb) if min(len(wa), len(wb)) >= 8 else 0.0  # short refusals look alike
            if sim >= threshold:
                pairs.append((fa, a.id, fb, b.id, "reply", round(sim, 2)))
            elif ga == gb:
                pairs.append((fa, a.id, fb, b.id, "prompt", 1.0))
    return pairs


def split(examples: list[LabeledExample], seed: int = 0, ratios: dict[str, float] = SPLITS) -> dict[str, list]:
    """Group-aware split stratified by principle: each principle's groups are dealt to the neediest split."""
    groups: dict[str, list[LabeledExample]] = defaultdict(list)
    for e in examples:
        groups[group_key(e)].append(e)
    by_principle: dict[str, list[list[LabeledExample]]] = defaultdict(list)
    for g in groups.values():
        by_principle[g[0].principle_id or g[0].principle].append(g)
    rng = random.Random(seed)
    out: dict[str, list[LabeledExample]] = {name: [] for name in ratios}
    for principle in sorted(by_principle):
        gs = by_principle[principle]
        rng.shuffle(gs)
        local = Counter()
        total = sum(len(g) for g in gs)
        for g in gs:
            target = min(ratios, key=lambda name, local=local, total=total: (
                local[name] - ratios[name] * total, len(out[name]) - ratios[name] * len(examples)))
            out[target].extend(g)
            local[target] += len(g)
    return out


def split_score(parts: dict[str, list[LabeledExample]], total: int, ratios: dict[str, float] = SPLITS) -> float:
    """Lower is better: each split near its share of examples and near half violations."""
    score = 0.0
    for name, exs in parts.items():
        if not exs:
            return float("inf")
        score += abs(len(exs) / total - ratios[name]) + abs(sum(e.violation for e in exs) / len(exs) - 0.5)
    return score


def best_split(examples: list[LabeledExample], seed: int = 0, tries: int = 200) -> dict[str, list]:
    """The most balanced of ``tries`` seeded splits (deterministic for a given seed)."""
    candidates = (split(examples, seed=seed * tries + i) for i in range(tries))
    return min(candidates, key=lambda parts: split_score(parts, len(examples)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sdsd_dspy.labels", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("stats", help="examples per principle and label, per file")
    s.add_argument("files", nargs="+", type=Path)
    d = sub.add_parser("dups", help="exact and near-duplicate examples across files")
    d.add_argument("files", nargs="+", type=Path)
    d.add_argument("--threshold", type=float, default=0.8)
    sp = sub.add_parser("split", help="write train/dev/test files, group-aware and stratified by principle")
    sp.add_argument("files", nargs="+", type=Path)
    sp.add_argument("--out", type=Path, required=True)
    sp.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    try:
        named = {str(f): load_labeled(f) for f in args.files}
    except LabeledFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "stats":
        for name, exs in named.items():
            table = balance(exs)
            pos = sum(e.violation for e in exs)
            turns = Counter(len(e.dialogue) for e in exs)
            print(f"{name}: {len(exs)} examples, {pos} violations ({pos / len(exs):.0%}), {len(table)} principles, "
                  f"dialogue lengths {dict(sorted(turns.items()))}")
            for principle, c in sorted(table.items()):
                flag = "" if c[True] == c[False] else "  (unbalanced)"
                print(f"  {principle:40s} violation {c[True]:3d}  ok {c[False]:3d}{flag}")
        return 0
    if args.command == "dups":
        pairs = find_duplicates(named, args.threshold)
        for fa, a, fb, b, kind, sim in pairs:
            print(f"{kind:7s} {sim:.2f}  {fa}:{a}  {fb}:{b}")
        print(f"{len(pairs)} duplicate pairs across files")
        return 1 if pairs else 0
    examples = [e for exs in named.values() for e in exs]
    parts = best_split(examples, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, exs in parts.items():
        dump_labeled(sorted(exs, key=lambda e: e.id), args.out / f"{name}.jsonl")
        print(f"{name}: {len(exs)} examples, {sum(e.violation for e in exs)} violations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
