"""Compare two fidelity measurements of one panel (two ``fidelity.json``): how far their
references agree, how far their cheap runs agree seed by seed, and each one's cheap runs
against the other's reference. Two draws of one reference budget that disagree say how
much any figure against one draw can be trusted.

    python scripts/fidelity_compare.py results/fidelity/xml-quick/fidelity.json OTHER.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from archsearch.direction import Direction
from archsearch.fidelity.measures import seed_to_seed


def _load(path: str) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    data["by_name"] = {cell["name"]: cell for cell in data["cells"]}
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", help="a fidelity.json")
    parser.add_argument("second", help="another fidelity.json of the same panel and task")
    args = parser.parse_args()
    first, second = _load(args.first), _load(args.second)
    if first["task"] != second["task"] or set(first["by_name"]) != set(second["by_name"]):
        raise SystemExit("the two measurements are of different tasks or panels")
    direction = Direction(first["higher_is_better"])
    names = list(first["by_name"])

    def column(data, key, seed=None):
        cells = [data["by_name"][n] for n in names]
        return [c[key] if seed is None else c[key][seed] for c in cells]

    def spearman(a, b):  # Spearman of two orderings, a failed run ranked worst
        return seed_to_seed([a, b], direction=direction)

    print(f"{first['task']}, {len(names)} cells: A = {args.first}, B = {args.second}")
    references = spearman(column(first, "reference"), column(second, "reference"))
    print(f"  reference A against reference B: Spearman {references:.2f}")
    for seed_index, seed in enumerate(first["seeds"]):
        if seed not in second["seeds"]:
            continue
        other = second["seeds"].index(seed)
        a, b = column(first, "cheap", seed_index), column(second, "cheap", other)
        against = [
            spearman(a, column(second, "reference")),
            spearman(b, column(first, "reference")),
        ]
        print(
            f"  seed {seed}: cheap A against cheap B {spearman(a, b):.2f}; "
            f"cheap A against reference B {against[0]:.2f}; "
            f"cheap B against reference A {against[1]:.2f}"
        )


if __name__ == "__main__":
    main()
