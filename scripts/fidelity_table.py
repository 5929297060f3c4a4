"""Print the fidelity of every measured budget as one Markdown table (README, results/fidelity/).

    python scripts/fidelity_table.py            # reads results/fidelity/*/fidelity.json

Each row is one ``archsearch fidelity`` report (its folder name first); every figure
is read from its ``fidelity.json``, none is typed here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from archsearch.fidelity.stored import markdown_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default="results/fidelity", type=Path)
    args = parser.parse_args()
    print("\n".join(markdown_table(args.folder)))


if __name__ == "__main__":
    main()
