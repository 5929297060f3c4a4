"""Read-only views of the runs in a store: what each is, how far it got, whether it still runs.

Nothing here takes a lock or writes: a search may be running while these read.
A run is *running* while its driver's lock is held and its heartbeat fresh,
*interrupted* when its driver died holding the lock or was stopped by Ctrl-C,
and *finished* when its loop ended by itself.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from archsearch.store import schema as db
from archsearch.store.lock import pid_alive
from archsearch.store.run import ending_key
from archsearch.store.state import load_parts
from archsearch.store.store import Store


@dataclass
class RunSummary:
    """One run as ``archsearch runs`` lists it."""

    name: str
    config: dict[str, Any]
    state: str  # "running", "finished" or "interrupted"
    done: int  # evaluations committed
    failed: int  # of which no trial finished
    in_flight: int  # asked, not yet committed (while running)
    created_at: datetime
    last_commit: datetime | None
    saved: dict[str, Any] | None = field(default=None, repr=False)  # the searcher's state


def run_summaries(store: Store) -> list[RunSummary]:
    """Every run in ``store``, oldest first."""
    ok_trials = (
        select(func.count())
        .where(db.trials.c.evaluation_id == db.evaluations.c.id, db.trials.c.status == "ok")
        .scalar_subquery()
    )
    per_run = (
        select(
            db.evaluations.c.run_id,
            func.count().label("done"),
            func.sum(case((ok_trials == 0, 1), else_=0)).label("failed"),
            func.max(db.evaluations.c.committed_at).label("last_commit"),
        )
        .group_by(db.evaluations.c.run_id)
        .subquery()
    )
    query = (
        select(db.runs, per_run.c.done, per_run.c.failed, per_run.c.last_commit)
        .select_from(db.runs.outerjoin(per_run, per_run.c.run_id == db.runs.c.id))
        .order_by(db.runs.c.id)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
        endings = dict(conn.execute(select(db.meta.c.key, db.meta.c.value)).all())
        states = {row.id: load_parts(conn, row.id, schema=store.schema) for row in rows}
    summaries = []
    for row in rows:
        state = _state(row, endings.get(ending_key(row.id)), store.lease)
        saved = states[row.id] or {}
        summaries.append(
            RunSummary(
                name=row.name,
                config=row.config,
                state=state,
                done=row.done or 0,
                failed=int(row.failed or 0),
                in_flight=len(saved.get("pending", [])) if state == "running" else 0,
                created_at=row.created_at,
                last_commit=row.last_commit,
                saved=states[row.id],
            )
        )
    return summaries


def run_summary(store: Store, name: str) -> RunSummary:
    """Run ``name``; an unknown name raises ``StoreError`` listing the runs."""
    with store.engine.connect() as conn:
        store.run_id(conn, name)
    return next(s for s in run_summaries(store) if s.name == name)


def _state(row: Any, ending: str | None, lease: float) -> str:
    if row.lock_owner is not None:
        heartbeat = row.lock_heartbeat
        fresh = heartbeat is not None and heartbeat > db.now() - timedelta(seconds=lease)
        local_dead = row.lock_host == socket.gethostname() and not pid_alive(row.lock_pid)
        return "running" if fresh and not local_dead else "interrupted"
    # A run closed before endings were kept: its driver let go of it cleanly.
    return ending or "finished"


@dataclass(frozen=True)
class RunsCost:
    """What some runs took: wall time from the first one's start to their last commit, and
    how many of their evaluations were trained and how many copied (``store/reuse.py``)."""

    minutes: float | None  # None before any commit
    trained: int
    copied: int


def runs_cost(store: Store, names: Sequence[str]) -> RunsCost:
    """The cost of runs ``names`` (run one after another, as a finding's repeats are), read
    from the store alone, so a report written again later states the same figures."""
    summaries = [s for s in run_summaries(store) if s.name in set(names)]
    commits = [s.last_commit for s in summaries if s.last_commit is not None]
    minutes = None
    if commits:
        start = min(s.created_at for s in summaries)
        minutes = (max(commits) - start).total_seconds() / 60
    query = (
        select(db.evaluations.c.meta)
        .join(db.runs, db.runs.c.id == db.evaluations.c.run_id)
        .where(db.runs.c.name.in_(list(names)))
    )
    with store.engine.connect() as conn:
        metas = conn.execute(query).scalars().all()
    copied = sum(1 for meta in metas if meta.get("reused_from"))
    return RunsCost(minutes, len(metas) - copied, copied)
