"""The package's imports: each module imports only from its own layer or lower ones, and
the only import loop is inside the cell language (README, "Layout").

Imports are read from the source (every ``import``, at the top or inside a function;
those under ``if TYPE_CHECKING:`` are for annotations and never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("archsearch", "tasks")

# Lowest first. A module belongs to the first layer with a prefix of its name.
LAYERS = (
    ("cell language", ("archsearch.cell", "archsearch.registry", "archsearch.naming")),
    (
        "plain records",
        (
            "archsearch.records",
            "archsearch.direction",
            "archsearch.assignments",
            "archsearch.defaults",
            "archsearch.spec_toml",
        ),
    ),
    (
        "building blocks",
        ("tasks", "archsearch.zoo", "archsearch.space", "archsearch.hparams", "archsearch.compile"),
    ),
    ("training", ("archsearch.model", "archsearch.train", "archsearch.scoring")),
    ("evaluation", ("archsearch.rungs", "archsearch.setting", "archsearch.evaluation")),
    ("search and store", ("archsearch.search", "archsearch.store")),
    ("run spec", ("archsearch.spec", "archsearch.spec_check")),
    (
        "statistics",
        ("archsearch.analysis.power", "archsearch.analysis.stats", "archsearch.analysis.verdicts"),
    ),
    (
        "runs",
        (
            "archsearch.confirm",
            "archsearch.execute",
            "archsearch.ray_executor",
            "archsearch.driver",
        ),
    ),
    ("reports", ("archsearch.analysis", "archsearch.display")),
    ("launch", ("archsearch.launcher",)),
    ("studies", ("archsearch.fidelity",)),
    ("command line", ("archsearch.cli",)),
    ("the package's front door", ("archsearch",)),  # lazy names for users, never imported
)
# The cell language's node types and their printer, hash, recipe and validation refer to
# each other by design (a node prints, hashes and validates itself).
ALLOWED_LOOP = {
    "archsearch.cell.canonical",
    "archsearch.cell.nodes",
    "archsearch.cell.printer",
    "archsearch.cell.recipe",
    "archsearch.cell.validate",
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _runtime_nodes(tree: ast.AST):
    """Every node, leaving out the bodies of ``if TYPE_CHECKING:``."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def imports(known: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the package modules it imports."""
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: list[str] = []
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in known else base)
        graph[name] = set()
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def layer_of(module: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        # Prefixes cover their submodules; the package itself stands only for its __init__.
        if any(module == p or (p != "archsearch" and module.startswith(p + ".")) for p in prefixes):
            return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS and the README")


def loops(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph():
    return imports(modules())


def test_every_module_has_a_layer(graph):
    for module in graph:
        layer_of(module)


def test_no_module_imports_from_a_higher_layer(graph):
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "\n".join(upward)


def test_the_only_import_loop_is_the_cell_languages(graph):
    assert [sorted(loop) for loop in loops(graph) if loop != ALLOWED_LOOP] == []


def test_the_walker_sees_a_loop_and_an_upward_import():
    # The checks above could not fail if the walker missed imports: a made-up graph.
    made_up = {"archsearch.cli.x": {"archsearch.zoo"}, "archsearch.zoo": {"archsearch.cli.x"}}
    assert loops(made_up) == [{"archsearch.cli.x", "archsearch.zoo"}]
    assert layer_of("archsearch.cli.x") > layer_of("archsearch.zoo")
    real = imports(modules())
    assert "archsearch.setting" in real["archsearch.spec"]
    assert "archsearch.cli.common" in real["archsearch.cli.runs"]


def test_a_run_spec_is_plain_data_made_without_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from archsearch import RunSpec\n"
        "spec = RunSpec(name='x', tasks=('arith', 'xml'), overrides={'hidden_size': 16})\n"
        "again = RunSpec.from_toml(spec.to_toml()).replace(seed=3)\n"
        "assert again.evaluation.data_seed == 3\n"
        "print(sorted(m for m in ('torch', 'tasks', 'archsearch.search') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_tasks_direction_is_asked_of_one_helper():
    """Which way a metric improves is ``archsearch.direction``'s: the bare flag is named only
    where it is a public field (the results frame, JSON output, the task's description)."""
    naming = sorted(
        name
        for name, path in modules().items()
        if any(
            word in path.read_text(encoding="utf-8") for word in ("higher_is_better", "directions")
        )
    )
    assert len(naming) <= 8, naming
    assert "archsearch.search.base" not in naming and "archsearch.train" not in naming
