"""Upgrades of a store written under an older schema, run by the first writer that opens it.

Each step takes the store from one version to the next inside the writer's
transaction, so a store is either upgraded whole or not at all; readers of an
older store that can be read as it is (``READABLE``) are left to read it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, update

from archsearch.store import schema as db


def _to_2(conn: Connection) -> None:
    """Schema 2: the searcher's state in parts (run_state), and reuse's index."""
    db.run_state.create(conn, checkfirst=True)
    for index in db.evaluations.indexes:
        index.create(conn, checkfirst=True)


# version -> the step that upgrades a store from it to the next version.
STEPS: dict[int, Callable[[Connection], None]] = {1: _to_2}
READABLE = frozenset({1, db.SCHEMA_VERSION})  # versions this archsearch reads without upgrading


def upgrade(conn: Connection, version: int) -> None:
    """Upgrade a store at schema ``version`` to ``SCHEMA_VERSION`` (in ``conn``'s transaction)."""
    while version < db.SCHEMA_VERSION:
        STEPS[version](conn)
        version += 1
    conn.execute(
        update(db.meta).where(db.meta.c.key == "schema_version").values(value=str(version))
    )
