"""Check a ``RunSpec`` against the registries, before anything is stored or trained.

Making a spec checks only what needs no registry (``archsearch.spec``); this module
checks the rest: the tasks and their knobs, the evaluation setting (space, fixed
values, sampler, pruner, backend), the searcher and its options. ``launch`` calls it
through ``RunSpec.checked``. Each check names the value and lists the valid choices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from archsearch.spec import RunSpec


def check(spec: RunSpec) -> dict[str, Any]:
    """``spec``'s values, checked; the ones to replace by their normal form."""
    import tasks as task_suite

    names = tuple(task_suite.TASKS.canonical(t) for t in spec.tasks)
    if len(set(names)) != len(names):
        raise ValueError(f"tasks {list(spec.tasks)} name a task twice")
    setting = spec.evaluation.checked(names)
    normal = {"tasks": names, "fixed": dict(setting.fixed)}
    _check_searcher(spec.replace(**normal))
    return normal


def _check_searcher(spec: RunSpec) -> None:
    """The searcher by name, made once with its options (an unknown option is refused)."""
    from archsearch.search import searcher_for
    from archsearch.zoo import load_cell

    if spec.searcher == "fixed":
        cells = spec.searcher_options.get("cells")
        if not cells or isinstance(cells, str):
            raise ValueError("the fixed searcher needs searcher_options cells=[name or text, ...]")
        for cell in cells:
            load_cell(cell)
    try:
        searcher_for(spec)
    except TypeError as error:
        raise ValueError(f"searcher {spec.searcher!r}: {error}") from None
