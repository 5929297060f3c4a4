"""The canonical hash is exact where colour refinement ties: twins read by commutative ops."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.cell import Assign, Call, Cell, Ref, canonical, parse_cell
from tests.cell.reorder import shuffle

ROOT = Path(__file__).resolve().parents[2]
TWINS = "cell a(x; h):\n    node_1 = tanh(linear(h, x))\n    node_3 = tanh(linear(h, x))\n"


def h(text: str) -> str:
    return parse_cell(text).canonical_hash()


def test_twins_read_by_two_commutative_operations() -> None:
    # the smallest split of issue 13: only the order of linear's arguments differs
    one = h(TWINS + "    h = linear(node_1, node_3) + node_1 * node_3")
    assert one == h(TWINS + "    h = linear(node_3, node_1) + node_1 * node_3")
    assert one == h(TWINS + "    h = node_3 * node_1 + linear(node_3, node_1)")


def test_twins_read_twice_by_twins() -> None:
    assert h(TWINS + "    h = linear(node_1, node_3) * linear(node_1, node_3)") == h(
        TWINS + "    h = linear(node_1, node_3) * linear(node_3, node_1)"
    )
    extra = "    a = node_1 * node_3\n"
    assert h(TWINS + extra + "    h = linear(node_1, node_3, a)") == h(
        TWINS + extra + "    h = linear(node_3, node_1, a)"
    )


def test_twins_are_still_told_apart_from_other_cells() -> None:
    both = h(TWINS + "    h = linear(node_1, node_3) + node_1 * node_3")
    assert both != h(TWINS + "    h = linear(node_1, node_3) + node_1 * node_1 + 0 * node_3")
    assert both != h(TWINS + "    h = linear(node_1, node_3) + node_1 - node_3")
    assert h(TWINS + "    h = node_1 - node_3") == h(TWINS + "    h = node_3 - node_1")


@st.composite
def twin_cells(draw: st.DrawFn) -> Cell:
    """Groups of equal ``act(linear(...))`` nodes, each read by several ops that mostly commute.

    Readers read the members of one group (or of a group of readers) in a drawn order, so
    two commutative readers of one pair of twins, the shape that split the old hash, are common.
    """
    body: list[Assign] = []
    groups: list[list[str]] = []
    pool: list[Ref] = [Ref("x", "input"), Ref("h", "prev")]
    for index in range(draw(st.integers(1, 3))):
        act = draw(st.sampled_from(["tanh", "sigmoid"]))
        args = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3))
        if index == 0:
            args.append(Ref("x", "input"))  # the input is read
        group = [f"t{index}_{k}" for k in range(draw(st.integers(2, 3)))]
        body += [Assign(name, Call(act, (Call("linear", tuple(args)),))) for name in group]
        groups.append(group)
        pool = pool + [Ref(group[0], "local")]
    read: set[str] = set()
    for index in range(draw(st.integers(2, 6))):
        fn = draw(st.sampled_from(["add", "mul", "linear", "linear", "sub", "blend"]))
        arity = {"sub": 2, "blend": 3}.get(fn, draw(st.integers(2, 3)) if fn == "linear" else 2)
        group = draw(st.sampled_from(groups))
        names = draw(st.lists(st.sampled_from(group), min_size=arity, max_size=arity))
        read.update(names)
        readers = [f"r{index}_{k}" for k in range(draw(st.integers(1, 2)))]  # twins too
        call = Call(fn, tuple(Ref(name, "local") for name in names))
        body += [Assign(name, call) for name in readers]
        if len(readers) > 1:
            groups.append(readers)
    out: Ref | Call = Ref("h", "prev")
    for name in [stmt.target for stmt in body]:
        if name not in read:
            out = Call("add", (out, Ref(name, "local")))
    return Cell("twins", "x", ("h",), (*body, Assign("h", out)))


@settings(max_examples=300, deadline=2000)
@given(cell=twin_cells(), seed=st.integers(0, 2**32))
def test_renamed_and_reordered_twin_cells_keep_their_hash(cell: Cell, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(3):
        assert shuffle(cell, rng).canonical_hash() == cell.canonical_hash()


def _product_tree(levels: int) -> str:
    """``2**levels`` interchangeable ``linear(x)`` multiplied pairwise up a balanced tree."""
    lines, names = ["cell tree(x; h):"], []
    for i in range(2 ** (levels - 1)):
        lines.append(f"    a{i} = linear(x) * linear(x)")
        names.append(f"a{i}")
    while len(names) > 1:
        pairs = [names[i : i + 2] for i in range(0, len(names), 2)]
        names = [f"a{int(names[-1][1:]) + 1 + k}" for k in range(len(pairs))]
        lines += [f"    {n} = {a} * {b}" for n, (a, b) in zip(names, pairs, strict=True)]
    return "\n".join([*lines, f"    h = {names[0]} + h"])


def test_a_tree_of_32_interchangeable_linears_is_exact() -> None:
    cell = parse_cell(_product_tree(5))
    rng = random.Random(0)
    assert {shuffle(cell, rng).canonical_hash() for _ in range(5)} == {cell.canonical_hash()}


def test_a_hugely_symmetric_cell_hashes_within_the_budget() -> None:
    cell = parse_cell(_product_tree(8))  # 256 interchangeable linears, 514 nodes
    search = canonical._Search(canonical.Graph(cell))
    search.run()  # the budget counts work, not seconds (about one on an idle core)
    assert canonical.BUDGET < search.work < 1.1 * canonical.BUDGET
    digest = cell.canonical_hash()
    assert parse_cell(cell.to_text()).canonical_hash() == digest
    # past the budget, ties break by source order, but a different cell still hashes apart
    text = _product_tree(8).replace("linear(x) * linear(x)", "linear(x, bias=1.0) * linear(x)", 1)
    assert parse_cell(text).canonical_hash() != digest


@pytest.mark.slow
def test_no_recipe_of_nas_bench_nlp_or_its_space_splits() -> None:
    script = ROOT / "scripts" / "hash_splits.py"
    args = [sys.executable, str(script), "--copies", "5", "--random", "2000"]
    done = subprocess.run(args, capture_output=True, text=True, check=True, timeout=600)
    assert done.stdout.splitlines()[-1].startswith("total: 0 of 11725 copies split")
