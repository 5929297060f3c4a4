"""Terminal displays for long work: progress lines and the ranking, each within 80 columns."""

from __future__ import annotations

import math

from rich import box
from rich.console import Console
from rich.table import Table

from archsearch.confirm import Row
from archsearch.driver import Event, Progress
from archsearch.naming import readable_name
from archsearch.search import Searcher


def progress_line(p: Progress) -> str:
    """One line: evaluations done and in flight, best score so far, time left."""
    # The budget counts the search's evaluations; the confirmation comes after it.
    budget = f"/{p.budget_evaluations}" if p.budget_evaluations and p.phase == "search" else ""
    best = "-" if math.isnan(p.best_score) else f"{p.best_score:.3f} ({p.best_cell})"
    left = ""
    if p.phase == "confirm":
        left = ", confirming"
    elif p.budget_seconds is not None:
        left = f", {max(0.0, p.budget_seconds - p.elapsed) / 60:.1f} min left"
        if p.reserve:
            left += f" ({p.reserve / 60:.1f} kept to confirm)"
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
        f"[{p.done}] {event.cell or proposal.cell_hash[:8]} on {proposal.task}{_stage(proposal)}: "
        f"{outcome} "
        f"({finished.seconds:.0f} s); best {best}"
    )


def _stage(proposal) -> str:
    """Where the evaluation stands: its rung, and its repeat in a confirmation."""
    if proposal.purpose == "confirm":
        return f" (confirm, repeat {proposal.repeat})"
    return f" (rung {proposal.rung})" if proposal.rung else ""


def ranking_table(searcher: Searcher, *, top: int = 15) -> Table:
    """Cell, score, relative performance per task, trials: best first."""
    reference = searcher.cells[searcher.reference].name
    table = Table(
        title=(
            f"ranking (score: worst task, relative to {reference} at the same rung; "
            "the highest rung first)"
        ),
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("#", justify="right")
    table.add_column("cell", no_wrap=True)
    table.add_column("score", justify="right")
    table.add_column("rung", justify="right")  # where the score was measured
    for task in searcher.tasks:
        table.add_column(task, justify="right")
    table.add_column("trials", justify="right")
    table.add_column("parent", no_wrap=True, overflow="ellipsis", max_width=14)
    for rank, (digest, score) in enumerate(searcher.ranking()[:top], start=1):
        entry, rung = searcher.cells[digest], searcher.standings.rung(digest)
        parent = (
            readable_name(searcher.cells, entry.parent) if entry.parent in searcher.cells else ""
        )
        table.add_row(
            str(rank),
            readable_name(searcher.cells, digest),
            f"{score:.3f}",
            str(rung),
            *(f"{searcher.relative_at(digest, t, rung):.3f}" for t in searcher.tasks),
            str(sum(entry.trials.values())),
            parent,
        )
    return table


def print_ranking(console: Console, searcher: Searcher) -> None:
    if searcher.ranking():
        console.print(ranking_table(searcher))
    partial = partial_table(searcher)
    if partial is not None:
        console.print(partial)


def partial_table(searcher: Searcher, *, top: int = 10) -> Table | None:
    """Cells with outcomes on some of the tasks: what is known of them (no score yet)."""
    scored = {d for d, _ in searcher.ranking()}
    rows = [
        d
        for d, entry in searcher.cells.items()
        if d not in scored and any(t in entry.best for t in searcher.tasks)
    ]
    if not rows:
        return None
    table = Table(
        title=f"partial results (relative to {searcher.cells[searcher.reference].name})",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("cell", no_wrap=True)
    for task in searcher.tasks:
        table.add_column(task, justify="right")
    for digest in rows[:top]:
        table.add_row(
            readable_name(searcher.cells, digest),
            *(partial_value(searcher, digest, t) for t in searcher.tasks),
        )
    return table


def partial_value(searcher: Searcher, digest: str, task: str) -> str:
    """A partial row's entry: the relative performance, "failed" where the cell was trained
    on the task and no trial finished (diverged or an error), "-" where it is not known."""
    relative = searcher.relative(digest, task)
    if not math.isnan(relative):
        return f"{relative:.3f}"
    best = searcher.cells[digest].best
    trained = task in best and (best[task] is None or math.isnan(best[task]))
    return "failed" if trained else "-"


def confirmation_table(rows: list[Row]) -> Table:
    """The confirmation's rows: relative performance, its interval, Holm's p, the verdict."""
    table = Table(
        title="confirmation (relative performance, 95% interval, Holm-adjusted p; "
        "n: the repeats that would decide)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for column in ("cell", "vs", "task", "relative", "interval", "p", "verdict"):
        justify = "right" if column in ("relative", "p") else "left"
        table.add_column(column, justify=justify, no_wrap=column != "verdict")
    for row in rows:
        verdict = row.verdict
        if row.pairs < row.asked:
            verdict += f" ({row.pairs} of {row.asked} pairs)"
        elif verdict == "inconclusive" and row.repeats_needed:
            verdict += f" (n≈{row.repeats_needed})"  # the repeats that would decide
        table.add_row(
            row.cell,
            row.baseline,
            row.task,
            _number(row.relative),
            f"[{_number(row.low)}, {_number(row.high)}]",
            _number(row.p_holm, 2),
            verdict,
        )
    return table


def _number(value: float, digits: int = 3) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"
