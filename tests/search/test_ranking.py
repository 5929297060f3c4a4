"""A Ranking agrees with sorting everything again, whatever the sequence of changes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.search import ranking
from archsearch.search.ranking import Ranking

KEYS = [f"c{i}" for i in range(40)]
scores = st.one_of(st.sampled_from([0.5, 1.0, 1.0, 2.0, math.nan]), st.floats(0, 3))
changes = st.lists(st.tuples(st.sampled_from(KEYS), scores, st.booleans()), max_size=300)


def sorted_again(table: dict[str, float]) -> list[tuple[str, float]]:
    """What a search did before: sort every scored key, highest first, ties by age."""
    return sorted(table.items(), key=lambda kv: (-kv[1], KEYS.index(kv[0])))


@settings(max_examples=200, deadline=None)
@given(changes)
def test_a_ranking_is_what_sorting_again_gives(steps):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ranking, "BUCKET", 2)  # small buckets: a few changes split and empty them
        check_against_sorting(steps)


def check_against_sorting(steps) -> None:
    board, table = Ranking(), {}
    for key, score, remove in steps:
        if remove:
            board.remove(key)
            table.pop(key, None)
        else:
            board.set(key, score, KEYS.index(key))
            if math.isnan(score):
                table.pop(key, None)
            else:
                table[key] = score
        expected = sorted_again(table)
        assert list(board) == expected
        assert board.first(3) == expected[:3] and board.best() == (expected or [None])[0]
        assert [board.rank(key) for key, _ in expected] == list(range(len(expected)))
        assert len(board) == len(table) and all(board.score(k) == s for k, s in table.items())


@given(st.lists(st.floats(0, 1), max_size=50))
def test_a_key_set_twice_is_ranked_once_at_its_last_score(values):
    board = Ranking()
    for value in values:
        board.set("a", value, 0)
    assert list(board) == ([("a", values[-1])] if values else [])


def test_the_version_goes_up_with_every_change_and_only_then():
    board = Ranking()
    versions = [board.version]
    for change in (
        lambda: board.set("a", 1.0, 0),  # new
        lambda: board.set("a", 2.0, 0),  # moved
        lambda: board.remove("a"),  # gone
        lambda: board.clear(),
    ):
        change()
        versions.append(board.version)
    board.set("b", 1.0, 1)
    before = board.version
    board.set("b", 1.0, 1)  # the same score again
    board.remove("nobody")
    assert versions == sorted(set(versions)) and board.version == before
