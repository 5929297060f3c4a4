"""A cell's generated program: its source, run as Python or scripted, cached by structure.

The source depends only on the cell's structure (sizes are read from tensors
at run time), so one program serves every layer of that structure and every
size: scripting costs tens of milliseconds per function, paid once per
structure and process.
"""

from __future__ import annotations

import hashlib
import linecache
import threading
import warnings
from functools import cached_property
from typing import Any

from archsearch.cell.nodes import Cell

from .backward import gen_backward
from .codegen import HEADER, Names, gen_loop, gen_prologue, gen_standalone
from .graph import Graph, build_graph

# TorchScript is deprecated in recent PyTorch; we silence exactly its deprecation notices
# where we call it (the messages, not DeprecationWarning at large).
_JIT_DEPRECATION = r".*torch\.jit\.\w+.*(is deprecated|deprecated)"


def quiet_jit():
    """A context that hides TorchScript's own deprecation notices and nothing else."""
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.filterwarnings("ignore", message=_JIT_DEPRECATION, category=DeprecationWarning)
    return ctx


class Program:
    """Generated functions of one cell structure (see ``codegen`` for what each does)."""

    def __init__(self, graph: Graph, source: str) -> None:
        nm = Names(graph)
        self.names = nm
        self.n_states = len(graph.cell.states)
        self.n_params = n_params(graph)
        self.custom_backward = nm.custom_backward
        self.source = source
        digest = hashlib.sha1(self.source.encode()).hexdigest()[:16]
        # TorchScript reads a function's source through linecache: register it under a fake name.
        filename = f"<archsearch.compile {digest}>"
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        self.python: dict[str, Any] = {"__name__": f"archsearch_cell_{digest}"}
        exec(compile(self.source, filename, "exec"), self.python)
        self._lock = threading.Lock()

    @cached_property
    def scripted(self) -> dict[str, Any]:
        """The loops as TorchScript functions (compiled on first use)."""
        import torch

        names = ["loop"] + (["loop_save", "loop_back"] if self.custom_backward else [])
        with self._lock:
            ctx = quiet_jit()
            try:
                return {name: torch.jit.script(self.python[name]) for name in names}
            finally:
                ctx.__exit__(None, None, None)


_CACHE: dict[str, Program] = {}


def n_params(graph: Graph) -> int:
    """Length of the flat parameter list (see ``codegen.param_layout``)."""
    return sum(len(graph.nodes[lin].args) + 1 for lin in graph.linear_nodes) + graph.n_scales


def generate(graph: Graph) -> str:
    """The whole generated module of a graph."""
    nm = Names(graph)
    parts = [HEADER, *gen_prologue(nm), "", *gen_loop(nm, save=False), ""]
    if nm.custom_backward:
        parts += [*gen_loop(nm, save=True), "", *gen_backward(nm), ""]
    parts += gen_standalone(nm, n_params(graph))
    return "\n".join(parts) + "\n"


def program_for(cell: Cell) -> tuple[Graph, Program]:
    """The analysed graph and the program of a cell, shared by every cell of that source."""
    graph = build_graph(cell)
    source = generate(graph)
    if source not in _CACHE:
        _CACHE[source] = Program(graph, source)
    return graph, _CACHE[source]
