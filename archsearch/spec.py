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
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from archsearch.rungs import Rungs
from archsearch.setting import (
    DEFAULT_BACKEND,
    DEFAULT_PRESET,
    DEFAULT_PRUNER,
    DEFAULT_REPEATS,
    DEFAULT_SAMPLER,
    DEFAULT_SPACE,
    DEFAULT_TRIALS,
    EvalSetting,
    check_integer,
    check_seed,
)
from archsearch.spec_toml import dumps_toml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

# The main job's choices: minutes on a laptop, the paper's procedure, Adam.
DEFAULT_SEARCHER = "jozefowicz"  # the paper's procedure
# Cheapest first, by measured cost (tasks/measured.py); music is held out for testing.
DEFAULT_TASKS = ("arith", "ptb", "xml")
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
    # How each evaluation samples and trains (archsearch.setting owns these defaults).
    trials: int = DEFAULT_TRIALS
    space: str = DEFAULT_SPACE
    sampler: str = DEFAULT_SAMPLER
    pruner: str = DEFAULT_PRUNER
    fixed: dict[str, Any] = field(default_factory=dict)  # hyperparameters not sampled
    overrides: dict[str, Any] = field(default_factory=dict)  # task knobs, e.g. hidden_size
    repeats: int = DEFAULT_REPEATS
    backend: str = DEFAULT_BACKEND
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
        # Plain checks only: making a spec imports no torch and builds nothing. What needs
        # the registries (tasks, knobs, space, searcher, backend) is ``checked``'s, which
        # ``launch`` calls before anything is stored or trained.
        for name, value in _plain(self).items():
            object.__setattr__(self, name, value)

    def checked(self) -> RunSpec:
        """This spec checked against the registries, in its normal form (registered task
        names, fixed values as the space's); ``ValueError`` names a bad value."""
        from archsearch.spec_check import check

        normal = check(self)
        changed = {k: v for k, v in normal.items() if getattr(self, k) != v}
        return replace(self, **changed) if changed else self

    @property
    def evaluation(self) -> EvalSetting:
        """The setting every evaluation of this run is trained under (the data seed: ``seed``)."""
        return EvalSetting(
            preset=self.preset,
            overrides=self.overrides,
            space=self.space,
            sampler=self.sampler,
            pruner=self.pruner,
            fixed=self.fixed,
            backend=self.backend,
            data_seed=self.seed,
            trials=self.trials,
            repeats=self.repeats,
        )

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

    @classmethod
    def from_stored(cls, config: dict[str, Any]) -> RunSpec:
        """The spec of a stored run's config, settings it predates as it meant them
        (``PREDATED``); keys of versions before the run spec are left out."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in config.items() if k in known}
        return cls.from_dict({**{k: v for k, v in PREDATED.items() if k not in config}, **values})

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


def _plain(spec: RunSpec) -> dict[str, Any]:
    """The checks that need no registry; the values to replace by their plain form."""
    check_name(spec.name)
    tasks = _tasks(spec.tasks)
    if not tasks:
        raise ValueError("a run needs at least one task")
    if len(set(tasks)) != len(tasks):
        raise ValueError(f"tasks {list(tasks)} name a task twice")
    for name, low in (("rungs", 1), ("eta", 2), ("confirm", 0), ("confirm_repeats", 2)):
        check_integer(name, getattr(spec, name), low)
    spec.rung_plan.fraction(0)  # Rungs checks top_share
    margin = spec.margin
    if isinstance(margin, bool) or not (isinstance(margin, int | float) and 0 < margin < 1):
        raise ValueError(f"margin must be a number between 0 and 1, not {margin!r}")
    check_seed(spec.seed)
    spec.evaluation  # noqa: B018  (EvalSetting checks trials and repeats)
    parse_budget(spec.budget)
    normal: dict[str, Any] = {"tasks": tasks, "budget": str(spec.budget)}
    if spec.searcher == "fixed":
        # A fixed list of cells (a finding, a comparison) is trained in full and judged by
        # its own analysis: no rungs to climb, nothing to confirm.
        normal.update(rungs=1, top_share=1.0, confirm=0)
    return normal


# A run name becomes a folder name (results/report-NAME): no path separator, no leading dot.
NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


def check_name(name: object) -> None:
    """A run name: letters, digits, ``-_.``, up to 100 characters, not starting with a dot."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a run needs a non-empty name, got {name!r}")
    if not NAME.fullmatch(name):
        raise ValueError(
            f"run name {name!r}: use up to 100 letters, digits, '-', '_' and '.', "
            f"not starting with '.' (it names the run's report folder)"
        )


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
    # seconds from an evaluation's submission until it is cancelled (timeout)
    time_limit: float | None = None
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
    return tuple(str(t) for t in value)
