"""The task registry: names, presets, construction and description.

``get(name, preset=..., seed=..., **knobs)`` builds a configured task; unknown
names raise ``UnknownNameError`` and unknown presets or knobs ``TaskError``,
both ``ValueError``s whose messages list the valid choices.
"""

from __future__ import annotations

from typing import Any

from archsearch.registry import Registry
from tasks.base import PRESETS, Task, make_config

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
    config = make_config(cls.config_class, cls.presets_for(**fixed), preset, overrides)
    return cls(canonical, config, seed=seed, **fixed)


def describe(name: str, *, preset: str = "quick", **overrides: Any) -> dict[str, Any]:
    """JSON-able facts about a task at ``preset``, with real split sizes (builds the data)."""
    return get(name, preset=preset, **overrides).describe()


__all__ = ["PRESETS", "TASKS", "describe", "get", "names", "register"]
