"""The task registry: names, presets, construction and description.

``get(name, preset=..., seed=..., **knobs)`` builds a configured task; unknown
names raise ``UnknownNameError`` and unknown presets or knobs ``TaskError``,
both ``ValueError``s whose messages list the valid choices.

Besides the registered names, a lookup resolves two more kinds of name itself,
so that they mean the same in every process that looks them up (the driver and
each Ray worker: only the name travels):

- ``PREFIX:REST`` for a registered source (``text:PATH``, ``seq:FILE.npz``;
  ``tasks.text``, ``tasks.sequences``): the source checks the data (a bad
  file raises ``TaskError`` here, before anything runs) and the task is
  registered under its canonical name (the absolute path).
- a name an installed package adds through the entry-point group
  ``archsearch.tasks`` (``name = "module:TaskClass"``): installed plugins
  are looked for whenever a name is not held (and before listing the names
  the first time), so a package installed while a process runs is found.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from typing import Any

from archsearch.defaults import DEFAULT_PRESET, PRESETS
from archsearch.direction import Direction
from archsearch.registry import Registry, UnknownNameError
from tasks.base import Task, TaskConfig, TaskError, make_config

PLUGIN_GROUP = "archsearch.tasks"
# A source's resolver: the text after "PREFIX:" -> (canonical name, task class, fixed arguments).
Resolver = Callable[[str], tuple[str, type[Task], dict[str, Any]]]


class TaskRegistry(Registry[tuple[type[Task], dict[str, Any]]]):
    """The registry of tasks, which also resolves source names and loads plugins on lookup."""

    def __init__(self) -> None:
        super().__init__("task")
        self._sources: dict[str, tuple[Resolver, str]] = {}
        self._plugins: set[str] = set()  # entry points registered already
        self._listed = False

    def add_source(self, prefix: str, resolve: Resolver, *, form: str) -> None:
        """Resolve names ``prefix:...`` with ``resolve``; ``form`` shows the form in errors."""
        self._sources[prefix] = (resolve, form)

    def canonical(self, name: str) -> str:
        if name in self:
            return super().canonical(name)
        prefix, colon, rest = str(name).partition(":")
        if colon and prefix in self._sources:
            canonical, cls, fixed = self._sources[prefix][0](rest)
            if canonical not in self:
                self.register(canonical, (cls, fixed))
            return canonical
        self.load_plugins()
        try:
            return super().canonical(name)
        except UnknownNameError as error:
            forms = ", ".join(form for _, form in self._sources.values())
            raise UnknownNameError(f"{error}; or {forms}") from None

    def names(self) -> list[str]:
        if not self._listed:
            self._listed = True
            self.load_plugins()
        return super().names()

    def load_plugins(self) -> None:
        """Register the tasks of installed packages (entry-point group ``archsearch.tasks``)."""
        for point in importlib.metadata.entry_points(group=PLUGIN_GROUP):
            if point.name in self._plugins:
                continue
            where = f"task plugin {point.name!r} ({point.value}, package {_package(point)})"
            try:
                cls = point.load()
            except Exception as error:  # any import error of someone else's package
                raise TaskError(f"{where} failed to load: {error}") from error
            if not (isinstance(cls, type) and issubclass(cls, Task)):
                raise TaskError(f"{where} is not a subclass of tasks.Task")
            if point.name in self:
                raise TaskError(f"{where}: the name is taken by a task registered already")
            self.register(point.name, (cls, {}))
            self._plugins.add(point.name)


def _package(point: importlib.metadata.EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    return dist.name if dist is not None else "unknown"


TASKS = TaskRegistry()


def register(name: str, cls: type[Task], *, aliases: tuple[str, ...] = (), **fixed: Any) -> None:
    """Register ``cls`` under ``name``; ``fixed`` are constructor arguments (e.g. a dataset)."""
    TASKS.register(name, (cls, fixed), aliases=aliases)


def names() -> list[str]:
    """Registered task names, in registration order (aliases left out), plugins included."""
    return TASKS.names()


def get(name: str, *, preset: str = DEFAULT_PRESET, seed: int = 0, **overrides: Any) -> Task:
    """The task ``name`` at ``preset`` with knob ``overrides``; its data come from ``seed``."""
    canonical = TASKS.canonical(name)
    cls, fixed = TASKS.get(canonical)
    return cls(canonical, task_config(name, preset=preset, **overrides), seed=seed, **fixed)


def task_config(name: str, *, preset: str = DEFAULT_PRESET, **overrides: Any) -> TaskConfig:
    """The knob values of task ``name`` at ``preset`` with ``overrides``, without its data."""
    cls, fixed = TASKS.get(TASKS.canonical(name))
    return make_config(cls.config_class, cls.presets_for(**fixed), preset, overrides)


def direction(name: str) -> Direction:
    """Which way task ``name``'s metric improves, without building any data (an unknown
    name raises)."""
    return TASKS.get(name)[0].direction


def describe(name: str, *, preset: str = DEFAULT_PRESET, **overrides: Any) -> dict[str, Any]:
    """JSON-able facts about a task at ``preset``, with real split sizes (builds the data)."""
    return get(name, preset=preset, **overrides).describe()


__all__ = ["PRESETS", "TASKS", "describe", "direction", "get", "names", "register"]
