"""The winner's curse, measured: how a search's cheapest rung ranks against its top rung and
against the confirmation.

The best few cells of a cheap evaluation are the ones chance flattered most. For a run with
rungs and a confirmation this compares three rankings of the same cells by score (the
minimum over tasks of the performance relative to the reference):

- at the cheapest rung (rung 0), over every candidate complete there;
- at the top rung, over the candidates that reached it;
- after confirmation: the mean relative performance over the paired repeats, over the
  confirmed cells.

It reports how many of rung 0's top ``k`` stay in the top ``k`` at the top rung and after
confirmation, and Spearman's correlation between rung 0's score and each later one over the
cells both rank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from archsearch import confirm
from archsearch.store import Store


@dataclass(frozen=True)
class Stage:
    """One later ranking against rung 0's."""

    name: str
    cells: int  # cells ranked here
    stayed: int  # of rung 0's top k, how many are in this ranking's top k
    of: int  # how many of rung 0's top k this ranking holds
    spearman: float  # rung 0's score against this one, over the cells both rank


@dataclass(frozen=True)
class WinnersCurse:
    run: str
    k: int
    candidates: int  # complete at rung 0
    top_at_rung0: list[str]
    stages: list[Stage]


def winners_curse(url: str | None, run: str, *, k: int = 5) -> WinnersCurse:
    """The measurement for run ``run`` of the store at ``url`` (read-only)."""
    store = Store(url, create=False)
    try:
        stored = confirm.stored_run(store, run)
    finally:
        store.close()
    searcher = stored.searcher
    baselines = set(confirm.baseline_hashes().values())
    candidates = [d for d in searcher.cells if d not in baselines]
    rung0 = _scores(searcher, candidates, 0)
    top = _scores(searcher, candidates, searcher.rungs.top)
    confirmed = _confirmed(stored)
    first = sorted(rung0, key=lambda d: -rung0[d])[:k]
    name = confirm.name_of
    return WinnersCurse(
        run=run,
        k=k,
        candidates=len(rung0),
        top_at_rung0=[name(searcher, d) for d in first],
        stages=[
            _stage("top rung", rung0, top, first, k),
            _stage("confirmed", rung0, confirmed, first, k),
        ],
    )


def _scores(searcher, cells, rung: int) -> dict[str, float]:
    scored = {d: searcher.rung_score(d, rung) for d in cells}
    return {d: s for d, s in scored.items() if not math.isnan(s)}


def _confirmed(stored: confirm.StoredRun) -> dict[str, float]:
    """Each confirmed cell's score: the minimum over tasks of its mean relative performance
    against the reference over the paired repeats."""
    if not confirm.confirms(stored.config):
        return {}
    searcher = stored.searcher
    reference = searcher.cells[searcher.reference].name
    by_cell: dict[str, list[float]] = {}
    for row in confirm.run_table(stored):
        if row.baseline == reference:
            by_cell.setdefault(row.cell, []).append(row.relative)
    names = {
        confirm.name_of(searcher, d): d for d in confirm.chosen(searcher, stored.config["confirm"])
    }
    return {names[c]: min(v) for c, v in by_cell.items() if v and not any(map(math.isnan, v))}


def _stage(name: str, rung0: dict, later: dict, first: list[str], k: int) -> Stage:
    best_later = set(sorted(later, key=lambda d: -later[d])[:k])
    shared = [d for d in later if d in rung0]
    rho = (
        float(stats.spearmanr([rung0[d] for d in shared], [later[d] for d in shared])[0])
        if len(shared) >= 3
        else math.nan
    )
    return Stage(
        name=name,
        cells=len(later),
        stayed=len(best_later & set(first)),
        of=len(set(first) & set(later)),
        spearman=rho,
    )


def describe(result: WinnersCurse) -> str:
    """The measurement in a few lines."""
    lines = [
        f"run {result.run}: {result.candidates} candidates complete at rung 0; its top "
        f"{result.k}: {', '.join(result.top_at_rung0)}",
    ]
    for stage in result.stages:
        lines.append(
            f"{stage.name}: {stage.cells} cells ranked; {stage.stayed} of rung 0's top "
            f"{result.k} stay in the top {result.k} ({stage.of} of them ranked here); "
            f"Spearman with rung 0 {stage.spearman:.2f}"
        )
    return "\n".join(lines)
