"""Search strategies, ask/tell, one file each over ``Searcher``; registered by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from archsearch.registry import Registry
from archsearch.search.base import Outcome, Proposal, Searcher
from archsearch.search.evolution import EvolutionSearch
from archsearch.search.fixed import FixedSearch
from archsearch.search.jozefowicz import JozefowiczSearch
from archsearch.search.random_search import RandomSearch

if TYPE_CHECKING:
    from archsearch.spec import RunSpec

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


def searcher_for(spec: RunSpec) -> Searcher:
    """The searcher a run spec describes: the driver, the spec's checks and ``show`` all
    make it here (a stored run's config: ``RunSpec.from_stored``)."""
    return make_searcher(
        spec.searcher,
        tasks=list(spec.tasks),
        trials=spec.trials,
        seed=spec.seed,
        preset=spec.preset,
        repeats=spec.repeats,
        rungs=spec.rungs,
        eta=spec.eta,
        **spec.searcher_options,
    )


__all__ = [
    "FIXED",
    "SEARCHERS",
    "FixedSearch",
    "Outcome",
    "Proposal",
    "Searcher",
    "make_searcher",
    "searcher_for",
]
