"""Commands about one thing: the zoo, one evaluation (the tasks: ``corpora.py``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from archsearch.assignments import parse_assignments, typed
from archsearch.cli.common import app, err, fail, finite, fmt, out
from archsearch.setting import (
    DEFAULT_BACKEND,
    DEFAULT_PRESET,
    DEFAULT_PRUNER,
    DEFAULT_SAMPLER,
    DEFAULT_SPACE,
    DEFAULT_TRIALS,
)


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
    preset: Annotated[str, typer.Option(help="smoke, quick or paper.")] = DEFAULT_PRESET,
    trials: Annotated[
        int, typer.Option(min=1, help="Hyperparameter settings to try.")
    ] = DEFAULT_TRIALS,
    space: Annotated[str, typer.Option(help="Hyperparameter space.")] = DEFAULT_SPACE,
    sampler: Annotated[str, typer.Option(help="random or tpe.")] = DEFAULT_SAMPLER,
    pruner: Annotated[str, typer.Option(help="none, median or hyperband.")] = DEFAULT_PRUNER,
    seed: Annotated[int, typer.Option(help="Seed for data, sampling and initialisation.")] = 0,
    repeats: Annotated[
        int, typer.Option(min=1, help="Train the same settings again with other seeds.")
    ] = 1,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Fix a hyperparameter: --set lr=0.5 layers=1")
    ] = None,
    knob: Annotated[
        list[str] | None, typer.Option(help="Override a task knob: --knob hidden_size=64")
    ] = None,
    threads: Annotated[int, typer.Option(min=1, help="torch threads.")] = 1,
    backend: Annotated[str, typer.Option(help="torchscript or eager.")] = DEFAULT_BACKEND,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Evaluate one cell on one task with sampled hyperparameters; report every trial."""
    from archsearch.evaluation import evaluate
    from archsearch.setting import EvalSetting, check_seed
    from archsearch.spec import check_threads

    try:  # checked as a search checks its setting, before anything is built or trained
        check_seed(seed)
        check_threads(threads)
        setting = EvalSetting(
            preset=preset,
            overrides=typed(parse_assignments(knob or [], "--knob")),
            space=space,
            sampler=sampler,
            pruner=pruner,
            fixed=parse_assignments([*(set_ or []), *(assignments or [])], "--set"),
            backend=backend,
            trials=trials,
            repeats=repeats,
        ).checked((task,))
    except ValueError as error:
        raise fail(str(error)) from None
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps  loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        console=err,
        transient=as_json,
    ) as progress:
        bars: dict[tuple[int, int], int] = {}
        current = {"trial": 0, "repeat": 0}
        label = "trial {index}/{trials}" + (" of repeat {repeat}" if repeats > 1 else "")

        def name(index: int) -> str:
            return label.format(index=index + 1, trials=trials, repeat=current["repeat"] + 1)

        def on_step(step: int, total: int, loss: float) -> None:
            bar = (current["repeat"], current["trial"])
            if bar not in bars:
                bars[bar] = progress.add_task(name(bar[1]), total=total, loss="")
            progress.update(bars[bar], completed=step, loss=f"{loss:.3f}")

        def on_trial(index: int, total: int, result) -> None:
            bar = (current["repeat"], index)
            if bar in bars:
                progress.update(bars[bar], description=f"{name(index)} {result.status}")
            current["trial"] = index + 1

        evaluations = []
        for repeat in range(repeats):
            current.update(trial=0, repeat=repeat)
            try:
                evaluations.append(
                    evaluate(
                        cell,
                        task,
                        setting=setting,
                        seed=seed,
                        repeat=repeat,
                        threads=threads,
                        on_trial=on_trial,
                        on_step=on_step,
                    )
                )
            except (ValueError, OSError) as error:
                raise fail(str(error)) from None
    summary = _over_repeats(evaluations) if repeats > 1 else None
    if as_json:
        data = evaluations[0].to_dict() if summary is None else {
            "repeats": [e.to_dict() for e in evaluations],
            "summary": summary,
        }  # fmt: skip
        print(json.dumps(finite(data), indent=2, default=str))
        return
    for index, evaluation in enumerate(evaluations):
        if summary is not None:
            out.print(f"repeat {index + 1} of {repeats}", highlight=False)
        _print_trials(evaluation)
    if summary is not None:
        interval = "" if summary["low"] is None else (
            f", 95% interval [{fmt(summary['low'])}, {fmt(summary['high'])}]"
        )  # fmt: skip
        out.print(
            f"over {summary['finished']} of {repeats} repeats: best valid "
            f"{evaluations[0].metric} {fmt(summary['mean'])} on average{interval}",
            highlight=False,
        )


def _over_repeats(evaluations) -> dict:
    """The repeats' best validation metrics, their mean and a bootstrap 95% interval."""
    import math

    from archsearch.analysis.stats import bootstrap_interval

    best = [None if e.best is None else e.best.metric_valid for e in evaluations]
    interval = bootstrap_interval([b for b in best if b is not None])

    def number(value: float) -> float | None:
        return None if math.isnan(value) else value

    return {
        "best_valid": best,
        "finished": sum(b is not None for b in best),
        "mean": number(interval.estimate),
        "low": number(interval.low),
        "high": number(interval.high),
    }


def _print_trials(evaluation) -> None:
    table = Table(
        title=f"{evaluation.cell_name} on {evaluation.task} ({evaluation.preset}), "
        f"{evaluation.metric} ({evaluation.direction.describe()})",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
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
                f"{t.params[n]:.3g}" if isinstance(t.params[n], float) else str(t.params[n])
                for n in names
            ),
            t.status,
            fmt(t.metric_valid),
            fmt(t.metric_test),
            str(t.steps),
            f"{t.seconds:.0f}",
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
            f"best: valid {evaluation.metric} {fmt(best.metric_valid)}, "
            f"test {fmt(best.metric_test)}"
        )
