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
   in each, until the partition stops splitting. Colours are ranks of sorted
   signatures, so they are canonical.
3. **Serialisation.** Depth-first from each output in order; commutative
   children are visited in colour order; a node seen before is written as a
   back-reference to its first visit. The token stream describes the graph
   completely (labels, child counts, sharing, outputs), so equal hashes mean
   the same architecture. Plain tree hashing would not: it cannot tell two
   ``tanh(linear(x))`` multiplied together from one squared.

The one imperfection: if two children of a commutative node share a colour
yet are not interchangeable (WL refinement cannot split every such pair; no
cell of realistic size is known to hit it), the visit order falls back to
source order and two equal cells could hash differently. The search would
then train one architecture twice, never confuse two.
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

VERSION = "archsearch-cell-hash/1"


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

    def colours(self) -> list[int]:
        """Stable Weisfeiler-Lehman colours over children and parents."""
        parents: list[list[tuple[int, int]]] = [[] for _ in self.labels]
        for node, children in enumerate(self.children):
            for position, child in enumerate(children):
                role = 0 if self.commutative[node] else position + 1
                parents[child].append((role, node))
        outputs: list[list[int]] = [[] for _ in self.labels]
        for index, node in enumerate(self.outputs):
            outputs[node].append(index)
        # Start from exact bottom-up then top-down digests (node ids are topological:
        # children are made first), so refinement below usually stops at once.
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
        colours = _rank(down)
        for _ in range(len(self.labels) + 1):
            signatures = []
            for node, children in enumerate(self.children):
                kids = [colours[c] for c in children]
                if self.commutative[node]:
                    kids.sort()
                ups = sorted((role, colours[p]) for role, p in parents[node])
                signatures.append((colours[node], tuple(kids), tuple(ups)))
            refined = _rank(signatures)
            if len(set(refined)) == len(set(colours)):
                break
            colours = refined
        return colours

    def serialise(self) -> list:
        """The canonical token stream (iterative: chains of statements can be long)."""
        colours = self.colours()
        seen: dict[int, int] = {}
        tokens: list = [VERSION, len(self.outputs)]
        for output in self.outputs:
            tokens.append("out")
            stack = [output]
            while stack:
                node = stack.pop()
                if node in seen:
                    tokens.append(["ref", seen[node]])
                    continue
                seen[node] = len(seen)
                children = self.children[node]
                if self.commutative[node]:
                    children = sorted(children, key=lambda c: colours[c])
                tokens.append([self.labels[node], len(children)])
                stack.extend(reversed(children))
        return tokens


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).digest()


def _rank(signatures: list) -> list[int]:
    order = {sig: rank for rank, sig in enumerate(sorted(set(signatures)))}
    return [order[sig] for sig in signatures]


def canonical_hash(cell: Cell) -> str:
    """Hex sha256 of the canonical serialisation of ``cell``'s DAG."""
    text = json.dumps(Graph(cell).serialise(), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
