"""One finding's report: its verdict, claims, comparisons, intervals and plots, how
reproducibly the budget orders its cells, and what the budget's measured fidelity says.

Reads a results frame only (``write_finding_report``); the findings themselves, their
claims and their verdict are in ``analysis/reproduce.py``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from scipy import stats

from archsearch import zoo
from archsearch.analysis import plots
from archsearch.analysis.report import Block, render_html, render_markdown
from archsearch.analysis.reproduce import Finding, judge
from archsearch.analysis.stats import ALPHA, pairs_for_holm
from archsearch.analysis.tables import ranking, relative_intervals
from archsearch.analysis.verdicts import sentence
from archsearch.store.frame import reference_hash


def write_finding_report(
    finding: Finding,
    frame: pd.DataFrame,
    out: str | Path,
    *,
    command: str = "",
    machine: str = "",
    minutes: float | None = None,
    reused: int = 0,
    preset: str | None = None,
    seed: int = 0,
) -> tuple[Path, str, pd.DataFrame]:
    """Write ``report.md``, ``report.html`` and the plots into ``out``.

    ``minutes``: from the first run's start to the last commit; ``reused``: evaluations
    copied from other runs of the store rather than trained (their time is not in
    ``minutes``); ``preset``: the budget, whose measured fidelity the report quotes.

    Returns (the folder, the finding's verdict, the claims table).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    verdict, claims, comparisons = judge(finding, frame, seed=seed)
    blocks = [Block("h1", f"Finding {finding.key}: {finding.title}"), *_header(finding, frame)]
    if command:
        took = f" Took {minutes:.1f} minutes" if minutes is not None else ""
        if reused:
            took += f" ({reused} evaluations copied from earlier runs of the store, not trained)"
        blocks.append(
            Block("text", f"Command: `{command}`.{took}{' on ' + machine if machine else ''}.")
        )
    blocks += [
        Block("h2", f"Verdict: {verdict}"),
        Block("text", "\n".join(f"- {sentence(row)}" for _, row in claims.iterrows())),
        Block(
            "text",
            _method(len(claims), int(claims["n"].min()) if len(claims) else 0, finding.margin),
        ),
        Block("table", _rounded(claims)),
        Block("h2", "Comparisons"),
        Block(
            "text",
            "Each (a, b, task) over matched (seed, setting) pairs: means, the mean difference "
            "(positive: a better, whichever way the metric runs) and relative performance with "
            "bootstrap 95% intervals, d_z, and Wilcoxon's two-sided p before correction.",
        ),
        Block("table", _rounded(comparisons)),
    ]
    blocks += _relative_section(finding, frame, out)
    blocks += _agreement_section(finding, frame)
    if preset is not None:
        blocks += _fidelity_section(finding, preset)
    path_md, path_html = out / "report.md", out / "report.html"
    path_md.write_text(render_markdown(blocks, out), encoding="utf-8")
    path_html.write_text(render_html(blocks, out), encoding="utf-8")
    return out, verdict, claims


def _header(finding: Finding, frame: pd.DataFrame) -> list[Block]:
    ok = frame[frame["status"] == "ok"]
    per = ok.groupby(["cell", "task"]).size()
    low, high = (int(per.min()), int(per.max())) if len(per) else (0, 0)
    runs = str(low) if low == high else f"{low} to {high}"
    seeds = frame.groupby(["cell", "task"])["seed"].nunique()
    most = int(seeds.max()) if len(seeds) else 0
    return [
        Block("text", f"The study: {finding.statement}"),
        Block(
            "text",
            f"Cells: {', '.join(finding.cells)}. Tasks: {', '.join(finding.tasks)}. "
            f"{len(frame)} training runs ({len(ok)} finished); per (cell, task) "
            f"{runs} finished runs over {most} seeds, every cell "
            "meeting the same hyperparameter settings with the same seeds (a paired design).",
        ),
    ]


def _method(m: int, n: int, margin: float) -> str:
    floor = min(1.0, m * 2.0 / 2**n) if n else math.nan
    text = (
        f"Significance: Wilcoxon signed-rank over matched pairs, Holm-adjusted over the {m} "
        f"claims at {ALPHA}. A claim over several tasks holds on every task (its largest p "
        "decides); a positive claim ('beats', 'hurts') is reproduced only when significant, "
        "and any claim is contradicted only by significance the other way. An absence claim "
        "('does not beat', 'is no worse', 'is safe') is reproduced only when the bootstrap 95% "
        f"interval of the relative performance lies inside the margin of {margin:g} on the "
        f"side it rules out: its upper end below {1 + margin:g} for 'does not beat', its lower "
        f"end above {1 - margin:g} for 'is no worse' (on one of its tasks at least: 'does not "
        f"beat on every task' needs one task), over {pairs_for_holm(1, ALPHA)} pairs or more "
        "(fewer cannot reach significance, and their bootstrap interval covers too little). "
        "Anything else is inconclusive, with the repeats "
        "that would decide it: for a positive claim, 80% power of the signed-rank test itself "
        f"at the measured d_z (simulated, normal differences) at {ALPHA}/{m}; for an absence "
        "claim, the repeats that would narrow "
        "its interval inside the margin if the estimate stayed (the interval shrinking as "
        "1/sqrt(n))."
    )
    if n and floor >= ALPHA:
        need = pairs_for_holm(m, ALPHA)
        text += (
            f" With {n} pairs the smallest p a claim can reach after Holm is {floor:.3g}: "
            f"no claim here can be significant; at least {need} pairs are needed."
        )
    return text


def _relative_section(finding: Finding, frame: pd.DataFrame, out: Path) -> list[Block]:
    """The finding's cells against its reference, per task, with intervals and a bar plot."""
    ref = reference_hash(frame, finding.reference)
    labels = finding.variants or {c: c for c in finding.cells if c != finding.reference}
    present = set(frame["cell"])
    cells = {
        label: reference_hash(frame, name)
        for label, name in labels.items()
        if zoo.get(name).canonical_hash() in present
    }
    tasks = [t for t in finding.tasks if t in set(frame["task"])]
    long = relative_intervals(frame, ref, cells, tasks)
    if long.empty:
        return []
    table = long.pivot(index="label", columns="task", values="text")
    table = table.reindex(index=list(cells), columns=tasks).reset_index()
    picture = plots.interval_bars(
        long,
        out / "relative.png",
        title=f"Relative to {finding.reference} (mean over matched pairs, 95% intervals)",
        ylabel=f"performance relative to {finding.reference}",
    )
    blocks = [
        Block("h2", f"Relative to {finding.reference}"),
        Block(
            "text",
            f"Mean performance relative to {finding.reference} over matched pairs (above 1: "
            "better), paired bootstrap 95% interval (± half its width); * significant after "
            "Holm over this table.",
        ),
        Block("table", table),
        Block("image", picture, f"Each cell relative to {finding.reference}, with 95% intervals."),
    ]
    if len(finding.cells) > 3:
        full = ranking(frame, reference=finding.reference, tasks=tasks, intervals=False)
        columns = ["cell_name", "score", *(f"rel_{t}" for t in tasks), "trials"]
        blocks += [
            Block(
                "text", "Best trial per (cell, task), as the study ranked (score: min over tasks):"
            ),
            Block("table", _rounded(full[columns])),
        ]
    return blocks


AGREEMENT = 0.5  # below this split-half rank correlation a task does not order the cells


def split_half_agreement(frame: pd.DataFrame, tasks) -> pd.DataFrame:
    """Per task: Spearman's rho between the cells' mean metrics over the even and the odd
    repeats (runs), with its p: whether this budget orders these cells the same way
    twice. Needs two runs and three cells (NaN otherwise); cells that tie get a note."""
    ok = frame[(frame["status"] == "ok") & frame["metric_valid"].notna()]
    order = {run: i % 2 for i, run in enumerate(sorted(frame["run"].unique()))}
    rows = []
    for task in tasks:
        mine = ok[ok["task"] == task]
        half = mine["run"].map(order)
        means = mine.groupby([half, mine["cell_name"]])["metric_valid"].mean().unstack(0)
        means = means.dropna()
        rho, p, note = math.nan, math.nan, ""
        if set(means.columns) == {0, 1} and len(means) >= 3:
            if means[0].nunique() == 1 or means[1].nunique() == 1:
                note = "the cells tie"  # no order at all: the budget does not rank them
            else:
                rho, p = (float(v) for v in stats.spearmanr(means[0], means[1]))
        rows.append({"task": task, "cells": len(means), "rho": rho, "p": p, "note": note})
    return pd.DataFrame(rows)


def _agreement_section(finding: Finding, frame: pd.DataFrame) -> list[Block]:
    table = split_half_agreement(frame, finding.tasks)
    if table["rho"].isna().all() and not table["note"].any():
        return []
    weak = table.loc[(table["rho"] < AGREEMENT) | (table["note"] != ""), "task"].tolist()
    text = (
        "Does this budget order these cells reproducibly? Spearman's rho between the cells' "
        "means over the even and the odd repeats, per task."
    )
    if weak:
        text += (
            f" On {', '.join(weak)} the cells tie or rho is below {AGREEMENT}: at this budget "
            "those tasks barely "
            "rank these cells, so their verdicts say more about noise than about the cells."
        )
    return [
        Block("h2", "Agreement between repeats"),
        Block("text", text),
        Block("table", _rounded(table)),
    ]


SEED_TO_SEED_TARGET = 0.9  # below this, two seeds of a budget do not order cells alike


def _fidelity_section(finding: Finding, preset: str) -> list[Block]:
    """What the budget's measured fidelity (tasks/measured.py, results/fidelity/) says of
    each task: how reproducibly it orders cells, and how well against a reference."""
    from tasks.measured import measured

    lines, weak = [], []
    for task in finding.tasks:
        figures = measured(task, preset)
        if figures is None:
            lines.append(f"- {task}: not measured at {preset}.")
            weak.append(task)
            continue
        parts = []
        if figures.seed_to_seed is not None:
            parts.append(f"two seeds agree at Spearman {figures.seed_to_seed:.2f}")
        if figures.seed_noise is not None:
            parts.append(f"a seed moves the metric by {100 * figures.seed_noise:.1f}%")
        if figures.spearman is not None:
            parts.append(f"Spearman {figures.spearman:.2f} against {figures.reference}")
        lines.append(f"- {task}: {'; '.join(parts)} ({figures.report}).")
        if figures.seed_to_seed is None or figures.seed_to_seed < SEED_TO_SEED_TARGET:
            weak.append(task)
    text = "\n".join(lines)
    if weak:
        text += (
            f"\n\nAt {preset}, the budget of {' and '.join(weak)} does not order cells "
            f"reproducibly (seed-to-seed below {SEED_TO_SEED_TARGET}, or not measured): a "
            "verdict there rests on the repeats above, not on one ranking."
        )
    return [Block("h2", f"How well the {preset} budget ranks cells"), Block("text", text)]


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda c: c.round(4) if pd.api.types.is_float_dtype(c) else c)
