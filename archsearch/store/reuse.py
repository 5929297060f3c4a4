"""Evaluations already in the store, found again, so that nothing is trained twice.

An evaluation's outcome is fixed by the cell (its canonical hash), the task, the
proposal's number of trials and seed, and its run's evaluation setting resolved for
the task and rung (``archsearch.setting.TaskSetting``: the task's knob values, the
space, sampler, pruner, fixed values, backend and data seed). Each evaluation records
that setting's digest (meta "setting"). So when another run in the same store has
committed an evaluation with the same cell, task, trials, seed and digest, a driver
copies it instead of training: comparisons that share cells and seeds (the findings,
an ablation after a search) pay for each evaluation once. A preset is a name whose
knob values change between versions, so the digest is made from the resolved knob
values, not the preset's name: ``--knob weight_drop=0.25`` under a preset that already
sets it is the same setting, and its evaluations are copied. An evaluation stored
before the digest was recorded gets one from its recorded knob values (meta "budget")
and its run's config (``stored_setting``); one with neither is never copied.

Only evaluations whose trials all finished are copied (``REUSABLE``): a timeout
or a failure may depend on the machine it met, and a divergence is what a change
to the budget's stability rules (``TaskConfig.diverged_retry``, warm-up) is made
to change, so those are trained again. Results are copied across runs of one
store, made by one version of the code: start a new store after changing how
cells are trained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from archsearch.records import trial_seed
from archsearch.setting import EvalSetting, TaskSetting, setting_digest
from archsearch.store import schema as db
from archsearch.store.finished import StoredEvaluation
from archsearch.store.store import Store
from archsearch.store.trial import TRIAL_FIELDS

REUSABLE = frozenset({"ok", "pruned"})  # trial endings that are copied


@dataclass(frozen=True)
class Reused:
    """A committed evaluation of another run that stands for a new one."""

    run: str  # the run it was committed in
    evaluation: StoredEvaluation


def stored_setting(meta: Mapping[str, Any], config: Mapping[str, Any]) -> str | None:
    """The setting digest of a stored evaluation (its ``meta`` and its run's ``config``):
    recorded, or, for one stored before settings were digested, made from its recorded
    budget and its run's settings; None for one with neither."""
    if "setting" in meta:
        return meta["setting"]
    if "budget" in meta:
        return setting_digest(meta["budget"], EvalSetting.of_config(config).beyond_budget())
    return None


def find_reusable(
    store: Store,
    *,
    run_id: int,
    setting: TaskSetting,
    cell: str,
    task: str,
    trials: int,
    seed: int,
    repeat: int = 0,
) -> Reused | None:
    """The earliest evaluation of ``cell`` on ``task`` in another run of ``store`` trained
    under ``setting`` (the asking run's, resolved for the task and rung), with ``trials``
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
    digest = setting.digest
    with store.engine.connect() as conn:
        for row in conn.execute(query).all():
            if row.meta.get("trials_asked") != trials:
                continue
            if stored_setting(row.meta, row.config) != digest:
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


def _complete(copied: list[dict[str, Any]], trials: int, seed: int, repeat: int) -> bool:
    """Every trial is there, ended by itself, and was seeded from ``seed`` and ``repeat``
    (an evaluation's trial seeds follow from them: ``records.trial_seed``)."""
    return (
        len(copied) == trials
        and all(t["status"] in REUSABLE for t in copied)
        and all(t["seed"] == trial_seed(seed, t["trial"], repeat) for t in copied)
    )
