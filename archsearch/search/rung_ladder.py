"""Rungs inside a search: each cell's score per rung, promotion, and the standings.

A part of ``Searcher`` (``search/base.py``), apart so each file has one job: this
one knows how cells climb the rungs (``archsearch.rungs``: asynchronous successive
halving), the base knows the ask/tell contract and the state. It reads the
searcher's ``cells``, ``tasks``, ``reference``, ``direction_of``, ``rungs`` and its
rung boards and standings, and queues through its ``enqueue``.

Promotion is incremental: each rung's ranking is kept up to date as outcomes
arrive (``RungBoard``), so a promotion costs the same late in a run as early.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from archsearch.direction import Direction
from archsearch.rungs import Rungs
from archsearch.scoring import score
from archsearch.search.entries import Entry, Proposal, RungBoard
from archsearch.search.standings import Standings


class RungLadder:
    """The rung half of ``Searcher``: scores per rung, promotion, standings."""

    # What it reads of the searcher (set in ``Searcher.__init__``):
    cells: dict[str, Entry]
    tasks: list[str]
    reference: str  # the reference cell's hash
    direction_of: dict[str, Direction]
    rungs: Rungs
    standings: Standings
    _boards: dict[int, RungBoard]  # rung -> its ranking, below the top rung
    _order: dict[str, int]
    _baseline_cells: set[str]
    enqueue: Callable[..., Proposal]
    touch: Callable[[str], None]

    def rung_score(self, digest: str, rung: int) -> float:
        """The score at one rung, against the reference at that rung (NaN until known)."""
        return score({t: self.relative_at(digest, t, rung) for t in self.tasks})

    def relative_at(self, digest: str, task: str, rung: int) -> float:
        """The cell's best on ``task`` at ``rung`` relative to the reference's best there."""
        own = self.cells[digest].by_rung.get(str(rung), {})
        ref = self.cells.get(self.reference)
        reference = {} if ref is None else ref.by_rung.get(str(rung), {})
        return self.direction_of[task].relative(own.get(task), reference.get(task))

    def first_relative(self, digest: str, task: str, rung: int) -> float:
        """The cell's first outcome on ``task`` at ``rung`` relative to the reference's first
        there: like for like, each with the trials every cell gets. A re-evaluation gives a
        cell more settings, and its best over them is a higher bar than one setting can
        clear; a fresh candidate judged against a re-evaluated reference is dropped for
        having had fewer tries (NaN where either is missing; an entry saved before firsts
        were kept falls back to its best)."""
        own, ref = self.cells[digest], self.cells.get(self.reference)
        if ref is None:
            return math.nan
        mine = own.first.get(str(rung), {}).get(task, own.by_rung.get(str(rung), {}).get(task))
        theirs = ref.first.get(str(rung), {}).get(task, ref.by_rung.get(str(rung), {}).get(task))
        return self.direction_of[task].relative(mine, theirs)

    def highest_rung(self, digest: str) -> int:
        """The highest rung at which the cell has an outcome on every task (-1: none)."""
        entry = self.cells[digest]
        done = [r for r in range(self.rungs.count) if self._complete_at(entry, r)]
        return max(done, default=-1)

    def _complete_at(self, entry: Entry, rung: int) -> bool:
        return all(t in entry.by_rung.get(str(rung), {}) for t in self.tasks)

    def _promote(self, digest: str, rung: int) -> None:
        """After an outcome at ``rung``: promote what the rung's ranking now allows.

        The baselines (the reference and the seed cells) go up every rung: the others are
        scored against them there, and the confirmation compares against them at the top.
        """
        if rung >= self.rungs.top:
            return
        board = self._boards.setdefault(rung, RungBoard())
        # The rung's ranking, kept up to date: an outcome of the reference changes every
        # score at the rung; any other outcome, the cell's own.
        for cell in board.complete if digest == self.reference else (digest,):
            self._rank_at(cell, rung)
        if not self._complete_at(self.cells[digest], rung):
            return
        if digest in self._baselines():
            if self.cells[digest].asked_rung <= rung:
                self._enqueue_rung(digest, rung + 1, purpose="reference")
            return
        share = self.rungs.quota(len(board.ranked))  # Rungs.promotable's rule, incrementally
        while (first := board.unpromoted.best()) and board.ranked.rank(first[0]) < share:
            board.unpromoted.remove(first[0])
            self._enqueue_rung(first[0], rung + 1, purpose="promotion")

    def _rank_at(self, digest: str, rung: int) -> None:
        """Rank a cell at ``rung`` by its score there, if it competes there (complete at the
        rung, neither a baseline nor dropped); unpromoted too if not asked higher yet."""
        board, entry = self._boards.setdefault(rung, RungBoard()), self.cells[digest]
        complete = self._complete_at(entry, rung)
        if complete:
            board.complete.add(digest)
        competes = complete and not entry.dropped and digest not in self._baselines()
        score = self.rung_score(digest, rung) if competes else math.nan
        board.ranked.set(digest, score, self._order[digest])
        board.unpromoted.set(
            digest, score if entry.asked_rung <= rung else math.nan, self._order[digest]
        )

    def drop(self, digest: str) -> None:
        """Take a cell out of the running (the paper's cascade): it is ranked at no rung."""
        self.cells[digest].dropped = True
        self.touch(digest)
        for rung in self._boards:
            self._rank_at(digest, rung)

    def _baselines(self) -> set[str]:
        """The reference and the seed cells (kept as cells are added)."""
        return self._baseline_cells

    def _enqueue_rung(self, digest: str, rung: int, *, purpose: str) -> None:
        self.cells[digest].asked_rung = rung
        # Ahead of new candidates (as a cascade's next task is): they decide the ranking.
        for task in reversed(self.tasks):
            self.enqueue(digest, task, purpose=purpose, rung=rung, front=True)

    def _stand(self, digest: str) -> None:
        """Keep ``standings`` up to date: the cell at the highest rung where it and the
        reference both have a score (the reference may not have reached the cell's yet)."""
        for rung in range(self.highest_rung(digest), -1, -1):
            value = self.rung_score(digest, rung)
            if not math.isnan(value):
                self.standings.set(digest, rung, value, self._order[digest])
                return
        self.standings.set(digest, -1, math.nan, self._order[digest])
