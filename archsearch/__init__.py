"""archsearch: search and benchmark recurrent-cell architectures (Jozefowicz et al., ICML 2015).

The cell language is pure data and never imports torch; the compiler and the
store are loaded on first use, so ``import archsearch`` stays light.
"""

from archsearch.cell import Cell, CellError, parse_cell

__version__ = "0.1.0"

_LAZY = {
    "compile_cell": ("archsearch.compile", "compile_cell"),
    "load_results": ("archsearch.store", "load_results"),
    "evaluate": ("archsearch.evaluate", "evaluate"),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'archsearch' has no attribute {name!r}")


__all__ = ["Cell", "CellError", "compile_cell", "evaluate", "load_results", "parse_cell"]
