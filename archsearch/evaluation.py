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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import torch

import tasks as task_suite
from archsearch import zoo
from archsearch.cell import Cell, parse_cell
from archsearch.hparams import Space, get_space, make_study
from archsearch.records import TrialResult, trial_seed
from archsearch.spec import DEFAULT_PRESET, DEFAULT_SPACE
from archsearch.train import StepCallback, TrainSettings, train_trial

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
    higher_is_better: bool
    space: str
    seed: int
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
        pick = max if self.higher_is_better else min
        return pick(finished, key=lambda t: t.metric_valid)

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "cell": self.cell_name,
            "cell_hash": self.cell_hash,
            "cell_text": self.cell_text,
            "task": self.task,
            "preset": self.preset,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "space": self.space,
            "seed": self.seed,
            "seconds": self.seconds,
            "trials": [t.to_dict() for t in self.trials],
            "best": None if best is None else best.to_dict(),
        }


def load_cell(spec: str | Cell) -> Cell:
    """A cell from a zoo name, a path to a cell file, or cell text; ``ValueError`` (a
    ``CellError`` for bad text) when it is none of these or its file can't be read."""
    if isinstance(spec, Cell):
        return spec
    if "\n" in spec or spec.lstrip().startswith("cell "):
        return parse_cell(spec)
    path = Path(spec)
    if path.is_dir() and spec not in zoo.names():
        raise ValueError(f"{spec!r} is a folder; give a zoo name, a cell file or cell text")
    if spec.endswith(".cell") or (path.suffix and path.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            why = getattr(error, "strerror", None) or "not UTF-8 text"
            raise ValueError(f"cannot read the cell file {spec!r}: {why}") from None
        return parse_cell(text)
    return zoo.get(spec)


@functools.lru_cache(maxsize=8)
def build_task(name: str, preset: str, seed: int, overrides: tuple[tuple[str, Any], ...]):
    """A task, built once per process: a worker evaluating many cells on one task
    generates (or loads) its data once. Tasks are read-only once built."""
    return task_suite.get(name, preset=preset, seed=seed, **dict(overrides))


def evaluate(
    cell: str | Cell,
    task: str,
    *,
    preset: str = DEFAULT_PRESET,
    trials: int = 4,
    space: str | Space = DEFAULT_SPACE,
    sampler: str = "random",
    pruner: str | None = None,
    seed: int = 0,
    data_seed: int | None = None,
    repeat: int = 0,
    fixed: Mapping[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
    threads: int = 1,
    settings: TrainSettings | None = None,
    on_trial: TrialCallback | None = None,
    on_step: StepCallback | None = None,
) -> Evaluation:
    """Train ``cell`` on ``task`` with ``trials`` sampled hyperparameter settings.

    ``fixed`` pins hyperparameters (validated against the space); ``overrides``
    changes task knobs of the preset (``hidden_size=64``). ``data_seed`` (default
    ``seed``) seeds the task's data alone, so a re-evaluation with new settings
    can keep the same examples. ``repeat`` (0, 1, ...) trains the same settings on the
    same data again with other initialisation and batch-order seeds. ``threads`` sets
    torch's intra-op threads for this process (several evaluations may share a
    machine).
    """
    if trials < 1:
        raise ValueError(f"trials must be at least 1, not {trials}")
    cell = load_cell(cell)
    space = get_space(space)
    fixed = space.check_fixed(fixed or {})
    the_task = build_task(
        task,
        preset,
        seed if data_seed is None else data_seed,
        tuple(sorted((overrides or {}).items())),
    )
    torch.set_num_threads(threads)
    study = make_study(
        higher_is_better=the_task.higher_is_better, sampler=sampler, pruner=pruner, seed=seed
    )
    evaluation = Evaluation(
        cell_text=cell.to_text(),
        cell_hash=cell.canonical_hash(),
        cell_name=cell.name,
        task=the_task.name,
        preset=preset,
        metric=the_task.metric,
        higher_is_better=the_task.higher_is_better,
        space=space.name,
        seed=seed,
    )
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
                settings=settings or TrainSettings(),
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
