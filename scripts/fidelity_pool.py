"""Rank agreement of one seed over the cells of several fidelity reports together.

    python scripts/fidelity_pool.py ptb-quick ptb-quick-heldout          # the 48 cells
    python scripts/fidelity_pool.py ptb-quick --drop nb1004390           # 23 of the 24
    python scripts/fidelity_pool.py ptb-quick --rank nb1003598,nb1004390  # where they land

Each name is a folder of results/fidelity/ (or of ``--folder``) holding a
``fidelity.json``. The figures are computed with the harness's own ``agreement``
(Spearman and Kendall, bootstrap 95% intervals); nothing is trained.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from archsearch.fidelity.stored import load_report, pooled_agreement

REPORTS = Path(__file__).resolve().parents[1] / "results" / "fidelity"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", help="folders of results/fidelity/")
    parser.add_argument("--folder", type=Path, default=REPORTS, help="where the reports are")
    parser.add_argument("--seed", type=int, default=0, help="which seed's values (its index)")
    parser.add_argument("--drop", default="", help="cells left out, comma-separated")
    parser.add_argument("--rank", default="", help="print these cells' ranks, comma-separated")
    args = parser.parse_args()
    try:
        reports = [load_report(args.folder / name) for name in args.reports]
        found, order = pooled_agreement(
            reports, seed=args.seed, drop=set(filter(None, args.drop.split(",")))
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None
    print(
        f"{' + '.join(args.reports)}, seed index {args.seed}, {found.n} cells: "
        f"Spearman {found.spearman:.2f} [{found.spearman_low:.2f}, {found.spearman_high:.2f}], "
        f"Kendall {found.kendall:.2f} [{found.kendall_low:.2f}, {found.kendall_high:.2f}]"
    )
    for name in filter(None, args.rank.split(",")):
        place = next(i for i, c in enumerate(order, 1) if c["name"] == name)
        value = order[place - 1]["cheap"][args.seed]
        shown = "failed" if value is None else f"{value:.1f}"
        print(f"  {name}: {place} of {len(order)} ({shown})")


if __name__ == "__main__":
    main()
