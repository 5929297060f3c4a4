"""archsearch: search and benchmark recurrent-cell architectures (Jozefowicz et al., ICML 2015).

The cell language is pure data and never imports torch; everything else is
loaded on first use (``archsearch.launch``, ``archsearch.zoo`` ...), so
``import archsearch`` stays light. ``__all__`` is the public API; every name in
it is an attribute of the package.
"""

from archsearch.cell import Cell, CellError, parse_cell

__version__ = "0.1.0"

# name -> (module, attribute); attribute None: the module itself.
_LAZY = {
    "EvalSetting": ("archsearch.setting", "EvalSetting"),
    "Evaluation": ("archsearch.evaluation", "Evaluation"),
    "LaunchResult": ("archsearch.launcher", "LaunchResult"),
    "Resources": ("archsearch.spec", "Resources"),
    "RunSpec": ("archsearch.spec", "RunSpec"),
    "STATUSES": ("archsearch.records", "STATUSES"),
    "TrialResult": ("archsearch.records", "TrialResult"),
    "best_trials": ("archsearch.store", "best_trials"),
    "compile_cell": ("archsearch.compile", "compile_cell"),
    "evaluate": ("archsearch.evaluation", "evaluate"),
    "launch": ("archsearch.launcher", "launch"),
    "load_cell": ("archsearch.zoo", "load_cell"),
    "load_results": ("archsearch.store", "load_results"),
    "zoo": ("archsearch.zoo", None),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = importlib.import_module(module)
        value = value if attribute is None else getattr(value, attribute)
        globals()[name] = value  # the next access is a plain attribute
        return value
    raise AttributeError(f"module 'archsearch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["Cell", "CellError", "parse_cell", *_LAZY]
