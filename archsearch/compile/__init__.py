"""Compile a cell into a fast PyTorch recurrent layer (TorchScript by default).

``compile_cell(cell, input_size, hidden_size, *, backend="torchscript", init_scale=1.0)``
returns a ``torch.nn.Module``; see ``layer.py`` for its contract and
``graph.py`` / ``codegen.py`` / ``backward.py`` for how the code is generated.
"""

from . import kernels
from .backends import BACKENDS
from .layer import CompiledLayer, CompileError, compile_cell

__all__ = ["BACKENDS", "CompileError", "CompiledLayer", "compile_cell", "kernels"]
