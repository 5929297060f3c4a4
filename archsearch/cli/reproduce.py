"""``archsearch reproduce 1|2|3|4|greff|all``: train what a finding needs, judge it, report it.

Each finding trains only its cells and tasks (``analysis/reproduce.py``) with the
``fixed`` searcher through ``launch``, ``--repeats`` times with successive seeds
(a paired design: within a repeat every cell meets the same settings, data and
initialisation seeds), then prints one verdict per finding and writes
``results/findings-<preset>/<finding>/report.md`` with its plots. The same command
resumes: finished evaluations are kept in the store.
"""

from __future__ import annotations

import contextlib
import os
import platform
from importlib import metadata
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from archsearch.cli.common import app, fail, out
from archsearch.defaults import DEFAULT_PRESET
from archsearch.spec import Resources, RunSpec

if TYPE_CHECKING:
    from archsearch.store.summary import RunsCost

Opt = typer.Option
# Two settings per repeat (a cell is judged on more than one setting); the repeats by
# default are the finding's own: the fewest that give every claim enough pairs to pass
# Holm's correction at all (Finding.default_repeats: 4 for findings 2-4, 5 for 1 and greff).
DEFAULT_TRIALS = 2


@app.command("reproduce")
def reproduce_command(
    finding: Annotated[str, typer.Argument(help="1, 2, 3, 4, greff or all.")],
    preset: Annotated[str, Opt(help="smoke, quick or paper.")] = DEFAULT_PRESET,
    repeats: Annotated[
        int | None,
        Opt(min=1, help="Runs of every (cell, task), one seed each (default: the finding's)."),
    ] = None,
    trials: Annotated[int, Opt(min=1, help="Hyperparameter settings per repeat.")] = (
        DEFAULT_TRIALS
    ),
    space: Annotated[str | None, Opt(help="Hyperparameter space (default adam).")] = None,
    seed: Annotated[int, Opt(min=0, help="Seed of the first repeat.")] = 0,
    workers: Annotated[int | None, Opt(min=1, help="Evaluations at once.")] = None,
    storage: Annotated[
        str | None, Opt(help="SQLAlchemy URL (default sqlite:///results/findings-PRESET.db).")
    ] = None,
    out_dir: Annotated[
        str | None, Opt("--out", help="Reports folder (default results/findings-PRESET).")
    ] = None,
    in_process: Annotated[bool, Opt("--in-process", help="No Ray: one at a time, here.")] = False,
) -> None:
    """Reproduce a finding of the study: train its cells, test it, print and report a verdict."""
    from archsearch.analysis import finding_report, reproduce
    from archsearch.analysis.verdicts import sentence

    try:
        keys = list(reproduce.FINDINGS) if finding == "all" else [reproduce.get(finding).key]
        storage = storage or f"sqlite:///results/findings-{preset}.db"
        resources = Resources(workers=workers, storage=storage, in_process=in_process)
        specs = {k: finding_specs(k, preset, repeats, trials, space, seed) for k in keys}
    except ValueError as error:
        raise fail(str(error)) from None
    folder = out_dir or f"results/findings-{preset}"
    for key in keys:
        command = _command(key, preset, len(specs[key]), trials, space, seed)
        frame, cost = train(specs[key], resources)
        path, verdict, claims = finding_report.write_finding_report(
            reproduce.get(key),
            frame,
            f"{folder}/{key}",
            command=command,
            machine=describe_machine(),
            minutes=cost.minutes,
            reused=cost.copied,
            preset=preset,
        )
        lines = [f"finding {key}: {verdict}"]
        lines += [f"  {sentence(row)}" for _, row in claims.iterrows()]
        took = "" if cost.minutes is None else f"{cost.minutes:.1f} min, "
        lines.append(
            f"  report: {path / 'report.md'} ({took}{cost.trained} evaluations trained, "
            f"{cost.copied} copied from other runs)"
        )
        for line in lines:
            out.print(line, highlight=False, soft_wrap=True, markup=False)


def finding_specs(
    key: str, preset: str, repeats: int | None, trials: int, space: str | None, seed: int
) -> list[RunSpec]:
    """The runs a finding needs: one ``fixed`` run per repeat, seeds ``seed`` and on
    (``repeats`` None: the finding's default for ``trials`` settings).

    The repeats are separate runs (``reproduce-<key>-<preset>-s<seed>``) because the
    driver evaluates each (cell, task) once per run for now (``RunSpec.repeats`` is 1);
    when it takes more, this becomes one spec with ``repeats=repeats``.
    """
    from archsearch.analysis.reproduce import get

    finding = get(key)
    repeats = repeats or finding.default_repeats(trials)
    base = RunSpec(
        name=f"reproduce-{key}-{preset}-s{seed}",
        searcher="fixed",
        searcher_options={"cells": finding.cell_texts(), "reference": finding.reference},
        tasks=finding.tasks,
        preset=preset,
        trials=trials,
        seed=seed,
        budget="none",
        fixed={"layers": 1},  # one layer: the cells differ, not the depth (as in the study)
        # Every evaluation trains the whole preset, and the repeats are the finding's own:
        # no rungs (a search's cheap first look) and no confirmation stage.
        rungs=1,
        top_share=1.0,
        confirm=0,
        **({} if space is None else {"space": space}),
    ).checked()
    return [
        base.replace(name=f"reproduce-{key}-{preset}-s{s}", seed=s)
        for s in range(seed, seed + repeats)
    ]


def train(specs: list[RunSpec], resources: Resources) -> tuple[pd.DataFrame, RunsCost]:
    """Launch every run (each resumes if it exists); return their trials in one frame and
    what they cost, read from the store (so a report written again states the same)."""
    from archsearch.cli.runs import run
    from archsearch.store import Store, StoreError, load_results
    from archsearch.store.summary import runs_cost

    for spec in specs:
        run(spec, resources)
    try:
        frames = [load_results(resources.storage, run=spec.name) for spec in specs]
        store = Store(resources.storage, create=False)
        try:
            cost = runs_cost(store, [spec.name for spec in specs])
        finally:
            store.close()
        return pd.concat(frames, ignore_index=True), cost
    except (ValueError, StoreError) as error:
        raise fail(str(error)) from None


def describe_machine() -> str:
    """CPU model, cores, Python and torch versions (torch not imported: its metadata)."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        torch = f", torch {metadata.version('torch')}"
    except metadata.PackageNotFoundError:
        torch = ""
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}{torch}"


def _command(finding, preset, repeats, trials, space, seed) -> str:
    parts = [f"archsearch reproduce {finding} --preset {preset} --repeats {repeats}"]
    if trials != DEFAULT_TRIALS:
        parts.append(f"--trials {trials}")
    if space:
        parts.append(f"--space {space}")
    if seed:
        parts.append(f"--seed {seed}")
    return " ".join(parts)
