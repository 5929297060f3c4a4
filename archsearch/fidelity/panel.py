"""Panels: the cells a fidelity measurement trains, each with its reference value if known.

A panel comes from zoo names, cell files or cell text (no reference: the
reference is then a larger budget trained here), or from a JSONL of
NAS-Bench-NLP training logs (``../shared/data/nasbench-nlp-wt2/logs.jsonl``),
one architecture a line with ``recepie_id``, ``recipe`` and ``val_losses``
(mean cross-entropy per word after each epoch). From such a file the
reference is the final validation perplexity, ``exp(val_losses[-1])``, of the
logs that finished (status ``OK``, every epoch finite). Architectures that
share a canonical hash are one cell (the best-scoring id is kept), and
``sample_across`` picks ``n`` of them evenly spaced in rank, so a panel spans
the whole range instead of crowding where most architectures lie.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from archsearch.cell import Cell, CellError

# The zoo panel that scripts/fidelity_budgets.sh, fidelity_rungs.sh and bench_trial_cost.py
# train: these 12 cells and 4 seeded mutants of them, under one fixed setting for every cell
# so that the budget alone is under test (``zoo_panel_words`` spells it for the scripts).
ZOO_PANEL = ("tanh", "lstm", "lstm_f", "lstm_i", "lstm_o", "lstm_b", "gru", "mut1", "mut2")
ZOO_PANEL += ("mut3", "greff_nig", "greff_nfg")
ZOO_PANEL_MUTANTS = 4
ZOO_PANEL_FIXED = {"lr": 0.003, "init_scale": 1, "layers": 1, "max_grad_norm": 5}


@dataclass(frozen=True)
class PanelCell:
    """One cell of a panel: a name to show, its text, and its reference value (or None)."""

    name: str
    text: str
    reference: float | None = None

    @property
    def cell(self) -> Cell:
        from archsearch.cell import parse_cell

        return parse_cell(self.text)


def nasbench_panel(path: str | Path, *, epoch: int = -1) -> list[PanelCell]:
    """Every distinct finished architecture of a NAS-Bench-NLP log file, best first.

    ``epoch`` picks the reference: -1 the final validation perplexity, 0 the first epoch's.
    """
    path = Path(path)
    best: dict[str, PanelCell] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                losses = row["val_losses"]
                if row.get("status") != "OK" or not losses:
                    continue
                if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in losses):
                    continue
                cell = Cell.from_recipe(row["recipe"], name=f"nb{row['recepie_id']}")
            except (ValueError, KeyError, TypeError, CellError) as error:
                raise ValueError(
                    f"{path}:{number}: not a NAS-Bench-NLP log line ({error})"
                ) from None
            entry = PanelCell(cell.name, cell.to_text(), math.exp(losses[epoch]))
            digest = cell.canonical_hash()
            if digest not in best or entry.reference < best[digest].reference:
                best[digest] = entry
    return sorted(best.values(), key=lambda c: c.reference)


def sample_across(cells: Sequence[PanelCell], n: int) -> list[PanelCell]:
    """``n`` cells evenly spaced in the order of ``cells`` (the first and last included)."""
    if n < 2:
        raise ValueError(f"a panel needs at least 2 cells, not {n}")
    if n >= len(cells):
        return list(cells)
    step = (len(cells) - 1) / (n - 1)
    return [cells[round(i * step)] for i in range(n)]


def sample_held_out(cells: Sequence[PanelCell], n: int) -> list[PanelCell]:
    """``n`` cells sampled across the range as ``sample_across`` does, from those that
    ``sample_across(cells, n)`` leaves out: a second panel, disjoint from the first, to
    check a budget that was chosen by its correlation on the first."""
    chosen = {c.name for c in sample_across(cells, n)}
    rest = [c for c in cells if c.name not in chosen]
    if len(rest) < n:
        raise ValueError(f"a held-out panel of {n} needs {2 * n} cells; this one has {len(cells)}")
    return sample_across(rest, n)


def cell_panel(specs: Sequence[str]) -> list[PanelCell]:
    """Zoo names, cell files or cell texts, without reference values."""
    from archsearch.zoo import load_cell

    panel = []
    for spec in specs:
        cell = load_cell(spec)
        panel.append(PanelCell(cell.name, cell.to_text()))
    return panel


def with_mutants(panel: Sequence[PanelCell], n: int, *, seed: int = 0) -> list[PanelCell]:
    """``panel`` and ``n`` new mutants of its cells (one each in turn; seeded, reproducible),
    named ``<parent>-m1-<hash>`` as a search names them. Mutants have no reference value."""
    import random

    from archsearch.space import mutate

    rng = random.Random(seed)
    seen = {c.cell.canonical_hash() for c in panel}
    mutants: list[PanelCell] = []
    for index in range(n):
        parent = panel[index % len(panel)]
        child = mutate(parent.cell, rng, seen=frozenset(seen)).cell
        digest = child.canonical_hash()
        seen.add(digest)
        mutants.append(PanelCell(f"{parent.name}-m1-{digest[:4]}", child.to_text()))
    return [*panel, *mutants]


def zoo_panel_words(what: str) -> str:
    """For the shell scripts: the zoo panel's ``cells``, its ``mutants`` count, or its
    ``fixed`` setting as ``--set`` options."""
    if what == "cells":
        return " ".join(ZOO_PANEL)
    if what == "mutants":
        return str(ZOO_PANEL_MUTANTS)
    if what == "fixed":
        return " ".join(f"--set {name}={value}" for name, value in ZOO_PANEL_FIXED.items())
    raise ValueError(f"what: cells, mutants or fixed, not {what!r}")
