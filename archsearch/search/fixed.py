"""A fixed list of cells, each evaluated once on every task: the study's comparisons and ablations.

Not a search strategy (it ends), but it runs through the same driver, executor
and store as one, so a comparison is resumable and lands in the same tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archsearch.cell import parse_cell
from archsearch.search.base import Searcher


class FixedSearch(Searcher):
    name = "fixed"
    finite = True

    def __init__(self, *, cells: Sequence[str], **common: Any) -> None:
        """``cells`` are zoo names or cell texts; the reference is evaluated too."""
        super().__init__(**common)
        self.cell_specs = list(cells)
        self.started = False

    def propose(self) -> None:
        if self.started:
            return
        self.started = True
        from archsearch import zoo

        names = [c for c in self.cell_specs if c in zoo.names()]
        digests = self.start(names)
        for spec in self.cell_specs:
            if spec in zoo.names():
                continue
            digest = self.add_cell(parse_cell(spec))
            if digest not in digests:
                digests.append(digest)
                for task in self.tasks:
                    self.enqueue(digest, task, purpose="candidate")

    def extra_state(self) -> dict[str, Any]:
        return {"started": self.started}

    def load_extra_state(self, extra: dict[str, Any]) -> None:
        self.started = extra["started"]
