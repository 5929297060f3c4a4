"""Commands that run many evaluations into the store, and read it back: search, ablate, report."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archsearch.cli import app, err, fail, fmt, out
from archsearch.driver import SearchConfig


def parse_budget(text: str) -> tuple[int | None, float | None]:
    """``"50"`` -> 50 evaluations; ``"10m"``, ``"600s"``, ``"2h"`` -> seconds of wall time."""
    text = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text and text[-1] in units:
            seconds = float(text[:-1]) * units[text[-1]]
            if seconds > 0:
                return None, seconds
        elif int(text) > 0:
            return int(text), None
    except ValueError:
        pass
    raise fail(f"--budget {text!r}: give evaluations (e.g. 40) or time (e.g. 600s, 10m, 2h)")


def task_list(text: str) -> list[str]:
    """``"arith, xml,music"`` -> registered names, in order; an unknown one raises, listing all."""
    import tasks as task_suite

    names = [task_suite.TASKS.canonical(t.strip()) for t in text.split(",") if t.strip()]
    if not names:
        raise ValueError("--tasks names no task")
    return names


@app.command("search")
def search_command(
    searcher: Annotated[str, typer.Option(help="jozefowicz, evolution or random.")] = "jozefowicz",
    preset: Annotated[str, typer.Option(help="smoke, quick or paper.")] = "quick",
    tasks: Annotated[str, typer.Option(help="Search tasks, cheapest first.")] = "arith,xml,ptb",
    # 8 minutes of scheduling: with the evaluations then in flight, about ten in all.
    budget: Annotated[str, typer.Option(help="Evaluations (40) or time (10m).")] = "8m",
    trials: Annotated[int, typer.Option(min=1, help="Settings per (cell, task).")] = 1,
    workers: Annotated[int | None, typer.Option(min=1, help="Evaluations at once.")] = None,
    cpus_per_eval: Annotated[float, typer.Option(min=0.01, help="CPUs per evaluation.")] = 1.0,
    gpus_per_eval: Annotated[float, typer.Option(min=0.0, help="GPUs per evaluation.")] = 0.0,
    time_limit: Annotated[
        float | None, typer.Option(min=1.0, help="Seconds before an evaluation is cancelled.")
    ] = None,
    storage: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store.")] = None,
    name: Annotated[str, typer.Option(help="Run name; the same name resumes.")] = "default",
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (or RAY_ADDRESS).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the search and the data.")] = 0,
    space: Annotated[
        str, typer.Option(help="Hyperparameter space (the paper's: jozefowicz).")
    ] = "adam",
    in_process: Annotated[
        bool, typer.Option("--in-process", help="No Ray: one evaluation at a time, here.")
    ] = False,
) -> None:
    """Search for cells: mutate, evaluate in parallel on Ray, store every result, rank."""
    from archsearch.search import SEARCHERS
    from archsearch.store import StoreError

    max_evaluations, max_seconds = parse_budget(budget)
    try:
        SEARCHERS.get(searcher)
        import tasks as task_suite

        task_names = task_list(tasks)
        if preset not in task_suite.PRESETS:
            raise ValueError(f"unknown preset {preset!r}; valid: {', '.join(task_suite.PRESETS)}")
        config = SearchConfig(
            name=name,
            searcher=searcher,
            tasks=tuple(task_names),
            preset=preset,
            trials=trials,
            space=space,
            seed=seed,
            max_evaluations=max_evaluations,
            max_seconds=max_seconds,
            storage=storage,
        )
        _search(config, workers, cpus_per_eval, gpus_per_eval, time_limit, address, in_process)
    except (ValueError, StoreError) as error:
        raise fail(str(error)) from None


def _search(
    config,
    workers,
    cpus_per_eval,
    gpus_per_eval,
    time_limit,
    address,
    in_process,
    *,
    ranking: bool = True,
):
    from archsearch.display import print_ranking, progress_line
    from archsearch.driver import directions, run_search
    from archsearch.execute import EvalOptions, InProcessExecutor
    from archsearch.store import Store

    store = Store(config.storage)
    options = EvalOptions(
        preset=config.preset,
        space=config.space,
        data_seed=config.seed,
        threads=max(1, int(cpus_per_eval)),
    )
    dirs = directions(config.tasks)
    resume = (
        f"Resume with the same command (run {config.name!r}"
        + (f", --storage {config.storage}" if config.storage else "")
        + ")."
    )
    if in_process:
        executor = InProcessExecutor(options, dirs)
    else:
        from archsearch.ray_executor import RayExecutor

        err.print("starting Ray ..." if not address else f"joining Ray at {address} ...")
        executor = RayExecutor(
            options,
            dirs,
            address=address,
            workers=workers,
            cpus_per_eval=cpus_per_eval,
            gpus_per_eval=gpus_per_eval,
            time_limit=time_limit,
        )
    err.print(
        f"run {config.name!r}: {config.searcher} search on {', '.join(config.tasks)} "
        f"({config.preset}), {executor.capacity} at once; store {store}"
    )
    with Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=err) as bar:
        line = bar.add_task("starting")

        last = []

        def on_progress(p) -> None:
            bar.update(line, description=progress_line(p))
            last[:] = [p]

        try:
            searcher, run = run_search(
                config, executor=executor, store=store, on_progress=on_progress
            )
        except KeyboardInterrupt:
            err.print(f"stopped at once; every finished evaluation is committed. {resume}")
            raise typer.Exit(130) from None
    if last and last[0].interrupted:
        err.print(f"stopped by Ctrl-C after {last[0].done} evaluations. {resume}")
    if not ranking:
        return
    print_ranking(out, searcher)
    out.print(f"store: {store.url} (run {config.name!r}; the same command resumes it)")
    from archsearch.analysis.report import write_report

    try:
        folder = write_report(config.storage, config.name, f"results/report-{config.name}")
        out.print(f"report: {folder / 'report.html'} (and report.md)")
    except Exception as error:  # the search is done and stored; a report can be made later
        err.print(
            f"no report ({type(error).__name__}: {error}); "
            f"try `archsearch report --run {config.name}`"
        )


@app.command("report")
def report_command(
    storage: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store.")] = None,
    run: Annotated[str | None, typer.Option(help="Run name (default: every run).")] = None,
    out: Annotated[str | None, typer.Option(help="Folder (default results/report-RUN).")] = None,
    reference: Annotated[str, typer.Option(help="Reference cell for relative scores.")] = "gru",
    evaluator: Annotated[
        str, typer.Option(help="Hyperparameter importance: fanova, ped-anova or mdi.")
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
    tasks: Annotated[str, typer.Option(help="Tasks, comma-separated.")] = "arith,xml,ptb",
    preset: Annotated[str, typer.Option(help="smoke, quick or paper.")] = "quick",
    trials: Annotated[int, typer.Option(min=1, help="Settings per (cell, task).")] = 2,
    workers: Annotated[int | None, typer.Option(min=1, help="Evaluations at once.")] = None,
    storage: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store.")] = None,
    name: Annotated[str | None, typer.Option(help="Run name (default ablate-CELL).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the data and the sampling.")] = 0,
    in_process: Annotated[bool, typer.Option("--in-process", help="No Ray.")] = False,
) -> None:
    """Train a cell and its gate ablations under one budget; print the gate-importance table."""
    from archsearch.analysis.tables import gate_importance, importance_order
    from archsearch.evaluate import load_cell
    from archsearch.space import ablations
    from archsearch.store import StoreError, load_results

    try:
        full = load_cell(cell)
        variants = ablations(full)
        if not variants:
            raise ValueError(f"cell {full.name!r} has no gate (a sigmoid that multiplies a value)")
        task_names = task_list(tasks)
        run = name or f"ablate-{full.name}"
        config = SearchConfig(
            name=run,
            searcher="fixed",
            tasks=tuple(task_names),
            preset=preset,
            trials=trials,
            seed=seed,
            max_seconds=None,
            storage=storage,
            searcher_options={"cells": [full.to_text(), *(v.to_text() for v in variants.values())]},
        )
        _search(config, workers, 1.0, 0.0, None, None, in_process, ranking=False)
        frame = load_results(storage, run=run)
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
