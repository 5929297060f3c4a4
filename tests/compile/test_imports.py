"""The compiler's modules import one another without a loop (forward and backward generation
share the saved buffers' layout through ``saved.py``, not through each other)."""

from __future__ import annotations

import ast
from pathlib import Path

import archsearch.compile

PACKAGE = Path(archsearch.compile.__file__).parent


def imports() -> dict[str, set[str]]:
    """Module name -> the package's modules it imports (``from .x import``, ``from . import x``)."""
    out = {}
    for path in PACKAGE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found |= {node.module} if node.module else {a.name for a in node.names}
        out[path.stem] = found
    return out


def loop(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop, as the modules around it, or None."""

    def walk(name: str, path: list[str]) -> list[str] | None:
        for nxt in sorted(graph.get(name, ())):
            if nxt in path:
                return path[path.index(nxt) :] + [nxt]
            if found := walk(nxt, [*path, nxt]):
                return found
        return None

    return next((found for name in sorted(graph) if (found := walk(name, [name]))), None)


def test_compile_has_no_import_loop():
    graph = imports()
    assert {"saved", "forward", "backward"} <= set(graph)
    assert loop(graph) is None, " -> ".join(loop(graph))


def test_the_check_sees_a_loop():
    assert loop({"forward": {"backward"}, "backward": {"forward"}}) == [
        "backward",
        "forward",
        "backward",
    ]
    assert loop({"forward": {"saved"}, "backward": {"saved"}, "saved": set()}) is None
