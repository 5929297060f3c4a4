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

from archsearch import confirm
from archsearch.execute import Executor, Finished
from archsearch.naming import readable_name
from archsearch.search import Outcome, Searcher, searcher_for
from archsearch.setting import TaskSetting
from archsearch.spec import RESUMABLE, RunSpec, stored_value
from archsearch.store import RunHandle, Store
from archsearch.store.reuse import find_reusable


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
    phase: str = "search"  # then "confirm" (archsearch/confirm.py)
    reserve: float = 0.0  # seconds the budget keeps for the confirmation


@dataclass(frozen=True)
class Event:
    """What a run tells its watcher. ``kind`` is "start", "commit" (one evaluation
    committed: ``finished``), "tick" (the loop went round, about once a second), "phase"
    (the confirmation begins) or "end"; ``message`` says it in words for "start", "phase"
    and "end"."""

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
        searcher = searcher_for(spec)
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
        with _StopFlag() as stopping:
            loop = _Loop(spec, searcher, executor, store, run, watcher, stopping, reuse=reuse)
            progress = loop.search()
            if spec.confirm and not stopping.set:
                loop.confirm()
            progress.interrupted = stopping.set
        ending = "interrupted" if progress.interrupted else "finished"
    finally:
        executor.shutdown()
        run.close(ending=ending)
    return searcher, run, progress


RESERVE_EVERY_S = 1.0  # how often the time kept for the confirmation is estimated again


class _Loop:
    """The two phases of a run over one executor: the search, then its confirmation."""

    def __init__(self, spec, searcher, executor, store, run, on_event, stopping, *, reuse):
        self.spec, self.searcher, self.executor = spec, searcher, executor
        self.store, self.run, self.on_event, self.stopping = store, run, on_event, stopping
        self.reuse = reuse
        self._resolved: dict[tuple[str, int], TaskSetting] = {}  # by (task, rung)
        self.progress = Progress(
            done=run.count(),
            budget_seconds=spec.max_seconds,
            budget_evaluations=spec.max_evaluations,
        )
        # What the run has committed, by what makes two trainings the same (confirm.slot),
        # and how long each (task, rung) took here: kept up to date at every commit.
        finished = run.finished()
        self.done = confirm.done_slots(finished)
        self.seconds = confirm.seconds_by_rung(finished)  # (a resumed run knows its costs)
        self.start = time.monotonic()
        self._reserve_at = -math.inf  # when the confirmation's time was last estimated

    # -- the search ---------------------------------------------------------------------------
    def search(self) -> Progress:
        spec, searcher, executor, progress = self.spec, self.searcher, self.executor, self.progress
        while True:
            self._tick_clock()
            busy = time.monotonic()
            copied_now = 0
            while not (self._out_of_time() or self.stopping.set) and (
                executor.in_flight < executor.capacity
            ):
                if (
                    spec.max_evaluations is not None
                    and progress.done + executor.in_flight >= spec.max_evaluations
                ):
                    break
                proposal = searcher.ask()
                if proposal is None:
                    break
                if self._submit(proposal):
                    copied_now += 1
            progress.driver_seconds += time.monotonic() - busy
            if executor.in_flight == 0 and not copied_now:  # a copy may let the searcher go on
                break
            self._collect(tell=True)
        return progress

    def _out_of_time(self) -> bool:
        """The time budget is spent, less what confirming the best cells will take then."""
        limit = self.spec.max_seconds
        if limit is None:
            return False
        # The estimate reads every cell (the best to confirm): at most once a second, so its
        # cost per evaluation does not grow with the run.
        now = time.monotonic()
        if self.spec.confirm and now - self._reserve_at >= RESERVE_EVERY_S:
            self._reserve_at = now
            self.progress.reserve = self._confirmation_seconds()
        return self.progress.elapsed + self.progress.reserve >= limit

    def _confirmation_seconds(self) -> float:
        cells = confirm.chosen(self.searcher, self.spec.confirm)
        needed = confirm.still_needed(self._plan(cells), self.done)
        work = confirm.estimated_seconds(needed, self.seconds, self.spec.rung_plan.fraction)
        return work / max(1, self.executor.capacity)

    # -- the confirmation -----------------------------------------------------------------------
    def confirm(self) -> None:
        """Train the best cells and both baselines at the top rung, ``confirm_repeats`` times."""
        cells = confirm.chosen(self.searcher, self.spec.confirm)
        queue = confirm.still_needed(self._plan(cells), self.done)
        minutes = self._confirmation_seconds() / 60
        self.progress.phase = "confirm"
        self.on_event(
            Event(
                "phase",
                self.progress,
                message=f"{confirm.headline(self.searcher, cells)}: {len(queue)} evaluations "
                f"to train, about {minutes:.0f} min",
            )
        )
        while queue or self.executor.in_flight:
            self._tick_clock()
            while (
                queue
                and not self.stopping.set
                and (self.executor.in_flight < self.executor.capacity)
            ):
                self._submit(queue.pop(0))
            if self.stopping.set and not self.executor.in_flight:
                break
            self._collect(tell=False)

    def _plan(self, cells):
        return confirm.plan(self.searcher, cells, self.spec.confirm_repeats)

    # -- shared ----------------------------------------------------------------------------------
    def _submit(self, proposal) -> bool:
        """Store the cell and train the proposal, or copy it from another run (True)."""
        cells = self.searcher.cells
        name = readable_name(cells, proposal.cell_hash) if proposal.cell_hash in cells else ""
        self.store.put_cell(
            proposal.cell_hash,
            proposal.cell_text,
            name=name,
            parent=proposal.parent,
            mutations=proposal.mutations,
        )
        resolved = self._setting(proposal)
        copied = _reusable(resolved, self.store, self.run, proposal) if self.reuse else None
        if copied is None:
            self.executor.submit(proposal)
            return False
        self.progress.reused += 1
        self._committed(copied, tell=proposal.purpose != confirm.PURPOSE)
        return True

    def _collect(self, *, tell: bool) -> None:
        """Commit what finished within a second, then report a tick."""
        executor, progress = self.executor, self.progress
        for finished in executor.wait(timeout=1.0) if executor.in_flight else ():
            busy = time.monotonic()
            self._committed(finished, tell=tell)
            progress.driver_seconds += time.monotonic() - busy
        progress.in_flight = executor.in_flight
        progress.interrupted = self.stopping.set
        self._tick_clock()
        _best(self.searcher, progress)
        self.on_event(Event("tick", progress))
        self.run.heartbeat()

    def _committed(self, finished: Finished, *, tell: bool) -> None:
        """Commit a finished evaluation, tell the searcher (``tell``), and report it."""
        proposal, progress = finished.proposal, self.progress
        _commit(self.searcher, self.run, finished, self._setting(proposal), tell=tell)
        self.done.setdefault(
            confirm.slot_of(proposal),
            math.nan if finished.metric is None else finished.metric,
        )
        if finished.reused_from is None:
            self.seconds.setdefault((proposal.task, proposal.rung), []).append(
                finished.seconds / max(1, proposal.trials)
            )
        progress.done += 1
        progress.last = finished
        progress.in_flight = self.executor.in_flight
        _best(self.searcher, progress)
        cells = self.searcher.cells
        name = readable_name(cells, proposal.cell_hash) if proposal.cell_hash in cells else ""
        self.on_event(Event("commit", progress, finished, cell=name))

    def _setting(self, proposal) -> TaskSetting:
        """The run's evaluation setting resolved for the proposal's task and rung."""
        key = (proposal.task, proposal.rung)
        if key not in self._resolved:
            task, rung = key
            self._resolved[key] = self.spec.evaluation.resolve(task, self.spec.rung_plan, rung)
        return self._resolved[key]

    def _tick_clock(self) -> None:
        self.progress.elapsed = time.monotonic() - self.start


def _reusable(resolved: TaskSetting, store: Store, run: RunHandle, proposal) -> Finished | None:
    """The proposal's evaluation as another run of the store committed it, if one did."""
    found = find_reusable(
        store,
        run_id=run.id,
        setting=resolved,
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
    worker = meta.get("worker", "")
    return Finished(proposal, trials, meta.get("metric"), worker, 0.0, found.run, resolved.digest)


def _best(searcher: Searcher, progress: Progress) -> None:
    leader = searcher.leader()  # kept up to date: not a sort of every cell per commit
    if leader:
        progress.best_cell = readable_name(searcher.cells, leader[0])
        progress.best_score = leader[1]


def _commit(
    searcher: Searcher, run: RunHandle, finished: Finished, setting: TaskSetting, *, tell: bool
) -> None:
    """Record a finished evaluation; with ``tell``, the searcher learns it first and its
    state is saved in the same transaction (a confirmation leaves the state as it was)."""
    proposal = finished.proposal
    if tell:
        searcher.tell(proposal, Outcome(finished.metric, len(finished.trials)))
    run.record(
        proposal.key,
        cell=proposal.cell_hash,
        task=proposal.task,
        trials=finished.trials,
        meta={
            "purpose": proposal.purpose,
            "metric": finished.metric,
            "worker": finished.worker,
            "seconds": finished.seconds,
            "trials_asked": proposal.trials,
            "seed": proposal.seed,
            "repeat": proposal.repeat,
            "rung": proposal.rung,
            # What it was trained under (archsearch.setting; store/reuse.py compares it): the
            # worker's own digest, or, where no worker answered, the run's.
            "setting": finished.setting or setting.digest,
            "budget": setting.budget,  # the task's knob values at the rung
            **({"reused_from": finished.reused_from} if finished.reused_from else {}),
        },
        state=searcher.state_changes() if tell else None,  # the parts that changed
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
    """Keys whose values differ; a key the stored run predates counts as it meant then."""
    keys = (set(stored) | set(given)) - set(RESUMABLE) - _NEVER_IDENTITY
    return sorted(k for k in keys if stored_value(stored, k) != given.get(k))


# Runs stored before RunSpec hold these too; they never were part of a run's identity.
_NEVER_IDENTITY = {"max_evaluations", "max_seconds", "storage"}


def _mismatch(name: str, stored: dict, given: dict) -> str:
    keys = _differences(stored, given)
    changes = ", ".join(f"{k}: {stored_value(stored, k)!r} -> {given.get(k)!r}" for k in keys)
    return (
        f"run {name!r} exists with another configuration ({changes}); "
        f"resume it with the same options, or start a new run with --name"
    )
