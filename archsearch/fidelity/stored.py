"""Fidelity reports as written (``fidelity.json``), read back: pooled, tabulated.

    reports = [load_report("results/fidelity/ptb-quick"), load_report(".../ptb-quick-heldout")]
    pooled_agreement(reports, seed=0)       # one seed's agreement over both panels' cells
    print("\\n".join(markdown_table("results/fidelity")))

Nothing is trained: every figure is read from a report or computed by ``agreement``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from archsearch.direction import Direction
from archsearch.fidelity.measures import Agreement, agreement


def load_report(folder: str | Path) -> dict[str, Any]:
    """The ``fidelity.json`` of a report folder (``archsearch fidelity --out``)."""
    path = Path(folder) / "fidelity.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None


def direction_of(reports: Sequence[dict[str, Any]]) -> Direction:
    """The one direction of the reports' metric (``ValueError`` if they disagree)."""
    found = {report["higher_is_better"] for report in reports}
    if len(found) != 1:
        raise ValueError("the reports measure metrics of opposite directions")
    return Direction(found.pop())


def pooled_agreement(
    reports: Sequence[dict[str, Any]], *, seed: int = 0, drop: Collection[str] = ()
) -> tuple[Agreement, list[dict[str, Any]]]:
    """One seed's (by index) cheap values against the reference over every cell of the
    reports but ``drop``; with the cells ordered by the cheap value, best first (a failed
    run last)."""
    direction = direction_of(reports)
    cells = [c for report in reports for c in report["cells"] if c["name"] not in drop]
    cheap = [c["cheap"][seed] for c in cells]
    found = agreement(cheap, [c["reference"] for c in cells], direction=direction)
    order = sorted(
        cells,
        key=lambda c: (c["cheap"][seed] is None, -direction.oriented(c["cheap"][seed] or 0)),
    )
    return found, order


def markdown_table(folder: str | Path) -> list[str]:
    """One Markdown row per report under ``folder`` (its folder name first)."""
    lines = [
        "| budget | task | cells | reference | Spearman, seed 0 [95%] | mean of seeds | "
        "seed-to-seed | top-k overlap | CPU-s per trial (median / max) |",
        "|---|---|---:|---|---|---|---:|---:|---|",
    ]
    for path in sorted(Path(folder).glob("*/fidelity.json")):
        data = load_report(path.parent)
        first = data["per_seed"][0] if data["per_seed"] else None
        cost = data["cpu_per_trial"]
        reference = data["reference"].replace("the panel's reference values", "NAS-Bench-NLP final")
        lines.append(
            f"| {path.parent.name} | {data['task']} | {len(data['cells'])} | {reference} | "
            f"{_interval(first, 'spearman')} | {_interval(data['mean_of_seeds'], 'spearman')} | "
            f"{_number(data['seed_to_seed'])} | {_number(first and first['top_k_overlap'])} | "
            f"{_number(cost['median'], 0)} / {_number(cost['max'], 0)} |"
        )
    return lines


def _number(value, digits: int = 2) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _interval(found: dict | None, name: str) -> str:
    if not found:
        return "-"
    low, high = found[f"{name}_low"], found[f"{name}_high"]
    return f"{_number(found[name])} [{_number(low)}, {_number(high)}]"
