"""Probe a PTB budget on a few telling NAS-Bench-NLP architectures before a full panel.

    python scripts/fidelity_probe.py --knob dropout=0.4
    python scripts/fidelity_probe.py --set lr=0.01 --cells 1003794,1000001
    python scripts/fidelity_probe.py --set max_grad_norm=0.25   # outside the adam space

A full 24-cell fidelity panel costs about 20 CPU-minutes a seed; these six cells decide
most of its rank correlation, so a variant that does not reorder them is not worth one.
They are two cells with an unbounded linear recurrence that rank well here and badly in
NAS-Bench-NLP (1003598, 1003794), a leaky-ReLU cell that diverges here and is good there
(1004390), another leaky-ReLU cell that is poor there (1008033), and two good gated cells
(1000001, their LSTM, and 1005677). Each prints one JSON line (seed 0, one trial, the
fixed setting of results/fidelity/); nothing is stored.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from archsearch import evaluate
from archsearch.assignments import parse_assignments, typed
from archsearch.fidelity import nasbench_panel
from archsearch.hparams import get_space

LOGS = Path("../shared/data/nasbench-nlp-wt2/logs.jsonl")
TELLING = (1003794, 1003598, 1004390, 1000001, 1005677, 1008033)
FIXED = {"lr": 3e-3, "init_scale": 1, "layers": 1, "max_grad_norm": 5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=Path, default=LOGS)
    parser.add_argument("--cells", default=",".join(map(str, TELLING)), help="recipe ids")
    parser.add_argument("--knob", action="append", default=[], help="task knob name=value")
    parser.add_argument("--set", action="append", default=[], help="hyperparameter name=value")
    args = parser.parse_args()
    wanted = [int(x) for x in args.cells.split(",")]
    overrides = typed(parse_assignments(args.knob, "--knob"))
    fixed = {**FIXED, **typed(parse_assignments(args.set, "--set"))}
    space = get_space("adam").widened(fixed)  # a probe tries settings a search would not
    # The panel's reading of the logs: distinct finished architectures, each named nb<id>.
    panel = {entry.name: entry for entry in nasbench_panel(args.logs)}
    missing = [str(i) for i in wanted if f"nb{i}" not in panel]
    if missing:  # before anything trains
        raise SystemExit(
            f"{', '.join(missing)}: not distinct finished architectures of {args.logs} "
            "(unfinished, or duplicates kept under another id)"
        )
    for entry in (panel[f"nb{i}"] for i in wanted):
        cell = entry.cell
        start = time.process_time()
        result = evaluate(
            cell, "ptb", preset="quick", trials=1, space=space, fixed=fixed, overrides=overrides
        )
        trial = result.trials[0]
        print(
            json.dumps(
                {
                    "cell": cell.name,
                    "reference": round(entry.reference, 1),
                    "perplexity": trial.metric_valid and round(trial.metric_valid, 1),
                    "status": trial.status,
                    "retry_lr": trial.metrics.get("retry_lr"),
                    "cpu_seconds": round(time.process_time() - start),
                    "knobs": overrides,
                    "fixed": fixed,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
