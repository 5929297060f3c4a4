"""A run's finished evaluations as stored, read back in commit order (reading only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from archsearch.store import schema as db
from archsearch.store.trial import TRIAL_FIELDS

if TYPE_CHECKING:
    from archsearch.store.store import Store


@dataclass(frozen=True)
class StoredEvaluation:
    """One finished evaluation: a cell on a task, with all its trials (dicts of TRIAL_FIELDS)."""

    seq: int  # commit order within the store
    key: str
    cell: str
    task: str
    meta: dict[str, Any]
    trials: list[dict[str, Any]]
    committed_at: datetime


def finished_evaluations(store: Store, run_id: int) -> list[StoredEvaluation]:
    """The finished evaluations of run ``run_id`` (``Store.run_id``), in commit order; reads
    only, so it serves a run being written elsewhere too."""
    with store.engine.connect() as conn:
        done = conn.execute(
            select(db.evaluations)
            .where(db.evaluations.c.run_id == run_id)
            .order_by(db.evaluations.c.id)
        ).all()
        rows = conn.execute(
            select(db.trials)
            .join(db.evaluations)
            .where(db.evaluations.c.run_id == run_id)
            .order_by(db.trials.c.evaluation_id, db.trials.c.trial)
        ).all()
    by_evaluation: dict[int, list[dict[str, Any]]] = {}  # (any committed between reads: unused)
    for row in rows:
        trial = {field: getattr(row, field) for field in TRIAL_FIELDS}
        by_evaluation.setdefault(row.evaluation_id, []).append(trial)
    return [
        StoredEvaluation(
            e.id, e.key, e.cell, e.task, e.meta, by_evaluation.get(e.id, []), e.committed_at
        )
        for e in done
    ]
