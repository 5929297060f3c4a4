"""The store's tables, in portable SQL (the same schema on SQLite and PostgreSQL).

Only text and numbers are stored: dicts and lists as JSON text (never pickle),
times as UTC timestamps. ``SCHEMA_VERSION`` is written into ``meta`` and goes
up by one with every change to these tables.

    runs 1──* evaluations *──1 cells        one search; its finished evaluations
              evaluations 1──* trials       one (cell, task); its hyperparameter trials
    runs 1──* run_state                     the searcher's state, one row per part

``evaluations.id`` is the commit order: one driver writes a run, one
evaluation per transaction, so ids grow in the order evaluations finished.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from archsearch.records import STATUSES  # noqa: F401  (the statuses a trial row may hold)

SCHEMA_VERSION = 2  # 2: run_state, and evaluations indexed by (cell, task)


class JSONText(TypeDecorator):
    """A dict or list kept as JSON text; numpy scalars are stored as plain numbers."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True, default=_plain)

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(value)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars (np.float32, np.int64 ...)
        return value.item()
    raise TypeError(f"the store keeps JSON only; {type(value).__name__} {value!r} is not JSON")


class UTCTime(TypeDecorator):
    """A moment, given as a datetime or epoch seconds; stored as naive UTC, read as aware UTC.

    A naive datetime is taken as local time, as ``datetime.timestamp()`` does.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        return None if value is None else utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utc(value: datetime | float) -> datetime:
    """``value`` (datetime or epoch seconds) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return datetime.fromtimestamp(value, timezone.utc)
    raise TypeError(f"expected a datetime or epoch seconds, got {type(value).__name__} {value!r}")


def now() -> datetime:
    return datetime.now(timezone.utc)


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),  # "schema_version"
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("config", JSONText, nullable=False),
    Column("created_at", UTCTime, nullable=False),
    # The driver lock: who holds it, since when, and its last sign of life.
    Column("lock_owner", String(255)),
    Column("lock_host", String(255)),
    Column("lock_pid", Integer),
    Column("lock_since", UTCTime),
    Column("lock_heartbeat", UTCTime),
    # The searcher's whole state as schema 1 saved it at every commit; schema 2 keeps it
    # in run_state, one row per part, and only reads this column (runs begun under 1).
    Column("state", JSONText),
)

cells = Table(
    "cells",
    metadata,
    Column("hash", String(255), primary_key=True),  # the cell's canonical hash
    Column("text", Text, nullable=False),
    Column("name", String(255)),
    Column("parent", String(255)),  # hash of the cell it was mutated from
    Column("mutations", JSONText, nullable=False),  # list of mutation names
    Column("created_at", UTCTime, nullable=False),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # commit order
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("key", String(255), nullable=False),  # the driver's id of this evaluation
    Column("cell", String(255), ForeignKey("cells.hash"), nullable=False),
    Column("task", String(255), nullable=False),
    Column("meta", JSONText, nullable=False),
    Column("committed_at", UTCTime, nullable=False),
    UniqueConstraint("run_id", "key"),
    sqlite_autoincrement=True,  # never reuse an id, so ids only grow (as a PostgreSQL sequence)
)
# Reuse (store/reuse.py) looks up every proposal's (cell, task): without an index that
# is a scan of every evaluation in the store, and a search slows as it goes.
Index("evaluations_cell_task", evaluations.c.cell, evaluations.c.task)

# The searcher's state after the last committed evaluation, as parts (a part per cell
# and a few for the rest: store/state.py): each commit rewrites only the parts that
# changed, in the same transaction as the evaluation, so a resumed search continues
# exactly and a commit costs the same at the end of a long run as at its start.
run_state = Table(
    "run_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # the order parts came in
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("part", String(255), nullable=False),
    Column("value", JSONText, nullable=False),
    UniqueConstraint("run_id", "part"),
    sqlite_autoincrement=True,
)

trials = Table(
    "trials",
    metadata,
    Column("evaluation_id", Integer, ForeignKey("evaluations.id"), primary_key=True),
    Column("trial", Integer, primary_key=True),  # index within its evaluation
    Column("params", JSONText, nullable=False),  # hyperparameters
    Column("status", String(32), nullable=False),  # one of STATUSES
    Column("metric_valid", Double),
    Column("metric_test", Double),
    Column("metrics", JSONText, nullable=False),  # extra metrics
    Column("steps", BigInteger),
    Column("seconds", Double),
    Column("n_params", BigInteger),
    Column("worker", String(255)),
    Column("started_at", UTCTime),
    Column("finished_at", UTCTime),
    Column("error", Text),
    Column("seed", BigInteger),
)
