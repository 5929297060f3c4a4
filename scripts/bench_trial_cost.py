"""CPU-seconds of one trial at a preset, per cell of the fidelity panel: the cost a search pays.

The panel is the one ``scripts/fidelity_budgets.sh`` ranks (12 zoo cells and 4 seeded
mutants), trained once each with the panel's fixed setting, one after another in this
process on one thread, so that each trial has a core to itself (on a busy machine the
CPU-seconds of the same training grow: ``results/fidelity/README.md``). ``--cells``
measures some of them only (the costliest, say). Prints one line per cell, then the
median and the maximum.

    OMP_NUM_THREADS=1 python scripts/bench_trial_cost.py --task xml [--cells mut3,mut2]
"""

from __future__ import annotations

import argparse
import os
import statistics

import archsearch
from archsearch.fidelity.panel import (
    ZOO_PANEL,
    ZOO_PANEL_FIXED,
    ZOO_PANEL_MUTANTS,
    cell_panel,
    with_mutants,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="xml")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--cells", default="", help="only these, comma-separated (a, b)")
    args = parser.parse_args()

    panel = with_mutants(cell_panel(ZOO_PANEL), ZOO_PANEL_MUTANTS)
    names = [name for name in args.cells.split(",") if name]
    unknown = sorted(set(names) - {c.name for c in panel})
    if unknown:
        parser.error(
            f"--cells: not in the panel: {', '.join(unknown)}; "
            f"the panel: {', '.join(c.name for c in panel)}"
        )
    chosen = [c for c in panel if not names or c.name in names]
    load = os.getloadavg()[0]
    print(f"{args.task} {args.preset}: {len(chosen)} of {len(panel)} cells, load {load:.1f}")
    costs = []
    for member in chosen:
        done = archsearch.evaluate(
            member.cell, args.task, preset=args.preset, fixed=ZOO_PANEL_FIXED, seed=0
        )
        cpu = done.trials[0].metrics["cpu_seconds"]
        costs.append(cpu)
        print(f"  {member.name:<16} {cpu:6.1f} CPU-s  valid {done.trials[0].metric_valid:.4f}")
    print(
        f"CPU-seconds per trial: median {statistics.median(costs):.0f}, max {max(costs):.0f}"
        f" (load {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)"
    )


if __name__ == "__main__":
    main()
