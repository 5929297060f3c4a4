"""Evaluate one cell on one task: sample hyperparameters with Optuna, train each, keep the best.

This is the unit of work a search runs by the thousand: pure (no Ray inside),
deterministic for a seed, and it never raises for a bad cell run: a trial that
diverges or fails is recorded as such and counts as a trial.

Seeds: the task's data comes from ``seed`` (the same data for every cell
evaluated with that seed, so cells are compared on the same examples); the
sampler is seeded with ``seed`` too, so with random search every cell meets
the same hyperparameter settings; trial ``i`` initialises its model from a
seed derived from (``seed``, ``i``).
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna
import torch

import tasks as task_suite
from archsearch.cell import Cell
from archsearch.direction import Direction
from archsearch.hparams import get_space, make_study
from archsearch.records import TrialResult, trial_seed
from archsearch.setting import EvalSetting, TaskSetting
from archsearch.train import StepCallback, TrainSettings, train_trial
from archsearch.zoo import load_cell

# Called after each trial with (index, total, result).
TrialCallback = Callable[[int, int, TrialResult], None]


@dataclass
class Evaluation:
    """Every trial of one (cell, task) evaluation, and the best by validation metric."""

    cell_text: str
    cell_hash: str
    cell_name: str
    task: str
    preset: str
    metric: str
    direction: Direction  # which way its metric improves
    space: str
    seed: int
    setting: str = ""  # the digest of its resolved setting (archsearch.setting)
    trials: list[TrialResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def best(self) -> TrialResult | None:
        """The finished trial with the best validation metric (None if none finished)."""
        finished = [
            t
            for t in self.trials
            if t.status == "ok" and t.metric_valid is not None and math.isfinite(t.metric_valid)
        ]
        if not finished:
            return None
        return max(finished, key=lambda t: self.direction.oriented(t.metric_valid))

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "cell": self.cell_name,
            "cell_hash": self.cell_hash,
            "cell_text": self.cell_text,
            "task": self.task,
            "preset": self.preset,
            "metric": self.metric,
            "higher_is_better": self.direction.maximize,
            "space": self.space,
            "seed": self.seed,
            "setting": self.setting,
            "seconds": self.seconds,
            "trials": [t.to_dict() for t in self.trials],
            "best": None if best is None else best.to_dict(),
        }


@functools.lru_cache(maxsize=8)
def build_task(name: str, preset: str, seed: int, overrides: tuple[tuple[str, Any], ...]):
    """A task, built once per process: a worker evaluating many cells on one task
    generates (or loads) its data once. Tasks are read-only once built."""
    return task_suite.get(name, preset=preset, seed=seed, **dict(overrides))


def evaluate(
    cell: str | Cell,
    task: str | TaskSetting,
    *,
    setting: EvalSetting | None = None,
    seed: int = 0,
    repeat: int = 0,
    threads: int = 1,
    settings: TrainSettings | None = None,
    on_trial: TrialCallback | None = None,
    on_step: StepCallback | None = None,
    **changes: Any,
) -> Evaluation:
    """Train ``cell`` on ``task`` with ``trials`` sampled hyperparameter settings.

    ``task`` is a task name, or a ``TaskSetting`` already resolved (a search's worker gets
    one from its run's spec). With a name, the evaluation setting is ``setting`` (default
    ``EvalSetting()``) with ``changes`` to its fields (``preset="smoke"``, ``trials=2``,
    ``fixed={"lr": 0.01}``, ``overrides={"hidden_size": 64}``), checked and resolved here,
    as a search checks and resolves its own. The data come from the setting's ``data_seed``
    (default ``seed``), so a re-evaluation with new settings can keep the same examples.
    ``repeat`` (0, 1, ...) trains the same settings on the same data again with other
    initialisation and batch-order seeds. ``threads`` sets torch's intra-op threads for
    this process (several evaluations may share a machine).
    """
    if isinstance(task, TaskSetting):
        if setting is not None or changes:
            raise TypeError("a resolved task setting takes no further setting or changes")
        resolved = task
    else:
        chosen = (setting or EvalSetting()).replace(**changes).checked((task,))
        resolved = chosen.with_seed(seed).resolve(task)
    chosen = resolved.setting
    cell = load_cell(cell)
    space = get_space(chosen.space)
    fixed = space.check_fixed(dict(chosen.fixed))
    data_seed = seed if chosen.data_seed is None else chosen.data_seed
    the_task = build_task(
        resolved.task, chosen.preset, data_seed, tuple(sorted(resolved.knobs.items()))
    )
    torch.set_num_threads(threads)
    study = make_study(
        direction=the_task.direction,
        sampler=chosen.sampler,
        pruner=chosen.pruner,
        seed=seed,
    )
    evaluation = Evaluation(
        cell_text=cell.to_text(),
        cell_hash=cell.canonical_hash(),
        cell_name=cell.name,
        task=the_task.name,
        preset=chosen.preset,
        metric=the_task.metric,
        direction=the_task.direction,
        space=space.name,
        seed=seed,
        setting=resolved.digest,
    )
    settings = settings or TrainSettings(backend=chosen.backend)
    trials = chosen.trials
    start = time.monotonic()
    for index in range(trials):
        trial = study.ask()
        params = space.suggest(trial, fixed)

        def report(step: int, value: float, trial=trial) -> bool:
            trial.report(value, step)
            return trial.should_prune()

        def train(trial_params: dict[str, Any], report=report, index=index) -> TrialResult:
            return train_trial(
                cell,
                the_task,
                trial_params,
                optimizer=space.optimizer,
                seed=trial_seed(seed, index, repeat),
                settings=settings,
                report=report,
                on_step=on_step,
            )

        result = train(params)
        factor = the_task.config.diverged_retry
        if result.status == "diverged" and factor is not None and "lr" in params:
            result = _retried(train, params, factor, result)
        _tell(study, trial, result)
        evaluation.trials.append(result)
        if on_trial is not None:
            on_trial(index, trials, result)
        if result.status == "timeout":  # the evaluation's time is up: no more trials
            break
    evaluation.seconds = time.monotonic() - start
    return evaluation


def _retried(train, params: dict[str, Any], factor: float, first: TrialResult) -> TrialResult:
    """The diverged trial trained again at ``lr / factor`` (TaskConfig.diverged_retry): its
    sampled ``params`` kept, the rate used and the first run's steps and seconds recorded."""
    lr = params["lr"] / factor
    # Not reported to the pruner: the trial's steps were reported by its first run.
    result = train({**params, "lr": lr}, report=lambda step, value: False)
    result.params = dict(params)
    result.started_at = first.started_at
    result.metrics = {**result.metrics, "retry_lr": lr, "diverged_steps": first.steps}
    result.seconds += first.seconds
    if "cpu_seconds" in first.metrics and "cpu_seconds" in result.metrics:
        result.metrics["cpu_seconds"] += first.metrics["cpu_seconds"]
    return result


def _tell(study: optuna.Study, trial: optuna.Trial, result: TrialResult) -> None:
    if result.status == "ok" and result.metric_valid is not None:
        study.tell(trial, result.metric_valid)
    elif result.status == "pruned":
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    else:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
