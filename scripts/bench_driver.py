"""The search driver's own cost per evaluation, over a run at the paper's scale.

Runs a jozefowicz search on arith, xml and ptb through ``archsearch.launch`` in
process, with an instant stand-in for training (``stand_in``: a metric drawn
from the cell's hash, so candidates pass and fail the threshold as in a real
search), so that all the time measured is the driver's: asking, storing,
copying lookups, telling, saving the searcher's state. The search has the
spec's defaults otherwise (its rungs, its confirmation at the end).

Prints the milliseconds per evaluation in each tenth of the run, in wall time
and in the driver process's CPU time (the difference is waiting: disk syncs,
the database server, other work on the machine), the mean, the ratio of the
last tenth to the first, and the peak memory (resident set) of the process.
Targets at 20,000 evaluations: last tenth <= 1.5x the first, mean <= 20 ms.

Each store is measured in a process of its own (so that each peak is its own),
one after the other, in a fresh store: a SQLite file in a temporary folder, or
the PostgreSQL database at ``--pg-url``, whose archsearch tables are dropped first
(give it a scratch database; .ci/pg-setup makes one on loopback).

    python scripts/bench_driver.py --evaluations 2000             # a quick check, SQLite
    python scripts/bench_driver.py --stores sqlite postgresql \\
        --pg-url "$(PGSETUP_DB=archsearch_bench .ci/pg-setup)"    # the paper's scale
    python scripts/bench_driver.py --evaluations 3000 --profile /tmp/driver.prof
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASKS = ("arith", "xml", "ptb")
# Typical values of each task's metric (accuracies; perplexity): the stand-in scatters
# cells by +-15% around them, so that about half the mutants pass each threshold.
TYPICAL = {"arith": 0.8, "xml": 0.7, "ptb": 130.0}
SPREAD = 0.15


def stand_in(proposal: dict, options) -> dict:
    """An instant evaluation: each trial's metric is fixed by the cell, task, seed and trial."""
    trials = []
    for index in range(proposal["trials"]):
        key = f"{proposal['cell_hash']}:{proposal['task']}:{proposal['seed']}:{index}"
        unit = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        metric = TYPICAL[proposal["task"]] * (1 + SPREAD * (2 * unit - 1))
        trials.append({"params": {"lr": 0.001}, "status": "ok", "metric_valid": metric})
    best = (min if proposal["task"] == "ptb" else max)(t["metric_valid"] for t in trials)
    return {"trials": trials, "metric": best, "worker": "stand-in", "seconds": 0.0}


def measure(url: str, evaluations: int, profile: str | None) -> dict:
    """Run the search into ``url``: wall and CPU seconds since the start at every commit."""
    from archsearch import Resources, RunSpec, launch

    spec = RunSpec(name="bench-driver", searcher="jozefowicz", tasks=TASKS, budget=str(evaluations))
    commits: list[float] = []
    cpu: list[float] = []
    start, start_cpu = time.perf_counter(), time.process_time()

    def on_event(event) -> None:
        if event.kind == "commit":
            commits.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)

    resident_before = _peak_mib()
    run = lambda: launch(  # noqa: E731
        spec, Resources(storage=url, in_process=True), on_event=on_event, evaluate=stand_in
    )
    if profile:
        import cProfile

        cProfile.runctx("run()", globals(), {"run": run}, profile)
    else:
        run()
    return {
        "spec": f"{spec.searcher} on {', '.join(spec.tasks)}, rungs {spec.rungs}, "
        f"confirm {spec.confirm}",
        "commits": commits,
        "cpu": cpu,
        "peak_mib": _peak_mib(),
        "start_mib": resident_before,
    }


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def by_tenth(seconds: list[float]) -> list[float]:
    """Milliseconds per evaluation in each tenth of the run (``seconds``: at each commit)."""
    n = len(seconds)
    edges = [round(n * k / 10) for k in range(11)]
    times = [0.0, *seconds]
    return [
        1000 * (times[edges[k + 1]] - times[edges[k]]) / (edges[k + 1] - edges[k])
        for k in range(10)
    ]


def report(store: str, result: dict) -> None:
    commits, cpu = result["commits"], result["cpu"]
    n = len(commits)
    wall, busy = by_tenth(commits), by_tenth(cpu)
    print(f"{store}: {n} evaluations in {commits[-1]:.1f} s ({result['spec']})")
    print("  ms per evaluation by tenth, wall: " + " ".join(f"{t:.1f}" for t in wall))
    print("                              CPU: " + " ".join(f"{t:.1f}" for t in busy))
    print(
        f"  mean {1000 * commits[-1] / n:.1f} ms wall ({1000 * cpu[-1] / n:.1f} CPU); last "
        f"tenth / first {wall[-1] / wall[0]:.2f} wall ({busy[-1] / busy[0]:.2f} CPU)"
    )
    print(
        f"  peak memory {result['peak_mib']:.0f} MiB ({result['start_mib']:.0f} MiB before the run)"
    )


def fresh_url(store: str, pg_url: str | None, folder: Path) -> str:
    if store == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}"
    if not pg_url:
        raise SystemExit("--stores postgresql needs --pg-url (a scratch database)")
    from sqlalchemy import create_engine

    from archsearch.store.schema import metadata

    engine = create_engine(pg_url)
    metadata.drop_all(engine)
    engine.dispose()
    return pg_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=20_000)
    parser.add_argument("--stores", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite"])
    parser.add_argument("--pg-url", help="a scratch PostgreSQL database (emptied first)")
    parser.add_argument("--profile", help="write a cProfile of each run to PROFILE.<store>")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.evaluations < 10:
        parser.error("--evaluations: at least 10 (one per tenth)")
    if args.child:  # one store, in this process: print the result as JSON
        with tempfile.TemporaryDirectory() as folder:
            url = fresh_url(args.stores[0], args.pg_url, Path(folder))
            print(json.dumps(measure(url, args.evaluations, args.profile)))
        return
    for store in args.stores:
        command = [sys.executable, __file__, "--child", "--stores", store]
        command += ["--evaluations", str(args.evaluations)]
        command += ["--pg-url", args.pg_url] if args.pg_url else []
        command += ["--profile", f"{args.profile}.{store}"] if args.profile else []
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        report(store, json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
