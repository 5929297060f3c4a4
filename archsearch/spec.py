"""What defines a run (``RunSpec``) and what it runs on (``Resources``): plain, checked data.

A ``RunSpec`` holds everything that changes a run's results: its tasks and
preset, the searcher and its options, how each evaluation samples and trains
(space, sampler, pruner, fixed hyperparameters, repeats, backend), the budget
and the seed. ``Resources`` hold what does not: workers, CPUs and GPUs per
evaluation, the Ray address, a time limit, the store. The spec checks every
value when it is made, so a bad one fails before a run is created or anything
trained. It round-trips through JSON (the store keeps it as the run's config)
and TOML (``archsearch search --config run.toml``):

    name = "evo"
    searcher = "evolution"
    tasks = ["arith", "xml"]
    budget = "10m"
    [fixed]
    layers = 1

This module is the one place that owns the defaults; each says why.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from archsearch.rungs import Rungs
from archsearch.spec_toml import dumps_toml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

# The main job's choices: minutes on a laptop, the paper's procedure, Adam.
DEFAULT_SEARCHER = "jozefowicz"  # the paper's procedure
# Cheapest first, by measured cost (tasks/measured.py); music is held out for testing.
DEFAULT_TASKS = ("arith", "ptb", "xml")
DEFAULT_PRESET = "quick"  # trains in seconds to a minute per trial on a CPU
# Adam with a log-uniform learning rate: at laptop budgets the paper's SGD grid
# ("jozefowicz") leaves most models untrained (results/findings-quick-adam).
DEFAULT_SPACE = "adam"
# The whole run, confirmation included: the search stops proposing in time to confirm.
DEFAULT_BUDGET = "13m"
# Successive halving (archsearch.rungs): two rungs, each three times the one below, so a
# laptop's main job sees several times more candidates than it could train in full.
DEFAULT_RUNGS = 2
DEFAULT_ETA = 3  # Optuna's HyperbandPruner; Ray Tune's ASHA takes 4
# The top rung trains a third of the preset: confirming three cells at quick on the three
# default tasks twice takes 10 minutes of a 2-core laptop (tasks/measured.py), more than
# the main job has; at a third it takes about 4. --top-share 1 confirms at the preset.
DEFAULT_TOP_SHARE = 1 / 3
# Confirmation (archsearch.confirm): the best cell against both baselines, paired repeats.
DEFAULT_CONFIRM = 1
DEFAULT_CONFIRM_REPEATS = 2  # the fewest that give an interval; verdicts say what more needs
# Equivalence margin of relative performance: a repeat at quick moves arith and xml
# accuracy by about 3% (tasks/measured.py), so closer than that is not a difference.
DEFAULT_MARGIN = 0.03


@dataclass(frozen=True)
class RunSpec:
    """Everything that defines a run. Checked on construction (``ValueError`` naming the value)."""

    name: str = "default"  # the run in the store; the same name resumes it
    tasks: tuple[str, ...] = DEFAULT_TASKS
    preset: str = DEFAULT_PRESET
    searcher: str = DEFAULT_SEARCHER
    # The searcher's own options, e.g. {"cells": [...]} for "fixed", {"threshold": 0.0}.
    searcher_options: dict[str, Any] = field(default_factory=dict)
    # One setting per (cell, task): a laptop search ranks more cells than it re-tries
    # settings; paper runs ask for more.
    trials: int = 1
    space: str = DEFAULT_SPACE
    sampler: str = "random"  # random search meets every cell with the same settings
    pruner: str = "none"  # few trials per cell: too few for a pruner to judge
    fixed: dict[str, Any] = field(default_factory=dict)  # hyperparameters not sampled
    overrides: dict[str, Any] = field(default_factory=dict)  # task knobs, e.g. hidden_size
    repeats: int = 1  # trainings of each evaluation: same settings and data, other init seeds
    backend: str = "torchscript"  # the fast one; "eager" is for debugging
    # Evaluations (40), or wall time of this invocation ("600s", "10m", "2h"), or "none"
    # (a fixed list of cells ends by itself).
    budget: str = DEFAULT_BUDGET
    seed: int = 0  # of the searcher, the sampling and the data
    rungs: int = DEFAULT_RUNGS  # training lengths (1: no rungs)
    eta: int = DEFAULT_ETA  # each rung trains eta times longer; its best 1/eta go up
    top_share: float = DEFAULT_TOP_SHARE  # of the preset's steps, at the top rung
    confirm: int = DEFAULT_CONFIRM  # best cells trained again against the baselines (0: none)
    confirm_repeats: int = DEFAULT_CONFIRM_REPEATS  # paired repeats of the confirmation
    margin: float = DEFAULT_MARGIN  # relative performance within 1 ± margin: equivalent

    def __post_init__(self) -> None:
        from archsearch.spec_check import check

        for name, value in check(self).items():
            object.__setattr__(self, name, value)

    # -- budget --------------------------------------------------------------------------------
    @property
    def max_evaluations(self) -> int | None:
        return parse_budget(self.budget)[0]

    @property
    def max_seconds(self) -> float | None:
        return parse_budget(self.budget)[1]

    @property
    def rung_plan(self) -> Rungs:
        return Rungs(self.rungs, self.eta, self.top_share)

    # -- identity and storage ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (the run's stored config)."""
        data = asdict(self)
        data["tasks"] = list(self.tasks)
        return data

    def identity(self) -> dict[str, Any]:
        """What must match to resume a run: all but its name and budget (which may change)."""
        data = self.to_dict()
        for key in RESUMABLE:
            data.pop(key)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        """A spec from plain data; an unknown key raises, listing the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown run setting(s) {unknown}; known: {', '.join(sorted(known))}")
        values = dict(data)
        if "tasks" in values:
            values["tasks"] = _tasks(values["tasks"])
        if "budget" in values:
            values["budget"] = str(values["budget"])
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        return cls.from_dict(json.loads(text))

    def to_toml(self) -> str:
        return dumps_toml(self.to_dict())

    @classmethod
    def from_toml(cls, text: str) -> RunSpec:
        try:
            return cls.from_dict(tomllib.loads(text))
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"not valid TOML: {error}") from None

    @classmethod
    def load(cls, path: str | Path) -> RunSpec:
        """A spec from a ``.toml`` or ``.json`` file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ValueError(f"cannot read {path}: {error.strerror}") from None
        return cls.from_json(text) if path.suffix == ".json" else cls.from_toml(text)

    def replace(self, **changes: Any) -> RunSpec:
        """A copy with ``changes`` (checked again)."""
        return replace(self, **changes)


# May change when a run is resumed.
RESUMABLE = ("name", "budget")

# What a run stored before rungs and confirmation existed meant by their absence: one rung,
# the whole preset, nothing confirmed. It resumes, and reads, as that.
PREDATED = {
    "rungs": 1,
    "eta": DEFAULT_ETA,
    "top_share": 1.0,
    "confirm": 0,
    "confirm_repeats": DEFAULT_CONFIRM_REPEATS,
    "margin": DEFAULT_MARGIN,
}


def stored_value(config: dict[str, Any], key: str) -> Any:
    """A setting of a stored run's config; one the run predates, as it meant then."""
    if key in config:
        return config[key]
    return PREDATED.get(key, _default_identity().get(key))


def _default_identity() -> dict[str, Any]:
    return RunSpec().identity()


@dataclass(frozen=True)
class Resources:
    """Where and how a run's evaluations run; none of it changes the results."""

    workers: int | None = None  # evaluations at once; None: as many as the CPUs allow
    cpus_per_eval: float = 1.0  # one core per evaluation: small models don't scale further
    gpus_per_eval: float = 0.0  # fractions share a GPU
    address: str | None = None  # a Ray cluster ("auto"); None: RAY_ADDRESS or a local instance
    time_limit: float | None = None  # seconds before an evaluation is cancelled (timeout)
    storage: str | None = None  # SQLAlchemy URL; None: sqlite:///results/archsearch.db
    in_process: bool = False  # no Ray: one evaluation at a time, in this process
    threads: int | None = None  # torch threads per evaluation; None: the CPUs it was given
    max_retries: int = 2  # Ray retries of an evaluation whose worker died
    # Copy an evaluation another run of the store committed with the same settings and
    # seed instead of training it again (archsearch/store/reuse.py).
    reuse: bool = True

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, not {self.workers}")
        if not self.cpus_per_eval > 0:
            raise ValueError(f"cpus_per_eval must be above 0, not {self.cpus_per_eval}")
        if not self.gpus_per_eval >= 0:
            raise ValueError(f"gpus_per_eval must be 0 or more, not {self.gpus_per_eval}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError(f"time_limit must be above 0 seconds, not {self.time_limit}")
        if self.threads is not None:
            check_threads(self.threads)
        if self.storage is not None and not self.storage.strip():
            raise ValueError("storage is empty: give a store URL, or leave it out for the default")

    @property
    def eval_threads(self) -> int:
        return self.threads or min(MAX_THREADS, max(1, int(self.cpus_per_eval)))


# More torch threads than this only oversubscribes the machine (and a huge number aborts
# inside the OpenMP runtime): four per core leaves room for hyperthreads and I/O waits.
MAX_THREADS = 4 * (os.cpu_count() or 1)


def check_threads(threads: int) -> None:
    """Torch threads per evaluation: 1 to ``MAX_THREADS``."""
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(
            f"threads must be 1 to {MAX_THREADS} (4 per CPU of this machine), not {threads}"
        )


def parse_budget(text: str | int) -> tuple[int | None, float | None]:
    """``"50"`` -> 50 evaluations; ``"10m"``, ``"600s"``, ``"2h"`` -> seconds; ``"none"``."""
    text = str(text).strip().lower()
    units = {"s": 1, "m": 60, "h": 3600}
    if text == "none":
        return None, None
    try:
        if text and text[-1] in units:
            seconds = float(text[:-1]) * units[text[-1]]
            if seconds > 0 and math.isfinite(seconds):
                return None, seconds
        elif int(text) > 0:
            return int(text), None
    except ValueError:
        pass
    raise ValueError(
        f"budget {text!r}: give evaluations (e.g. 40), time (e.g. 600s, 10m, 2h) or none"
    )


def _tasks(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(t.strip() for t in value.split(",") if t.strip())
    return tuple(value)
