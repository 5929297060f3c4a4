"""Parallel speed-up and driver overhead of a search, measured side by side.

Runs the same fixed batch of evaluations (cells x tasks, a fixed list) through
the search driver on Ray with 1 worker, then with 2, each into a fresh store,
and prints the speed-up and the driver's overhead per evaluation (asking,
storing, telling, plus the gap between evaluations that Ray's scheduling adds)
as a share of an evaluation's time. Targets: speed-up >= 1.7 on 2 cores,
overhead < 5%.

    python scripts/bench_search.py
"""

from __future__ import annotations

import argparse
import tempfile
import time

from archsearch import Resources, RunSpec, launch

CELLS = ["lstm", "gru", "tanh", "mut1", "mut2", "mut3", "lstm_f", "lstm_b"]
TASKS = ("arith", "xml")


def measure(workers: int, args) -> dict:
    spec = RunSpec(
        name="bench",
        searcher="fixed",
        searcher_options={"cells": CELLS},
        tasks=TASKS,
        preset="quick",
        trials=1,
        budget="none",
        overrides={"train_steps": args.steps, "eval_every": args.steps},
        fixed={"layers": 1},
    )
    resources = Resources(workers=workers, storage=f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    start = time.monotonic()
    result = launch(spec, resources)
    wall = time.monotonic() - start
    progress = result.progress
    from archsearch.store import Store

    store = Store(result.storage)
    with store.open_run(spec.name, spec.to_dict()) as run:
        # Each evaluation's whole time in its worker: data, compile, every trial.
        seconds = [e.meta["seconds"] for e in run.finished()]
    n, busy = len(seconds), sum(seconds)
    # Whatever the workers were not evaluating: scheduling, dispatch, the driver's own work.
    gap = max(0.0, wall * workers - busy)
    return {
        "workers": workers,
        "evaluations": n,
        "wall": wall,
        "eval_mean": busy / n,
        "driver_share": progress.driver_seconds / busy,
        "gap_share": gap / busy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="training steps per trial")
    args = parser.parse_args()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    measure(1, argparse.Namespace(steps=10))  # warm-up: worker start, caches
    one = measure(1, args)
    two = measure(2, args)
    print(f"{len(CELLS)} cells x {len(TASKS)} tasks at quick ({args.steps} steps, 1 trial each)")
    print("workers  evaluations  wall s  mean eval s  driver work  idle gap")
    for r in (one, two):
        print(
            f"{r['workers']:>7}  {r['evaluations']:>11}  {r['wall']:>6.1f}  {r['eval_mean']:>11.2f}"
            f"  {100 * r['driver_share']:>10.2f}%  {100 * r['gap_share']:>7.2f}%"
        )
    print(f"speed-up with 2 workers: {one['wall'] / two['wall']:.2f} (target >= 1.7)")
    overhead = one["driver_share"] + one["gap_share"]
    print(
        f"driver overhead per evaluation, 1 worker: {100 * overhead:.2f}% of the evaluation's "
        "time (target < 5%)"
    )


if __name__ == "__main__":
    main()
