"""Search strategies, ask/tell, one file each over ``Searcher``; registered by name."""

from __future__ import annotations

from typing import Any

from archsearch.registry import Registry
from archsearch.search.base import Outcome, Proposal, Searcher
from archsearch.search.evolution import EvolutionSearch
from archsearch.search.fixed import FixedSearch
from archsearch.search.jozefowicz import JozefowiczSearch
from archsearch.search.random_search import RandomSearch

SEARCHERS: Registry[type[Searcher]] = Registry("searcher")
for _cls in (JozefowiczSearch, EvolutionSearch, RandomSearch):
    SEARCHERS.register(_cls.name, _cls)
# Not a strategy: a fixed list of cells (comparisons, ablations), run by the same driver.
FIXED = FixedSearch


def make_searcher(name: str, **options: Any) -> Searcher:
    """A searcher by name (or "fixed"); an unknown name lists the registered ones."""
    if name == FixedSearch.name:
        return FixedSearch(**options)
    return SEARCHERS.get(name)(**options)


__all__ = ["FIXED", "SEARCHERS", "FixedSearch", "Outcome", "Proposal", "Searcher", "make_searcher"]
