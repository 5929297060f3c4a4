"""Text to ``Cell``: a strict regex for the header, Python's ``ast`` for the body.

Nothing is ever executed or compiled: the body is read by ``ast.parse`` and
walked. Every problem becomes a ``CellError`` that points at the user's own
line and column, including whatever ``ast.parse`` raises on hostile text.
"""

from __future__ import annotations

import ast
import re

from .errors import (
    MAX_DEPTH,
    MAX_STATEMENTS,
    MAX_TEXT,
    NAME_RE,
    CellError,
    name_problem,
    number_problem,
)
from .functions import CALLABLE, FUNCTIONS
from .nodes import Assign, Call, Cell, Const, Expr, Ref

_N = NAME_RE.pattern
_HEADER = re.compile(
    rf"cell[ \t]+({_N})[ \t]*\([ \t]*({_N})[ \t]*;[ \t]*({_N}(?:[ \t]*,[ \t]*{_N})*)"
    r"[ \t]*\)[ \t]*:[ \t]*(?:#.*)?"
)
_HEADER_FORM = "`cell NAME(INPUT; STATE, ...):`"
_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul"}
_SYMBOLS = {
    ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@",
    ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
    ast.UAdd: "unary +", ast.Invert: "~", ast.Not: "not",
}  # fmt: skip
_UNSUPPORTED = {
    ast.Compare: "comparisons", ast.BoolOp: "and/or", ast.IfExp: "conditional expressions",
    ast.Lambda: "lambda", ast.Subscript: "indexing", ast.Starred: "starred arguments",
    ast.List: "lists", ast.Tuple: "tuples", ast.Set: "sets", ast.Dict: "dicts",
    ast.JoinedStr: "strings", ast.NamedExpr: "assignment expressions (:=)",
}  # fmt: skip
_STATEMENTS = {
    ast.Import: "import", ast.ImportFrom: "import", ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "def", ast.ClassDef: "class", ast.If: "if", ast.For: "for",
    ast.While: "while", ast.With: "with", ast.Try: "try", ast.Return: "return",
    ast.Delete: "del", ast.Global: "global", ast.Nonlocal: "nonlocal", ast.Pass: "pass",
    ast.Raise: "raise", ast.Assert: "assert",
}  # fmt: skip


def parse_cell(text: str) -> Cell:
    """Parse one cell written in the cell language; raise ``CellError`` if it is not valid."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise CellError(f"expected the cell text as a str, got {type(text).__name__}", line=1)
        if len(text) > MAX_TEXT:
            raise CellError(
                f"the cell text has {len(text)} characters; the limit is {MAX_TEXT}", line=1
            )
        nul = text.find("\0")
        if nul >= 0:
            line = text.count("\n", 0, nul) + 1
            column = nul - (text.rfind("\n", 0, nul) + 1) + 1
            raise CellError("the text contains a NUL character", line=line, column=column)
        self.lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.indent = 0  # columns of body indentation stripped before ast.parse
        self.assigned: dict[str, int] = {}  # name -> line of its assignment
        self.later: dict[str, int] = {}  # every assigned name -> line of its first assignment
        self.read: set[str] = set()

    def error(self, message: str, line: int, column: int) -> CellError:
        return CellError(message, line=line, column=column)

    # --- text ---------------------------------------------------------------

    def parse(self) -> Cell:
        header = self._find_header()
        self._header(header)
        tree = self._body(header)
        return self._cell(tree)

    def _find_header(self) -> int:
        for index, line in enumerate(self.lines):
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                return index
        raise self.error(f"the text holds no cell; expected a header {_HEADER_FORM}", 1, 1)

    def _header(self, index: int) -> None:
        line, number = self.lines[index], index + 1
        match = _HEADER.fullmatch(line.rstrip())
        if match is None:
            shown = line.strip()[:60]
            raise self.error(f"expected a header {_HEADER_FORM}, got {shown!r}", number, 1)
        self.name, self.input = match.group(1), match.group(2)
        states = [(m.group(), match.start(3) + m.start()) for m in re.finditer(_N, match.group(3))]
        self.states = tuple(name for name, _ in states)
        self.header_columns: dict[str, int] = {}
        named = [(match.group(1), match.start(1), "cell"), (self.input, match.start(2), "input")]
        for name, column, role in named + [(s, c, "state") for s, c in states]:
            problem = name_problem(name, role)
            if problem:
                raise self.error(problem, number, column + 1)
            if role != "cell":
                if name in self.header_columns:
                    raise self.error(f"{name!r} appears twice in the header", number, column + 1)
                self.header_columns[name] = column + 1
        self.header_line = number

    def _body(self, header: int) -> ast.Module:
        source: list[str] = [""] * (header + 1)
        prefix: str | None = None
        for index in range(header + 1, len(self.lines)):
            line = self.lines[index]
            code = line.split("#", 1)[0]
            if not code.strip():
                source.append("")
                continue
            for column, char in enumerate(code):
                if not char.isascii():
                    raise self.error(
                        f"unexpected character {char!r}: outside comments, cell text is ASCII",
                        index + 1,
                        column + 1,
                    )
            if prefix is None:
                prefix = code[: len(code) - len(code.lstrip(" \t"))]
                if not prefix:
                    raise self.error("the body must be indented under the header", index + 1, 1)
            if _HEADER.match(line):
                raise self.error("a text holds one cell; this is a second header", index + 1, 1)
            if not line.startswith(prefix):
                raise self.error(
                    "expected this line indented like the first statement", index + 1, 1
                )
            source.append(line[len(prefix) :])
        if prefix is None:
            raise self.error("the cell has no statements", self.header_line, 1)
        self.indent = len(prefix)
        self._check_nesting(source)
        try:
            return ast.parse("\n".join(source), mode="exec")
        except SyntaxError as e:
            line = e.lineno or self.header_line
            column = (e.offset or 1) + (self.indent if line > self.header_line else 0)
            raise self.error(f"invalid syntax: {e.msg}", line, column) from None
        except (ValueError, RecursionError, MemoryError, OverflowError) as e:
            kind = "too deeply nested" if isinstance(e, (RecursionError, MemoryError)) else "bad"
            raise self.error(
                f"cannot read the body ({kind} text)", self.header_line + 1, 1
            ) from None

    def _check_nesting(self, source: list[str]) -> None:
        """Reject deep bracket nesting before ``ast.parse`` sees it."""
        depth = 0
        for index, line in enumerate(source):
            for column, char in enumerate(line.split("#", 1)[0]):
                depth += (char in "([{") - (char in ")]}")
                if depth > MAX_DEPTH:
                    message = f"the expression is nested deeper than {MAX_DEPTH}"
                    raise self.error(message, index + 1, column + 1 + self.indent)

    def at(self, node: ast.AST) -> tuple[int, int]:
        return node.lineno, node.col_offset + 1 + self.indent

    # --- statements -----------------------------------------------------------

    def _cell(self, tree: ast.Module) -> Cell:
        if len(tree.body) > MAX_STATEMENTS:
            line, column = self.at(tree.body[MAX_STATEMENTS])
            message = f"the cell has {len(tree.body)} statements; the limit is {MAX_STATEMENTS}"
            raise self.error(message, line, column)
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Name):
                    self.later.setdefault(target.id, stmt.lineno)
        body = tuple(self._statement(stmt) for stmt in tree.body)
        for state in self.states:
            if state not in self.assigned:
                message = f"the state {state!r} is never assigned"
                raise self.error(message, self.header_line, self.header_columns[state])
        for stmt in body:
            if stmt.target not in self.states and stmt.target not in self.read:
                message = f"{stmt.target!r} is assigned but never read"
                raise self.error(message, stmt.line, stmt.column + 1)
        if self.input not in self.read:
            message = f"the input {self.input!r} is never read"
            raise self.error(message, self.header_line, self.header_columns[self.input])
        return Cell(self.name, self.input, self.states, body)

    def _statement(self, stmt: ast.stmt) -> Assign:
        line, column = self.at(stmt)
        if not isinstance(stmt, ast.Assign):
            raise self.error(_statement_problem(stmt), line, column)
        if len(stmt.targets) != 1:
            raise self.error("chained assignment: assign one name per statement", line, column)
        target = stmt.targets[0]
        if not isinstance(target, ast.Name):
            what = "tuple" if isinstance(target, (ast.Tuple, ast.List)) else "non-name"
            message = f"{what} assignment: assign one plain name per statement"
            raise self.error(message, line, column)
        name = target.id
        if name == self.input:
            raise self.error(f"cannot assign the input {name!r}", line, column)
        problem = name_problem(name, "assigned")
        if problem:
            raise self.error(problem, line, column)
        if name in self.assigned:
            first = self.assigned[name]
            raise self.error(f"{name!r} is assigned twice (first on line {first})", line, column)
        self._check_depth(stmt.value)
        value = self._expr(stmt.value)
        self.assigned[name] = line
        return Assign(name, value, line=line, column=column - 1)

    def _check_depth(self, root: ast.expr) -> None:
        """Iteratively bound the nesting (bias values are literals, checked apart)."""
        stack = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                message = f"the expression is nested deeper than {MAX_DEPTH}"
                raise self.error(message, *self.at(node))
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    stack.append((child, depth + 1))

    # --- expressions --------------------------------------------------------

    def _expr(self, node: ast.expr) -> Expr:
        if isinstance(node, ast.Name):
            return self._ref(node)
        if isinstance(node, ast.Constant):
            return Const(self._number(node, "a constant"))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return Call(_BINOPS[type(node.op)], (self._expr(node.left), self._expr(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return Call("neg", (self._expr(node.operand),))
        if isinstance(node, ast.Call):
            return self._call(node)
        raise self.error(_expression_problem(node), *self.at(node))

    def _ref(self, node: ast.Name) -> Ref:
        name = node.id
        where = self.at(node)
        if name == self.input:
            kind = "input"
        elif name in self.states:
            kind = "new" if name in self.assigned else "prev"
        elif name in self.assigned:
            kind = "local"
        elif name in CALLABLE:
            raise self.error(f"the function {name} is used as a value; call it", *where)
        elif name in self.later:
            line = self.later[name]
            raise self.error(f"{name!r} is read before it is assigned (on line {line})", *where)
        else:
            raise self.error(f"undefined name {name[:64]!r}", *where)
        self.read.add(name)
        return Ref(name, kind)

    def _number(self, node: ast.expr, what: str) -> float:
        sign = 1.0
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            node = node.operand
        value = node.value if isinstance(node, ast.Constant) else "an expression"
        problem = number_problem(value, what)
        if problem:
            raise self.error(problem, *self.at(node))
        return sign * float(value)

    def _call(self, node: ast.Call) -> Call:
        where = self.at(node)
        if not isinstance(node.func, ast.Name):
            raise self.error(_expression_problem(node.func), *self.at(node.func))
        name = node.func.id
        if name not in CALLABLE:
            if name in self.assigned or name in self.states or name == self.input:
                raise self.error(f"{name!r} is a value, not a function", *where)
            known = ", ".join(CALLABLE)
            raise self.error(f"unknown function {name[:64]!r}; known functions: {known}", *where)
        arity = FUNCTIONS[name].arity
        count = len(node.args)
        if arity is None and count == 0:
            raise self.error(f"{name} takes at least 1 argument, got 0", *where)
        if arity is not None and count != arity:
            raise self.error(f"{name} takes {arity} argument(s), got {count}", *where)
        bias = 0.0
        for keyword in node.keywords:
            if keyword.arg != "bias":
                shown = "**" if keyword.arg is None else keyword.arg
                message = f"unknown keyword {shown!r}: the only keyword is bias (of linear)"
                raise self.error(message, *self.at(keyword))
            if name != "linear":
                raise self.error(f"only linear takes bias=, not {name}", *self.at(keyword))
            bias = self._number(keyword.value, "bias")
        return Call(name, tuple(self._expr(arg) for arg in node.args), bias=bias)


def _statement_problem(stmt: ast.stmt) -> str:
    if isinstance(stmt, ast.AugAssign):
        return "augmented assignment (like c += ...) is not supported; write c = c + ..."
    if isinstance(stmt, ast.AnnAssign):
        return "annotated assignment is not supported; write name = expression"
    if isinstance(stmt, ast.Expr):
        return "an expression on its own is not a statement; assign it to a name"
    word = _STATEMENTS.get(type(stmt), type(stmt).__name__)
    return f"'{word}' is not allowed: the body holds assignments only"


def _expression_problem(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"attribute access (.{node.attr}) is not supported; call functions by name: tanh(a)"
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        symbol = _SYMBOLS.get(type(node.op), type(node.op).__name__)
        return f"the operator {symbol} is not supported; the operators are +, -, * and unary -"
    what = _UNSUPPORTED.get(type(node), type(node).__name__)
    return f"{what} are not supported in the cell language"
