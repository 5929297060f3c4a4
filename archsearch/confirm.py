"""Confirmation: a search's best cells trained again against the GRU and the LSTM, paired.

A search ranks cells by single cheap evaluations; its top line is where chance flatters
most (the winner's curse). So a search ends by training its best ``K`` cells and both
baselines at the top rung with ``R`` repeats: the same settings, data and seeds across
cells, repeat ``k`` of every cell sharing its initialisation seed. Each (cell, baseline,
task) is then a paired comparison over the ``R`` repeats (``analysis.stats.compare_paired``):
the relative performance in the task's direction with a bootstrap 95% interval,
Wilcoxon's p, Holm's correction over the whole table, and a verdict
(``analysis.verdicts.paired_verdict``): ``better``, ``worse``, ``equivalent`` (the
interval inside 1 ± margin) or ``inconclusive``, with the repeats 80% power would need.

An evaluation the search already made at the top rung with the same seed, trials and
repeat stands for that repeat (it is the same training), so a promoted cell's top-rung
evaluation is its repeat 0. Confirmation keeps no state of its own: what it still needs
is the plan less what the run has committed, so a resumed run picks up where it stopped.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from archsearch import zoo
from archsearch.search.base import Proposal, Searcher

BASELINES = ("gru", "lstm")
PURPOSE = "confirm"


@dataclass(frozen=True)
class Row:
    """One (cell, baseline, task) of the confirmation table."""

    cell: str  # readable name
    baseline: str
    task: str
    relative: float  # the cell's performance relative to the baseline: above 1 is better
    low: float  # bootstrap 95% interval of ``relative``
    high: float
    p: float  # Wilcoxon signed-rank, two-sided
    p_holm: float  # Holm-adjusted over the table
    verdict: str  # better, worse, equivalent, inconclusive, or "no data"
    pairs: int  # repeats with both results
    asked: int  # repeats the confirmation asks for (fewer pairs: it is still running, or failed)
    repeats_needed: int | None  # for 80% power at the observed effect (None: no effect)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def chosen(searcher: Searcher, k: int) -> list[str]:
    """The ``k`` best cells to confirm (hashes), in the searcher's ranking: the highest
    rung reached first, then the score there. Without a scored candidate, the LSTM stands
    in (against the GRU)."""
    baselines = baseline_hashes()
    excluded = set(baselines.values())
    cells = [digest for digest, _ in searcher.ranking() if digest not in excluded][:k]
    return cells or [baselines["lstm"]]


def headline(searcher: Searcher, cells: Sequence[str]) -> str:
    """What the confirmation compares, in words."""
    names = ", ".join(name_of(searcher, c) for c in cells)
    if cells == [baseline_hashes()["lstm"]]:
        return f"no candidate has a score in time: confirming {names} against gru"
    return f"confirming {names} against {' and '.join(BASELINES)}"


def plan(searcher: Searcher, cells: Sequence[str], repeats: int) -> list[Proposal]:
    """Every evaluation the confirmation needs: the cells and both baselines, on every
    task, at the top rung, repeats ``0..repeats-1`` (deterministic keys)."""
    top = searcher.rungs.top
    proposals = []
    for digest in [*cells, *(d for d in baseline_hashes().values() if d not in cells)]:
        text = searcher.cells[digest].text if digest in searcher.cells else _zoo_text(digest)
        for task in searcher.tasks:
            group = _key(digest, task, 0)
            for repeat in range(repeats):
                proposals.append(
                    Proposal(
                        key=_key(digest, task, repeat),
                        cell_text=text,
                        cell_hash=digest,
                        task=task,
                        trials=searcher.trials,
                        seed=searcher.seed,
                        purpose=PURPOSE,
                        repeat=repeat,
                        group=group,
                        rung=top,
                    )
                )
    return proposals


def slot(cell: str, task: str, rung: int, repeat: int, seed: int, trials: int) -> tuple:
    """What makes two evaluations the same training (one stands for the other)."""
    return (cell, task, rung, repeat, seed, trials)


def done_slots(evaluations: Iterable[Any]) -> dict[tuple, float]:
    """The run's committed evaluations by ``slot``, with their metric (NaN: no result)."""
    found: dict[tuple, float] = {}
    for e in evaluations:
        meta = e.meta
        key = slot(
            e.cell,
            e.task,
            meta.get("rung", 0),
            meta.get("repeat", 0),
            meta.get("seed", 0),
            meta.get("trials_asked", len(e.trials)),
        )
        metric = meta.get("metric")
        found.setdefault(key, math.nan if metric is None else float(metric))
    return found


def seconds_by_rung(evaluations: Iterable[Any]) -> dict[tuple[str, int], list[float]]:
    """Seconds per trial that the run's own evaluations took, by (task, rung) (copies from
    other runs took none here and are left out)."""
    seconds: dict[tuple[str, int], list[float]] = {}
    for e in evaluations:
        meta = e.meta
        if meta.get("reused_from") or not meta.get("seconds"):
            continue
        per_trial = meta["seconds"] / max(1, meta.get("trials_asked", len(e.trials)))
        seconds.setdefault((e.task, meta.get("rung", 0)), []).append(per_trial)
    return seconds


def still_needed(proposals: Sequence[Proposal], done: Mapping[tuple, float]) -> list[Proposal]:
    return [p for p in proposals if slot_of(p) not in done]


def table(
    searcher: Searcher,
    cells: Sequence[str],
    repeats: int,
    done: Mapping[tuple, float],
    *,
    margin: float,
) -> list[Row]:
    """The confirmation table from the committed evaluations ``done`` (``done_slots``)."""
    from archsearch.analysis.stats import compare_paired, holm, pairs_for_holm
    from archsearch.analysis.verdicts import paired_verdict

    baselines = baseline_hashes()
    top, comparisons = searcher.rungs.top, []
    for digest in cells:
        for name, base in baselines.items():
            if base == digest:
                continue
            for task in searcher.tasks:

                def values(cell: str, task: str = task) -> list[float]:
                    return [
                        done.get(slot(cell, task, top, k, searcher.seed, searcher.trials), math.nan)
                        for k in range(repeats)
                    ]

                comparison = compare_paired(
                    values(digest),
                    values(base),
                    direction=searcher.direction_of[task],
                    a=name_of(searcher, digest),
                    b=name,
                    task=task,
                )
                comparisons.append(comparison)
    adjusted = holm([c.p_value for c in comparisons]) if comparisons else []
    # Wilcoxon's exact p cannot go below 2 / 2**n: with Holm over the table, fewer pairs than
    # this decide nothing whatever the effect (the power figure assumes a t-test).
    floor = pairs_for_holm(max(1, len(comparisons)))
    rows = []
    for comparison, p_holm in zip(comparisons, adjusted, strict=True):
        rel = comparison.relative
        verdict = (
            paired_verdict(comparison, float(p_holm), margin=margin)
            if comparison.n >= 1
            else "no data"
        )
        rows.append(
            Row(
                cell=comparison.a,
                baseline=comparison.b,
                task=comparison.task,
                relative=rel.estimate,
                low=rel.low,
                high=rel.high,
                p=comparison.p_value,
                p_holm=float(p_holm),
                verdict=verdict,
                pairs=comparison.n,
                asked=repeats,
                repeats_needed=None
                if comparison.pairs_needed is None
                else max(comparison.pairs_needed, floor),
            )
        )
    return rows


def estimated_seconds(
    proposals: Sequence[Proposal], seconds: Mapping[tuple[str, int], list[float]], fraction
) -> float:
    """Seconds of one worker the ``proposals`` will take, from the seconds evaluations of each
    (task, rung) took in this run (scaled from another rung by its share of the steps when the
    rung has none yet). A task with no evaluation yet counts nothing: the baselines' first
    evaluations, which every run begins with, tell within minutes."""
    total = 0.0
    for p in proposals:
        total += _one(p.task, p.rung, seconds, fraction) * max(1, p.trials)
    return total


def _one(task: str, rung: int, seconds, fraction) -> float:
    own = seconds.get((task, rung))
    if own:
        return _median(own)
    others = [(r, _median(s)) for (t, r), s in seconds.items() if t == task and s]
    if others:
        r, value = max(others)  # the nearest rung below is the best guess
        return value * fraction(rung) / fraction(r)
    return 0.0


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def slot_of(p: Proposal) -> tuple:
    """The ``slot`` a proposal trains."""
    return slot(p.cell_hash, p.task, p.rung, p.repeat, p.seed, p.trials)


def _key(digest: str, task: str, repeat: int) -> str:
    return f"{PURPOSE}-{digest[:16]}-{task}-r{repeat}"


@functools.cache
def baseline_hashes() -> dict[str, str]:
    """The baselines' canonical hashes by zoo name."""
    return {name: zoo.get(name).canonical_hash() for name in BASELINES}


def name_of(searcher: Searcher, digest: str) -> str:
    """The cell's readable name (a baseline the search never met: its zoo name)."""
    from archsearch.naming import readable_name

    if digest in searcher.cells:
        return readable_name(searcher.cells, digest)
    return next(name for name, d in baseline_hashes().items() if d == digest)


def _zoo_text(digest: str) -> str:
    for name in BASELINES:
        cell = zoo.get(name)
        if cell.canonical_hash() == digest:
            return cell.to_text()
    raise KeyError(digest)


@dataclass(frozen=True)
class StoredRun:
    """A run as its store holds it: config, searcher at its last commit, evaluations."""

    config: dict[str, Any]
    searcher: Searcher
    evaluations: list[Any]  # store.StoredEvaluation, in commit order


def stored_run(store: Any, name: str, summary: Any = None) -> StoredRun:
    """Run ``name`` of ``store``, read-only (``summary``: its ``run_summary``, if read)."""
    from archsearch.search import searcher_for
    from archsearch.spec import RunSpec
    from archsearch.store.finished import finished_evaluations
    from archsearch.store.summary import run_summary

    summary = summary or run_summary(store, name)
    searcher = searcher_for(RunSpec.from_stored(summary.config))
    if summary.saved:
        searcher.load_state_dict(summary.saved)
    with store.engine.connect() as conn:
        evaluations = finished_evaluations(store, store.run_id(conn, name))
    return StoredRun(summary.config, searcher, evaluations)


def confirms(config: dict[str, Any]) -> bool:
    """Whether a run with this stored config ends with a confirmation."""
    return bool(config.get("confirm")) and config.get("searcher") != "fixed"


def run_table(run: StoredRun) -> list[Row]:
    """A stored run's confirmation table as its committed evaluations give it now."""
    config, searcher = run.config, run.searcher
    cells = chosen(searcher, config["confirm"])
    done = done_slots(run.evaluations)
    return table(searcher, cells, config["confirm_repeats"], done, margin=config["margin"])


def stored_table(store: Any, name: str) -> list[Row] | None:
    """Run ``name``'s confirmation table now (read-only, so it serves a run in progress);
    None for a run that confirms nothing."""
    from archsearch.store.summary import run_summary

    summary = run_summary(store, name)
    if not confirms(summary.config):
        return None
    return run_table(stored_run(store, name, summary))


EXPLAINED = (
    "Each row: the cell against a baseline on one task, trained again at the top rung with "
    "paired repeats (the same settings and seeds). `relative` is the cell's performance "
    "relative to the baseline in the task's direction (above 1: the cell is better), with "
    "a bootstrap 95% interval; p is Wilcoxon's signed-rank test, Holm-adjusted over the "
    "table. `equivalent`: the interval lies inside 1 ± the margin (over 6 pairs or more); "
    "`inconclusive`: neither, with the repeats that would decide (80% power, and enough "
    "pairs for Holm's correction over the table to reach 0.05)."
)


def as_frame(rows: Sequence[Row]):
    """The table as a dataframe, for reports and notebooks."""
    import pandas as pd

    return pd.DataFrame([row.to_dict() for row in rows], columns=list(Row.__dataclass_fields__))
