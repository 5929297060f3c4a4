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
from dataclasses import asdict, dataclass, field
from typing import Any

from archsearch.execute import EvalOptions, Executor, Finished, InProcessExecutor
from archsearch.search import Outcome, Searcher, make_searcher
from archsearch.store import RunHandle, Store
from tasks import directions


@dataclass(frozen=True)
class SearchConfig:
    """Everything that defines a search. The defaults are the main job: minutes on a laptop."""

    name: str = "default"
    searcher: str = "jozefowicz"
    tasks: tuple[str, ...] = ("arith", "xml", "ptb")  # cheapest first; music is held out
    preset: str = "quick"
    # One setting per (cell, task) with Adam: at laptop budgets the paper's SGD grid leaves
    # most models untrained (see results/findings-quick-adam); paper runs pass
    # space="jozefowicz" and more trials.
    trials: int = 1
    space: str = "adam"
    sampler: str = "random"
    seed: int = 0
    max_evaluations: int | None = None  # budget in evaluations of the whole run
    max_seconds: float | None = 600.0  # budget in wall time of this invocation
    storage: str | None = None  # SQLAlchemy URL; default a SQLite file under results/
    searcher_options: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)  # task knobs
    fixed: dict[str, Any] = field(default_factory=dict)  # hyperparameters not sampled

    def identity(self) -> dict[str, Any]:
        """What must match to resume a run (budgets and storage may change)."""
        data = asdict(self)
        for key in ("max_evaluations", "max_seconds", "storage", "name"):
            data.pop(key)
        data["tasks"] = list(self.tasks)
        return data


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
    interrupted: bool = False  # Ctrl-C: no new evaluations; those in flight finish


class ConfigMismatch(ValueError):
    """A run was resumed with a configuration that would change its meaning."""


def run_search(
    config: SearchConfig,
    *,
    executor: Executor | None = None,
    store: Store | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> tuple[Searcher, RunHandle]:
    """Run (or resume) the search ``config`` describes; returns the searcher and the closed run."""
    store = store or Store(config.storage)
    dirs = directions(config.tasks)
    searcher = make_searcher(
        config.searcher,
        tasks=list(config.tasks),
        trials=config.trials,
        seed=config.seed,
        directions=dirs,
        **config.searcher_options,
    )
    run = store.open_run(config.name, config.identity())
    try:
        if run.resumed and _differences(run.config, config.identity()):
            raise ConfigMismatch(_mismatch(config.name, run.config, config.identity()))
        if run.state is not None:
            searcher.load_state_dict(run.state)
        executor = executor or InProcessExecutor(
            EvalOptions(
                preset=config.preset,
                space=config.space,
                sampler=config.sampler,
                data_seed=config.seed,
                overrides=dict(config.overrides),
            ),
            dirs,
        )
        _loop(config, searcher, executor, store, run, on_progress)
    finally:
        if executor is not None:
            executor.shutdown()
        run.close()
    return searcher, run


def _loop(config, searcher, executor, store, run, on_progress) -> None:
    progress = Progress(
        done=run.count(),
        budget_seconds=config.max_seconds,
        budget_evaluations=config.max_evaluations,
    )
    start = time.monotonic()
    stopping = _StopFlag()
    with stopping:
        while True:
            progress.elapsed = time.monotonic() - start
            out_of_budget = (
                config.max_seconds is not None and progress.elapsed >= config.max_seconds
            )
            busy = time.monotonic()
            while not (out_of_budget or stopping.set) and executor.in_flight < executor.capacity:
                if (
                    config.max_evaluations is not None
                    and progress.done + executor.in_flight >= config.max_evaluations
                ):
                    break
                proposal = searcher.ask()
                if proposal is None:
                    break
                store.put_cell(
                    proposal.cell_hash,
                    proposal.cell_text,
                    name=searcher.cells[proposal.cell_hash].name,
                    parent=proposal.parent,
                    mutations=proposal.mutations,
                )
                executor.submit(proposal)
            progress.driver_seconds += time.monotonic() - busy
            if executor.in_flight == 0:
                break
            for finished in executor.wait(timeout=1.0):
                busy = time.monotonic()
                _commit(searcher, run, finished)
                progress.driver_seconds += time.monotonic() - busy
                progress.done += 1
                progress.last = finished
            progress.in_flight = executor.in_flight
            progress.interrupted = stopping.set
            ranking = searcher.ranking()
            if ranking:
                progress.best_cell = searcher.cells[ranking[0][0]].name
                progress.best_score = ranking[0][1]
            if on_progress is not None:
                on_progress(progress)
            run.heartbeat()


def _commit(searcher: Searcher, run: RunHandle, finished: Finished) -> None:
    proposal = finished.proposal
    searcher.tell(
        proposal, Outcome(finished.metric, finished.higher_is_better, len(finished.trials))
    )
    run.record(
        proposal.key,
        cell=proposal.cell_hash,
        task=proposal.task,
        trials=finished.trials,
        meta={
            "purpose": proposal.purpose,
            "metric": finished.metric,
            "higher_is_better": finished.higher_is_better,
            "worker": finished.worker,
            "seconds": finished.seconds,
            "trials_asked": proposal.trials,
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
    defaults = SearchConfig().identity()
    return sorted(
        k for k in set(stored) | set(given) if stored.get(k, defaults.get(k)) != given.get(k)
    )


def _mismatch(name: str, stored: dict, given: dict) -> str:
    keys = _differences(stored, given)
    changes = ", ".join(f"{k}: {stored.get(k)!r} -> {given.get(k)!r}" for k in keys)
    return (
        f"run {name!r} exists with another configuration ({changes}); "
        f"resume it with the same options, or start a new run with --name"
    )
