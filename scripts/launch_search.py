"""Launch a search from Python (the API behind ``archsearch search``).

    python scripts/launch_search.py --name demo --preset smoke --budget-evaluations 20
    python scripts/launch_search.py --address auto --storage postgresql+psycopg://... --gpus 1

Locally it starts a private Ray instance with this machine's CPUs; with
``--address`` (or RAY_ADDRESS) it joins a cluster, e.g. inside ``ray job submit``.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from archsearch.display import print_ranking, progress_line
from archsearch.driver import SearchConfig, directions, run_search
from archsearch.execute import EvalOptions
from archsearch.ray_executor import RayExecutor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="launch")
    parser.add_argument("--searcher", default="jozefowicz")
    parser.add_argument("--tasks", default="arith,xml,ptb")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--budget-evaluations", type=int, default=None)
    parser.add_argument("--budget-seconds", type=float, default=600.0)
    parser.add_argument("--storage", default=None, help="SQLAlchemy URL (default: results/)")
    parser.add_argument("--address", default=None, help="Ray cluster address, or 'auto'")
    parser.add_argument("--cpus", type=float, default=1.0, help="CPUs per evaluation")
    parser.add_argument("--gpus", type=float, default=0.0, help="GPUs per evaluation")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per evaluation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    config = SearchConfig(
        name=args.name,
        searcher=args.searcher,
        tasks=tuple(args.tasks.split(",")),
        preset=args.preset,
        trials=args.trials,
        seed=args.seed,
        max_evaluations=args.budget_evaluations,
        max_seconds=args.budget_seconds,
        storage=args.storage,
    )
    executor = RayExecutor(
        EvalOptions(preset=config.preset, data_seed=config.seed, threads=max(1, int(args.cpus))),
        directions(config.tasks),
        address=args.address,
        cpus_per_eval=args.cpus,
        gpus_per_eval=args.gpus,
        time_limit=args.time_limit,
    )
    console = Console()
    searcher, _ = run_search(
        config, executor=executor, on_progress=lambda p: console.print(progress_line(p))
    )
    print_ranking(console, searcher)


if __name__ == "__main__":
    main()
