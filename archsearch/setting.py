"""One evaluation setting: everything besides the cell, task and seeds that changes a result.

An ``EvalSetting`` is plain data (no torch, no registry): the preset and its knob
overrides, the hyperparameter space with its sampler, pruner and fixed values, the
backend, the data seed, the trials and the repeats. A run spec holds one
(``RunSpec.evaluation``); ``archsearch eval`` and ``archsearch.evaluate`` build one
from their arguments. It is checked once (``spec_check.check_setting``) and resolved
once per task (and rung) into a ``TaskSetting``:

    setting = EvalSetting(preset="quick", overrides={"hidden_size": 64})
    resolved = setting.resolve("arith")         # the task's knob values, checked
    resolved.digest                             # what the store records and reuse compares

The resolved form is what an evaluation receives, what the reuse lookup compares and
what the store records (an evaluation's meta "setting"): two evaluations with equal
digests were trained alike.

This module owns the defaults of an evaluation; each says why.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archsearch.defaults import DEFAULT_BACKEND, DEFAULT_PRESET

if TYPE_CHECKING:
    from archsearch.rungs import Rungs
    from tasks.base import TaskConfig

# Adam with a log-uniform learning rate: at laptop budgets the paper's SGD grid
# ("jozefowicz") leaves most models untrained (results/findings-quick-adam).
DEFAULT_SPACE = "adam"
DEFAULT_SAMPLER = "random"  # random search meets every cell with the same settings
DEFAULT_PRUNER = "none"  # few trials per cell: too few for a pruner to judge
# One setting per (cell, task): a laptop search ranks more cells than it re-tries
# settings; paper runs ask for more.
DEFAULT_TRIALS = 1
DEFAULT_REPEATS = 1  # trainings of each evaluation: same settings and data, other init seeds


@dataclass(frozen=True)
class EvalSetting:
    """How an evaluation samples and trains; ``data_seed`` None: the evaluation's own seed."""

    preset: str = DEFAULT_PRESET
    overrides: Mapping[str, Any] = field(default_factory=dict)  # task knobs, e.g. hidden_size
    space: str = DEFAULT_SPACE
    sampler: str = DEFAULT_SAMPLER
    pruner: str = DEFAULT_PRUNER
    fixed: Mapping[str, Any] = field(default_factory=dict)  # hyperparameters not sampled
    backend: str = DEFAULT_BACKEND
    data_seed: int | None = None
    trials: int = DEFAULT_TRIALS
    repeats: int = DEFAULT_REPEATS

    def __post_init__(self) -> None:
        check_integer("trials", self.trials, 1)
        check_integer("repeats", self.repeats, 1)
        if self.data_seed is not None:
            check_seed(self.data_seed)

    @classmethod
    def of_config(cls, config: Mapping[str, Any]) -> EvalSetting:
        """The setting of a run's config (``RunSpec.to_dict``, or as stored: absent keys
        take their defaults); a run's ``seed`` is its data seed."""
        names = {f.name for f in dataclasses.fields(cls)} - {"data_seed"}
        values = {name: config[name] for name in names if name in config}
        return cls(**values, data_seed=config.get("seed", 0))

    def replace(self, **changes: Any) -> EvalSetting:
        return dataclasses.replace(self, **changes)

    def with_seed(self, seed: int) -> EvalSetting:
        """This setting with its data seed fixed (to ``seed`` where it follows the evaluation's)."""
        return self if self.data_seed is not None else self.replace(data_seed=seed)

    def resolve(self, task: str, rungs: Rungs | None = None, rung: int = 0) -> TaskSetting:
        """This setting for ``task`` at ``rung`` of ``rungs`` (none: the preset itself): the
        task's knob values, checked against its configuration (``TaskError`` names a bad one)."""
        import tasks

        knobs = dict(self.overrides)
        if rungs is not None:
            knobs = rungs.knobs(task, self.preset, knobs, rung)
        name = tasks.TASKS.canonical(task)
        config = tasks.task_config(name, preset=self.preset, **knobs)
        return TaskSetting(name, self, knobs, config)

    def checked(self, task_names: tuple[str, ...] = ()) -> EvalSetting:
        """This setting checked against the registries (``ValueError`` naming a bad value and
        listing the valid ones), in its normal form: fixed values as the space's values."""
        import tasks
        from archsearch.compile.backends import BACKENDS
        from archsearch.hparams import PRUNERS, SAMPLERS, get_space

        if self.preset not in tasks.PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; valid: {', '.join(tasks.PRESETS)}")
        for name in task_names:
            tasks.task_config(name, preset=self.preset, **self.overrides)
        fixed = get_space(self.space).check_fixed(dict(self.fixed))
        for kind, name, valid in (
            ("sampler", self.sampler, SAMPLERS),
            ("pruner", self.pruner, PRUNERS),
            ("backend", self.backend, tuple(BACKENDS)),
        ):
            if name not in valid:
                raise ValueError(f"unknown {kind} {name!r}; valid names: {', '.join(valid)}")
        return self.replace(fixed=fixed, overrides=dict(self.overrides))

    def beyond_budget(self) -> dict[str, Any]:
        """What reaches an evaluation besides its task's knob values (``TaskSetting.config``):
        a knob given at its preset's value is the same budget as the preset."""
        return {
            "space": self.space,
            "sampler": self.sampler,
            "pruner": self.pruner,
            "fixed": dict(self.fixed),
            "backend": self.backend,
            "data_seed": self.data_seed,
        }


@dataclass(frozen=True)
class TaskSetting:
    """An ``EvalSetting`` resolved for one task: its registered name, the knob overrides
    given to it (the rung's included) and the knob values they make."""

    task: str
    setting: EvalSetting
    knobs: Mapping[str, Any]
    config: TaskConfig

    @property
    def budget(self) -> str:
        """A digest of the task's knob values alone (the store's meta "budget")."""
        return config_digest(self.config)

    @property
    def digest(self) -> str:
        """A digest of everything that makes this task's evaluations alike (meta "setting")."""
        return setting_digest(self.budget, self.setting.beyond_budget())


SEED_LIMIT = 2**31  # seeds are stored as 32-bit integers and seed numpy and torch


def check_integer(name: str, value: Any, low: int) -> None:
    """``ValueError`` unless ``value`` is an integer (not a bool) of at least ``low``."""
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, not {value!r}") from None
    if isinstance(value, bool) or number < low:
        raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")


def check_seed(seed: int) -> None:
    """A seed the database and the generators take: 0 <= seed < 2**31."""
    check_integer("seed", seed, 0)
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"seed must be at least 0 and below 2**31 = {SEED_LIMIT}, not {seed}")


def config_digest(config: TaskConfig) -> str:
    text = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def setting_digest(budget: str, beyond: Mapping[str, Any]) -> str:
    """The digest of a task's knob values (``budget``) with the rest of a setting: an
    evaluation stored before settings were digested gets its own from its run's config."""
    return _digest(json.dumps({"budget": budget, **beyond}, sort_keys=True, default=str))


@functools.lru_cache(maxsize=1024)
def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
