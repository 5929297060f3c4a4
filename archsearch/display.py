"""Terminal displays for long work: the live search line and the final ranking table."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from archsearch.driver import Progress
from archsearch.search import Searcher


def progress_line(p: Progress) -> str:
    """One line: evaluations done and in flight, best score so far, time left."""
    budget = f"/{p.budget_evaluations}" if p.budget_evaluations else ""
    best = "-" if math.isnan(p.best_score) else f"{p.best_score:.3f} ({p.best_cell})"
    left = ""
    if p.budget_seconds is not None:
        left = f"  time left {max(0.0, p.budget_seconds - p.elapsed) / 60:.1f} min"
    return f"evaluations {p.done}{budget} done, {p.in_flight} in flight  best score {best}{left}"


def ranking_table(searcher: Searcher, *, top: int = 15) -> Table:
    """Cell, score, relative performance per task, trials: best first."""
    reference = searcher.cells[searcher.reference].name
    table = Table(title=f"ranking (score = min over tasks of performance relative to {reference})")
    table.add_column("rank", justify="right")
    table.add_column("cell")
    table.add_column("score", justify="right")
    for task in searcher.tasks:
        table.add_column(task, justify="right")
    table.add_column("trials", justify="right")
    table.add_column("parent")
    for rank, (digest, score) in enumerate(searcher.ranking()[:top], start=1):
        entry = searcher.cells[digest]
        parent = searcher.cells.get(entry.parent) if entry.parent else None
        table.add_row(
            str(rank),
            entry.name,
            f"{score:.3f}",
            *(f"{searcher.relative(digest, t):.3f}" for t in searcher.tasks),
            str(sum(entry.trials.values())),
            parent.name if parent else "",
        )
    return table


def print_ranking(console: Console, searcher: Searcher) -> None:
    if not searcher.ranking():
        console.print("no cell has a score yet (every search task needs an outcome)")
        return
    console.print(ranking_table(searcher))
