"""Measure a budget's fidelity: train a panel through ``launch`` and compare its ordering.

Each repeat of the cheap budget is one run of the ``fixed`` searcher (named
``<name>-s<seed>``), and a reference trained here is one more
(``<name>-ref``, and ``<name>-ref-s<seed>`` for each further reference seed), so every
evaluation goes through the normal executor and
store: parallel on Ray, resumable with the same call, nothing trained twice.

Besides the default signal (the trial's validation metric), every signal of
``signals.SIGNALS`` read from the same trials is compared with the reference, one
``SignalAgreement`` each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from archsearch.direction import Direction
from archsearch.fidelity.measures import Agreement, agreement, mean_over_seeds, seed_to_seed
from archsearch.fidelity.panel import PanelCell
from archsearch.fidelity.signals import SIGNALS, TrialView, oriented, signal_values, unrecorded
from archsearch.setting import DEFAULT_PRESET, DEFAULT_SPACE, EvalSetting


@dataclass(frozen=True)
class Budget:
    """An evaluation budget: a preset with task knobs changed (``train_steps=2000``)."""

    preset: str = DEFAULT_PRESET
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def setting(self, space: str, fixed: Mapping[str, Any]) -> EvalSetting:
        """The evaluation setting this budget trains a panel under."""
        return EvalSetting(preset=self.preset, overrides=dict(self.overrides), space=space,
                           fixed=dict(fixed))  # fmt: skip

    def describe(self) -> str:
        knobs = ", ".join(f"{k}={v}" for k, v in sorted(self.overrides.items()))
        return self.preset + (f" ({knobs})" if knobs else "")


@dataclass
class CellOutcome:
    """One panel cell: its reference value and the cheap evaluation's value per seed."""

    name: str
    reference: float | None  # the mean over the reference seeds (None: one of them failed)
    cheap: list[float | None]  # per seed; None when the run failed or diverged
    cpu_seconds: list[float | None]  # per seed, of the trial
    # signal name -> its value per seed (None: failed, diverged, or not recorded)
    signals: dict[str, list[float | None]] = field(default_factory=dict)
    reference_by_seed: list[float | None] = field(default_factory=list)  # a reference trained here


@dataclass
class SignalAgreement:
    """How one ranking signal of the cheap runs agrees with the reference and across seeds."""

    name: str
    description: str
    per_seed: list[Agreement]  # each seed against the reference (empty: no reference)
    mean_of_seeds: Agreement | None
    seed_to_seed: float  # NaN with one seed
    missing: list[str]  # cells whose finished trials do not record it: then nothing compared

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "per_seed": [a.to_dict() for a in self.per_seed],
            "mean_of_seeds": None if self.mean_of_seeds is None else self.mean_of_seeds.to_dict(),
            "seed_to_seed": self.seed_to_seed,
            "missing": self.missing,
        }


@dataclass
class FidelityResult:
    """What a fidelity measurement found, ready for a table, a plot or JSON."""

    task: str
    metric: str
    direction: Direction  # which way the task's metric improves
    budget: Budget
    reference: str  # where the reference values come from
    seeds: list[int]
    space: str
    fixed: dict[str, Any]
    cells: list[CellOutcome]
    per_seed: list[Agreement]  # each seed against the reference (empty: no reference)
    mean_of_seeds: Agreement | None  # the mean over seeds against the reference
    seed_to_seed: float  # Spearman between the repeats (NaN with one seed)
    signals: list[SignalAgreement] = field(default_factory=list)  # one per ranking signal
    reference_seeds: list[int] = field(default_factory=list)  # of a reference trained here
    # Spearman between the reference's own repeats: how far the reference itself can be
    # trusted, so the ceiling of any figure against it (NaN with fewer than two reference seeds)
    reference_seed_to_seed: float = math.nan

    @property
    def cpu_per_trial(self) -> dict[str, float]:
        """Median and largest CPU-seconds of one (cell, trial) of the cheap budget."""
        values = sorted(s for c in self.cells for s in c.cpu_seconds if s is not None)
        if not values:
            return {"median": math.nan, "max": math.nan}
        return {"median": values[len(values) // 2], "max": values[-1]}

    @property
    def seed_noise(self) -> float:
        """Median over cells of |v1 - v0| / mean(v0, v1) between the first two seeds: how far
        one repeat's metric moves relative to its size (NaN with one seed)."""
        spreads = sorted(
            abs(c.cheap[1] - c.cheap[0]) / (0.5 * abs(c.cheap[0] + c.cheap[1]))
            for c in self.cells
            if len(c.cheap) > 1 and None not in c.cheap[:2] and c.cheap[0] + c.cheap[1] != 0
        )
        return spreads[len(spreads) // 2] if spreads else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "metric": self.metric,
            "higher_is_better": self.direction.maximize,
            "budget": {"preset": self.budget.preset, "overrides": dict(self.budget.overrides)},
            "reference": self.reference,
            "reference_seeds": self.reference_seeds,
            "reference_seed_to_seed": self.reference_seed_to_seed,
            "seeds": self.seeds,
            "space": self.space,
            "fixed": self.fixed,
            "per_seed": [a.to_dict() for a in self.per_seed],
            "mean_of_seeds": None if self.mean_of_seeds is None else self.mean_of_seeds.to_dict(),
            "seed_to_seed": self.seed_to_seed,
            "seed_noise": self.seed_noise,
            "cpu_per_trial": self.cpu_per_trial,
            "signals": [s.to_dict() for s in self.signals],
            "cells": [vars(c) for c in self.cells],
        }


def measure_fidelity(
    panel: Sequence[PanelCell],
    *,
    task: str,
    budget: Budget,
    reference: Budget | None = None,
    seeds: Sequence[int] = (0, 1),
    reference_seeds: Sequence[int] | None = None,
    space: str = DEFAULT_SPACE,
    fixed: Mapping[str, Any] | None = None,
    name: str = "fidelity",
    resources=None,
    on_event: Callable | None = None,
) -> FidelityResult:
    """Train ``panel`` on ``task`` at ``budget`` with each seed; compare with the reference.

    The reference is the panel's own values (``PanelCell.reference``, e.g. from
    NAS-Bench-NLP's logs) when ``reference`` is None, else ``reference`` trained
    here with each of ``reference_seeds`` (default: the first seed), a cell's reference
    being the mean over them. One draw of a long budget is noisy too: with two reference
    seeds or more the result says how well the reference agrees with itself. A panel
    without reference values and no reference budget measures the repeats' agreement
    alone (two seeds or more). ``fixed`` pins hyperparameters (the same for every cell, so
    the budget alone is under test).
    """
    import tasks as task_suite

    if not seeds:
        raise ValueError("give at least one seed")
    missing = [c.name for c in panel if c.reference is None]
    if reference is None and missing and len(missing) < len(panel):
        raise ValueError(f"cells without a reference value {missing}: give a reference budget")
    if reference is None and missing and len(seeds) < 2:
        raise ValueError(
            "no reference values and one seed: nothing to compare; give a reference budget "
            "or two seeds (seed-to-seed agreement alone)"
        )
    the_task = task_suite.TASKS.canonical(task)
    task_class = task_suite.TASKS.get(the_task)[0]
    direction = task_class.direction
    if reference_seeds is not None and reference is None:
        raise ValueError("reference seeds are for a reference trained here: give its budget")
    reference_seeds = list(reference_seeds or seeds[:1]) if reference else []
    fixed = dict(fixed or {})
    for each in (budget, reference) if reference else (budget,):
        each.setting(space, fixed).checked((the_task,))  # as a search checks, before training
    runs = {
        seed: _train(
            panel, the_task, budget, seed, space, fixed, f"{name}-s{seed}", resources, on_event
        )
        for seed in seeds
    }
    if reference is None:
        reference_values = [c.reference for c in panel]
        reference_by_seed = [[] for _ in panel]
        where = "the panel's reference values" if not missing else "no reference (repeats only)"
    else:
        trained = [
            _train(
                panel, the_task, reference, seed, space, fixed,
                _reference_run(name, seed, first=seeds[0]), resources, on_event,
            )
            for seed in reference_seeds
        ]  # fmt: skip
        reference_by_seed = [[run[c.text][0] for run in trained] for c in panel]
        reference_values = [_mean_or_none(values) for values in reference_by_seed]
        where = f"{reference.describe()} trained here ({_seeds_phrase(reference_seeds)})"
    trials = {s: [runs[s][c.text][2] for c in panel] for s in seeds}
    values = {
        name: {s: signal_values(name, trials[s], direction=direction) for s in seeds}
        for name in SIGNALS
    }
    cells = [
        CellOutcome(
            c.name,
            ref,
            [runs[s][c.text][0] for s in seeds],
            [runs[s][c.text][1] for s in seeds],
            {name: [values[name][s][index] for s in seeds] for name in SIGNALS},
            reference_by_seed[index],
        )
        for index, (c, ref) in enumerate(zip(panel, reference_values, strict=True))
    ]
    by_seed = [[c.cheap[i] for c in cells] for i in range(len(seeds))]
    # the reference's repeats, one list per reference seed (none: a reference not trained here)
    reference_repeats = [list(repeat) for repeat in zip(*reference_by_seed, strict=True)]
    refs = [c.reference for c in cells]
    per_seed, mean = _compare(by_seed, refs, direction)
    return FidelityResult(
        task=the_task,
        metric=task_class.metric,
        direction=direction,
        budget=budget,
        reference=where,
        seeds=list(seeds),
        space=space,
        fixed=fixed,
        cells=cells,
        per_seed=per_seed,
        mean_of_seeds=mean,
        seed_to_seed=_seed_to_seed(by_seed, direction),
        signals=_signal_agreements(panel, trials, values, refs, direction),
        reference_seeds=reference_seeds,
        reference_seed_to_seed=_seed_to_seed(reference_repeats, direction),
    )


def _reference_run(name: str, seed: int, *, first: int) -> str:
    """The reference's run name at ``seed``: ``<name>-ref`` at the first cheap seed (as
    stores made before reference seeds name it), ``<name>-ref-s<seed>`` otherwise."""
    return f"{name}-ref" if seed == first else f"{name}-ref-s{seed}"


def _mean_or_none(values: Sequence[float | None]) -> float | None:
    """The mean of a cell's reference repeats; None when one failed (as one failed run is)."""
    if not values or any(v is None for v in values):
        return None
    return math.fsum(values) / len(values)


def _seeds_phrase(seeds: Sequence[int]) -> str:
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    return "seeds " + ", ".join(map(str, seeds)) + ", their mean"


def _signal_agreements(panel, trials, values, refs, direction) -> list[SignalAgreement]:
    """Every signal (``values[name][seed]``, one value per cell) against the reference and
    across seeds, in the task's direction; a signal some finished trials lack is not compared."""
    seeds = list(trials)
    rows = []
    for name, signal in SIGNALS.items():
        lacking = sorted({i for s in seeds for i in unrecorded(name, trials[s])})
        ranked = [oriented(name, values[name][s], direction=direction) for s in seeds]
        per_seed, mean = _compare(ranked, refs, direction, lacking)
        rows.append(
            SignalAgreement(
                name,
                signal.description,
                per_seed,
                mean,
                seed_to_seed=_seed_to_seed(ranked, direction, lacking),
                missing=[panel[i].name for i in lacking],
            )
        )
    return rows


def _compare(by_seed, refs, direction, lacking=()) -> tuple[list[Agreement], Agreement | None]:
    """Each seed's values against the reference, and the mean over seeds (when more than
    one); nothing without a reference or when some cells lack the values."""
    if lacking or any(r is None for r in refs):  # no reference: seed-to-seed alone
        return [], None
    per_seed = [agreement(v, refs, direction=direction) for v in by_seed]
    if len(by_seed) < 2:
        return per_seed, None
    means = list(mean_over_seeds(by_seed, direction=direction))
    return per_seed, agreement(means, refs, direction=direction)


def _seed_to_seed(by_seed, direction, lacking=()) -> float:
    if lacking or len(by_seed) < 2:
        return math.nan
    return seed_to_seed(by_seed, direction=direction)


def _train(panel, task, budget, seed, space, fixed, name, resources, on_event):
    """{cell text: (validation metric or None, CPU-seconds, TrialView or None)} for one run:
    None where the trial did not finish."""
    from archsearch.launcher import launch
    from archsearch.spec import RunSpec

    texts = [c.text for c in panel]
    spec = RunSpec(
        name=name,
        tasks=(task,),
        preset=budget.preset,
        overrides=dict(budget.overrides),
        searcher="fixed",
        searcher_options={"cells": texts},  # the reference cell (gru) is trained too
        trials=1,
        space=space,
        fixed=dict(fixed),
        budget="none",
        seed=seed,
    )
    frame = launch(spec, resources, on_event=on_event).results()
    by_hash = {}
    recorded = [c for c in frame.columns if c.startswith("metrics_")]
    for _, row in frame[frame["task"] == task].iterrows():
        value = _number(row["metric_valid"]) if row["status"] == "ok" else None
        metrics = {c.removeprefix("metrics_"): _present(row[c]) for c in recorded}
        trial = None if value is None else TrialView(value, metrics)
        by_hash[row["cell"]] = (value, _number(row.get("metrics_cpu_seconds")), trial)
    from archsearch.cell import parse_cell

    nothing = (None, None, None)
    return {text: by_hash.get(parse_cell(text).canonical_hash(), nothing) for text in texts}


def _present(value):
    """A stored metric, or None where this trial's row has none (pandas fills NaN)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _number(value) -> float | None:
    """A finite float, or None (for NULL, NaN or infinity)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
