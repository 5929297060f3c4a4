"""Launch a search from Python (the API behind ``archsearch search``).

    python scripts/launch_search.py --name demo --preset smoke --budget 20
    python scripts/launch_search.py --config run.toml --address auto --gpus 1 \
        --storage postgresql+psycopg://...

Locally it starts a private Ray instance with this machine's CPUs; with
``--address`` (or RAY_ADDRESS) it joins a cluster, e.g. inside ``ray job submit``.
The run is the ``RunSpec`` (from ``--config``, or the options below over the
spec's defaults); where it runs is the ``Resources``.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from archsearch import Resources, RunSpec, launch
from archsearch.display import print_ranking, progress_line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=None, help="a run spec, .toml or .json")
    parser.add_argument("--name", default=None)
    parser.add_argument("--searcher", default=None)
    parser.add_argument("--tasks", default=None, help="comma-separated")
    parser.add_argument("--preset", default=None)
    parser.add_argument("--space", default=None, help="hyperparameter space")
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--budget", default=None, help="evaluations (40) or time (10m)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--storage", default=None, help="SQLAlchemy URL (default: results/)")
    parser.add_argument("--address", default=None, help="Ray cluster address, or 'auto'")
    parser.add_argument("--cpus", type=float, default=1.0, help="CPUs per evaluation")
    parser.add_argument("--gpus", type=float, default=0.0, help="GPUs per evaluation")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds per evaluation")
    args = parser.parse_args()

    spec = RunSpec.load(args.config) if args.config else RunSpec(name="launch")
    changes = {
        key: getattr(args, key)
        for key in ("name", "searcher", "tasks", "preset", "space", "trials", "budget", "seed")
        if getattr(args, key) is not None
    }
    if "tasks" in changes:
        changes["tasks"] = tuple(changes["tasks"].split(","))
    spec = spec.replace(**changes)
    resources = Resources(
        storage=args.storage,
        address=args.address,
        cpus_per_eval=args.cpus,
        gpus_per_eval=args.gpus,
        time_limit=args.time_limit,
    )
    console = Console()

    def on_event(event) -> None:
        if event.kind in ("start", "end"):
            console.print(event.message, highlight=False)
        elif event.kind == "commit":
            console.print(progress_line(event.progress), highlight=False)

    result = launch(spec, resources, on_event=on_event)
    print_ranking(console, result.searcher)


if __name__ == "__main__":
    main()
