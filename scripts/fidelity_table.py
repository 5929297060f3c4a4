"""Print the fidelity of every measured budget as one Markdown table (README, results/fidelity/).

    python scripts/fidelity_table.py            # reads results/fidelity/*/fidelity.json

Each row is one ``archsearch fidelity`` report (its folder name first); every figure
is read from its ``fidelity.json``, none is typed here.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path


def _number(value, digits: int = 2) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _interval(agreement: dict | None, name: str) -> str:
    if not agreement:
        return "-"
    low, high = agreement[f"{name}_low"], agreement[f"{name}_high"]
    return f"{_number(agreement[name])} [{_number(low)}, {_number(high)}]"


def rows(folder: Path) -> list[str]:
    lines = [
        "| budget | task | cells | reference | Spearman, seed 0 [95%] | mean of seeds | "
        "seed-to-seed | top-k overlap | CPU-s per trial (median / max) |",
        "|---|---|---:|---|---|---|---:|---:|---|",
    ]
    for path in sorted(folder.glob("*/fidelity.json")):
        data = json.loads(path.read_text())
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default="results/fidelity", type=Path)
    args = parser.parse_args()
    print("\n".join(rows(args.folder)))


if __name__ == "__main__":
    main()
