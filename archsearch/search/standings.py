"""The search's ranking as a reader should take it: the highest rung first, then the score.

A cell's score at a cheap rung and a score at the top rung are not alike: the
top rung's held at the larger budget, and the cheap rung flatters (measured in
the main job: the six mutants promoted scored 1.001-1.016 against the GRU at
rung 0, and 0.758-0.915 at the top rung). So a cell measured at a higher rung
ranks above every cell measured only lower, as the confirmation picks its
candidates (``confirm.chosen``), and within a rung cells go by their score
there.

``Standings`` keeps one ``Ranking`` per rung, up to date as scores change, so the
leader the progress line shows costs the same at the end of a long run as at
its start.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from archsearch.search.ranking import Ranking


class Standings:
    """Keys (cell hashes) by (rung, score): the highest rung first, best first within it."""

    def __init__(self) -> None:
        self._by_rung: dict[int, Ranking] = {}
        self._rung_of: dict[str, int] = {}

    def set(self, key: str, rung: int, score: float, order: int) -> None:
        """Stand ``key`` at ``rung`` with ``score`` (ties: lower ``order`` first); a rung
        below 0 or a NaN score removes it."""
        old = self._rung_of.pop(key, None)
        stands = rung >= 0 and not math.isnan(score)
        if old is not None and (old != rung or not stands):
            self._by_rung[old].remove(key)
        if stands:
            self._by_rung.setdefault(rung, Ranking()).set(key, score, order)
            self._rung_of[key] = rung

    def rung(self, key: str) -> int:
        """The rung ``key`` stands at (-1 if it does not stand)."""
        return self._rung_of.get(key, -1)

    def clear(self) -> None:
        self._by_rung.clear()
        self._rung_of.clear()

    def __len__(self) -> int:
        return len(self._rung_of)

    def __iter__(self) -> Iterator[tuple[str, float]]:
        """(key, score), the highest rung first, best first within a rung."""
        for rung in sorted(self._by_rung, reverse=True):
            yield from self._by_rung[rung]

    def best(self) -> tuple[str, float] | None:
        """The first of the highest rung anyone stands at (None when nobody stands)."""
        for rung in sorted(self._by_rung, reverse=True):
            if best := self._by_rung[rung].best():
                return best
        return None
