"""NAS-Bench-NLP recipes (Klyuchnikov et al. 2020) to and from ``Cell``.

A recipe is a JSON object mapping node names to ``{"op": ..., "input": [...]}``.
The inputs are ``x`` and ``h_prev_0``, ``h_prev_1``, ...; the outputs are the
nodes ``h_new_0`` (the cell output), ``h_new_1``, ... NAS-Bench-NLP's ops map
to the language so (its ``blend`` is ``in0 * in1 + (1 - in0) * in2``, our
``blend(a, b, c)`` with the same argument order):

=========================  ==========================================
``linear``                 ``linear(in0, in1, ...)`` (bias 0)
``activation_tanh``        ``tanh``; ``activation_sigm``: ``sigmoid``;
                           ``activation_leaky_relu``: ``leaky_relu``
``elementwise_sum/prod``   ``+`` / ``*``, 2 or more inputs, folded left
``blend``                  ``blend(in0, in1, in2)``
=========================  ==========================================

archsearch's **extended** ops (written only with ``to_recipe(extended=True)``,
always read): ``elementwise_sub`` (``in0 - in1``), ``elementwise_neg``
(``-in0``), ``constant`` (no input, ``"value": v``), ``activation_relu``,
``activation_identity``, ``scale`` (``scale(in0)``), ``copy`` (an output that
is another node's value, as in ``c = h``), and ``"bias": b`` on ``linear``.
Reading drops nodes no output depends on and, as NAS-Bench-NLP's own code
does, ignores fields other than ``op``, ``input``, ``value`` and ``bias``
(with a warning). ``strict=True`` reads only what NAS-Bench-NLP's
``CustomRNNCell`` runs: its seven ops, ``elementwise_sum``/``prod`` of exactly
two inputs (its loop over a third input fails), and only ``op`` and
``input`` (required) in a node.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import TYPE_CHECKING, Any

from .errors import MAX_NAME, MAX_STATEMENTS, CellError, name_problem, number_problem
from .functions import FUNCTIONS
from .nodes import Assign, Call, Const, Expr, Ref

if TYPE_CHECKING:
    from .nodes import Cell

MAX_RECIPE_TEXT = 1024 * 1024  # characters of recipe JSON
STRICT_OPS = {f.recipe_op: f.name for f in FUNCTIONS.values() if f.recipe_op}
EXTENDED_OPS = {
    "elementwise_sub": "sub",
    "elementwise_neg": "neg",
    "activation_relu": "relu",
    "activation_identity": "identity",
    "scale": "scale",
}
OPS = {**STRICT_OPS, **EXTENDED_OPS}  # recipe op -> function
_FN_TO_OP = {fn: op for op, fn in OPS.items()}
_ARITY = {  # op -> (fewest, most) inputs; every other op takes one
    "constant": (0, 0),
    "blend": (3, 3),
    "elementwise_sub": (2, 2),
    "elementwise_sum": (2, MAX_STATEMENTS),
    "elementwise_prod": (2, MAX_STATEMENTS),
    "linear": (1, MAX_STATEMENTS),
}
_FIELDS = {"op", "input", "value", "bias"}
_STRICT_FIELDS = {"op", "input"}
_PREV = re.compile(r"h_prev_(\d+)")
_NEW = re.compile(r"h_new_(\d+)")
_RESERVED = re.compile(r"x|h_(prev|new)_\d+")


# --- writing ----------------------------------------------------------------


def to_recipe(cell: Cell, *, extended: bool = False) -> dict[str, Any]:
    """The recipe of ``cell``; without ``extended``, refuse what NAS-Bench-NLP cannot express."""
    return _Writer(cell, extended).recipe


class _Writer:
    def __init__(self, cell: Cell, extended: bool) -> None:
        self.cell, self.extended = cell, extended
        self.recipe: dict[str, Any] = {}
        owner: dict[str, object] = {}  # name -> statement index that computes it, or a leaf name
        for index, stmt in enumerate(cell.body):
            owner[stmt.target] = self._source(stmt.value, owner, index)
        names: dict[int, str] = {}
        copies: list[tuple[int, object]] = []
        for i, state in enumerate(cell.states):
            source = owner[state]
            if isinstance(source, int) and source not in names:
                names[source] = f"h_new_{i}"
            else:
                copies.append((i, source))
        used = set(names.values())
        for index, stmt in enumerate(cell.body):
            if index not in names and owner[stmt.target] == index:
                names[index] = _fresh(stmt.target, used)
        self.names, self.used = names, used
        self.resolved = {t: (names[s] if isinstance(s, int) else s) for t, s in owner.items()}
        for index, stmt in enumerate(cell.body):
            if index in names:
                self._node(stmt.value, names[index], stmt, index)
        for i, source in copies:
            self._require("a state that copies another value (like c = h)", "copy", cell, i)
            node = self.names[source] if isinstance(source, int) else source
            self.recipe[f"h_new_{i}"] = {"op": "copy", "input": [node]}

    def _source(self, value: Expr, owner: dict[str, object], index: int) -> object:
        if isinstance(value, Ref):
            if value.kind == "input":
                return "x"
            if value.kind == "prev":
                return f"h_prev_{self.cell.states.index(value.name)}"
            return owner[value.name]
        return index

    def _require(self, what: str, op: str, stmt: object, index: int) -> None:
        if self.extended:
            return
        if isinstance(stmt, Assign):
            where = f"line {stmt.line}" if stmt.line else f"statement {index + 1}"
            where += f" ({stmt.target} = ...)"
        else:
            where = f"state {self.cell.states[index]!r}"
        raise CellError(
            f"cell {self.cell.name!r} cannot be written as a NAS-Bench-NLP recipe: {what} at "
            f"{where} has no recipe op; to_recipe(extended=True) writes the extended op {op!r}"
        )

    def _node(self, expr: Expr, name: str, stmt: Assign, index: int) -> str:
        """Write ``expr`` as node ``name`` (its subexpressions as fresh nodes); return ``name``."""
        if isinstance(expr, Const):
            self._require(f"the constant {expr.value!r}", "constant", stmt, index)
            self.recipe[name] = {"op": "constant", "input": [], "value": float(expr.value)}
            return name
        assert isinstance(expr, Call)
        op = _FN_TO_OP[expr.fn]
        if op not in STRICT_OPS:
            fn = FUNCTIONS[expr.fn]
            what = f"the operator {fn.operator}" if fn.operator else f"{fn.name}()"
            self._require(what, op, stmt, index)
        inputs = [self._input(arg, stmt, index) for arg in expr.args]
        spec: dict[str, Any] = {"op": op, "input": inputs}
        if expr.bias:
            self._require(f"linear's bias={expr.bias!r}", "bias", stmt, index)
            spec["bias"] = float(expr.bias)
        self.recipe[name] = spec
        return name

    def _input(self, expr: Expr, stmt: Assign, index: int) -> str:
        if isinstance(expr, Ref):
            if expr.kind == "input":
                return "x"
            if expr.kind == "prev":
                return f"h_prev_{self.cell.states.index(expr.name)}"
            return self.resolved[expr.name]
        return self._node(expr, _fresh(stmt.target, self.used, first=1), stmt, index)


def _fresh(base: str, used: set[str], first: int = 0) -> str:
    """``base`` (or ``base_1``, ``base_2`` ...): the first name free to use; marks it used."""
    base = base[: MAX_NAME - 6]
    name, k = (f"{base}_{first}" if first else base), first + 1
    while name in used or _RESERVED.fullmatch(name):
        name, k = f"{base}_{k}", k + 1
    used.add(name)
    return name


# --- reading -----------------------------------------------------------------


def from_recipe(
    recipe: dict[str, Any] | str, *, name: str = "recipe", strict: bool = False
) -> Cell:
    """A ``Cell`` from a recipe (a dict, or its JSON text).

    Extended ops are accepted and unknown fields ignored with a warning, unless
    ``strict``: then only NAS-Bench-NLP's own ops and fields are (see above).
    """
    from .nodes import Cell

    recipe = _load(recipe, strict)
    outputs = _outputs(recipe)
    order = _order(recipe, outputs)
    states = ("h", "c", *(f"s{i}" for i in range(2, len(outputs))))[: len(outputs)]
    used = {"x", *states}
    local = {key: _local_name(key, used) for key in order if not _NEW.fullmatch(key)}
    position = {key: i for i, key in enumerate(order)}
    # A node that reads h_prev_i after h_new_i is assigned reads an alias made first.
    late = {
        int(_PREV.fullmatch(inp).group(1))
        for key in order
        for inp in recipe[key]["input"]
        if _PREV.fullmatch(inp)
        and position[key] > position[f"h_new_{_PREV.fullmatch(inp).group(1)}"]
    }
    aliases = {i: _local_name(f"{states[i]}_prev", used) for i in sorted(late)}
    body = [Assign(aliases[i], Ref(states[i], "prev")) for i in sorted(late)]
    assigned: set[int] = set()

    def ref(inp: str) -> Expr:
        if inp == "x":
            return Ref("x", "input")
        prev = _PREV.fullmatch(inp)
        if prev:
            i = int(prev.group(1))
            return Ref(aliases[i], "local") if i in assigned else Ref(states[i], "prev")
        new = _NEW.fullmatch(inp)
        return Ref(states[int(new.group(1))], "new") if new else Ref(local[inp], "local")

    for key in order:
        new = _NEW.fullmatch(key)
        body.append(
            Assign(states[int(new.group(1))] if new else local[key], _expr(recipe, key, ref))
        )
        if new:
            assigned.add(int(new.group(1)))
    if not any("x" in recipe[key]["input"] for key in order):
        dead = sorted(k for k, spec in recipe.items() if "x" in spec["input"])
        also = f"; only node(s) no output depends on read it: {dead[:5]}" if dead else ""
        raise CellError(
            f"recipe {name!r}: the input 'x' is never read (no node an output depends on "
            f"reads it{also})"
        )
    try:
        return Cell(name, "x", states, tuple(body))
    except CellError as e:
        raise CellError(f"recipe {name!r}: {e}") from None


def _load(recipe: object, strict: bool) -> dict[str, dict]:
    """The recipe's nodes, checked, each as ``{"op", "input"[, "value", "bias"]}``."""
    if isinstance(recipe, str):
        if len(recipe) > MAX_RECIPE_TEXT:
            raise CellError(f"recipe: the JSON text is longer than {MAX_RECIPE_TEXT} characters")
        try:
            recipe = json.loads(recipe)
        except (ValueError, RecursionError) as e:
            raise CellError(f"recipe: not valid JSON ({str(e)[:100]})") from None
    if not isinstance(recipe, dict):
        raise CellError(
            f"recipe: expected a JSON object of nodes {{name: {{op, input}}}}, "
            f"got {type(recipe).__name__}"
        )
    if len(recipe) > 4 * MAX_STATEMENTS:
        raise CellError(f"recipe: {len(recipe)} nodes; the limit is {4 * MAX_STATEMENTS}")
    nodes: dict[str, dict] = {}
    ignored: dict[str, list[str]] = {}  # unknown field -> nodes that have it
    for key, spec in recipe.items():
        where = f"recipe node {str(key)[:64]!r}"
        if not isinstance(key, str):
            raise CellError(f"{where}: node names are strings")
        if _PREV.fullmatch(key) or key == "x":
            raise CellError(f"{where}: this name is an input of the cell, not a node")
        if not isinstance(spec, dict) or not isinstance(spec.get("op"), str):
            raise CellError(f'{where}: expected {{"op": ..., "input": [...]}}')
        op = spec["op"]
        _check_op(op, where, strict)
        extra = set(spec) - (_STRICT_FIELDS if strict else _FIELDS)
        if extra and strict:
            raise CellError(
                f"{where}: field(s) {sorted(extra)[:5]} are not NAS-Bench-NLP's (it reads "
                f'"op" and "input"); read with strict=False to ignore them'
            )
        for field in extra:
            ignored.setdefault(str(field)[:64], []).append(key[:64])
        if "input" not in spec and (strict or op != "constant"):
            raise CellError(f'{where}: "input" is missing (a list of node names)')
        inputs = spec.get("input", [])
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            raise CellError(f'{where}: "input" must be a list of node names')
        if strict and op in ("elementwise_sum", "elementwise_prod") and len(inputs) != 2:
            raise CellError(
                f"{where}: NAS-Bench-NLP runs {op} on exactly 2 inputs, got {len(inputs)}; "
                "strict=False folds more from the left"
            )
        for inp in inputs:
            if inp != "x" and not _PREV.fullmatch(inp) and inp not in recipe:
                raise CellError(f"{where}: unknown input {inp[:64]!r}")
        nodes[key] = {f: spec[f] for f in _FIELDS if f in spec} | {"input": inputs}
    if ignored:
        where = "; ".join(f"{f!r} in {', '.join(map(repr, n[:3]))}" for f, n in ignored.items())
        warnings.warn(f"recipe: ignored unknown field(s): {where[:300]}", UserWarning, stacklevel=4)
    return nodes


def _check_op(op: str, where: str, strict: bool) -> None:
    if op in STRICT_OPS:
        return
    if strict and (op in OPS or op in ("constant", "copy")):
        raise CellError(
            f"{where}: {op!r} is an archsearch extension, not a NAS-Bench-NLP op; "
            "read with strict=False"
        )
    if op not in OPS and op not in ("constant", "copy"):
        known = ", ".join([*STRICT_OPS] if strict else [*OPS, "constant", "copy"])
        raise CellError(f"{where}: unknown op {op[:64]!r}; known ops: {known}")


def _outputs(recipe: dict[str, dict]) -> list[str]:
    found = {}
    for key in recipe:
        new = _NEW.fullmatch(key)
        if new:
            if str(int(new.group(1))) != new.group(1):
                raise CellError(f"recipe node {key!r}: write output numbers without leading zeros")
            found[int(new.group(1))] = key
    if 0 not in found:
        raise CellError("recipe: there is no output node h_new_0")
    for i in range(max(found) + 1):
        if i not in found:
            raise CellError(
                f"recipe: outputs must be numbered h_new_0, h_new_1, ...; h_new_{i} is missing"
            )
    for key, spec in recipe.items():
        for inp in spec.get("input", []):
            prev = _PREV.fullmatch(inp)
            if prev and int(prev.group(1)) not in found:
                raise CellError(
                    f"recipe node {key!r}: reads {inp} but there is no h_new_{prev.group(1)}"
                )
    return [found[i] for i in range(len(found))]


def _order(recipe: dict[str, dict], outputs: list[str]) -> list[str]:
    """Nodes the outputs depend on, inputs first (iterative DFS; refuses cycles)."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    for root in outputs:
        stack = [(root, False)]
        while stack:
            key, finished = stack.pop()
            if finished:
                state[key] = 2
                order.append(key)
                continue
            if state.get(key) == 2:
                continue
            state[key] = 1
            stack.append((key, True))
            for inp in reversed(recipe[key].get("input", [])):
                if inp in recipe:
                    if state.get(inp) == 1:
                        raise CellError(f"recipe node {inp!r}: it is part of a cycle")
                    if state.get(inp) is None:
                        stack.append((inp, False))
    return order


def _local_name(key: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", key)[: MAX_NAME - 8] or "n"
    if base[0].isdigit():
        base = "n_" + base
    name, k = base, 1
    while name in used or name_problem(name, "node") is not None:
        name, k = f"{base}_{k}", k + 1
    used.add(name)
    return name


def _expr(recipe: dict[str, dict], key: str, ref) -> Expr:
    spec = recipe[key]
    op = spec["op"]
    where = f"recipe node {key!r}"
    args = [ref(inp) for inp in spec.get("input", [])]
    low, high = _ARITY.get(op, (1, 1))
    if not low <= len(args) <= high:
        wanted = f"{low}" if low == high else f"{low} or more"
        raise CellError(f"{where}: {op} takes {wanted} input(s), got {len(args)}")
    if op == "constant":
        value = spec.get("value")
        problem = number_problem(value, f"{where}: the value of a constant")
        if problem:
            raise CellError(problem)
        value = float(value) + 0.0
        return Call("neg", (Const(-value),)) if value < 0 else Const(value)
    if op == "copy":
        return args[0]
    bias = spec.get("bias", 0.0)
    problem = number_problem(bias, f"{where}: the bias")
    if problem:
        raise CellError(problem)
    if bias and op != "linear":
        raise CellError(f"{where}: only linear takes a bias")
    fn = OPS[op]
    if fn in ("add", "mul"):
        expr: Expr = args[0]
        for arg in args[1:]:
            expr = Call(fn, (expr, arg))
        return expr
    return Call(fn, tuple(args), bias=float(bias))
