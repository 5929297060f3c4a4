"""A cell's generated program: its source, run as Python or scripted, cached by source.

The source depends only on the cell's structure (sizes are read from tensors
at run time), so one program serves every layer of that structure and every
size. Measured (CPU): generating the source ~3-6 ms per cell, scripting its
loops ~15 ms on first use per structure, compiling a cached structure ~1 ms.
The cache keeps the most recently used programs only,
since a search compiles thousands of cells.

Scripted functions run with the graph executor's optimisation off
(``torch.jit.optimized_execution(False)``, a thread-local setting): measured as
fast for these loops (its passes find nothing to fuse on CPU), and it skips the
profiling runs and the ~150 ms optimisation the profiling executor pays for
every structure and new input shape. Re-measured with the oneDNN kernels
(``kernels.py``), on/off interleaved rep by rep over 8 zoo and search cells:
median ratio 1.01 (0.95-1.04), so it stays off.
"""

from __future__ import annotations

import contextlib
import hashlib
import linecache
import threading
import types
import warnings
from collections import OrderedDict
from functools import cached_property
from typing import Any

import torch

from archsearch.cell.nodes import Cell

from . import kernels
from .backward import gen_backward
from .codegen import HEADER, Names, gen_prologue, gen_standalone
from .forward import gen_loop
from .fused import match
from .graph import Graph, build_graph

# TorchScript is deprecated in recent PyTorch ("`torch.jit.script` is deprecated. Please
# switch to ..."); we silence exactly those notices where we call it, nothing broader.
_JIT_DEPRECATION = r"`torch\.jit\.\w+` is deprecated"
CACHE_SIZE = 512


@contextlib.contextmanager
def quiet_jit():
    """Hide TorchScript's own deprecation notices (and nothing else) inside the block."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_JIT_DEPRECATION, category=DeprecationWarning)
        yield


class Program:
    """Generated functions of one cell structure (see ``codegen`` for what each does)."""

    def __init__(self, graph: Graph, source: str) -> None:
        self.names = Names(graph)
        # exactly torch's LSTM or GRU: it can run on torch's fused kernel (``fused.py``)
        self.fused = match(graph, self.names.weights, self.names.biases)
        self.custom_backward = self.names.custom_backward
        self.source = source
        digest = hashlib.sha1(source.encode()).hexdigest()[:16]
        # TorchScript reads a function's source through linecache: register it under a fake name.
        filename = self.filename = f"<archsearch.compile {digest}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        self.python: dict[str, Any] = {
            "__name__": f"archsearch_cell_{digest}",
            "onednn_mm": kernels.onednn_mm,
            "linear": torch.nn.functional.linear,
        }
        exec(compile(source, filename, "exec"), self.python)
        # The prologue again, its input projections through oneDNN where that is faster
        # (``kernels.linear``, autograd included); the plain one serves eager and saving.
        plain = self.python["prologue"]
        self.fast_prologue = types.FunctionType(
            plain.__code__, {**self.python, "linear": kernels.linear}, "prologue"
        )
        self._lock = threading.Lock()

    @cached_property
    def scripted(self) -> dict[str, Any]:
        """The loops as TorchScript functions (compiled on first use)."""
        names = ["loop"] + (["loop_save", "loop_back"] if self.custom_backward else [])
        with self._lock, quiet_jit():
            return {name: torch.jit.script(self.python[name]) for name in names}

    def standalone(self) -> type:
        """The ``Layer`` class for saving, on plain TorchScript kernels: the file loads anywhere.

        (The oneDNN product is built from IR and does not serialise; a saved layer
        runs with ``fast`` off, so it never calls it.)
        """
        ns: dict[str, Any] = {
            "__name__": f"{self.python['__name__']}_standalone",
            "onednn_mm": kernels.plain_mm,
            "linear": torch.nn.functional.linear,
        }
        exec(compile(self.source, self.filename, "exec"), ns)
        return ns["Layer"]

    def run(self, name: str, *args):
        """Call a scripted function (unoptimised graph executor: see the module docstring)."""
        fn = self.scripted[name]
        with torch.jit.optimized_execution(False):
            return fn(*args)


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


_CACHE: OrderedDict[str, Program] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def is_cached(cell: Cell) -> bool:
    """True when a cell of this structure has a program already (compiling it costs ~1 ms)."""
    source = generate(build_graph(cell))
    with _CACHE_LOCK:
        return source in _CACHE


def program_for(cell: Cell) -> tuple[Graph, Program]:
    """The analysed graph and the program of a cell, shared by every cell of that source."""
    graph = build_graph(cell)
    source = generate(graph)
    with _CACHE_LOCK:
        program = _CACHE.pop(source, None) or Program(graph, source)
        _CACHE[source] = program
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return graph, program
