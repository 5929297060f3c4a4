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


def searcher_for(config: Any) -> Searcher:
    """The searcher a run spec describes (a ``RunSpec``, or its stored config as a dict, where
    settings a run predates take their defaults): the driver, the spec's checks and ``show``
    all make it here."""
    from archsearch.spec import PREDATED

    if isinstance(config, dict):

        def get(key: str, default: Any) -> Any:
            return config.get(key, PREDATED.get(key, default))

    else:

        def get(key: str, default: Any) -> Any:
            return getattr(config, key)

    return make_searcher(
        get("searcher", "jozefowicz"),
        tasks=list(get("tasks", ())),
        trials=get("trials", 1),
        seed=get("seed", 0),
        preset=get("preset", "quick"),
        repeats=get("repeats", 1),
        rungs=get("rungs", 1),
        eta=get("eta", 3),
        **get("searcher_options", {}),
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
