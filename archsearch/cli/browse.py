"""Commands that read a store while searches run: ``runs`` (every run) and ``show RUN``.

Read-only: they take no lock and write nothing, so they work beside a running
search. A run's ranking is its searcher's, rebuilt from the state saved with
its last committed evaluation.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from archsearch.cli.common import app, fail, finite, out
from archsearch.naming import readable_name

Opt = typer.Option


def rebuild_searcher(config: dict[str, Any], saved: dict[str, Any] | None):
    """The run's searcher as it stood at its last commit (stored config and state);
    None for a run whose config names no searcher (written by other tools)."""
    from archsearch.search import searcher_for
    from archsearch.spec import RunSpec

    try:
        searcher = searcher_for(RunSpec.from_stored(config))
        if saved:
            searcher.load_state_dict(saved)
    except (KeyError, TypeError, ValueError):
        return None
    return searcher


def _best(searcher) -> tuple[str | None, float | None]:
    ranking = searcher.ranking() if searcher is not None else []
    if not ranking:
        return None, None
    digest, score = ranking[0]
    return readable_name(searcher.cells, digest), score


def _open(storage: str | None):
    from archsearch.store import Store

    return Store(storage, create=False)


@app.command("runs")
def runs_command(
    storage: Annotated[str | None, Opt(help="SQLAlchemy URL of the store.")] = None,
    as_json: Annotated[bool, Opt("--json", help="Print a JSON list.")] = False,
) -> None:
    """Every run in a store: searcher, tasks, evaluations, best cell, state, last commit."""
    from archsearch.store import StoreError
    from archsearch.store.summary import run_summaries

    try:
        store = _open(storage)
        try:
            summaries = run_summaries(store)
        finally:
            store.close()
    except (ValueError, StoreError) as error:
        raise fail(str(error)) from None
    rows = []
    for s in summaries:
        best_cell, best_score = _best(rebuild_searcher(s.config, s.saved))
        rows.append(
            {
                "name": s.name,
                "searcher": s.config.get("searcher"),
                "preset": s.config.get("preset"),
                "tasks": list(s.config.get("tasks", [])),
                "done": s.done,
                "failed": s.failed,
                "in_flight": s.in_flight,
                "best_cell": best_cell,
                "best_score": best_score,
                "state": s.state,
                "last_commit": None if s.last_commit is None else s.last_commit.isoformat(),
            }
        )
    if as_json:
        print(json.dumps(finite(rows), indent=2))
        return
    if not rows:
        out.print(f"no runs in {_masked(store.url)}")
        return
    table = Table(
        title=f"runs in {_masked(store.url)}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for column in ("run", "search", "tasks", "evals", "best", "state", "last"):
        numeric = column == "evals"
        table.add_column(
            column,
            justify="right" if numeric else "left",
            no_wrap=numeric or column in ("search", "state", "last"),
            overflow="fold",  # a long name wraps; it is never cut
            min_width=15 if column == "best" else None,
        )
    for r in rows:
        score = "-" if r["best_score"] is None else f"{r['best_score']:.3f}"
        best = "-" if r["best_cell"] is None else f"{r['best_cell']}\n{score}"
        last = "-" if r["last_commit"] is None else r["last_commit"][5:16].replace("T", "\n")
        table.add_row(
            r["name"],
            f"{r['searcher']}\n{r['preset']}",
            ", ".join(r["tasks"]),
            f"{r['done']}/{r['failed']}/{r['in_flight']}",
            best,
            r["state"],
            last,
        )
    table.caption = "evals: done/failed (no trial finished)/in flight; last: commit, UTC"
    out.print(table)


@app.command("show")
def show_command(
    run: Annotated[str, typer.Argument(help="The run's name (see `archsearch runs`).")],
    storage: Annotated[str | None, Opt(help="SQLAlchemy URL of the store.")] = None,
    top: Annotated[int, Opt(min=1, help="Cells in the ranking.")] = 15,
    as_json: Annotated[bool, Opt("--json", help="One JSON object.")] = False,
) -> None:
    """A run's ranking now, what is in flight and its confirmation table; works while the
    search runs (read-only)."""
    from archsearch import confirm
    from archsearch.display import confirmation_table, partial_table, ranking_table
    from archsearch.store import StoreError
    from archsearch.store.summary import run_summary

    try:
        store = _open(storage)
        try:
            summary = run_summary(store, run)
            rows = confirm.stored_table(store, run)
        finally:
            store.close()
    except (ValueError, StoreError) as error:
        raise fail(str(error)) from None
    searcher = rebuild_searcher(summary.config, summary.saved)
    config = summary.config
    if as_json:
        out.print_json(data=_show_json(summary, searcher, rows, top))
        return
    out.print(
        f"run {run!r} ({summary.state}): {config.get('searcher')} search on "
        f"{', '.join(config.get('tasks', []))} ({config.get('preset')})\n"
        f"{summary.done} evaluations, {summary.failed} failed; store {_masked(store.url)}",
        highlight=False,
    )
    if searcher is not None and searcher.ranking():
        out.print(ranking_table(searcher, top=top))
    partial = partial_table(searcher) if searcher is not None else None
    if partial is not None:
        out.print(partial)
    if searcher is None or not (searcher.ranking() or partial):
        out.print("no cell has an outcome yet")
    if rows:
        out.print(confirmation_table(rows))
    pending = (summary.saved or {}).get("pending", []) if summary.state == "running" else []
    if not pending:
        idle = "" if summary.state == "running" else f" (run {summary.state})"
        out.print(f"nothing in flight{idle}")
        return
    flight = Table(title="in flight", title_justify="left")
    for column in ("key", "cell", "task", "purpose"):
        flight.add_column(column)
    for p in pending:
        known = searcher is not None and p["cell_hash"] in searcher.cells
        name = readable_name(searcher.cells, p["cell_hash"]) if known else p["cell_hash"][:8]
        flight.add_row(p["key"], name, p["task"], p["purpose"])
    out.print(flight)


def _show_json(summary, searcher, rows, top: int) -> dict[str, Any]:
    """``show --json``: the run, its ranking and its confirmation rows."""
    ranking = []
    if searcher is not None:
        for digest, score in searcher.ranking()[:top]:
            ranking.append(
                {
                    "cell": readable_name(searcher.cells, digest),
                    "hash": digest,
                    "score": finite(score),
                    "rung": (rung := searcher.standings.rung(digest)),
                    "relative": {
                        t: finite(searcher.relative_at(digest, t, rung)) for t in searcher.tasks
                    },
                }
            )
    return {
        "run": summary.name,
        "state": summary.state,
        "evaluations": summary.done,
        "failed": summary.failed,
        "ranking": ranking,
        "confirmation": [row.to_dict() for row in rows or []],
    }


def _masked(url: str) -> str:
    from archsearch.store.engine import safe

    return safe(url)
