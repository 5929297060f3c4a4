"""The canonical hash: one architecture, one hash, whatever the names and statement order.

1. **DAG.** The cell becomes a graph with hash-consing. Leaves are the input,
   the previous value of state ``i`` (by header position) and constants. A
   non-parametric call is one node per distinct ``(fn, children)``, with the
   children sorted for commutative functions (``a * b`` is ``b * a``; two
   ``tanh(h)`` are one value). A ``linear`` or ``scale`` call is always a
   fresh node, labelled with its bias: two calls own two sets of parameters.
   Locals and new state values are edges, not nodes, so names and the order
   of independent statements vanish. The outputs are the new values of the
   states, in header order.
2. **Colours.** Weisfeiler-Lehman refinement: a node's colour is refined by
   its children's colours (in argument order for non-commutative functions,
   as a multiset otherwise) and its parents' colours with the role it plays
   in each, until the partition stops splitting. A colour is the position of
   its class in the sorted order of signatures (the number of nodes that sort
   before it), so colours are canonical and a class splits in place.
3. **Individualisation where colours tie** (the scheme of McKay's nauty).
   Refinement cannot split twins, such as two ``tanh(linear(h, x))`` read by
   the same operations. Then every member of the smallest tied class (the
   lowest-coloured of the smallest) is tried in turn: it gets a colour of its
   own, the colours are refined again, and the search recurses until every
   node has its own colour. Each such leaf numbers the nodes ``0..n-1``; its
   certificate is the graph written in that numbering (each node's label and
   children, then the outputs), and the hash is that of the smallest
   certificate of all leaves. The set of leaves depends only on the graph, so
   the hash is exact: two cells get one hash exactly when they are the same
   architecture. Two leaves with one certificate reveal an automorphism; the
   search then skips the members of a class it can map onto one already tried.

Cost: one refinement for a cell without twins; a few for the cells of the
zoo and NAS-Bench-NLP (a product tree of 32 interchangeable ``linear(x)``:
under 0.1 s). ``BUDGET`` bounds cells built to be hugely symmetric (such a
tree of 64 or more): past it, remaining ties are broken by source order. Such
a hash still describes the whole graph (equal hashes still mean one
architecture) but may differ between equal cells.

Version 2 of the hash (``VERSION``); stores written with version 1 keep
their hashes, which this code no longer produces.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from .errors import same_float
from .functions import FUNCTIONS
from .nodes import Call, Const, Expr, Ref

if TYPE_CHECKING:
    from .nodes import Cell

VERSION = "archsearch-cell-hash/2"
BUDGET = 200_000  # node signatures the search computes (under a second) before ties break
MAX_LEVELS = 300  # individualisations on one path (bounds Python's recursion too)


class Graph:
    """The DAG of a cell: ``labels[n]``, ``children[n]`` and ``commutative[n]`` per node."""

    def __init__(self, cell: Cell) -> None:
        self.labels: list[str] = []
        self.children: list[list[int]] = []
        self.commutative: list[bool] = []
        self._memo: dict[tuple, int] = {}
        self._cell = cell
        self._values: dict[str, int] = {}  # locals and new states -> node
        for stmt in cell.body:
            self._values[stmt.target] = self._expr(stmt.value)
        self.outputs = [self._values[s] for s in cell.states]

    def _node(self, label: str, children: list[int], commutative: bool, fresh: bool) -> int:
        key = (label, tuple(sorted(children)) if commutative else tuple(children))
        if not fresh and key in self._memo:
            return self._memo[key]
        self.labels.append(label)
        self.children.append(children)
        self.commutative.append(commutative)
        self._memo[key] = len(self.labels) - 1
        return len(self.labels) - 1

    def _expr(self, expr: Expr) -> int:
        if isinstance(expr, Ref):
            if expr.kind == "input":
                return self._node("input", [], False, False)
            if expr.kind == "prev":
                return self._node(f"prev/{self._cell.states.index(expr.name)}", [], False, False)
            return self._values[expr.name]
        if isinstance(expr, Const):
            return self._node(f"const/{same_float(expr.value)}", [], False, False)
        assert isinstance(expr, Call)
        fn = FUNCTIONS[expr.fn]
        children = [self._expr(arg) for arg in expr.args]
        label = f"{fn.name}/{same_float(expr.bias)}" if fn.parametric else fn.name
        return self._node(label, children, fn.commutative, fn.parametric)

    def parents(self) -> list[list[tuple[int, int]]]:
        """``(role, parent)`` per node; role 0 under a commutative parent, else position + 1."""
        parents: list[list[tuple[int, int]]] = [[] for _ in self.labels]
        for node, children in enumerate(self.children):
            for position, child in enumerate(children):
                parents[child].append((0 if self.commutative[node] else position + 1, node))
        return parents

    def initial_colours(self) -> list[int]:
        """Exact bottom-up then top-down digests, as positional colours (refined later).

        Node ids are topological (children are made first), so one pass each way
        captures every tree-shaped difference and refinement usually stops at once.
        """
        parents = self.parents()
        outputs: list[list[int]] = [[] for _ in self.labels]
        for index, node in enumerate(self.outputs):
            outputs[node].append(index)
        up: list[bytes] = []
        for node, children in enumerate(self.children):
            kids = [up[c] for c in children]
            if self.commutative[node]:
                kids.sort()
            up.append(_digest(self.labels[node], outputs[node], kids))
        down: list[bytes] = [b""] * len(up)
        for node in reversed(range(len(up))):
            ups = sorted((role, down[p]) for role, p in parents[node])
            down[node] = _digest(up[node], ups)
        return _positions(down)


class _Search:
    """Individualisation-refinement over one graph; ``run()`` gives the smallest certificate."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.parents = graph.parents()
        self.n = len(graph.labels)
        self.work = 0
        self.first: tuple[tuple, list[int]] | None = None  # (certificate, node at each colour)
        self.best: tuple[tuple, list[int]] | None = None
        self.automorphisms: list[list[int]] = []
        self.path: list[int] = []  # the node individualised at each level
        self.tried: list[list[int]] = []  # members explored at each level
        self.abort: int | None = None  # level whose current branch turned out redundant

    def run(self) -> tuple:
        self._search(self.refine(self.graph.initial_colours()))
        assert self.best is not None
        return self.best[0]

    def refine(self, colours: list[int]) -> list[int]:
        """The coarsest equitable refinement of ``colours`` (positional colours throughout)."""
        children, commutative = self.graph.children, self.graph.commutative
        classes = len(set(colours))
        while classes < self.n:
            self.work += self.n
            signatures = []
            for node, kids in enumerate(children):
                seen = [colours[c] for c in kids]
                if commutative[node]:
                    seen.sort()
                ups = sorted((role, colours[p]) for role, p in self.parents[node])
                signatures.append((colours[node], tuple(seen), tuple(ups)))
            refined = _positions(signatures)
            count = len(set(refined))
            if count == classes:
                break
            colours, classes = refined, count
        return colours

    def _search(self, colours: list[int]) -> None:
        cells: dict[int, list[int]] = {}
        for node, colour in enumerate(colours):
            cells.setdefault(colour, []).append(node)
        tied = [members for members in cells.values() if len(members) > 1]
        if not tied:
            self._leaf(colours)
            return
        if self.work > BUDGET or len(self.path) >= MAX_LEVELS:
            self._leaf(_positions(list(zip(colours, range(self.n), strict=True))))
            return
        members = min(tied, key=lambda m: (len(m), colours[m[0]]))
        level = len(self.path)
        self.tried.append([])
        for node in members:
            if node in self._orbit(self.tried[level], level):
                continue
            individual = [
                c + 1 if c == colours[node] and v != node else c for v, c in enumerate(colours)
            ]
            self.path.append(node)
            self._search(individual if self.work > BUDGET else self.refine(individual))
            self.path.pop()
            self.tried[level].append(node)
            if self.abort is not None:
                if self.abort < level:
                    break
                self.abort = None
        self.tried.pop()

    def _leaf(self, colours: list[int]) -> None:
        at = [0] * self.n  # the node with each colour
        for node, colour in enumerate(colours):
            at[colour] = node
        children, commutative = self.graph.children, self.graph.commutative
        nodes = []
        for node in at:
            kids = [colours[c] for c in children[node]]
            nodes.append(
                (self.graph.labels[node], tuple(sorted(kids) if commutative[node] else kids))
            )
        certificate = (tuple(nodes), tuple(colours[o] for o in self.graph.outputs))
        if self.first is None or self.best is None:
            self.first = self.best = (certificate, at)
            return
        for known, known_at in (self.first, self.best):
            if certificate == known:
                mapping = [0] * self.n
                for a, b in zip(known_at, at, strict=True):
                    mapping[a] = b
                self.automorphisms.append(mapping)
                self._redundant_level()
                return
        if certificate < self.best[0]:
            self.best = (certificate, at)

    def _redundant_level(self) -> None:
        """After a new automorphism: the shallowest level whose current node repeats a sibling."""
        for level, node in enumerate(self.path):
            if self.tried[level] and node in self._orbit(self.tried[level], level):
                self.abort = level
                return

    def _orbit(self, nodes: list[int], level: int) -> set[int]:
        """``nodes`` and their images under the automorphisms found that fix ``path[:level]``."""
        if not nodes:
            return set()
        fixed = self.path[:level]
        group = [g for g in self.automorphisms if all(g[p] == p for p in fixed)]
        orbit, frontier = set(nodes), list(nodes)
        while frontier:
            node = frontier.pop()
            for g in group:
                if g[node] not in orbit:
                    orbit.add(g[node])
                    frontier.append(g[node])
        return orbit


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).digest()


def _positions(signatures: list) -> list[int]:
    """Each node's colour: how many nodes have a strictly smaller signature."""
    order = sorted(range(len(signatures)), key=signatures.__getitem__)
    colours = [0] * len(signatures)
    for rank, node in enumerate(order):
        previous = order[rank - 1] if rank else None
        same = previous is not None and signatures[previous] == signatures[node]
        colours[node] = colours[previous] if same else rank
    return colours


def canonical_hash(cell: Cell) -> str:
    """Hex sha256 of the smallest certificate of ``cell``'s DAG."""
    nodes, outputs = _Search(Graph(cell)).run()
    text = json.dumps([VERSION, [list(n) for n in nodes], list(outputs)], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
