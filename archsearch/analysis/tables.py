"""Tables from the store's long frame (``load_results``): one row per trial in, tables out.

Reading results is free (NAS-Bench-101's ``get_metrics_from_spec``): nothing
here trains anything. A cell's metric on a task is its best validation metric
over all its finished trials; its test metric is the one of that same trial.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from archsearch.analysis.stats import ALPHA, compare_cells, holm
from archsearch.store.frame import best_trials, reference_hash
from tasks import direction


def ranking(
    frame: pd.DataFrame,
    *,
    reference: str = "gru",
    tasks: Sequence[str] | None = None,
    intervals: bool | None = None,
) -> pd.DataFrame:
    """Per cell: best metric and relative performance per task, score (min), trials, size, depth.

    ``n_params`` counts the parameters of the cell's best model on the first task.
    With ``intervals`` (default: when the results have repeats, ``has_repeats``) each
    task also gets the paired comparison with the reference over matched (seed,
    setting) pairs (``relative_intervals``): ``mean_rel_<task>`` with ``low_``/``high_``
    bounds, Holm-adjusted ``p_<task>``, and ``ci_<task>`` printed ``0.910 ± 0.030*``
    (``*``: significant at 0.05 after Holm over the whole table).

    Sorted by score, best first; cells missing a task have no score (NaN, last).
    """
    best = best_trials(frame)
    tasks = list(tasks) if tasks is not None else sorted(frame["task"].unique())
    ref = reference_hash(frame, reference)
    metric = best.pivot_table(index="cell", columns="task", values="metric_valid", aggfunc="first")
    direction_of = {task: direction(task) for task in tasks}
    rows = []
    for cell, group in frame.groupby("cell"):
        row = {"cell": cell, "cell_name": group["cell_name"].iloc[0]}
        relatives = {}
        for task in tasks:
            value = _lookup(metric, cell, task)
            reference_value = _lookup(metric, ref, task)
            row[f"best_{task}"] = value
            relatives[task] = direction_of[task].relative(value, reference_value)
            row[f"rel_{task}"] = relatives[task]
        values = list(relatives.values())
        row["score"] = math.nan if any(math.isnan(v) for v in values) else min(values)
        row["trials"] = len(group)
        # Parameters of the best model on the first task: the same task for every cell.
        sizes = best.loc[(best["cell"] == cell) & (best["task"] == tasks[0]), "n_params"]
        row["n_params"] = int(sizes.iloc[0]) if len(sizes) and pd.notna(sizes.iloc[0]) else None
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["depth"] = table["cell"].map(lineage_depths(frame))
    columns = [
        "cell",
        "cell_name",
        "score",
        *(f"rel_{t}" for t in tasks),
        *(f"best_{t}" for t in tasks),
        "trials",
        "n_params",
        "depth",
    ]
    table = table[columns]
    if intervals or (intervals is None and has_repeats(frame)):
        long = relative_intervals(frame, ref, list(table["cell"]), tasks)
        table = _with_intervals(table, long, ref)
    return table.sort_values("score", ascending=False, na_position="last").reset_index(drop=True)


def has_repeats(frame: pd.DataFrame) -> bool:
    """Whether the results repeat something: a (cell, task) evaluated more than once (in
    several runs or evaluations, as ``archsearch reproduce`` does, one per seed), or a
    (cell, task, setting) finished with more than one seed."""
    ok = frame[(frame["status"] == "ok") & frame["metric_valid"].notna()]
    if ok.empty:
        return False
    evaluations = [c for c in ("run", "key") if c in ok.columns]
    if evaluations:
        runs = ok[evaluations].astype(str).agg("|".join, axis=1)
        if runs.groupby([ok["cell"], ok["task"]]).nunique().gt(1).any():
            return True
    params = [c for c in ok.columns if c.startswith("params_")]
    keys = ok[["cell", "task", *params]].astype(str).agg("|".join, axis=1)
    return bool(ok.groupby(keys)["seed"].nunique().gt(1).any())


def relative_intervals(
    frame: pd.DataFrame, full: str, cells: Mapping[str, str] | Sequence[str], tasks: Sequence[str]
) -> pd.DataFrame:
    """Each cell against ``full`` (a hash) on each task over matched (seed, setting) pairs.

    ``cells``: hashes, or labels mapped to hashes. One row per (label, task): pairs ``n``,
    the relative performance of the means ``rel`` with its paired bootstrap interval
    (``low``, ``high``), Wilcoxon's ``p`` and ``p_holm``, Holm-adjusted over every row
    of the table (the family is the table), and ``text``: ``0.910 ± 0.030`` with a ``*``
    where ``p_holm`` < 0.05.
    """
    labelled = dict(cells) if isinstance(cells, Mapping) else {c: c for c in cells}
    direction_of = {task: direction(task) for task in tasks}
    rows = []
    for label, digest in labelled.items():
        for task in tasks:
            if digest == full:
                continue
            c = compare_cells(frame, digest, full, task, direction=direction_of[task])
            rows.append(
                {
                    "label": label,
                    "task": task,
                    "n": c.n,
                    "rel": c.relative.estimate,
                    "low": c.relative.low,
                    "high": c.relative.high,
                    "p": c.p_value,
                    "text": c.relative.format(3),
                }
            )
    table = pd.DataFrame(rows, columns=["label", "task", "n", "rel", "low", "high", "p", "text"])
    table["p_holm"] = holm(table["p"].to_numpy(float))
    table["text"] = table["text"] + table["p_holm"].lt(ALPHA).map({True: "*", False: ""})
    return table


def lineage_depths(frame: pd.DataFrame) -> dict[str, int]:
    """How many mutations separate each cell from a cell without a parent."""
    parents = dict(frame[["cell", "parent"]].drop_duplicates("cell").itertuples(index=False))
    depths: dict[str, int] = {}
    for cell in parents:
        depth, current, visited = 0, cell, set()
        while isinstance(parents.get(current), str) and current not in visited:
            visited.add(current)
            current = parents[current]
            depth += 1
        depths[cell] = depth
    return depths


def gate_importance(
    frame: pd.DataFrame, full: str, variants: Mapping[str, str], tasks: Sequence[str]
) -> pd.DataFrame:
    """Gates (and variants) as rows, tasks as columns: each variant relative to the full cell.

    ``full`` is the full cell's hash, ``variants`` maps a label ("no f", "f bias 1")
    to the variant's hash. Below 1 means the variant does worse than the full cell.
    """
    best = best_trials(frame)
    metric = best.pivot_table(index="cell", columns="task", values="metric_valid", aggfunc="first")
    direction_of = {task: direction(task) for task in tasks}
    table = pd.DataFrame(
        {
            task: {
                label: direction_of[task].relative(
                    _lookup(metric, digest, task), _lookup(metric, full, task)
                )
                for label, digest in variants.items()
            }
            for task in tasks
        }
    )
    table.index.name = "variant"
    return table


def gate_intervals(
    frame: pd.DataFrame, full: str, variants: Mapping[str, str], tasks: Sequence[str]
) -> pd.DataFrame:
    """``gate_importance`` over matched pairs: each variant's mean relative to the full cell
    as ``0.910 ± 0.030`` (``*``: significant after Holm over the table)."""
    long = relative_intervals(frame, full, variants, tasks)
    table = long.pivot(index="label", columns="task", values="text").reindex(
        index=list(variants), columns=list(tasks)
    )
    table.index.name = "variant"
    table.columns.name = None
    return table


def importance_order(table: pd.DataFrame) -> dict[str, list[str]]:
    """Per task, the removed gates from most to least important (lowest relative first)."""
    removals = table[[label.startswith("no ") for label in table.index]]
    return {
        task: [label[3:] for label in removals[task].dropna().sort_values().index]
        for task in table.columns
    }


def _with_intervals(table: pd.DataFrame, long: pd.DataFrame, ref: str) -> pd.DataFrame:
    """Join ``relative_intervals`` rows onto the ranking (the reference: 1, exactly)."""
    table = table.copy()
    is_ref = table["cell"] == ref
    for task in long["task"].unique():
        mine = long[long["task"] == task].set_index("label")
        for column, source in (("mean_rel", "rel"), ("low", "low"), ("high", "high")):
            table[f"{column}_{task}"] = table["cell"].map(mine[source]).mask(is_ref, 1.0)
        table[f"p_{task}"] = table["cell"].map(mine["p_holm"])
        table[f"ci_{task}"] = table["cell"].map(mine["text"]).mask(is_ref, "reference")
    return table


def _lookup(table: pd.DataFrame, cell: str, task: str) -> float:
    try:
        value = table.at[cell, task]
    except KeyError:
        return math.nan
    return float(value) if pd.notna(value) else math.nan
