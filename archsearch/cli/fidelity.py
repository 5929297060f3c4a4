"""``archsearch fidelity``: how well a cheap budget orders a panel of cells, measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from archsearch.assignments import typed
from archsearch.cli.common import app, err, fail, finite, out, parse_assignments
from archsearch.setting import DEFAULT_PRESET, DEFAULT_SPACE


@app.command("fidelity")
def fidelity_command(
    panel: Annotated[
        list[str],
        typer.Argument(
            help="A NAS-Bench-NLP logs .jsonl (reference: its final perplexities), "
            "or zoo names / cell files (then give --reference-knob or --reference-preset).",
            show_default=False,
        ),
    ],
    task: Annotated[str, typer.Option(help="Task the budget trains on.")] = "ptb",
    preset: Annotated[str, typer.Option(help="Preset of the budget under test.")] = DEFAULT_PRESET,
    knob: Annotated[
        list[str] | None, typer.Option(help="Change the budget: --knob train_steps=800")
    ] = None,
    reference_preset: Annotated[
        str | None, typer.Option(help="A reference trained here: its preset.")
    ] = None,
    reference_knob: Annotated[
        list[str] | None, typer.Option(help="A reference trained here: its knobs.")
    ] = None,
    size: Annotated[
        int, typer.Option(min=3, help="Cells sampled across a .jsonl panel's range.")
    ] = 24,
    held_out: Annotated[
        bool,
        typer.Option(
            "--held-out",
            help="A .jsonl panel of the cells the default one leaves out (same size and "
            "spread): to check a budget chosen on the default panel.",
        ),
    ] = False,
    mutants: Annotated[
        int, typer.Option(min=0, help="Add this many mutants of the panel's cells (seeded).")
    ] = 0,
    seeds: Annotated[str, typer.Option(help="Repeats of the budget, e.g. 0,1.")] = "0,1",
    reference_seeds: Annotated[
        str | None,
        typer.Option(
            help="Repeats of a reference trained here, e.g. 0,1: each cell's reference is "
            "their mean, and the report says how well they agree (default: the first seed)."
        ),
    ] = None,
    space: Annotated[str, typer.Option(help="Hyperparameter space.")] = DEFAULT_SPACE,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Hyperparameters, the same for every cell: --set lr=0.003"),
    ] = None,
    name: Annotated[str, typer.Option(help="Run name prefix in the store.")] = "fidelity",
    storage: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Evaluations at once.")] = None,
    in_process: Annotated[bool, typer.Option("--in-process", help="No Ray.")] = False,
    report: Annotated[
        str | None, typer.Option("--out", help="Report folder (default results/fidelity/NAME).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train a panel at a cheap budget (and a reference, if needed); report rank agreement."""
    from archsearch.cli.progress import watcher
    from archsearch.fidelity import (
        Budget,
        cell_panel,
        measure_fidelity,
        nasbench_panel,
        sample_across,
        sample_held_out,
        summary_lines,
        with_mutants,
        write_fidelity_report,
    )
    from archsearch.spec import Resources
    from archsearch.store import StoreError

    try:
        seed_list = _seed_list(seeds, "--seeds")
        reference_seed_list = (
            None if reference_seeds is None else _seed_list(reference_seeds, "--reference-seeds")
        )
        if len(panel) == 1 and panel[0].endswith(".jsonl"):
            sample = sample_held_out if held_out else sample_across
            cells = sample(nasbench_panel(panel[0]), size)
        elif held_out:
            raise ValueError("--held-out samples a NAS-Bench-NLP logs .jsonl panel; give one")
        else:
            cells = cell_panel(panel)
        cells = with_mutants(cells, mutants, seed=seed_list[0]) if mutants else cells
        budget = Budget(preset, typed(parse_assignments(knob or [], "--knob")))
        reference = None
        if reference_preset or reference_knob:
            reference = Budget(
                reference_preset or preset,
                typed(parse_assignments(reference_knob or [], "--reference-knob")),
            )
        resources = Resources(storage=storage, workers=workers, in_process=in_process)
        fixed = typed(parse_assignments(set_ or [], "--set"))
        with watcher(err) as on_event:
            result = measure_fidelity(
                cells,
                task=task,
                budget=budget,
                reference=reference,
                seeds=seed_list,
                reference_seeds=reference_seed_list,
                space=space,
                fixed=fixed,
                name=name,
                resources=resources,
                on_event=on_event,
            )
        folder = write_fidelity_report(result, report or Path("results/fidelity") / name)
    except (ValueError, OSError, StoreError) as error:
        raise fail(str(error)) from None
    if as_json:
        print(json.dumps(finite(result.to_dict())))
        return
    for line in summary_lines(result):
        out.print(line, highlight=False, soft_wrap=True)
    out.print(f"report: {folder / 'report.md'} (and scatter.png, fidelity.json)")


def _seed_list(text: str, option: str) -> list[int]:
    """``0,1`` as [0, 1]; a clear error for anything else."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0 or len(set(seeds)) < len(seeds):
        raise ValueError(f"{option} {text!r}: give distinct seeds >= 0, e.g. 0,1")
    return seeds
