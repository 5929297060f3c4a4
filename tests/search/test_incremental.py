"""What searchers keep up to date as outcomes arrive equals what recomputing it all gives.

Scores, the jozefowicz list and the saved state are kept incrementally (so that a
long search costs the same per outcome at its end as at its start); after every
outcome of a search with parallel, shuffled tells, each is checked against the
slow way: every cell scored and sorted again (by score; and by rung, then score), the
list chosen again from every cell, the whole state written again.
"""

from __future__ import annotations

import json
import math
import random

import pytest

from archsearch.search import SEARCHERS, Outcome, make_searcher
from archsearch.search.base import CELL_PART

TASKS = ["arith", "xml", "ptb"]


def metric(proposal, rng: random.Random) -> float | None:
    """Scattered metrics around each task's typical value; now and then no metric."""
    if rng.random() < 0.03:
        return None
    typical = 130.0 if proposal.task == "ptb" else 0.7
    return typical * rng.uniform(0.8, 1.2)


def steps(searcher, count: int, *, seed: int = 0, parallel: int = 12, before_tell=None):
    """Ask ahead, tell in a shuffled order (``before_tell()`` first); yields after each tell."""
    rng = random.Random(seed)
    in_flight = []
    for _ in range(count):
        while len(in_flight) < parallel:
            proposal = searcher.ask()
            if proposal is None:
                break
            in_flight.append(proposal)
        if not in_flight:
            return
        done = in_flight.pop(rng.randrange(len(in_flight)))
        if before_tell is not None:
            before_tell()
        searcher.tell(done, Outcome(metric(done, rng), done.trials))
        yield done


def scores_again(searcher) -> list[tuple[str, float]]:
    """Every cell's score (relative at its highest rung per task), sorted again."""
    scored = [(d, searcher.score(d)) for d in searcher.cells]
    return sorted(((d, s) for d, s in scored if not math.isnan(s)), key=lambda x: -x[1])


def standings_again(searcher) -> list[tuple[str, float]]:
    """The ranking the slow way: each cell at the highest rung where it and the reference
    both have a score, the highest rung first, then the score there."""
    stood = []
    for digest in searcher.cells:
        for rung in range(searcher.rungs.count - 1, -1, -1):
            value = searcher.rung_score(digest, rung)
            if not math.isnan(value):
                stood.append((-rung, -value, digest, value))
                break
    return [(digest, value) for *_, digest, value in sorted(stood, key=lambda x: x[:2])]


def list_again(searcher, previous: list[str]) -> list[str]:
    """The jozefowicz list as it was chosen before it was kept up to date."""
    complete = [
        d
        for d in searcher.cells
        if not searcher.cells[d].dropped
        and searcher.complete(d)
        and not math.isnan(searcher.score(d))
    ]
    best = sorted(complete, key=lambda d: -searcher.score(d))[: searcher.list_size]
    unscored = [d for d in previous if d not in complete and not searcher.complete(d)]
    return best + [d for d in unscored if d not in best]


def json_copy(data):
    return json.loads(json.dumps(data))


VARIANTS = [
    *[(name, {}) for name in SEARCHERS.names()],
    ("jozefowicz", {"list_size": 4, "reeval_probability": 0.3}),  # the list turns over
    ("jozefowicz", {"repeats": 2}),
    ("jozefowicz", {"rungs": 2}),
    ("jozefowicz", {"rungs": 3, "eta": 2}),
    ("evolution", {"rungs": 2}),
]


@pytest.mark.parametrize("name, options", VARIANTS)
def test_kept_up_to_date_equals_recomputed_after_every_outcome(name, options):
    searcher = make_searcher(name, tasks=TASKS, trials=1, seed=3, **options)
    saved: dict = {}
    before: list[list[str]] = [[]]  # the jozefowicz list before the last outcome

    def remember() -> None:
        before[0] = list(getattr(searcher, "members", []))

    for _ in steps(searcher, 400, before_tell=remember):
        assert list(searcher.scores) == scores_again(searcher)
        assert searcher.ranking() == standings_again(searcher)
        assert searcher.leader() == (standings_again(searcher) or [None])[0]
        if name == "jozefowicz":
            assert searcher.members == list_again(searcher, before[0])
        saved.update(json_copy(searcher.state_changes()))
        assert saved == json_copy(searcher.state_dict())
    assert len(searcher.ranking()) > 3


@pytest.mark.parametrize("name, options", VARIANTS)
def test_a_search_resumed_from_its_saved_parts_goes_on_as_from_its_whole_state(name, options):
    make = lambda: make_searcher(name, tasks=TASKS, trials=1, seed=3, **options)  # noqa: E731
    original, saved = make(), {}
    for _ in steps(original, 150):  # stops with evaluations in flight: they are asked again
        saved.update(json_copy(original.state_changes()))
    from_parts, from_whole = make(), make()
    from_parts.load_state_dict(saved)
    from_whole.load_state_dict(json_copy(original.state_dict()))
    assert from_parts.ranking() == original.ranking()
    assert getattr(from_parts, "members", None) == getattr(original, "members", None)
    assert from_parts.state_changes().keys() == original.state_changes().keys()  # no cell
    after = [(p.key, p.cell_hash) for p in steps(from_whole, 150, seed=1)]
    assert [(p.key, p.cell_hash) for p in steps(from_parts, 150, seed=1)] == after
    assert from_parts.ranking() == from_whole.ranking()


def test_a_whole_state_saved_before_parts_resumes_and_is_saved_again_whole():
    make = lambda: make_searcher("jozefowicz", tasks=TASKS, trials=1, seed=3)  # noqa: E731
    original = make()
    for _ in steps(original, 150):
        pass
    parts = json_copy(original.state_dict())
    cells = {k[len(CELL_PART) :]: v for k, v in parts.items() if k.startswith(CELL_PART)}
    whole = {k: v for k, v in parts.items() if not k.startswith(CELL_PART)} | {"cells": cells}
    resumed = make()
    resumed.load_state_dict(whole)
    assert resumed.ranking() == original.ranking() and resumed.members == original.members
    # The first commit after the resume saves every cell as a part.
    assert {k for k in resumed.state_changes() if k.startswith(CELL_PART)} == {
        CELL_PART + d for d in cells
    }


def promote_sorting_again(searcher, digest: str, rung: int) -> None:
    """Promotion as it was before rungs were ranked as outcomes arrive: every cell sorted."""
    if rung >= searcher.rungs.top or not searcher._complete_at(searcher.cells[digest], rung):
        return
    baselines = searcher._baselines()
    if digest in baselines:
        if searcher.cells[digest].asked_rung <= rung:
            searcher._enqueue_rung(digest, rung + 1, purpose="reference")
        return
    ranked = [
        d
        for d, entry in searcher.cells.items()
        if d not in baselines and not entry.dropped and searcher._complete_at(entry, rung)
    ]
    scores = {d: searcher.rung_score(d, rung) for d in ranked}
    ranked = sorted((d for d in ranked if not math.isnan(scores[d])), key=lambda d: -scores[d])
    promoted = {d for d in ranked if searcher.cells[d].asked_rung > rung}
    for winner in searcher.rungs.promotable(ranked, promoted):
        searcher._enqueue_rung(winner, rung + 1, purpose="promotion")


@pytest.mark.parametrize("name, options", [v for v in VARIANTS if "rungs" in v[1]])
def test_rungs_promote_what_sorting_every_cell_again_promotes(name, options, monkeypatch):
    kept = make_searcher(name, tasks=TASKS, trials=1, seed=3, **options)
    again = make_searcher(name, tasks=TASKS, trials=1, seed=3, **options)
    monkeypatch.setattr(again, "_promote", lambda d, r: promote_sorting_again(again, d, r))
    asked = [(p.key, p.cell_hash, p.rung, p.purpose) for p in steps(again, 600)]
    assert [(p.key, p.cell_hash, p.rung, p.purpose) for p in steps(kept, 600)] == asked
    assert sum(purpose == "promotion" for *_, purpose in asked) > 5
