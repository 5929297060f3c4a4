"""The command line: thin wrappers that parse options, call the library, print.

Every user error (unknown cell, task, preset, knob, hyperparameter; an invalid
cell) is one line on standard error and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archsearch.driver import SearchConfig

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Search and benchmark recurrent-cell architectures (Jozefowicz et al., ICML 2015).",
)
out = Console()
err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print a one-line error and return the exit to raise (status 2)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def parse_assignments(pairs: list[str], what: str) -> dict[str, str]:
    """``["lr=0.5", "layers=1"]`` -> ``{"lr": "0.5", "layers": "1"}``."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise fail(f"{what} {pair!r} is not of the form name=value")
        values[name.strip()] = value.strip()
    return values


def typed(values: dict[str, str]) -> dict[str, object]:
    """Command-line text to numbers where it reads as one (task knobs)."""
    result: dict[str, object] = {}
    for name, text in values.items():
        if text.lower() in ("none", "null"):
            result[name] = None
            continue
        for convert in (int, float):
            try:
                result[name] = convert(text)
                break
            except ValueError:
                continue
        else:
            result[name] = text
    return result


@app.command("tasks")
def tasks_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    preset: Annotated[str, typer.Option(help="Preset whose sizes to show.")] = "quick",
) -> None:
    """List the tasks: family, metric, and the size of each split."""
    import tasks as task_suite

    try:
        described = [task_suite.describe(name, preset=preset) for name in task_suite.names()]
    except ValueError as error:
        raise fail(str(error)) from None
    if as_json:
        print(json.dumps(described, indent=2))
        return
    table = Table(title=f"tasks ({preset} preset)")
    for column in ("name", "family", "metric", "better", "inputs", "train", "valid", "test"):
        table.add_column(column)
    for d in described:
        inputs = f"vocab {d['vocab']}" if "vocab" in d else f"{d.get('keys', '?')} keys"
        splits = [
            f"{d['splits'][s]['sequences']:,} seq / {d['splits'][s]['tokens']:,} steps"
            for s in ("train", "valid", "test")
        ]
        better = "higher" if d["higher_is_better"] else "lower"
        table.add_row(d["name"], d["family"], d["metric"], better, inputs, *splits)
    out.print(table)


@app.command("zoo")
def zoo_command(
    name: Annotated[str | None, typer.Argument(help="Print this cell's text.")] = None,
) -> None:
    """List the reference cells, or print one in the cell language."""
    from archsearch import zoo

    try:
        if name is not None:
            print(zoo.get(name).to_text())
            return
    except ValueError as error:
        raise fail(str(error)) from None
    for cell_name in zoo.names():
        cell = zoo.get(cell_name)
        print(f"{cell_name:16s} {cell.canonical_hash()[:12]}  {len(cell.linears())} linear")


@app.command("eval")
def eval_command(
    cell: Annotated[str, typer.Argument(help="A zoo name, a path to a cell file, or cell text.")],
    assignments: Annotated[
        list[str] | None,
        typer.Argument(help="More name=value pairs for --set.", show_default=False),
    ] = None,
    task: Annotated[str, typer.Option(help="Task name (see `archsearch tasks`).")] = "xml",
    preset: Annotated[str, typer.Option(help="smoke, quick or paper.")] = "quick",
    trials: Annotated[int, typer.Option(min=1, help="Hyperparameter settings to try.")] = 4,
    space: Annotated[str, typer.Option(help="Hyperparameter space.")] = "jozefowicz",
    sampler: Annotated[str, typer.Option(help="random or tpe.")] = "random",
    pruner: Annotated[str, typer.Option(help="none, median or hyperband.")] = "none",
    seed: Annotated[int, typer.Option(help="Seed for data, sampling and initialisation.")] = 0,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Fix a hyperparameter: --set lr=0.5 layers=1")
    ] = None,
    knob: Annotated[
        list[str] | None, typer.Option(help="Override a task knob: --knob hidden_size=64")
    ] = None,
    threads: Annotated[int, typer.Option(min=1, help="torch threads.")] = 1,
    backend: Annotated[str, typer.Option(help="torchscript or eager.")] = "torchscript",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Evaluate one cell on one task with sampled hyperparameters; report every trial."""
    from archsearch.evaluate import evaluate
    from archsearch.train import TrainSettings

    fixed = parse_assignments([*(set_ or []), *(assignments or [])], "--set")
    overrides = typed(parse_assignments(knob or [], "--knob"))
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps  loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        console=err,
        transient=as_json,
    ) as progress:
        bars: dict[int, int] = {}
        current = {"trial": 0}

        def on_step(step: int, total: int, loss: float) -> None:
            index = current["trial"]
            if index not in bars:
                bars[index] = progress.add_task(f"trial {index + 1}/{trials}", total=total, loss="")
            progress.update(bars[index], completed=step, loss=f"{loss:.3f}")

        def on_trial(index: int, total: int, result) -> None:
            if index in bars:
                progress.update(
                    bars[index], description=f"trial {index + 1}/{total} {result.status}"
                )
            current["trial"] = index + 1

        try:
            evaluation = evaluate(
                cell,
                task,
                preset=preset,
                trials=trials,
                space=space,
                sampler=sampler,
                pruner=pruner,
                seed=seed,
                fixed=fixed,
                overrides=overrides,
                threads=threads,
                settings=TrainSettings(backend=backend),
                on_trial=on_trial,
                on_step=on_step,
            )
        except (ValueError, OSError) as error:
            raise fail(str(error)) from None
    if as_json:
        print(json.dumps(finite(evaluation.to_dict()), indent=2, default=str))
        return
    _print_trials(evaluation)


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


@app.command("search")
def search_command(
    searcher: Annotated[str, typer.Option(help="jozefowicz, evolution or random.")] = "jozefowicz",
    preset: Annotated[str, typer.Option(help="smoke, quick or paper.")] = "quick",
    tasks: Annotated[str, typer.Option(help="Search tasks, cheapest first.")] = "arith,xml,ptb",
    budget: Annotated[str, typer.Option(help="Evaluations (40) or time (10m).")] = "10m",
    trials: Annotated[int, typer.Option(min=1, help="Settings per (cell, task).")] = 2,
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
    space: Annotated[str, typer.Option(help="Hyperparameter space.")] = "jozefowicz",
    in_process: Annotated[
        bool, typer.Option("--in-process", help="No Ray: one evaluation at a time, here.")
    ] = False,
) -> None:
    """Search for cells: mutate, evaluate in parallel on Ray, store every result, rank."""
    from archsearch.search import SEARCHERS
    from archsearch.store import StoreError

    max_evaluations, max_seconds = parse_budget(budget)
    task_names = [t.strip() for t in tasks.split(",") if t.strip()]
    try:
        SEARCHERS.get(searcher)
        import tasks as task_suite

        task_names = [task_suite.TASKS.canonical(t) for t in task_names]
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


def _search(config, workers, cpus_per_eval, gpus_per_eval, time_limit, address, in_process):
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

        def on_progress(p) -> None:
            bar.update(line, description=progress_line(p))

        searcher, run = run_search(config, executor=executor, store=store, on_progress=on_progress)
    print_ranking(out, searcher)
    out.print(
        f"store: {store.url}  (run {config.name!r}; `archsearch search --name "
        f"{config.name}` resumes it, `archsearch report --run {config.name}` writes a report)"
    )


def _print_trials(evaluation) -> None:
    table = Table(
        title=f"{evaluation.cell_name} on {evaluation.task} ({evaluation.preset}), "
        f"{evaluation.metric} ({'higher' if evaluation.higher_is_better else 'lower'} is better)"
    )
    names = list(evaluation.trials[0].params) if evaluation.trials else []
    short = {"init_scale": "init", "max_grad_norm": "clip"}
    for column in ("#", *(short.get(n, n) for n in names), "status", "valid", "test", "steps", "s"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    best = evaluation.best
    for index, t in enumerate(evaluation.trials):
        mark = "*" if t is best else ""
        table.add_row(
            f"{index + 1}{mark}",
            *(
                f"{t.params[n]:g}" if isinstance(t.params[n], float) else str(t.params[n])
                for n in names
            ),
            t.status,
            _fmt(t.metric_valid),
            _fmt(t.metric_test),
            str(t.steps),
            f"{t.seconds:.1f}",
            f"{t.n_params:,}",
        )
    out.print(table)
    for index, t in enumerate(evaluation.trials):
        if t.error:
            out.print(f"trial {index + 1} {t.status}: {t.error}", highlight=False)
    if best is None:
        out.print("no trial finished")
    else:
        out.print(
            f"best: valid {evaluation.metric} {_fmt(best.metric_valid)}, "
            f"test {_fmt(best.metric_test)}"
        )


def _fmt(value: float | None) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"
    )


def finite(value: object) -> object:
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def main() -> None:
    """Entry point of the ``archsearch`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
