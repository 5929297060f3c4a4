"""One open run of a store: its driver lock, and every finished evaluation it commits.

``Store.open_run`` gives a ``RunHandle``; the handle writes through the store's
guarded transaction (``Store._write``: the file checked, a failure raised as a
``StoreWriteError``), one transaction per finished evaluation with its trials
and the searcher state's changed parts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select

from archsearch.store import lock
from archsearch.store import schema as db
from archsearch.store.errors import StoreError
from archsearch.store.finished import StoredEvaluation, finished_evaluations
from archsearch.store.schema import now
from archsearch.store.state import load_parts, save_parts
from archsearch.store.trial import trial_row

if TYPE_CHECKING:
    from archsearch.store.store import Store


class RunHandle:
    """An open run, with its driver lock held. Close it (or use ``with``) to free the lock."""

    def __init__(
        self,
        store: Store,
        run_id: int,
        name: str,
        config: dict[str, Any],
        driver: lock.Driver,
        *,
        resumed: bool,
    ) -> None:
        self.store, self.id, self.name, self.config = store, run_id, name, config
        self.driver, self.resumed = driver, resumed
        self.closed = False
        self._renewed = time.monotonic()  # when this driver last renewed its heartbeat

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"held by {self.driver.owner}"
        return f"RunHandle({self.name!r}, {state})"

    def __enter__(self) -> RunHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def heartbeat(self) -> None:
        """Tell other drivers this one is alive; raises RunLockedError if the lock was taken.

        Within ``lock.RENEW_S`` of this handle's last renewal (``record`` renews too) it
        does nothing: a renewal is a write (on SQLite a disk sync, on PostgreSQL a few
        round trips) that a driver calling this after every evaluation would pay each
        time, and no driver may take a lock renewed that recently (``lock.acquire``);
        the next write checks the lock anyway."""
        self._check_open()
        self.store._check_file()
        if time.monotonic() - self._renewed < lock.RENEW_S:
            return
        with self.store._write() as conn:
            lock.refresh(conn, self.id, self.name, self.driver, lease=self.store.lease)
        self._renewed = time.monotonic()

    def close(self, *, ending: str | None = None) -> None:
        """Free the run's lock (if still ours); ``ending`` ("finished" or "interrupted")
        is kept for ``archsearch runs``. Closing twice is fine."""
        if not self.closed:
            with self.store._write() as conn:
                if ending is not None:
                    key = ending_key(self.id)
                    conn.execute(delete(db.meta).where(db.meta.c.key == key))
                    conn.execute(insert(db.meta).values(key=key, value=ending))
                lock.release(conn, self.id, self.driver)
            self.closed = True

    def record(
        self,
        key: str,
        *,
        cell: str,
        task: str,
        trials: Sequence[Mapping[str, Any]],
        meta: Mapping[str, Any] | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> bool:
        """Commit one finished evaluation and all its trials, in one transaction.

        ``key`` is the driver's id of the evaluation within the run; recording
        a key again changes nothing and returns False. The cell must have been
        stored with ``put_cell`` first. ``state``: the parts of the searcher's
        state that changed in learning from this evaluation (all of it, the
        first time), each replacing the saved part of its name in the same
        transaction (``store/state.py``). Also renews the heartbeat.
        """
        self._check_open()
        rows = [trial_row(trial) for trial in trials]
        indices = [row["trial"] for row in rows]
        if not rows or len(set(indices)) != len(indices):
            raise ValueError(f"evaluation {key!r} needs one or more trials with distinct indices")
        with self.store._write() as conn:
            lock.refresh(conn, self.id, self.name, self.driver, lease=self.store.lease)
            done = select(db.evaluations.c.id).where(
                db.evaluations.c.run_id == self.id, db.evaluations.c.key == key
            )
            if conn.execute(done).first() is not None:
                return False
            if cell not in self.store._cells and not _has_cell(conn, cell):
                raise StoreError(f"cell {cell!r} is not in the store; put_cell() it first")
            values = dict(run_id=self.id, key=key, cell=cell, task=task, meta=dict(meta or {}))
            self._renewed = time.monotonic()  # (if this transaction fails, the next renews)
            inserted = conn.execute(insert(db.evaluations).values(**values, committed_at=now()))
            evaluation_id = inserted.inserted_primary_key[0]
            conn.execute(insert(db.trials), [{"evaluation_id": evaluation_id, **r} for r in rows])
            if state is not None:
                save_parts(conn, self.id, state)
        return True

    @property
    def state(self) -> dict[str, Any] | None:
        """The searcher state saved with the last committed evaluation, every part of it
        (None before any)."""
        with self.store.engine.connect() as conn:
            return load_parts(conn, self.id, schema=self.store.schema)

    def count(self) -> int:
        """How many evaluations of this run are committed."""
        with self.store.engine.connect() as conn:
            query = select(func.count(db.evaluations.c.id)).where(
                db.evaluations.c.run_id == self.id
            )
            return conn.execute(query).scalar_one()

    def finished(self) -> list[StoredEvaluation]:
        """This run's finished evaluations, in the order they were committed."""
        return finished_evaluations(self.store, self.id)

    def _check_open(self) -> None:
        if self.closed:
            raise StoreError(f"run {self.name!r} was closed here; open_run() it again to write")


def ending_key(run_id: int) -> str:
    """The ``meta`` key under which a closed run's ending is kept (no schema change)."""
    return f"run-{run_id}-ending"


def _has_cell(conn: Connection, hash: str) -> bool:
    return conn.execute(select(db.cells.c.hash).where(db.cells.c.hash == hash)).first() is not None
