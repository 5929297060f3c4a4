"""Evaluations already in the store, found again, so that nothing is trained twice.

An evaluation's outcome is fixed by the cell (its canonical hash), the task, the
proposal's number of trials and seed, and the run settings that reach the
evaluation (``EVALUATION_KEYS`` of its ``RunSpec``: budget, space, sampler, fixed
values, knobs, backend and the data seed). So when another run in the same store
has committed an evaluation with all of these equal, a driver copies it instead
of training: comparisons that share cells and seeds (the findings, an ablation
after a search) pay for each evaluation once. A preset is a name whose knob values
change between versions, so each evaluation also records its task's resolved knob
values (``budget_of``, meta "budget"), and only an evaluation trained with the same
values is copied (older rows without the record never are). The record stands for
the preset and its knobs: ``--knob weight_drop=0.25`` under a preset that already
sets it is the same budget, and its evaluations are copied.

Only evaluations whose trials all finished are copied (``REUSABLE``): a timeout
or a failure may depend on the machine it met, and a divergence is what a change
to the budget's stability rules (``TaskConfig.diverged_retry``, warm-up) is made
to change, so those are trained again. Results are copied across runs of one
store, made by one version of the code: start a new store after changing how
cells are trained.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from archsearch.records import trial_seed
from archsearch.store import schema as db
from archsearch.store.store import Store, StoredEvaluation
from archsearch.store.trial import TRIAL_FIELDS

# The RunSpec settings that reach an evaluation ("seed" is the data seed).
EVALUATION_KEYS = ("preset", "space", "sampler", "pruner", "seed", "backend", "overrides", "fixed")
REUSABLE = frozenset({"ok", "pruned"})  # trial endings that are copied


@dataclass(frozen=True)
class Reused:
    """A committed evaluation of another run that stands for a new one."""

    run: str  # the run it was committed in
    evaluation: StoredEvaluation


def evaluation_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a run's config that reach its evaluations (absent keys: defaults)."""
    defaults = _defaults()
    return {key: config.get(key, defaults[key]) for key in EVALUATION_KEYS}


def budget_of(task: str, settings: Mapping[str, Any]) -> str:
    """A digest of ``task``'s knob values under a run's evaluation ``settings`` (its preset
    with the overrides applied): two evaluations with equal digests had the same budget."""
    return _budget_digest(
        task, settings["preset"], json.dumps(settings["overrides"], sort_keys=True)
    )


@functools.cache
def _budget_digest(task: str, preset: str, overrides: str) -> str:
    import tasks

    config = tasks.task_config(task, preset=preset, **json.loads(overrides))
    text = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.cache
def _defaults() -> dict[str, Any]:
    from archsearch.spec import RunSpec

    return RunSpec().to_dict()


def find_reusable(
    store: Store,
    *,
    run_id: int,
    settings: Mapping[str, Any],
    cell: str,
    task: str,
    trials: int,
    seed: int,
    repeat: int = 0,
) -> Reused | None:
    """The earliest evaluation of ``cell`` on ``task`` in another run of ``store`` with
    evaluation ``settings`` (``evaluation_settings`` of the asking run's config), ``trials``
    trials, seed ``seed`` and repeat ``repeat``; or None."""
    query = (
        select(db.evaluations, db.runs.c.name.label("run_name"), db.runs.c.config)
        .join(db.runs, db.runs.c.id == db.evaluations.c.run_id)
        .where(
            db.evaluations.c.cell == cell,
            db.evaluations.c.task == task,
            db.evaluations.c.run_id != run_id,
        )
        .order_by(db.evaluations.c.id)
    )
    budget = budget_of(task, settings)
    with store.engine.connect() as conn:
        for row in conn.execute(query).all():
            if row.meta.get("trials_asked") != trials or row.meta.get("budget") != budget:
                continue
            if _beyond_budget(evaluation_settings(row.config)) != _beyond_budget(settings):
                continue
            found = conn.execute(
                select(db.trials)
                .where(db.trials.c.evaluation_id == row.id)
                .order_by(db.trials.c.trial)
            ).all()
            copied = [{field: getattr(t, field) for field in TRIAL_FIELDS} for t in found]
            if _complete(copied, trials, seed, repeat):
                evaluation = StoredEvaluation(
                    row.id, row.key, row.cell, row.task, row.meta, copied, row.committed_at
                )
                return Reused(row.run_name, evaluation)
    return None


def _beyond_budget(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings besides the preset and its overrides, which ``budget_of`` resolves: a
    knob given explicitly at its preset's value is the same budget as the preset."""
    return {k: v for k, v in settings.items() if k not in ("preset", "overrides")}


def _complete(copied: list[dict[str, Any]], trials: int, seed: int, repeat: int) -> bool:
    """Every trial is there, ended by itself, and was seeded from ``seed`` and ``repeat``
    (an evaluation's trial seeds follow from them: ``records.trial_seed``)."""
    return (
        len(copied) == trials
        and all(t["status"] in REUSABLE for t in copied)
        and all(t["seed"] == trial_seed(seed, t["trial"], repeat) for t in copied)
    )
