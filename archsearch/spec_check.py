"""Check every value of a ``RunSpec`` against the registries, before anything is stored or trained.

Each check names the value and lists the valid choices (the registries fail
loudly). ``check`` returns the values in their normal form: registered task
names, fixed hyperparameters as the space's values.
"""

from __future__ import annotations

import operator
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archsearch.spec import RunSpec

# A run name becomes a folder name (results/report-NAME): no path separator, no leading dot.
NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")
SEED_LIMIT = 2**31  # seeds are stored as 32-bit integers and seed numpy and torch


def check(spec: RunSpec) -> dict[str, Any]:
    """``spec``'s values, checked; the ones to replace by their normal form."""
    import tasks as task_suite
    from archsearch.hparams import PRUNERS, SAMPLERS, get_space
    from archsearch.spec import parse_budget

    check_name(spec.name)
    names = tuple(task_suite.TASKS.canonical(str(t)) for t in spec.tasks)
    if not names:
        raise ValueError("a run needs at least one task")
    if len(set(names)) != len(names):
        raise ValueError(f"tasks {list(spec.tasks)} name a task twice")
    if spec.preset not in task_suite.PRESETS:
        valid = ", ".join(task_suite.PRESETS)
        raise ValueError(f"unknown preset {spec.preset!r}; valid: {valid}")
    for name in names:
        _check_knobs(name, spec.preset, spec.overrides)
    _integer(spec, "trials", 1)
    _integer(spec, "repeats", 1)
    _integer(spec, "rungs", 1)
    _integer(spec, "eta", 2)
    spec.rung_plan.fraction(0)  # Rungs checks top_share
    _integer(spec, "confirm", 0)
    _integer(spec, "confirm_repeats", 2)
    if isinstance(spec.margin, bool) or not (
        isinstance(spec.margin, int | float) and 0 < spec.margin < 1
    ):
        raise ValueError(f"margin must be a number between 0 and 1, not {spec.margin!r}")
    _integer(spec, "seed", 0)
    check_seed(spec.seed)
    fixed = get_space(spec.space).check_fixed(dict(spec.fixed))
    if spec.sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {spec.sampler!r}; valid names: {', '.join(SAMPLERS)}")
    if spec.pruner not in PRUNERS:
        raise ValueError(f"unknown pruner {spec.pruner!r}; valid names: {', '.join(PRUNERS)}")
    check_backend(spec.backend)
    parse_budget(spec.budget)
    _check_searcher(spec, names)
    normal = {"tasks": names, "fixed": fixed, "budget": str(spec.budget)}
    if spec.searcher == "fixed":
        # A fixed list of cells (a finding, a comparison) is trained in full and judged by
        # its own analysis: no rungs to climb, nothing to confirm.
        normal.update(rungs=1, top_share=1.0, confirm=0)
    return normal


def check_name(name: object) -> None:
    """A run name: letters, digits, ``-_.``, up to 100 characters, not starting with a dot."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a run needs a non-empty name, got {name!r}")
    if not NAME.fullmatch(name):
        raise ValueError(
            f"run name {name!r}: use up to 100 letters, digits, '-', '_' and '.', "
            f"not starting with '.' (it names the run's report folder)"
        )


def check_seed(seed: int) -> None:
    """A seed the database and the generators take: 0 <= seed < 2**31."""
    if not 0 <= seed < SEED_LIMIT:
        raise ValueError(f"seed must be at least 0 and below 2**31 = {SEED_LIMIT}, not {seed}")


def _integer(spec: RunSpec, name: str, low: int) -> None:
    value = getattr(spec, name)
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, not {value!r}") from None
    if isinstance(value, bool) or number < low:
        raise ValueError(f"{name} must be an integer >= {low}, not {value!r}")


def _check_knobs(task: str, preset: str, overrides: dict[str, Any]) -> None:
    """Task knobs checked against the task's configuration, without building its data."""
    from tasks import TASKS
    from tasks.base import make_config

    cls, fixed = TASKS.get(task)
    make_config(cls.config_class, cls.presets_for(**fixed), preset, dict(overrides))


def check_backend(name: str) -> None:
    """A registered compile backend, or ``ValueError`` listing them."""
    from archsearch.compile.backends import BACKENDS

    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; valid names: {', '.join(BACKENDS)}")


def _check_searcher(spec: RunSpec, names: tuple[str, ...]) -> None:
    """The searcher by name, made once with its options (an unknown option is refused)."""
    from archsearch.search import searcher_for

    options = dict(spec.searcher_options)
    if spec.searcher == "fixed":
        from archsearch.evaluation import load_cell

        cells = options.get("cells")
        if not cells or isinstance(cells, str):
            raise ValueError("the fixed searcher needs searcher_options cells=[name or text, ...]")
        for cell in cells:
            load_cell(cell)
    try:
        searcher_for({**spec.to_dict(), "tasks": list(names)})
    except TypeError as error:
        raise ValueError(f"searcher {spec.searcher!r}: {error}") from None
