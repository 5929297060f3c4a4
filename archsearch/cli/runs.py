"""Commands that run many evaluations into the store: search and ablate; and report.

Both build a ``RunSpec`` and ``Resources`` and call ``archsearch.launch``; the
options left out come from ``--config`` (a TOML or JSON run spec) or else the
spec's defaults (``archsearch.spec``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from archsearch.assignments import typed
from archsearch.cli.common import app, err, fail, fmt, out, parse_assignments
from archsearch.cli.progress import watcher
from archsearch.defaults import DEFAULT_PRESET
from archsearch.spec import (
    DEFAULT_BUDGET,
    DEFAULT_CONFIRM,
    DEFAULT_CONFIRM_REPEATS,
    DEFAULT_ETA,
    DEFAULT_MARGIN,
    DEFAULT_RUNGS,
    DEFAULT_TASKS,
    DEFAULT_TOP_SHARE,
    Resources,
    RunSpec,
)

Opt = typer.Option


def task_list(text: str) -> list[str]:
    """``"arith, xml,music"`` -> registered names, in order; an unknown one raises, listing all."""
    import tasks as task_suite

    names = [task_suite.TASKS.canonical(t.strip()) for t in text.split(",") if t.strip()]
    if not names:
        raise ValueError("--tasks names no task")
    return names


@app.command("search")
def search_command(
    config: Annotated[
        str | None, Opt(help="A run spec (.toml or .json); options override.")
    ] = None,
    searcher: Annotated[str | None, Opt(help="jozefowicz, evolution or random.")] = None,
    preset: Annotated[str | None, Opt(help="smoke, quick or paper [quick].")] = None,
    tasks: Annotated[
        str | None, Opt(help=f"Tasks, cheapest first [{','.join(DEFAULT_TASKS)}].")
    ] = None,
    budget: Annotated[
        str | None,
        Opt(
            help=f"Evaluations (40), time (10m, confirmation included) or none [{DEFAULT_BUDGET}]."
        ),
    ] = None,
    trials: Annotated[int | None, Opt(min=1, help="Settings per (cell, task) [1].")] = None,
    repeats: Annotated[
        int | None, Opt(min=1, help="Trainings of each evaluation, other seeds [1].")
    ] = None,
    space: Annotated[str | None, Opt(help="Hyperparameter space [adam].")] = None,
    seed: Annotated[int | None, Opt(help="Seed of the search and the data [0].")] = None,
    name: Annotated[str | None, Opt(help="Run name; the same name resumes [default].")] = None,
    set_: Annotated[list[str] | None, Opt("--set", help="Fix a hyperparameter: lr=0.001.")] = None,
    knob: Annotated[list[str] | None, Opt(help="Set a task knob: hidden_size=64.")] = None,
    workers: Annotated[int | None, Opt(min=1, help="Evaluations at once.")] = None,
    cpus_per_eval: Annotated[float, Opt(min=0.01, help="CPUs per evaluation.")] = 1.0,
    gpus_per_eval: Annotated[float, Opt(min=0.0, help="GPUs per evaluation.")] = 0.0,
    time_limit: Annotated[float | None, Opt(min=1.0, help="Seconds per evaluation.")] = None,
    storage: Annotated[str | None, Opt(help="SQLAlchemy URL of the store.")] = None,
    address: Annotated[str | None, Opt(help="Ray cluster address (or RAY_ADDRESS).")] = None,
    in_process: Annotated[bool, Opt("--in-process", help="No Ray: one at a time, here.")] = False,
    rungs: Annotated[int | None, Opt(help=f"Training lengths [{DEFAULT_RUNGS}].")] = None,
    eta: Annotated[
        int | None, Opt(help=f"Each rung eta times longer; best 1/eta go up [{DEFAULT_ETA}].")
    ] = None,
    top_share: Annotated[
        float | None, Opt(help=f"The top rung's share of the preset [{DEFAULT_TOP_SHARE:.3g}].")
    ] = None,
    confirm: Annotated[
        int | None, Opt(help=f"Best cells confirmed against gru, lstm; 0: off [{DEFAULT_CONFIRM}].")
    ] = None,
    confirm_repeats: Annotated[
        int | None, Opt(help=f"Paired repeats of the confirmation [{DEFAULT_CONFIRM_REPEATS}].")
    ] = None,
    margin: Annotated[
        float | None, Opt(help=f"Within 1 ± margin counts as equivalent [{DEFAULT_MARGIN}].")
    ] = None,
) -> None:
    """Search for cells: mutate, evaluate in parallel on Ray, store every result, rank,
    and confirm the best against the GRU and the LSTM."""
    given: dict[str, Any] = dict(
        searcher=searcher, preset=preset, budget=budget, trials=trials, space=space, seed=seed
    )
    given["repeats"] = repeats
    given.update(
        rungs=rungs,
        eta=eta,
        top_share=top_share,
        confirm=confirm,
        confirm_repeats=confirm_repeats,
        margin=margin,
    )
    given["name"] = name
    given["tasks"] = tasks and tuple(_tasks_or_fail(tasks))
    given["fixed"] = set_ and parse_assignments(set_, "--set")
    given["overrides"] = knob and typed(parse_assignments(knob, "--knob"))
    try:
        spec = (
            (RunSpec.load(config) if config else RunSpec())
            .replace(**{key: value for key, value in given.items() if value is not None})
            .checked()
        )
        resources = Resources(
            workers=workers,
            cpus_per_eval=cpus_per_eval,
            gpus_per_eval=gpus_per_eval,
            time_limit=time_limit,
            storage=storage,
            address=address,
            in_process=in_process,
        )
    except ValueError as error:
        raise fail(str(error)) from None
    result = run(spec, resources, report=f"results/report-{spec.name}")
    if result is None:
        return
    from archsearch.display import confirmation_table, print_ranking

    print_ranking(out, result.searcher)
    if result.confirmation:
        out.print(confirmation_table(result.confirmation))
    out.print(f"run {spec.name!r} in {result.url}; the same command resumes it", highlight=False)
    if result.report is not None:
        out.print(f"report: {result.report / 'report.html'} (and report.md)")
    elif result.report_error:
        err.print(
            f"no report ({result.report_error}); try `archsearch report --run {spec.name}`",
            highlight=False,
        )


def run(spec: RunSpec, resources: Resources, **launch_options: Any):
    """``launch`` with progress on stderr; user errors are one line, a second Ctrl-C exits 130."""
    from archsearch.launcher import launch, resume_hint
    from archsearch.store import StoreError

    if not resources.in_process:
        err.print("starting Ray ..." if not resources.address else f"joining {resources.address}")
    try:
        with watcher(err) as show:
            return launch(spec, resources, on_event=show, **launch_options)
    except KeyboardInterrupt:
        err.print(f"stopped at once; every finished evaluation is committed. "
                  f"{resume_hint(spec.name, resources.storage)}", highlight=False)  # fmt: skip
        raise typer.Exit(130) from None
    except (ValueError, StoreError) as error:
        hint = resume_hint(spec.name, resources.storage) if _resumable(error) else ""
        raise fail(f"{error} {hint}".strip()) from None


def _resumable(error: Exception) -> bool:
    """A write that failed mid-run (the database stopped): what was committed is kept."""
    from archsearch.store.errors import StoreWriteError

    return isinstance(error, StoreWriteError) and error.resumable


def _tasks_or_fail(text: str) -> list[str]:
    try:
        return task_list(text)
    except ValueError as error:
        raise fail(str(error)) from None


@app.command("report")
def report_command(
    storage: Annotated[str | None, Opt(help="SQLAlchemy URL of the store.")] = None,
    run: Annotated[str | None, Opt(help="Run name (default: every run).")] = None,
    out: Annotated[str | None, Opt(help="Folder (default results/report-RUN).")] = None,
    reference: Annotated[str, Opt(help="Reference cell for relative scores.")] = "gru",
    evaluator: Annotated[
        str, Opt(help="Hyperparameter importance: fanova, ped-anova or mdi.")
    ] = "fanova",
) -> None:
    """Write a report (Markdown, HTML, PNG plots) of the results in a store."""
    from archsearch.analysis.report import write_report
    from archsearch.store import StoreError

    try:
        folder = write_report(storage, run, out, reference=reference, evaluator=evaluator)
    except (ValueError, StoreError) as error:
        raise fail(str(error)) from None
    print(f"report: {folder / 'report.html'} and {folder / 'report.md'}")


@app.command("ablate")
def ablate_command(
    cell: Annotated[str, typer.Argument(help="A zoo name, a path to a cell file, or cell text.")],
    tasks: Annotated[str, Opt(help="Tasks, comma-separated.")] = "arith,xml,ptb",
    preset: Annotated[str, Opt(help="smoke, quick or paper.")] = DEFAULT_PRESET,
    trials: Annotated[int, Opt(min=1, help="Settings per (cell, task).")] = 2,
    repeats: Annotated[int, Opt(min=1, help="Trainings of each setting, other seeds.")] = 1,
    space: Annotated[str | None, Opt(help="Hyperparameter space [adam].")] = None,
    workers: Annotated[int | None, Opt(min=1, help="Evaluations at once.")] = None,
    storage: Annotated[str | None, Opt(help="SQLAlchemy URL of the store.")] = None,
    name: Annotated[str | None, Opt(help="Run name (default ablate-CELL).")] = None,
    seed: Annotated[int, Opt(help="Seed of the data and the sampling.")] = 0,
    in_process: Annotated[bool, Opt("--in-process", help="No Ray.")] = False,
) -> None:
    """Train a cell and its gate ablations under one budget; print the gate-importance table."""
    from archsearch.analysis.tables import (
        gate_importance,
        gate_intervals,
        has_repeats,
        importance_order,
    )
    from archsearch.space import ablations
    from archsearch.store import StoreError, load_results
    from archsearch.zoo import load_cell

    try:
        full = load_cell(cell)
        variants = ablations(full)
        if not variants:
            raise ValueError(f"cell {full.name!r} has no gate (a sigmoid that multiplies a value)")
        task_names = task_list(tasks)
        cells = [full.to_text(), *(v.to_text() for v in variants.values())]
        spec = RunSpec(
            name=name or f"ablate-{full.name}",
            searcher="fixed",
            searcher_options={"cells": cells},
            tasks=tuple(task_names),
            preset=preset,
            trials=trials,
            repeats=repeats,
            seed=seed,
            budget="none",
            **({} if space is None else {"space": space}),
        ).checked()
        resources = Resources(workers=workers, storage=storage, in_process=in_process)
    except ValueError as error:
        raise fail(str(error)) from None
    run(spec, resources)
    try:
        frame = load_results(storage, run=spec.name)
        hashes = {label: v.canonical_hash() for label, v in variants.items()}
        table = gate_importance(frame, full.canonical_hash(), hashes, task_names)
    except (ValueError, StoreError) as error:
        raise fail(str(error)) from None
    grid = Table(title=f"{full.name}: each variant relative to the full cell")
    grid.add_column("variant")
    for task in task_names:
        grid.add_column(task, justify="right")
    for label, row in table.iterrows():
        grid.add_row(label, *(fmt(row[t]) for t in task_names))
    out.print(grid)
    for task, order in importance_order(table).items():
        out.print(f"{task}: {' > '.join(order)}  (most important first)")
    if has_repeats(frame):
        _print_gate_intervals(gate_intervals(frame, full.canonical_hash(), hashes, task_names))


def _print_gate_intervals(table) -> None:
    """The variants over matched (seed, setting) pairs: mean relative performance ± 95%."""
    grid = Table(title="over matched repeats: mean ± 95% interval (*: significant, Holm)")
    grid.add_column("variant")
    for task in table.columns:
        grid.add_column(task, justify="right")
    for label, row in table.iterrows():
        grid.add_row(label, *(str(row[t]) for t in table.columns))
    out.print(grid)
