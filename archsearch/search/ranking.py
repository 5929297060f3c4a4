"""Scores kept in order as they change, so that a search never sorts all its cells again.

A search ranks its cells at every outcome: the leader for the progress line, the
paper's list of the best 100, the cells a rung promotes. Sorting every cell each
time costs more the longer the run. A ``Ranking`` keeps its entries sorted in
buckets of at most ``2 * BUCKET`` (as ``sortedcontainers.SortedList`` does), so
setting or removing a score and reading the best, the first ``k`` or a key's
rank cost a bisection and a bucket's worth of moves, about the same at a
million entries as at a hundred.

The order is the score, highest first; equal scores go by ``order`` (the
searcher gives each cell's position among its cells: the older first, as a
stable sort of the cells by score would put them).
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterator

BUCKET = 256  # a bucket splits past twice this: short enough to shift, few enough to scan

Item = tuple[float, int, str]  # (-score, order, key): sorts best first


class Ranking:
    """Keys (cell hashes) by score, best first; a NaN score is no score (not ranked)."""

    def __init__(self) -> None:
        self._buckets: list[list[Item]] = []
        self._lasts: list[Item] = []  # the last (worst) item of each bucket, for bisecting
        self._items: dict[str, Item] = {}
        self.version = 0  # goes up with every change: a reader can tell nothing changed

    def set(self, key: str, score: float, order: int) -> None:
        """Rank ``key`` at ``score`` (ties: lower ``order`` first); NaN removes it."""
        if math.isnan(score):
            self.remove(key)
            return
        item = (-score, order, key)
        old = self._items.get(key)
        if old == item:
            return
        if old is not None:
            self._delete(old)
        self._items[key] = item
        self._insert(item)
        self.version += 1

    def remove(self, key: str) -> None:
        """Unrank ``key`` (nothing if it is not ranked)."""
        old = self._items.pop(key, None)
        if old is not None:
            self._delete(old)
            self.version += 1

    def clear(self) -> None:
        version = self.version
        self.__init__()
        self.version = version + 1

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def score(self, key: str) -> float:
        """The score ``key`` is ranked at (NaN if it is not ranked)."""
        item = self._items.get(key)
        return math.nan if item is None else -item[0]

    def __iter__(self) -> Iterator[tuple[str, float]]:
        """(key, score), best first."""
        for bucket in self._buckets:
            for negative, _, key in bucket:
                yield key, -negative

    def first(self, k: int) -> list[tuple[str, float]]:
        """The ``k`` best (key, score), best first."""
        found: list[tuple[str, float]] = []
        for bucket in self._buckets:
            for negative, _, key in bucket[: k - len(found)]:
                found.append((key, -negative))
            if len(found) >= k:
                break
        return found

    def best(self) -> tuple[str, float] | None:
        first = self.first(1)
        return first[0] if first else None

    def rank(self, key: str) -> int:
        """How many keys rank before ``key`` (0: the best); ``key`` must be ranked."""
        item = self._items[key]
        index = bisect_left(self._lasts, item)
        return sum(map(len, self._buckets[:index])) + bisect_left(self._buckets[index], item)

    # -- the buckets ----------------------------------------------------------------------
    def _insert(self, item: Item) -> None:
        if not self._buckets:
            self._buckets.append([item])
            self._lasts.append(item)
            return
        index = min(bisect_left(self._lasts, item), len(self._buckets) - 1)
        bucket = self._buckets[index]
        insort(bucket, item)
        self._lasts[index] = bucket[-1]
        if len(bucket) > 2 * BUCKET:
            self._buckets[index : index + 1] = [bucket[:BUCKET], bucket[BUCKET:]]
            self._lasts[index : index + 1] = [bucket[BUCKET - 1], bucket[-1]]

    def _delete(self, item: Item) -> None:
        index = bisect_left(self._lasts, item)
        bucket = self._buckets[index]
        del bucket[bisect_left(bucket, item)]
        if bucket:
            self._lasts[index] = bucket[-1]
        else:
            del self._buckets[index], self._lasts[index]
