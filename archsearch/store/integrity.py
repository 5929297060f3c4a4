"""Checks that a store is whole: each finds rows that the schema's constraints should forbid.

The constraints keep these out of a store written by archsearch; the checks
are for stores copied, edited by hand, or written with foreign keys off (the
sqlite3 shell's default), and for tests that kill a driver mid-commit.
"""

from __future__ import annotations

from sqlalchemy import Connection, Select, func, select, text

from archsearch.store.schema import STATUSES, cells, evaluations, runs, trials


def damage(conn: Connection) -> list[str]:
    """SQLite's own check of its pages and indexes (``PRAGMA quick_check``); [] when sound."""
    if conn.dialect.name != "sqlite":
        return []
    found = [row[0] for row in conn.execute(text("PRAGMA quick_check(20)"))]
    return [] if found == ["ok"] else [f"damaged store: {line}" for line in found]


def problems(conn: Connection, run_id: int | None = None) -> list[str]:
    """One line per problem, in run ``run_id`` (or all runs) and store-wide; [] when whole."""

    def in_run(query: Select) -> Select:
        return query if run_id is None else query.where(evaluations.c.run_id == run_id)

    found: list[str] = []
    evaluation = evaluations.outerjoin(runs, runs.c.id == evaluations.c.run_id)
    named = (runs.c.name, evaluations.c.key)

    orphans = conn.execute(
        select(trials.c.evaluation_id, func.count())
        .select_from(trials.outerjoin(evaluations))
        .where(evaluations.c.id.is_(None))
        .group_by(trials.c.evaluation_id)
    )
    for evaluation_id, n in orphans:
        found.append(f"{n} trial rows of evaluation id {evaluation_id}, which does not exist")

    homeless = select(evaluations.c.id, evaluations.c.run_id).select_from(evaluation)
    for evaluation_id, missing_run in conn.execute(homeless.where(runs.c.id.is_(None))):
        found.append(f"evaluation id {evaluation_id} belongs to run id {missing_run}, unknown")

    empty = (
        select(*named)
        .select_from(evaluation.outerjoin(trials))
        .where(trials.c.evaluation_id.is_(None))
    )
    for run, key in conn.execute(in_run(empty)):
        found.append(f"evaluation {key!r} of run {run!r} has no trials")

    twice = select(*named, func.count()).select_from(evaluation).group_by(*named)
    for run, key, n in conn.execute(in_run(twice).having(func.count() > 1)):
        found.append(f"evaluation {key!r} of run {run!r} is stored {n} times")

    per_trial = (*named, trials.c.trial)
    trial_twice = (
        select(*per_trial, func.count())
        .select_from(evaluation.join(trials))
        .group_by(*per_trial)
        .having(func.count() > 1)
    )
    for run, key, trial, n in conn.execute(in_run(trial_twice)):
        found.append(f"trial {trial} of evaluation {key!r} of run {run!r} is stored {n} times")

    unknown_cell = (
        select(*named, evaluations.c.cell)
        .select_from(evaluation.outerjoin(cells, cells.c.hash == evaluations.c.cell))
        .where(cells.c.hash.is_(None))
    )
    for run, key, cell in conn.execute(in_run(unknown_cell)):
        found.append(f"evaluation {key!r} of run {run!r} is of cell {cell!r}, not in the store")

    bad_status = (
        select(*named, trials.c.trial, trials.c.status)
        .select_from(evaluation.join(trials))
        .where(trials.c.status.not_in(STATUSES))
    )
    for run, key, trial, status in conn.execute(in_run(bad_status)):
        found.append(f"trial {trial} of evaluation {key!r} of run {run!r}: status {status!r}")

    return found
