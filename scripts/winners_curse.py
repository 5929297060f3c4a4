"""The winner's curse of a search with rungs and a confirmation (README, "How far to trust a
quick search"): how rung 0's top cells rank at the top rung and after confirmation.

    python scripts/winners_curse.py RUN [--storage URL] [--top 5]
"""

from __future__ import annotations

import argparse

from archsearch.analysis.winners_curse import describe, winners_curse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--storage", default=None, help="store URL [results/archsearch.db]")
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args()
    print(describe(winners_curse(args.storage, args.run, k=args.top)))


if __name__ == "__main__":
    main()
