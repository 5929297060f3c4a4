"""Drivers that start at the same moment: one creates the store, the run and the cell, the
others use them or are refused the run; none sees a database error."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from archsearch.store import RunHandle, RunLockedError, Store
from archsearch.store.engine import _journal_in_wal

N = 4


def at_once(work: Callable[[int], Any]) -> list[Any]:
    """``work(i)`` for each of N threads, released together: what each returned, or raised."""
    start = threading.Barrier(N)

    def one(i: int) -> Any:
        start.wait()
        try:
            return work(i)
        except Exception as error:  # the test looks at it
            return error

    with ThreadPoolExecutor(N) as pool:
        return list(pool.map(one, range(N)))


def test_drivers_starting_together_on_a_new_store(url: str):
    stores = at_once(lambda i: Store(url))
    try:
        assert all(isinstance(store, Store) for store in stores), stores
        opened = at_once(lambda i: stores[i].open_run("r", {"driver": i}))
        held = [run for run in opened if isinstance(run, RunHandle)]
        refused = [error for error in opened if isinstance(error, RunLockedError)]
        assert len(held) == 1 and len(refused) == N - 1, opened
        stored = at_once(lambda i: stores[i].put_cell("h", "text"))
        assert stored.count(True) == 1 and stored.count(False) == N - 1, stored
        [run] = held
        assert stores[0].runs()[0]["config"] == run.config
        assert run.record("e0", cell="h", task="ptb", trials=[{"trial": 0, "status": "ok"}])
        run.close()
    finally:
        for store in stores:
            if isinstance(store, Store):
                store.close()


class LockedCursor:
    """A cursor on a file another connection is switching to WAL: locked ``times`` times."""

    def __init__(self, times: int, error: str = "database is locked") -> None:
        self.times, self.error, self.calls = times, error, 0

    def execute(self, sql: str) -> LockedCursor:
        self.calls += 1
        if self.calls <= self.times:
            raise sqlite3.OperationalError(self.error)
        return self

    def fetchone(self) -> tuple[str]:
        return ("wal",)


def test_switching_to_wal_waits_out_a_driver_that_holds_the_new_file():
    cursor = LockedCursor(times=3)
    _journal_in_wal(cursor)
    assert cursor.calls == 4


def test_switching_to_wal_does_not_hide_other_database_errors():
    cursor = LockedCursor(times=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _journal_in_wal(cursor)
    assert cursor.calls == 1
