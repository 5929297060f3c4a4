"""Reproduce the study's comparison at small scale, and write its report.

Trains tanh, lstm, lstm_f, lstm_i, lstm_o, lstm_b, gru, mut1, mut2 and mut3 on
arith, xml, ptb and music-jsb with the same hyperparameter settings for every
cell (random search seeded alike), stores every trial, and writes a report
under results/ with the paper's four findings checked against our numbers.

    python scripts/reproduce_findings.py                  # quick preset, 3 trials, 2 workers
    python scripts/reproduce_findings.py --preset smoke --trials 1 --workers 1   # a dry run

The same command resumes an interrupted run (the store keeps every finished evaluation).
"""

from __future__ import annotations

import argparse

from archsearch import Resources, RunSpec, launch
from archsearch.cli.reproduce import describe_machine  # one description of the machine

CELLS = ["tanh", "lstm", "lstm_f", "lstm_i", "lstm_o", "lstm_b", "gru", "mut1", "mut2", "mut3"]
TASKS = ["arith", "xml", "ptb", "music-jsb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--space", default=RunSpec().space, help="hyperparameter space")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--storage", default="sqlite:///results/findings.db")
    parser.add_argument("--name", default="findings")
    parser.add_argument("--fix", nargs="*", default=["layers=1"], help="fixed hyperparameters")
    parser.add_argument(
        "--out", default=None, help="report folder (default results/findings-PRESET)"
    )
    args = parser.parse_args()

    fixed = dict(pair.split("=", 1) for pair in args.fix)
    spec = RunSpec(
        name=args.name,
        searcher="fixed",
        searcher_options={"cells": CELLS},
        tasks=tuple(TASKS),
        preset=args.preset,
        trials=args.trials,
        space=args.space,
        fixed=fixed,
        budget="none",  # the fixed list ends by itself
    )
    resources = Resources(storage=args.storage, workers=args.workers, in_process=args.workers == 1)

    def on_event(event) -> None:
        p = event.progress
        if event.kind in ("commit", "tick"):
            print(
                f"\r{p.done} evaluations done, {p.in_flight} in flight, {p.elapsed / 60:.1f} min",
                end="",
                flush=True,
            )

    launch(spec, resources, on_event=on_event)
    print()
    from archsearch.analysis.findings import write_findings_report

    path = write_findings_report(
        args.storage,
        args.name,
        out=args.out or f"results/findings-{args.preset}-{args.space}",
        command="python scripts/reproduce_findings.py "
        + " ".join(
            f"--{k.replace('_', '-')} {v}"
            for k, v in vars(args).items()
            if v is not None and k != "fix"
        )
        + " --fix "
        + " ".join(args.fix),
        machine=describe_machine(),
    )
    print(f"report: {path}")


if __name__ == "__main__":
    main()
