"""Repeats (RunSpec.repeats, --repeats): every evaluation trained N times with the same
settings and data and other seeds, a paired design across the cells compared."""

from __future__ import annotations

import math

import pytest

from archsearch import Resources, RunSpec, launch, zoo
from archsearch.records import trial_seed
from archsearch.search import Outcome, make_searcher


def test_each_evaluation_is_proposed_once_per_repeat_in_one_group():
    searcher = make_searcher("fixed", tasks=["arith"], cells=["lstm"], trials=2, repeats=3)
    asked = []
    while (proposal := searcher.ask()) is not None:
        asked.append(proposal)
    by_cell: dict[str, list] = {}
    for p in asked:
        by_cell.setdefault(p.cell_hash, []).append(p)
    assert len(by_cell) == 2  # lstm and the reference gru
    for proposals in by_cell.values():
        assert [p.repeat for p in proposals] == [0, 1, 2]
        assert len({p.group for p in proposals}) == 1
        assert len({p.seed for p in proposals}) == 1  # the same settings: repeats differ by repeat


def asked_of(searcher, cell: str) -> list:
    """Everything the searcher asks for until it waits, of one cell (by hash)."""
    asked = []
    while (proposal := searcher.ask()) is not None:
        asked.append(proposal)
    return [p for p in asked if p.cell_hash == cell]


def test_the_searcher_learns_the_mean_once_every_repeat_is_in():
    searcher = make_searcher("fixed", tasks=["arith"], cells=["lstm"], trials=1, repeats=3)
    lstm = zoo.get("lstm").canonical_hash()
    mine = asked_of(searcher, lstm)
    for proposal, metric in zip(mine[:2], (0.2, 0.4), strict=True):
        searcher.tell(proposal, Outcome(metric, 1))
        assert "arith" not in searcher.cells[lstm].best  # not known until all repeats are in
        assert not searcher.complete(lstm)
    searcher.tell(mine[2], Outcome(0.9, 1))
    assert searcher.cells[lstm].best["arith"] == pytest.approx(0.5)
    assert searcher.cells[lstm].trials["arith"] == 3
    assert searcher.complete(lstm)


def test_a_repeat_that_did_not_finish_leaves_the_mean_unknown():
    searcher = make_searcher("fixed", tasks=["arith"], cells=["lstm"], trials=1, repeats=2)
    lstm = zoo.get("lstm").canonical_hash()
    mine = asked_of(searcher, lstm)
    searcher.tell(mine[0], Outcome(0.8, 1))
    searcher.tell(mine[1], Outcome(None, 1))
    assert math.isnan(searcher.cells[lstm].best["arith"])


def test_partial_repeats_survive_a_resume():
    searcher = make_searcher("fixed", tasks=["arith"], cells=["lstm"], trials=1, repeats=2)
    lstm = zoo.get("lstm").canonical_hash()
    mine = asked_of(searcher, lstm)
    searcher.tell(mine[0], Outcome(0.2, 1))
    resumed = make_searcher("fixed", tasks=["arith"], cells=["lstm"], trials=1, repeats=2)
    resumed.load_state_dict(searcher.state_dict())
    left = asked_of(resumed, lstm)
    assert [p.repeat for p in left] == [1]  # the told repeat is not asked again
    resumed.tell(left[0], Outcome(0.6, 1))
    assert resumed.cells[lstm].best["arith"] == pytest.approx(0.4)


def test_jozefowicz_sends_every_repeat_of_a_promising_cell_ahead():
    searcher = make_searcher("jozefowicz", tasks=["arith", "xml"], trials=1, repeats=2)
    for _ in range(8):  # the start: the reference and the seed cells on both tasks
        proposal = searcher.ask()
        searcher.tell(proposal, Outcome(0.5, 1))
    first = searcher.ask()
    assert first.purpose == "candidate" and first.task == "arith"
    second = searcher.ask()
    assert second.group == first.group and second.repeat == 1
    searcher.tell(first, Outcome(0.6, 1))
    searcher.tell(second, Outcome(0.6, 1))
    ahead = searcher.queue[:2]
    assert [(p.cell_hash, p.task, p.repeat) for p in ahead] == [
        (first.cell_hash, "xml", 0),
        (first.cell_hash, "xml", 1),
    ]


def test_repeats_below_one_are_refused_before_anything_runs():
    with pytest.raises(ValueError, match="repeats"):
        RunSpec(repeats=0)


def counting(asked: list):
    def evaluate(proposal: dict, options) -> dict:
        asked.append(proposal)
        seeds = [trial_seed(proposal["seed"], i, proposal["repeat"]) for i in range(2)]
        trials = [
            {"params": {"lr": 0.001 * (i + 1)}, "status": "ok", "metric_valid": 0.5, "seed": s}
            for i, s in enumerate(seeds)
        ]
        return {"trials": trials, "metric": 0.5, "worker": "here", "seconds": 0.0}

    return evaluate


def test_a_run_with_repeats_stores_each_repeat_paired_across_cells(tmp_path):
    asked: list = []
    spec = RunSpec(
        name="paired",
        searcher="fixed",
        searcher_options={"cells": ["lstm"]},
        tasks=("arith",),
        preset="smoke",
        trials=2,
        repeats=3,
        budget="none",
    )
    url = f"sqlite:///{tmp_path / 'r.db'}"
    frame = launch(
        spec, Resources(storage=url, in_process=True), evaluate=counting(asked)
    ).results()
    assert len(asked) == 6  # 2 cells x 3 repeats
    assert sorted(frame["repeat"].unique().tolist()) == [0, 1, 2]
    seeds = frame.groupby("cell_name")["seed"].apply(lambda s: sorted(s.tolist()))
    assert seeds["lstm"] == seeds["gru"]  # the same seeds for every cell: pairs
    assert len(set(seeds["lstm"])) == 6  # and other seeds in every repeat and trial
