"""The search driver: ask the searcher, run evaluations, commit each result, tell the searcher.

The loop keeps as many evaluations in flight as the executor can hold. Every
finished evaluation is committed to the store, with the searcher's state after
learning from it, in one transaction, before anything new is scheduled; so a
driver killed at any point resumes with the same command: finished
evaluations are kept, the ones in flight are asked again (the saved state
still lists them as pending), and nothing is recorded twice (records are keyed).
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from archsearch.execute import Executor, Finished
from archsearch.naming import readable_name
from archsearch.search import Outcome, Searcher, make_searcher
from archsearch.spec import RESUMABLE, RunSpec
from archsearch.store import RunHandle, Store
from archsearch.store.reuse import budget_of, evaluation_settings, find_reusable


@dataclass
class Progress:
    """What a progress display needs, updated by the loop."""

    done: int = 0
    in_flight: int = 0
    best_score: float = math.nan
    best_cell: str = ""
    elapsed: float = 0.0
    budget_seconds: float | None = None
    budget_evaluations: int | None = None
    last: Finished | None = None
    driver_seconds: float = 0.0  # spent asking, storing and telling (not waiting)
    reused: int = 0  # evaluations copied from other runs of the store (store/reuse.py)
    interrupted: bool = False  # Ctrl-C: no new evaluations; those in flight finish


@dataclass(frozen=True)
class Event:
    """What a run tells its watcher. ``kind`` is "start", "commit" (one evaluation
    committed: ``finished``), "tick" (the loop went round, about once a second) or
    "end"; ``message`` says it in words for "start" and "end"."""

    kind: str
    progress: Progress
    finished: Finished | None = None
    message: str = ""
    cell: str = ""  # the committed cell's readable name ("commit")


class ConfigMismatch(ValueError):
    """A run was resumed with a configuration that would change its meaning."""


def run_search(
    spec: RunSpec,
    *,
    executor: Executor,
    store: Store,
    on_event: Callable[[Event], None] | None = None,
    reuse: bool = True,
) -> tuple[Searcher, RunHandle, Progress]:
    """Run (or resume) the run ``spec`` describes; returns the searcher, the closed run and
    the last progress. ``archsearch.launch`` builds the store and executor and calls this.

    ``reuse``: an evaluation another run of the store has already committed with the same
    settings and seed is copied, not trained again (``store/reuse.py``)."""
    try:
        searcher = make_searcher(
            spec.searcher,
            tasks=list(spec.tasks),
            trials=spec.trials,
            seed=spec.seed,
            preset=spec.preset,
            repeats=spec.repeats,
            **spec.searcher_options,
        )
        run = store.open_run(spec.name, spec.to_dict())
    except BaseException:
        executor.shutdown()
        raise
    ending = "interrupted"  # unless the loop ends by itself
    try:
        if run.resumed and _differences(run.config, spec.identity()):
            ending = None  # nothing ran: the run keeps the ending it had
            raise ConfigMismatch(_mismatch(spec.name, run.config, spec.identity()))
        if run.state is not None:
            searcher.load_state_dict(run.state)
        watcher = on_event or (lambda event: None)
        progress = _loop(spec, searcher, executor, store, run, watcher, reuse=reuse)
        ending = "interrupted" if progress.interrupted else "finished"
    finally:
        executor.shutdown()
        run.close(ending=ending)
    return searcher, run, progress


def _loop(spec, searcher, executor, store, run, on_event, *, reuse: bool) -> Progress:
    progress = Progress(
        done=run.count(),
        budget_seconds=spec.max_seconds,
        budget_evaluations=spec.max_evaluations,
    )
    settings = evaluation_settings(spec.to_dict())  # what an evaluation to copy must match
    start = time.monotonic()
    stopping = _StopFlag()
    with stopping:
        while True:
            progress.elapsed = time.monotonic() - start
            out_of_budget = spec.max_seconds is not None and progress.elapsed >= spec.max_seconds
            busy = time.monotonic()
            copied_now = 0
            while not (out_of_budget or stopping.set) and executor.in_flight < executor.capacity:
                if (
                    spec.max_evaluations is not None
                    and progress.done + executor.in_flight >= spec.max_evaluations
                ):
                    break
                proposal = searcher.ask()
                if proposal is None:
                    break
                store.put_cell(
                    proposal.cell_hash,
                    proposal.cell_text,
                    name=readable_name(searcher.cells, proposal.cell_hash),
                    parent=proposal.parent,
                    mutations=proposal.mutations,
                )
                copied = _reusable(settings, store, run, proposal) if reuse else None
                if copied is None:
                    executor.submit(proposal)
                else:
                    copied_now += 1
                    progress.reused += 1
                    _committed(searcher, run, copied, progress, executor, on_event, settings)
            progress.driver_seconds += time.monotonic() - busy
            if executor.in_flight == 0 and not copied_now:  # a copy may let the searcher go on
                break
            for finished in executor.wait(timeout=1.0) if executor.in_flight else ():
                busy = time.monotonic()
                _committed(searcher, run, finished, progress, executor, on_event, settings)
                progress.driver_seconds += time.monotonic() - busy
            progress.in_flight = executor.in_flight
            progress.interrupted = stopping.set
            progress.elapsed = time.monotonic() - start
            _best(searcher, progress)
            on_event(Event("tick", progress))
            run.heartbeat()
    return progress


def _committed(
    searcher, run, finished: Finished, progress: Progress, executor, on_event, settings
) -> None:
    """Commit a finished evaluation, tell the searcher, and report it."""
    _commit(searcher, run, finished, budget_of(finished.proposal.task, settings))
    progress.done += 1
    progress.last = finished
    progress.in_flight = executor.in_flight
    _best(searcher, progress)
    name = readable_name(searcher.cells, finished.proposal.cell_hash)
    on_event(Event("commit", progress, finished, cell=name))


def _reusable(settings, store: Store, run: RunHandle, proposal) -> Finished | None:
    """The proposal's evaluation as another run of the store committed it, if one did."""
    found = find_reusable(
        store,
        run_id=run.id,
        settings=settings,
        cell=proposal.cell_hash,
        task=proposal.task,
        trials=proposal.trials,
        seed=proposal.seed,
        repeat=proposal.repeat,
    )
    if found is None:
        return None
    meta = found.evaluation.meta
    trials = found.evaluation.trials
    return Finished(proposal, trials, meta.get("metric"), meta.get("worker", ""), 0.0, found.run)


def _best(searcher: Searcher, progress: Progress) -> None:
    ranking = searcher.ranking()
    if ranking:
        progress.best_cell = readable_name(searcher.cells, ranking[0][0])
        progress.best_score = ranking[0][1]


def _commit(searcher: Searcher, run: RunHandle, finished: Finished, budget: str) -> None:
    proposal = finished.proposal
    searcher.tell(proposal, Outcome(finished.metric, len(finished.trials)))
    run.record(
        proposal.key,
        cell=proposal.cell_hash,
        task=proposal.task,
        trials=finished.trials,
        meta={
            "purpose": proposal.purpose,
            "metric": finished.metric,
            "higher_is_better": searcher.directions[proposal.task],
            "worker": finished.worker,
            "seconds": finished.seconds,
            "trials_asked": proposal.trials,
            "seed": proposal.seed,
            "repeat": proposal.repeat,
            "budget": budget,  # the task's knob values (store/reuse.py)
            **({"reused_from": finished.reused_from} if finished.reused_from else {}),
        },
        state=searcher.state_dict(),
    )


class _StopFlag:
    """Ctrl-C once: stop scheduling, let the evaluations in flight finish and commit.

    Ctrl-C twice: stop at once. What was in flight is not recorded (a record would
    mark it done); the saved searcher state still lists it, so a resume runs it again.
    """

    def __init__(self) -> None:
        self.set = False
        self._previous = None

    def __enter__(self) -> _StopFlag:
        def handler(signum, frame):
            if self.set:  # a second Ctrl-C: stop now; the store is consistent at every commit
                raise KeyboardInterrupt
            self.set = True

        try:
            self._previous = signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread: no signal handling
            self._previous = None
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _differences(stored: dict, given: dict) -> list[str]:
    """Keys whose values differ; a key the stored run predates counts at its default."""
    defaults = RunSpec().identity()
    keys = (set(stored) | set(given)) - set(RESUMABLE) - _NEVER_IDENTITY
    return sorted(k for k in keys if stored.get(k, defaults.get(k)) != given.get(k))


# Runs stored before RunSpec hold these too; they never were part of a run's identity.
_NEVER_IDENTITY = {"max_evaluations", "max_seconds", "storage"}


def _mismatch(name: str, stored: dict, given: dict) -> str:
    keys = _differences(stored, given)
    changes = ", ".join(f"{k}: {stored.get(k)!r} -> {given.get(k)!r}" for k in keys)
    return (
        f"run {name!r} exists with another configuration ({changes}); "
        f"resume it with the same options, or start a new run with --name"
    )
