"""Grow the topic list (domains → subareas) with the model, deduplicating what it proposes.

The paper grew 801 domains × 20 subareas this way. New domains are proposed in batches, names that duplicate or
nearly duplicate an existing one are dropped, and each kept domain gets subareas the same way. The result is
written as a topics YAML (by default a new file; ``--in-place`` rewrites signatures/topics.yaml).

Examples:
    python -m sdsd_dspy.topics grow --domains 10 --subareas 5 --out runs/topics.yaml
    python -m sdsd_dspy.topics grow --domains 50 --lm openai/gpt-4o-mini --in-place
    python -m sdsd_dspy.topics stats
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

from sdsd_dspy.cli_common import console, setup


def grow(domains, *, new_domains: int, subareas: int, batch: int = 10, max_rounds: int = 10, group: str = "grown"):
    """Return (the extended domain list, names rejected as duplicates). Needs ``dspy.settings.lm``."""
    import dspy

    from sdsd_dspy.formatting import clean_turn, is_near_duplicate
    from sdsd_dspy.signatures import seeded
    from sdsd_dspy.types import Domain

    propose_domains = dspy.Predict(seeded("propose_domains"))
    propose_subareas = dspy.Predict(seeded("propose_subareas"))
    result, rejected = list(domains), []
    added = 0
    for _ in range(max_rounds):
        if added >= new_domains:
            break
        names = [d.name for d in result]
        want = min(batch, new_domains - added)
        for raw in propose_domains(existing=names, count=want).domains or []:
            name = clean_turn(str(raw)).strip(" .-*")
            if not name or len(name) > 60 or is_near_duplicate(name, [d.name for d in result]):
                rejected.append(name)
                continue
            subs: list[str] = []
            for _ in range(3):
                if len(subs) >= subareas:
                    break
                for s in propose_subareas(domain=name, existing=subs, count=subareas - len(subs)).subareas or []:
                    s = clean_turn(str(s)).strip(" .-*")
                    if s and len(s) <= 60 and not is_near_duplicate(s, subs, threshold=0.75):
                        subs.append(s)
            if len(subs) < subareas:
                rejected.append(name)
                continue
            result.append(Domain(name=name, group=group, subareas=subs[:subareas]))
            added += 1
            if added >= new_domains:
                break
    return result, rejected


def dump_domains(domains, path: Path) -> None:
    data = {"domains": [d.model_dump() for d in domains]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sdsd_dspy.topics", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grow", help="propose new domains and subareas with the model")
    g.add_argument("--topics", type=Path, help="topics YAML to start from (default signatures/topics.yaml)")
    g.add_argument("--domains", type=int, default=10, help="new domains to add")
    g.add_argument("--subareas", type=int, default=5, help="subareas per new domain")
    g.add_argument("--out", type=Path, default=Path("runs/topics.yaml"))
    g.add_argument("--in-place", action="store_true", help="rewrite the input topics file")
    g.add_argument("--lm", default="embedded")
    g.add_argument("--api-base")
    g.add_argument("--temperature", type=float, default=0.9)
    s = sub.add_parser("stats", help="count domains, subareas and groups")
    s.add_argument("--topics", type=Path)
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup(args.verbose)
    from sdsd_dspy.paths import signatures_dir
    from sdsd_dspy.taskdata import TaskDataError, load_domains

    source = args.topics or signatures_dir() / "topics.yaml"
    try:
        domains = load_domains(source)
    except TaskDataError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    if args.command == "stats":
        groups = Counter(d.group for d in domains)
        print(f"{len(domains)} domains, {sum(len(d.subareas) for d in domains)} subareas, {len(groups)} groups")
        for group, n in groups.most_common():
            print(f"  {group:14s} {n}")
        return 0

    import dspy

    from sdsd_dspy.lm.factory import LMConfig, build_lm

    lm, _ = build_lm(LMConfig(model=args.lm, api_base=args.api_base, temperature=args.temperature, max_tokens=512))
    with dspy.context(lm=lm):
        grown, rejected = grow(domains, new_domains=args.domains, subareas=args.subareas)
    target = source if args.in_place else args.out
    dump_domains(grown, target)
    load_domains(target)  # what we wrote must load
    console.print(f"added {len(grown) - len(domains)} domains ({len(rejected)} proposals rejected as duplicates "
                  f"or too few subareas) → {target}")
    return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
