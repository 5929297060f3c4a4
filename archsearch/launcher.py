"""``launch``: the one place that builds its store, executor and driver, and writes its report.

    spec = archsearch.RunSpec(name="demo", preset="smoke", budget="20")
    result = archsearch.launch(spec, archsearch.Resources(in_process=True))
    frame = result.results()            # load_results(result.storage, run=result.name)

The command line (``search``, ``ablate``), the scripts and the fault drills
all come through here, so every evaluation runs under its spec's space, fixed
values and knobs. (The module is ``launcher`` so that ``archsearch.launch``
stays the function: import it as ``from archsearch import launch``.) Ctrl-C
once stops scheduling and lets the work in flight commit
(``result.interrupted``); twice raises ``KeyboardInterrupt`` with every finished
evaluation committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from archsearch import confirm
from archsearch.driver import Event, Progress, run_search
from archsearch.execute import EvalOptions, Executor, InProcessExecutor, evaluate_proposal
from archsearch.spec import Resources, RunSpec
from archsearch.store import DEFAULT_URL, Store
from archsearch.store.engine import is_memory, safe

if TYPE_CHECKING:
    import pandas as pd

    from archsearch.search import Searcher

# The function an evaluation runs, given a proposal and the options (drills inject faults).
Evaluate = Callable[[dict, EvalOptions], dict]


@dataclass
class LaunchResult:
    """A finished (or interrupted) launch: where its results are, and how it ended."""

    name: str  # the run
    storage: str  # the store's URL, as given (it may hold a password: print ``url``)
    searcher: Searcher  # the searcher's view: ranking, cells, relative scores
    progress: Progress  # evaluations done, best so far, interrupted
    # The confirmation table (archsearch/confirm.py): None when the run confirms nothing.
    confirmation: list[confirm.Row] | None = None
    report: Path | None = None  # the report's folder, when one was asked for and written
    report_error: str | None = None  # why the report asked for was not written

    @property
    def url(self) -> str:
        """The store's URL with its password masked, for printing."""
        return safe(self.storage)

    @property
    def interrupted(self) -> bool:
        return self.progress.interrupted

    def results(self) -> pd.DataFrame:
        """Every trial of this run, one row each (``archsearch.load_results``)."""
        from archsearch.store import load_results

        return load_results(self.storage, run=self.name)


def launch(
    spec: RunSpec,
    resources: Resources | None = None,
    *,
    on_event: Callable[[Event], None] | None = None,
    report: str | Path | None = None,
    evaluate: Evaluate = evaluate_proposal,
) -> LaunchResult:
    """Run (or resume, under the same name) the run ``spec`` on ``resources``.

    ``on_event`` hears "start", one "commit" per committed evaluation, "tick"s
    (about once a second on Ray; in process, after each evaluation), and "end".
    ``report`` is a folder to write the run's report into at the end.
    ``evaluate`` replaces the function each evaluation runs (the fault drills
    inject faults with it).
    """
    spec = spec.checked()  # the registries' checks, before a store exists
    resources = resources or Resources()
    notify = on_event or (lambda event: None)
    storage = resources.storage or DEFAULT_URL
    if is_memory(storage):
        raise ValueError(
            f"store {storage!r} is in memory: its results would vanish when the run ends; "
            f"give a file (sqlite:///results/NAME.db) or a database server"
        )
    store = Store(storage)
    try:
        executor = make_executor(spec, resources, evaluate=evaluate)
        try:
            notify(Event("start", Progress(), message=_describe(spec, executor, storage)))
        except BaseException:
            executor.shutdown()
            raise
        searcher, _, progress = run_search(
            spec, executor=executor, store=store, on_event=notify, reuse=resources.reuse
        )
        rows = confirm.stored_table(store, spec.name)
    finally:
        store.close()
    result = LaunchResult(spec.name, storage, searcher, progress, rows)
    if report is not None:
        _write_report(result, Path(report))
    notify(Event("end", progress, message=_ending(result)))
    return result


def make_executor(spec: RunSpec, resources: Resources, *, evaluate: Evaluate) -> Executor:
    """In this process, or on Ray (a private local instance, or the cluster at the address)."""
    if resources.in_process:  # here the training loop keeps the time limit itself
        limit = resources.time_limit
        options = EvalOptions.of(spec, threads=resources.eval_threads, time_limit=limit)
        return InProcessExecutor(options, evaluate=evaluate)
    from archsearch.ray_executor import RayExecutor

    options = EvalOptions.of(spec, threads=resources.eval_threads)
    return RayExecutor(
        options,
        address=resources.address,
        workers=resources.workers,
        cpus_per_eval=resources.cpus_per_eval,
        gpus_per_eval=resources.gpus_per_eval,
        max_retries=resources.max_retries,
        time_limit=resources.time_limit,
        evaluate=evaluate,
    )


def resume_hint(name: str, storage: str | None) -> str:
    """How to resume run ``name``: the same command (the store's URL masked)."""
    where = f", --storage {safe(storage)}" if storage and storage != DEFAULT_URL else ""
    return f"Resume with the same command (run {name!r}{where})."


def _describe(spec: RunSpec, executor: Executor, storage: str) -> str:
    return (
        f"run {spec.name!r}: {spec.searcher} search on {', '.join(spec.tasks)} "
        f"({spec.preset}, {spec.space} space), {executor.capacity} at once; store {safe(storage)}"
    )


def _ending(result: LaunchResult) -> str:
    done = f"{result.progress.done} evaluations committed"
    if result.interrupted:
        return f"stopped by Ctrl-C: {done}. {resume_hint(result.name, result.storage)}"
    return f"run {result.name!r} done: {done}; store {result.url}"


def _write_report(result: LaunchResult, folder: Path) -> None:
    from archsearch.analysis.report import write_report

    try:
        result.report = write_report(result.storage, result.name, folder)
    except Exception as error:  # the run is done and stored; a report can be made later
        result.report_error = f"{type(error).__name__}: {error}"
