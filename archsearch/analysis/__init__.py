"""Analysis: rankings, gate importance, hyperparameter importance, plots and the report."""

from archsearch.analysis.importance import hyperparameter_importance
from archsearch.analysis.tables import (
    best_trials,
    gate_importance,
    importance_order,
    lineage_depths,
    ranking,
)

__all__ = [
    "best_trials",
    "gate_importance",
    "hyperparameter_importance",
    "importance_order",
    "lineage_depths",
    "ranking",
]
