"""Fault drills: a small search with each fault injected, and what it lost.

    python scripts/fault_drills.py            # every drill, then the table
    python scripts/fault_drills.py job URL N  # (used by the drills) run a tiny search

Each drill runs a tiny search (smoke preset, a few training steps) to a fixed
number of evaluations while injecting one fault, then checks the store: an
evaluation committed before a fault and missing after it is *lost*; a key or a
(cell, task) recorded twice is *duplicated*; the search *finished* when the
store holds the whole budget and passes the integrity check.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from archsearch import Resources, RunSpec, launch, zoo
from archsearch.execute import EvalOptions, evaluate_proposal
from archsearch.search.entries import Proposal
from archsearch.store import Store, load_results

TINY = {
    "train_steps": 4,
    "eval_every": 2,
    "hidden_size": 8,
    "n_train": 64,
    "n_valid": 32,
    "n_test": 32,
    "eval_batches": 1,
}
ROOT = Path(__file__).resolve().parents[1]


# The rung drill's search: two rungs and a confirmation of its best cell (two repeats).
RUNGS = {"rungs": 2, "top_share": 1.0, "confirm": 1, "confirm_repeats": 2}


def tiny_fixed_spec(name: str = "tiny", **changes) -> RunSpec:
    """lstm (and the reference gru) on arith at smoke size, a few steps, two trials."""
    values = dict(
        name=name,
        searcher="fixed",
        searcher_options={"cells": ["lstm"]},
        tasks=("arith",),
        preset="smoke",
        trials=2,
        overrides=TINY,
        budget="none",
    )
    return RunSpec(**{**values, **changes})


def tiny_spec(evaluations: int, **extra) -> RunSpec:
    """The drills' search: smoke preset, a few training steps, ``evaluations`` in all (one
    rung and no confirmation unless ``extra`` asks: the count is then exact)."""
    extra = {"rungs": 1, "confirm": 0, **extra}
    return RunSpec(
        name="job",
        searcher="jozefowicz",
        tasks=("arith", "xml"),
        preset="smoke",
        trials=1,
        budget=str(evaluations),
        overrides=TINY,
        # No re-evaluation, so every (cell, task) must appear exactly once.
        searcher_options={"threshold": 0.0, "reeval_probability": 0.0},
        **extra,
    )


@dataclass
class Drill:
    fault: str
    injected: int
    lost: int
    duplicated: int
    finished: bool


def committed(url: str) -> set[str]:
    try:
        return set(load_results(url, run="job")["key"])
    except Exception:  # no store or no run yet
        return set()


def check(fault: str, url: str, injected: int, evaluations: int, before: set[str]) -> Drill:
    frame = load_results(url, run="job")
    keys = set(frame["key"])
    per_key = frame.groupby("key").agg(cell=("cell", "first"), task=("task", "first"))
    duplicated = int(frame.duplicated(["key", "trial"]).sum() + per_key.duplicated().sum())
    whole = Store(url).check_integrity() == [] and len(keys) == evaluations
    return Drill(fault, injected, len(before - keys), duplicated, whole)


# -- drills on the driver process ------------------------------------------------------------
def _job(url: str, evaluations: int, *mode: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, __file__, "job", url, str(evaluations), *mode],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def drill_sigkill(kills: int = 3, evaluations: int = 30, seed: int = 0) -> Drill:
    """SIGKILL the driver at random moments, resume with the same command each time."""
    url, rng, before = _store(), random.Random(seed), set()
    for _ in range(kills):
        job = _job(url, evaluations)
        time.sleep(rng.uniform(2.0, 5.0))
        job.send_signal(signal.SIGKILL)
        job.wait()
        before |= committed(url)
    _job(url, evaluations).wait(timeout=600)
    return check("driver SIGKILL at random points", url, kills, evaluations, before)


def drill_kill_in_commit(evaluations: int = 12) -> Drill:
    """SIGKILL the driver inside the store transaction, and between learning and storing."""
    url, before = _store(), set()
    for mode in ("in-transaction:3", "before-record:6"):
        _job(url, evaluations, mode).wait(timeout=600)
        before |= committed(url)
    _job(url, evaluations).wait(timeout=600)
    return check("driver SIGKILL mid-commit", url, 2, evaluations, before)


def drill_ctrl_c(evaluations: int = 40) -> Drill:
    """Ctrl-C on the driver: it finishes the work in flight, commits, says how to resume."""
    url = _store()
    job = _job(url, evaluations)
    _wait_for_commits(url, 2)
    job.send_signal(signal.SIGINT)
    output, _ = job.communicate(timeout=300)
    before = committed(url)
    clean = job.returncode == 0 and "resume" in output.lower()
    _job(url, evaluations).wait(timeout=600)
    result = check("Ctrl-C on the driver", url, 1, evaluations, before)
    result.finished = result.finished and clean
    return result


# -- drills on Ray workers ---------------------------------------------------------------------
def make_killer(marker: str, *, always: bool):
    """An evaluation that kills its own worker process (the first attempt only, or always)."""

    def evaluate(proposal: dict, options: EvalOptions) -> dict:
        if proposal["key"] == "e000003":
            flag = Path(marker) / proposal["key"]
            if always or not flag.exists():
                flag.touch()
                os.kill(os.getpid(), signal.SIGKILL)
        return evaluate_proposal(proposal, options)

    return evaluate


def make_faulty(kind: str):
    """An evaluation that hangs, or raises MemoryError, on one proposal."""

    def evaluate(proposal: dict, options: EvalOptions) -> dict:
        if proposal["key"] == "e000003":
            if kind == "hang":
                time.sleep(3600)
            raise MemoryError("injected: out of memory")
        return evaluate_proposal(proposal, options)

    return evaluate


def _ray_search(
    url: str, evaluations: int, evaluate, *, time_limit=None, address=None, on_event=None
):
    resources = Resources(
        storage=url, address=address, workers=2, max_retries=2, time_limit=time_limit
    )
    launch(tiny_spec(evaluations), resources, evaluate=evaluate, on_event=on_event)
    return load_results(url, run="job")


def drill_worker(always: bool, evaluations: int = 10) -> tuple[Drill, str]:
    import ray

    url = _store()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        frame = _ray_search(url, evaluations, make_killer(tempfile.mkdtemp(), always=always))
    finally:
        ray.shutdown()
    status = frame.loc[frame["key"] == "e000003", ["status", "error"]].iloc[0]
    fault = "Ray worker killed, every attempt" if always else "Ray worker killed mid-evaluation"
    return check(
        fault, url, 3 if always else 1, evaluations, set()
    ), f"{status.status}: {status.error}"


def drill_faulty(kind: str, evaluations: int = 10) -> tuple[Drill, str]:
    import ray

    url = _store()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        if kind == "hang":
            # The limit counts from submission, so a worker's first evaluation (imports, data,
            # compiling) counts too: on a loaded machine the ordinary ones then time out as
            # well, and are proposed again. Warmed first, only the hanging one reaches it.
            warm_workers(ray, 2)
        frame = _ray_search(
            url, evaluations, make_faulty(kind), time_limit=20 if kind == "hang" else None
        )
    finally:
        ray.shutdown()
    status = frame.loc[frame["key"] == "e000003", ["status", "error"]].iloc[0]
    fault = "evaluation hangs" if kind == "hang" else "evaluation raises MemoryError"
    return check(fault, url, 1, evaluations, set()), f"{status.status}: {status.error}"


def warm_workers(ray, count: int, timeout: float = 900.0) -> None:
    """Give ``count`` Ray workers their first evaluations (lstm on each drill task): every
    task waits until all have started, so each holds its own worker. A worker's first
    evaluation imports, builds data and compiles: on a loaded machine that alone took 97 s
    against ~4 s for the next ones (two cores, four busy loops beside)."""
    barrier = tempfile.mkdtemp()
    spec = tiny_spec(count)
    options = EvalOptions.of(spec)
    cell = zoo.get("lstm")

    @ray.remote(num_cpus=1)
    def warm() -> int:
        Path(barrier, str(os.getpid())).touch()
        deadline = time.monotonic() + timeout
        while len(os.listdir(barrier)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        for task in spec.tasks:
            proposal = Proposal("warm", cell.to_text(), cell.canonical_hash(), task, 1, 0)
            evaluate_proposal(proposal.to_dict(), options)
        return os.getpid()

    pids = ray.get([warm.remote() for _ in range(count)])
    if len(set(pids)) != count:  # the barrier timed out: a worker never started
        raise RuntimeError(f"{count} warm-up tasks ran on {len(set(pids))} workers: {pids}")


def drill_node_leaves(evaluations: int = 12) -> Drill:
    import ray
    from ray.cluster_utils import Cluster

    url = _store()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    leaving = cluster.add_node(num_cpus=1)
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        removed = []

        def on_event(event) -> None:
            if event.progress.done >= 3 and not removed:
                cluster.remove_node(leaving)
                removed.append(True)

        _ray_search(url, evaluations, evaluate_proposal, address=cluster.address, on_event=on_event)
    finally:
        ray.shutdown()
        cluster.shutdown()
    return check("a node leaves the Ray cluster", url, len(removed), evaluations, set())


def _wait_for_commits(url: str, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while len(committed(url)) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def _store() -> str:
    return f"sqlite:///{tempfile.mkdtemp()}/drill.db"


def _job_main(url: str, evaluations: int, mode: str | None) -> None:
    """The tiny search as a process; ``mode`` kills it inside or just before a commit, or
    ("rungs") runs it with rungs and a confirmation."""
    extra = RUNGS if mode == "rungs" else {}
    if mode and mode != "rungs":
        from archsearch.store import store as store_module

        where, nth = mode.split(":")
        calls = {"record": 0}
        original_record = store_module.RunHandle.record
        original_now = store_module.now

        def record(self, *args, **kwargs):
            calls["record"] += 1
            if where == "before-record" and calls["record"] == int(nth):
                os.kill(os.getpid(), signal.SIGKILL)  # after tell, before anything is stored
            return original_record(self, *args, **kwargs)

        def now():
            if where == "in-transaction" and calls["record"] == int(nth):
                os.kill(os.getpid(), signal.SIGKILL)  # inside the record's open transaction
            return original_now()

        store_module.RunHandle.record = record
        store_module.now = now
    result = launch(tiny_spec(evaluations, **extra), Resources(storage=url, in_process=True))
    if result.interrupted:
        print(
            f"stopped by Ctrl-C after {result.progress.done} evaluations; "
            "resume with the same command"
        )


def main() -> None:
    rows = [drill_sigkill(), drill_kill_in_commit(), drill_ctrl_c()]
    notes = []
    for drill, note in (
        drill_worker(False),
        drill_worker(True),
        drill_faulty("hang"),
        drill_faulty("raise"),
    ):
        rows.append(drill)
        notes.append(f"{drill.fault}: evaluation e000003 recorded as {note}")
    rows.append(drill_node_leaves())
    print(f"| {'fault':34s} | injected | lost | duplicated | finished |")
    print(f"|{'-' * 36}|----------|------|------------|----------|")
    for r in rows:
        print(
            f"| {r.fault:34s} | {r.injected:8d} | {r.lost:4d} | {r.duplicated:10d} | "
            f"{'yes' if r.finished else 'no':8s} |"
        )
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "job":
        _job_main(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        main()
