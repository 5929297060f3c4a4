"""The report's pictures, drawn with matplotlib (no display needed: the Agg backend).

Each function takes tables the analysis already made and writes one PNG.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def best_score_curve(curve: pd.DataFrame, path: Path, *, reference: str) -> Path:
    """Best score so far against evaluations done (``curve``: evaluation, best_score,
    best_other)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.step(
        curve["evaluation"], curve["best_score"], where="post", color="tab:blue", label="best cell"
    )
    ax.step(
        curve["evaluation"],
        curve["best_other"],
        where="post",
        color="tab:orange",
        label=f"best cell other than {reference}",
    )
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label=f"{reference} (reference)")
    ax.set_xlabel("evaluations committed")
    ax.set_ylabel("best score so far")
    ax.set_title(f"Best score over the search (min over tasks, relative to {reference})")
    ax.legend(loc="best", fontsize="small")
    return _save(fig, path)


def relative_bars(
    ranking: pd.DataFrame, tasks: list[str], path: Path, *, top: int = 8, reference: str = "gru"
) -> Path:
    """Relative performance of the top cells on each task (grouped bars; 1 = the reference).

    With intervals in the ranking (``mean_rel_<task>``, ``low_<task>``, ``high_<task>``:
    results with repeats) the bars are the means over matched pairs, with their 95%
    bootstrap intervals as error bars; otherwise the best trials' ratios, without.
    """
    shown = ranking.head(top)
    with_errors = all(f"mean_rel_{t}" in shown for t in tasks)
    fig, ax = plt.subplots(figsize=(max(6.4, 1.1 * len(shown) + 2), 3.8))
    width = 0.8 / max(1, len(tasks))
    lows = [0.5]
    for i, task in enumerate(tasks):
        values = shown[f"mean_rel_{task}" if with_errors else f"rel_{task}"].astype(float)
        positions = [x + (i - (len(tasks) - 1) / 2) * width for x in range(len(shown))]
        errors = None
        if with_errors:
            low, high = shown[f"low_{task}"].astype(float), shown[f"high_{task}"].astype(float)
            errors = [
                (values - low).clip(lower=0).fillna(0),
                (high - values).clip(lower=0).fillna(0),
            ]
            lows += list(low.dropna())
        lows += list(values.dropna())
        ax.bar(positions, values.fillna(0.0), width, yerr=errors, capsize=2, label=task)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(shown)), shown["cell_name"], rotation=30, ha="right")
    ax.set_ylabel(f"performance relative to {reference}")
    what = "mean over matched pairs, 95% intervals" if with_errors else "best trial"
    ax.set_title(f"Top {len(shown)} cells per task ({what}; above 1 beats {reference})")
    ax.set_ylim(max(0.0, min(lows) - 0.05), None)
    ax.legend(fontsize="small", ncol=len(tasks))
    return _save(fig, path)


def interval_bars(table: pd.DataFrame, path: Path, *, title: str, ylabel: str) -> Path:
    """One bar per row of ``table`` (``label``, ``rel``, ``low``, ``high``; grouped by
    ``task`` when it has several), with its interval as an error bar; 1 is marked."""
    tasks = list(dict.fromkeys(table["task"])) if "task" in table else [""]
    labels = list(dict.fromkeys(table["label"]))
    fig, ax = plt.subplots(figsize=(max(6.4, 1.1 * len(labels) + 2), 3.8))
    width = 0.8 / max(1, len(tasks))
    for i, task in enumerate(tasks):
        mine = (table[table["task"] == task] if task else table).set_index("label")
        mine = mine.reindex(labels)
        rel = mine["rel"].astype(float)
        errors = [
            (rel - mine["low"].astype(float)).clip(lower=0).fillna(0),
            (mine["high"].astype(float) - rel).clip(lower=0).fillna(0),
        ]
        positions = [x + (i - (len(tasks) - 1) / 2) * width for x in range(len(labels))]
        ax.bar(positions, rel.fillna(0.0), width, yerr=errors, capsize=2, label=task or None)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    finite = [v for v in table["low"].astype(float) if not math.isnan(v)] or [0.5]
    ax.set_ylim(max(0.0, min(min(finite), 0.9) - 0.05), None)
    if tasks != [""]:
        ax.legend(fontsize="small", ncol=len(tasks))
    return _save(fig, path)


def gate_heatmap(table: pd.DataFrame, path: Path, *, cell: str) -> Path:
    """Variants as rows, tasks as columns, colour = performance relative to the full cell."""
    fig, ax = plt.subplots(figsize=(1.5 * len(table.columns) + 2.5, 0.6 * len(table) + 1.6))
    values = table.astype(float).to_numpy()
    finite = [v for v in values.flatten() if not math.isnan(v)] or [1.0]
    spread = max(0.05, max(abs(v - 1.0) for v in finite))
    image = ax.imshow(
        values, cmap="RdBu", vmin=max(0.0, 1 - spread), vmax=1 + spread, aspect="auto"
    )
    ax.set_xticks(range(len(table.columns)), table.columns)
    ax.set_yticks(range(len(table.index)), table.index)
    for (row, col), value in pd.DataFrame(values).stack().items():
        ax.text(col, row, f"{value:.3f}", ha="center", va="center", fontsize="small")
    fig.colorbar(image, ax=ax, label=f"relative to full {cell}")
    ax.set_title(f"Gate importance in {cell} (below 1: removing it hurts)")
    return _save(fig, path)


def importance_bars(table: pd.DataFrame, path: Path) -> Path:
    """Hyperparameter importance per task (bars grouped by hyperparameter)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    table.plot.bar(ax=ax, rot=0)
    ax.set_ylabel("importance (sums to 1 per task)")
    ax.set_title(
        f"Hyperparameter importance ({table.attrs.get('evaluator', '')})", fontsize="medium"
    )
    ax.legend(fontsize="small")
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
