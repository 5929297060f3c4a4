"""Short readable names for cells a search made: the ancestor's name, the generation, a hash.

A mutant of ``gru`` is ``gru-m1-3f2a``, its own mutant ``gru-m2-9c1b``: where it
comes from, how far, and enough of its canonical hash to tell it apart (the
full hash stays the cell's identity in the store).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class _Known(Protocol):
    name: str
    parent: str | None


def readable_name(cells: Mapping[str, _Known], digest: str) -> str:
    """The name of cell ``digest`` among ``cells`` (hash -> anything with name and parent)."""
    entry = cells[digest]
    generation, root, seen = 0, digest, {digest}
    while cells[root].parent in cells and cells[root].parent not in seen:
        root = cells[root].parent
        seen.add(root)
        generation += 1
    if generation == 0:
        return entry.name if entry.parent is None else f"m-{digest[:6]}"
    return f"{cells[root].name}-m{generation}-{digest[:4]}"
