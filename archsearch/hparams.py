"""Hyperparameter spaces, and how Optuna samples them.

A ``Space`` names an optimiser and a distribution per hyperparameter. Two are
registered:

- ``jozefowicz``: the space one reproduction attributes to the paper (SGD):
  init scale {0.3, 0.7, 1, 1.4, 2, 2.8}, learning rate {0.1, 0.2, 0.3, 0.5, 1,
  2, 5}, layers {1, 2, 3, 4}, max gradient norm {1, 2.5, 5, 10, 20}.
- ``adam``: a modern default: Adam with a log-uniform learning rate.

A user can build their own ``Space`` and pass it wherever a name is accepted.
Sampling goes through Optuna's ask/tell interface: random search by default,
TPE as an option, and an optional pruner fed by intermediate validation
reports.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna

from archsearch.direction import Direction
from archsearch.registry import Registry


class HyperparameterError(ValueError):
    """A fixed hyperparameter value is unknown to the space or outside it."""


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of values (``suggest_categorical``)."""

    values: tuple[Any, ...]

    def suggest(self, trial: optuna.Trial, name: str) -> Any:
        return trial.suggest_categorical(name, self.values)

    def check(self, name: str, value: Any) -> Any:
        for candidate in self.values:
            if _same(candidate, value):
                return candidate
        raise HyperparameterError(
            f"{name}={value} is not in the space; choose one of {list(self.values)}"
        )

    def describe(self) -> str:
        return "{" + ", ".join(str(v) for v in self.values) + "}"


@dataclass(frozen=True)
class LogUniform:
    """A float drawn log-uniformly from ``[low, high]`` (``suggest_float(log=True)``)."""

    low: float
    high: float

    def suggest(self, trial: optuna.Trial, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high, log=True)

    def check(self, name: str, value: Any) -> float:
        number = _number(name, value)
        if not self.low <= number <= self.high:
            raise HyperparameterError(
                f"{name}={value} is outside the space; choose a value in [{self.low}, {self.high}]"
            )
        return number

    def describe(self) -> str:
        return f"log-uniform [{self.low:g}, {self.high:g}]"


Distribution = Choice | LogUniform


@dataclass(frozen=True)
class Space:
    """A hyperparameter space: the optimiser and one distribution per hyperparameter.

    Every space samples ``lr`` (learning rate), ``init_scale`` (the ``s`` of the
    initialisation rule, see ``archsearch.compile``), ``layers`` (stacked cell
    layers) and ``max_grad_norm`` (gradient-norm clipping).
    """

    name: str
    optimizer: str  # "sgd" or "adam"
    params: Mapping[str, Distribution]
    description: str = ""
    # Values used when a hyperparameter is not sampled (a user space may leave one out).
    defaults: Mapping[str, Any] = field(
        default_factory=lambda: {"lr": 1.0, "init_scale": 1.0, "layers": 1, "max_grad_norm": 5.0}
    )

    def __post_init__(self) -> None:
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', not {self.optimizer!r}")

    def check_fixed(self, fixed: Mapping[str, Any]) -> dict[str, Any]:
        """Validate values a user fixed (``--set lr=0.5``), converting text to numbers."""
        checked = {}
        for name, value in fixed.items():
            if name not in self.params:
                known = ", ".join(self.params)
                raise HyperparameterError(
                    f"unknown hyperparameter {name!r} for space {self.name!r}; known: {known}"
                )
            checked[name] = self.params[name].check(name, value)
        return checked

    def widened(self, fixed: Mapping[str, Any]) -> Space:
        """This space, widened to hold each fixed value it lacks (NAS-Bench-NLP's clipping at
        0.25, say), for a probe that tries settings a search would not sample; a name the
        space does not have is still refused."""
        params = dict(self.params)
        for name, value in fixed.items():
            try:
                self.check_fixed({name: value})
            except HyperparameterError:
                if name not in params:
                    raise
                params[name] = Choice((value,))
        return dataclasses.replace(self, name=f"{self.name}-widened", params=params)

    def suggest(self, trial: optuna.Trial, fixed: Mapping[str, Any] = {}) -> dict[str, Any]:
        """Sample one setting through an Optuna trial; fixed values are not sampled."""
        fixed = self.check_fixed(fixed)
        params = dict(self.defaults)
        for name, distribution in self.params.items():
            params[name] = fixed[name] if name in fixed else distribution.suggest(trial, name)
        return params

    def describe(self) -> dict[str, str]:
        return {name: d.describe() for name, d in self.params.items()}


def _number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise HyperparameterError(f"{name}={value} is not a number") from None
    if not math.isfinite(number):
        raise HyperparameterError(f"{name}={value} is not a finite number")
    return number


def _same(candidate: Any, value: Any) -> bool:
    """Whether a user's value (possibly text from the command line) names ``candidate``."""
    if isinstance(candidate, (int, float)) and not isinstance(candidate, bool):
        try:
            return float(value) == float(candidate)
        except (TypeError, ValueError):
            return False
    return str(value) == str(candidate)


SPACES: Registry[Space] = Registry("hyperparameter space")
SPACES.register(
    "jozefowicz",
    Space(
        name="jozefowicz",
        optimizer="sgd",
        description="SGD; the grid one reproduction attributes to Jozefowicz et al. (2015)",
        params={
            "init_scale": Choice((0.3, 0.7, 1.0, 1.4, 2.0, 2.8)),
            "lr": Choice((0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)),
            "layers": Choice((1, 2, 3, 4)),
            "max_grad_norm": Choice((1.0, 2.5, 5.0, 10.0, 20.0)),
        },
    ),
)
SPACES.register(
    "adam",
    Space(
        name="adam",
        optimizer="adam",
        description="Adam with a log-uniform learning rate: a modern default",
        params={
            "lr": LogUniform(3e-4, 1e-2),
            "init_scale": Choice((0.5, 1.0, 1.4, 2.0)),
            "layers": Choice((1, 2)),
            "max_grad_norm": Choice((1.0, 5.0, 10.0)),
        },
    ),
)


def get_space(space: str | Space) -> Space:
    """A space by name (an unknown name lists the registered ones), or the space itself."""
    return space if isinstance(space, Space) else SPACES.get(space)


SAMPLERS = ("random", "tpe")
PRUNERS = ("none", "median", "hyperband")


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}; valid names: {', '.join(SAMPLERS)}")


def make_pruner(name: str | None) -> optuna.pruners.BasePruner:
    if name in (None, "none"):
        return optuna.pruners.NopPruner()
    if name == "median":
        # Wait for two trials before pruning: the study samples few settings per cell.
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner()
    raise ValueError(f"unknown pruner {name!r}; valid names: {', '.join(PRUNERS)}")


def make_study(*, direction: Direction, sampler: str, pruner: str | None, seed: int):
    """An in-memory Optuna study for one (cell, task) evaluation."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        direction=direction.name,
        sampler=make_sampler(sampler, seed),
        pruner=make_pruner(pruner),
    )
