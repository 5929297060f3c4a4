"""What each task's budget costs and how well it ranks cells: measured, not claimed.

One entry per (task, preset), copied from the fidelity reports that
``scripts/fidelity_budgets.sh`` writes (``results/fidelity/<task>-<preset>/fidelity.json``;
a test keeps the two equal). The search's filter chain reads them: tasks are
met cheapest first (``cheapest_first``), and a candidate is dropped at a task
only when it falls below the threshold by more than one repeat's typical move
of the metric there (``noise_margin``), so noise alone does not end a cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    """A budget's measured cost and fidelity (see results/fidelity/)."""

    cpu_seconds: float  # median CPU-seconds of one (cell, trial) on one core
    seed_to_seed: float | None  # Spearman between two seeds over the panel (None: one seed)
    seed_noise: float | None  # median relative move of the metric between two seeds
    spearman: float | None  # against the reference (seed 0; None: no reference)
    reference: str  # what the reference was
    report: str  # the report it comes from


# Measured 2026-12-02 (arith and xml at 3,000 steps; ptb with weight drop 0.25) on the
# project's 2-core machine (Adam lr 0.003, 1 layer, the same setting for every cell);
# results/fidelity/README.md has the panels and everything tried.
MEASURED: dict[tuple[str, str], Measured] = {
    ("arith", "quick"): Measured(
        cpu_seconds=38.8,
        seed_to_seed=0.926,
        seed_noise=0.0301,
        spearman=0.871,
        reference="quick (train_steps=12000) trained here (seed 0)",
        report="results/fidelity/arith-quick",
    ),
    ("xml", "quick"): Measured(  # re-measured 2026-12-07 after the speed work (3b5c3bc)
        cpu_seconds=75.2,
        seed_to_seed=0.896,
        seed_noise=0.0300,
        spearman=0.655,
        reference="quick (train_steps=12000) trained here (seed 0)",
        report="results/fidelity/xml-quick",
    ),
    ("ptb", "quick"): Measured(
        cpu_seconds=54.9,
        seed_to_seed=0.997,
        seed_noise=0.0046,
        spearman=0.707,
        reference="NAS-Bench-NLP final WikiText-2 perplexity",
        report="results/fidelity/ptb-quick",
    ),
}


def measured(task: str, preset: str) -> Measured | None:
    return MEASURED.get((task, preset))


def cheapest_first(tasks: Iterable[str], preset: str) -> list[str]:
    """``tasks`` by measured cost, cheapest first; unmeasured ones after, in their order."""
    tasks = list(tasks)

    def cost(indexed: tuple[int, str]) -> tuple[float, int]:
        figures = measured(indexed[1], preset)
        return (figures.cpu_seconds if figures else float("inf"), indexed[0])

    return [task for _, task in sorted(enumerate(tasks), key=cost)]


def noise_margin(task: str, preset: str) -> float:
    """The relative move of ``task``'s metric between repeats at ``preset`` (0 if unmeasured)."""
    figures = measured(task, preset)
    return figures.seed_noise if figures and figures.seed_noise is not None else 0.0
