"""The task registry: names, presets, construction and description.

``get(name, preset=..., seed=..., **knobs)`` builds a configured task; unknown
names raise ``UnknownNameError`` and unknown presets or knobs ``TaskError``,
both ``ValueError``s whose messages list the valid choices.
"""

from __future__ import annotations

from typing import Any

from archsearch.registry import Registry
from tasks.base import PRESETS, Task, TaskConfig, make_config

TASKS: Registry[tuple[type[Task], dict[str, Any]]] = Registry("task")


def register(name: str, cls: type[Task], *, aliases: tuple[str, ...] = (), **fixed: Any) -> None:
    """Register ``cls`` under ``name``; ``fixed`` are constructor arguments (e.g. a dataset)."""
    TASKS.register(name, (cls, fixed), aliases=aliases)


def names() -> list[str]:
    """Registered task names, in registration order (aliases left out)."""
    return TASKS.names()


def get(name: str, *, preset: str = "quick", seed: int = 0, **overrides: Any) -> Task:
    """The task ``name`` at ``preset`` with knob ``overrides``; its data come from ``seed``."""
    canonical = TASKS.canonical(name)
    cls, fixed = TASKS.get(canonical)
    return cls(canonical, task_config(name, preset=preset, **overrides), seed=seed, **fixed)


def task_config(name: str, *, preset: str = "quick", **overrides: Any) -> TaskConfig:
    """The knob values of task ``name`` at ``preset`` with ``overrides``, without its data."""
    cls, fixed = TASKS.get(TASKS.canonical(name))
    return make_config(cls.config_class, cls.presets_for(**fixed), preset, overrides)


def directions(task_names) -> dict[str, bool]:
    """Whether higher is better, per task, without building any data (unknown names raise)."""
    return {name: TASKS.get(name)[0].higher_is_better for name in task_names}


def describe(name: str, *, preset: str = "quick", **overrides: Any) -> dict[str, Any]:
    """JSON-able facts about a task at ``preset``, with real split sizes (builds the data)."""
    return get(name, preset=preset, **overrides).describe()


__all__ = ["PRESETS", "TASKS", "describe", "directions", "get", "names", "register"]
