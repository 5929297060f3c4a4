"""Count canonical-hash splits: isomorphic copies of one recipe that get a second hash.

Each recipe is copied many times with its node names shuffled, the inputs of
``linear`` and of two-input ``elementwise_sum``/``elementwise_prod``
reordered (three or more inputs fold left, so their order is structure) and
its JSON keys reordered; every copy is the same architecture, so every copy
must get the recipe's hash. Recipes come from NAS-Bench-NLP's
logs and, with ``--random``, from random cells of NAS-Bench-NLP's space built
to have twins (equal ``act(linear(...))`` nodes read by commutative ops).

    python scripts/hash_splits.py                       # logs, 10 copies each
    python scripts/hash_splits.py --random 2000 --copies 5

Prints one line per recipe that split and a total line.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from archsearch.cell import Cell

LOGS = Path(__file__).resolve().parents[1] / ".." / "shared/data/nasbench-nlp-wt2/logs.jsonl"
COMMUTATIVE = {"linear", "elementwise_sum", "elementwise_prod"}
ACTIVATIONS = ["activation_tanh", "activation_sigm", "activation_leaky_relu"]


def shuffle_recipe(recipe: dict, rng: random.Random) -> dict:
    """An isomorphic copy: inner nodes renamed, commutative inputs and keys reordered."""
    inner = [k for k in recipe if not k.startswith("h_new_")]
    fresh = [f"node_{i}" for i in range(len(inner))]
    rng.shuffle(fresh)
    names = dict(zip(inner, fresh, strict=True))

    def rename(key: str) -> str:
        return names.get(key, key)

    copy = {}
    keys = list(recipe)
    rng.shuffle(keys)
    for key in keys:
        spec = dict(recipe[key])
        inputs = [rename(i) for i in spec.get("input", [])]
        if spec["op"] == "linear" or (spec["op"] in COMMUTATIVE and len(inputs) == 2):
            rng.shuffle(inputs)  # a sum of three is folded left: (a + b) + c, not reordered
        spec["input"] = inputs
        copy[rename(key)] = spec
    return copy


def random_recipe(rng: random.Random, size: int) -> dict:
    """A random recipe of NAS-Bench-NLP's ops, with twins: nodes copied under new names."""
    recipe: dict[str, dict] = {}
    leaves = ["x", "h_prev_0"]
    made: list[str] = []
    for i in range(size):
        name = f"n{i}"
        pool = leaves + made
        if made and rng.random() < 0.35:  # a twin of an earlier node
            twin = recipe[rng.choice(made)]
            recipe[name] = {"op": twin["op"], "input": list(twin["input"])}
        elif rng.random() < 0.4:
            recipe[name] = {"op": "linear", "input": rng.sample(pool, min(len(pool), 2))}
        elif rng.random() < 0.5 and made:
            recipe[name] = {"op": rng.choice(ACTIVATIONS), "input": [rng.choice(made)]}
        else:
            op = rng.choice(["elementwise_sum", "elementwise_prod"])
            recipe[name] = {"op": op, "input": [rng.choice(pool), rng.choice(pool)]}
        made.append(name)
    # the output reads every node nobody reads yet (nothing is dropped), and the input
    read = {i for spec in recipe.values() for i in spec["input"]}
    loose = [n for n in made if n not in read] or [made[-1]]
    recipe["h_new_0"] = {"op": "elementwise_sum", "input": [*loose, "x"]}
    return recipe


def splits(recipe: dict, copies: int, rng: random.Random) -> int:
    """How many of ``copies`` shuffled copies get a hash other than the recipe's own."""
    digest = Cell.from_recipe(recipe).canonical_hash()
    return sum(
        Cell.from_recipe(shuffle_recipe(recipe, rng)).canonical_hash() != digest
        for _ in range(copies)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=10, help="shuffled copies per recipe")
    ap.add_argument("--random", type=int, default=0, help="random twin-rich recipes to add")
    ap.add_argument("--size", type=int, default=10, help="inner nodes of a random recipe")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--logs", type=Path, default=LOGS)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    recipes = [
        (f"logs:{row['recepie_id']}", row["recipe"])
        for row in map(json.loads, args.logs.read_text().splitlines())
    ]
    recipes += [(f"random:{i}", random_recipe(rng, args.size)) for i in range(args.random)]
    start = time.perf_counter()
    total = split_copies = split_recipes = 0
    for label, recipe in recipes:
        bad = splits(recipe, args.copies, rng)
        total += args.copies
        if bad:
            split_recipes += 1
            split_copies += bad
            print(f"{label}: {bad} of {args.copies} copies got a second hash")
    seconds = time.perf_counter() - start
    print(
        f"total: {split_copies} of {total} copies split, in {split_recipes} of {len(recipes)} "
        f"recipes ({seconds:.1f} s)"
    )


if __name__ == "__main__":
    main()
