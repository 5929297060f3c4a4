"""Registries by name that fail loudly (after Ray Tune's ``create_searcher``).

Cells in the zoo, tasks, searchers and hyperparameter spaces are looked up by
name; an unknown name raises ``UnknownNameError`` listing the valid names, and
registering a name twice is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError, ValueError):
    """An unknown name was asked of a registry. The message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    """Named entries of one kind (``kind`` names them in errors: "task", "cell" ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, entry: T, *, aliases: tuple[str, ...] = ()) -> T:
        for key in (name, *aliases):
            if key in self._entries or key in self._aliases:
                raise ValueError(f"{self.kind} {key!r} is registered already")
        self._entries[name] = entry
        for alias in aliases:
            self._aliases[alias] = name
        return entry

    def canonical(self, name: str) -> str:
        """The registered name for ``name`` or one of its aliases."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        valid = ", ".join(self.names())
        extra = f" (aliases: {', '.join(sorted(self._aliases))})" if self._aliases else ""
        raise UnknownNameError(f"unknown {self.kind} {name!r}; valid names: {valid}{extra}")

    def get(self, name: str) -> T:
        return self._entries[self.canonical(name)]

    def names(self) -> list[str]:
        """Registered names in registration order (aliases left out)."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
