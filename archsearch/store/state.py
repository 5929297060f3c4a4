"""A run's saved searcher state, as parts: each commit writes only the parts that changed.

A searcher's state is a mapping of parts (JSON each): a part per cell it knows and a
few for the rest (its random generator, its queue, ...). Saving the whole state at
every commit costs more the longer the run, so ``save_parts`` writes the parts
given, each replacing the saved part of the same name (an upsert, in the caller's
transaction), and ``load_parts`` reads them all back in the order they were first
saved. A run begun under schema 1 has its whole state in ``runs.state``: it is read
first, and parts saved since replace its own.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from archsearch.store import schema as db

# The two dialects' "INSERT ... ON CONFLICT DO UPDATE" (SQL has no portable upsert).
_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def save_parts(conn: Connection, run_id: int, parts: Mapping[str, Any]) -> None:
    """Save each of ``parts`` (name -> JSON value) of run ``run_id``'s state, in place of
    the saved part of that name."""
    if not parts:
        return
    rows = [{"run_id": run_id, "part": k, "value": v} for k, v in parts.items()]
    conn.execute(_upsert(conn.dialect.name), rows)


@functools.cache
def _upsert(dialect: str):
    """The upsert statement, made once per dialect (making it costs more than running it)."""
    upsert = _INSERT[dialect](db.run_state)
    return upsert.on_conflict_do_update(
        index_elements=[db.run_state.c.run_id, db.run_state.c.part],
        set_={"value": upsert.excluded.value},
    )


def load_parts(conn: Connection, run_id: int, *, schema: int) -> dict[str, Any] | None:
    """Run ``run_id``'s saved state (parts by name, in the order first saved); None if
    nothing was saved. ``schema``: the store's schema version (1 has no run_state)."""
    legacy = conn.execute(select(db.runs.c.state).where(db.runs.c.id == run_id)).scalar()
    parts = dict(legacy or {})
    if schema >= 2:
        rows = select(db.run_state.c.part, db.run_state.c.value).where(
            db.run_state.c.run_id == run_id
        )
        parts.update(tuple(row) for row in conn.execute(rows.order_by(db.run_state.c.id)))
    return parts or None
