"""Terminal displays for long work: progress lines and the ranking, each within 80 columns."""

from __future__ import annotations

import math

from rich import box
from rich.console import Console
from rich.table import Table

from archsearch.driver import Event, Progress
from archsearch.naming import readable_name
from archsearch.search import Searcher


def progress_line(p: Progress) -> str:
    """One line: evaluations done and in flight, best score so far, time left."""
    budget = f"/{p.budget_evaluations}" if p.budget_evaluations else ""
    best = "-" if math.isnan(p.best_score) else f"{p.best_score:.3f} ({p.best_cell})"
    left = ""
    if p.budget_seconds is not None:
        left = f", {max(0.0, p.budget_seconds - p.elapsed) / 60:.1f} min left"
    return f"{p.done}{budget} done, {p.in_flight} in flight, best {best}{left}"


def committed_line(event: Event) -> str:
    """One line for a committed evaluation: which, how it went, the best so far."""
    finished, p = event.finished, event.progress
    assert finished is not None
    proposal = finished.proposal
    if finished.metric is None:
        status = next((t["status"] for t in finished.trials if t["status"] != "ok"), "no result")
        outcome = status
    else:
        outcome = f"valid {finished.metric:.4f}"
    best = "-" if math.isnan(p.best_score) else f"{p.best_score:.3f} ({p.best_cell})"
    return (
        f"[{p.done}] {event.cell or proposal.cell_hash[:8]} on {proposal.task}: {outcome} "
        f"({finished.seconds:.0f} s); best {best}"
    )


def ranking_table(searcher: Searcher, *, top: int = 15) -> Table:
    """Cell, score, relative performance per task, trials: best first."""
    reference = searcher.cells[searcher.reference].name
    table = Table(
        title=f"ranking (score: worst task, relative to {reference})",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("#", justify="right")
    table.add_column("cell", no_wrap=True)
    table.add_column("score", justify="right")
    for task in searcher.tasks:
        table.add_column(task, justify="right")
    table.add_column("trials", justify="right")
    table.add_column("parent", no_wrap=True, overflow="ellipsis", max_width=14)
    for rank, (digest, score) in enumerate(searcher.ranking()[:top], start=1):
        entry = searcher.cells[digest]
        parent = (
            readable_name(searcher.cells, entry.parent) if entry.parent in searcher.cells else ""
        )
        table.add_row(
            str(rank),
            readable_name(searcher.cells, digest),
            f"{score:.3f}",
            *(f"{searcher.relative(digest, t):.3f}" for t in searcher.tasks),
            str(sum(entry.trials.values())),
            parent,
        )
    return table


def print_ranking(console: Console, searcher: Searcher) -> None:
    if not searcher.ranking():
        console.print("no cell has a score yet (every search task needs an outcome)")
        return
    console.print(ranking_table(searcher))
