"""Fidelity: does a cheap evaluation order cells as full training does? Measured, not claimed.

panel = sample_across(nasbench_panel("../shared/data/nasbench-nlp-wt2/logs.jsonl"), 24)
result = measure_fidelity(panel, task="ptb", budget=Budget("quick"), seeds=(0, 1))
print("\\n".join(summary_lines(result)))
write_fidelity_report(result, "results/fidelity/ptb-quick")
"""

from archsearch.fidelity.measures import Agreement, agreement, seed_to_seed, top_k_overlap
from archsearch.fidelity.panel import (
    PanelCell,
    cell_panel,
    nasbench_panel,
    sample_across,
    sample_held_out,
    with_mutants,
)
from archsearch.fidelity.report import summary_lines, write_fidelity_report
from archsearch.fidelity.run import Budget, FidelityResult, measure_fidelity

__all__ = [
    "Agreement",
    "Budget",
    "FidelityResult",
    "PanelCell",
    "agreement",
    "cell_panel",
    "measure_fidelity",
    "nasbench_panel",
    "sample_across",
    "sample_held_out",
    "seed_to_seed",
    "summary_lines",
    "top_k_overlap",
    "with_mutants",
    "write_fidelity_report",
]
