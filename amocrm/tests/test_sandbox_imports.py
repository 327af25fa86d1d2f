"""The sandbox's import graph: no module imports one that imports it back, and nothing outside the standard library
except the two named third-party packages, each in its one module."""

import ast
import sys
from pathlib import Path

SANDBOX = Path(__file__).resolve().parents[1] / "sandbox"
THIRD_PARTY = {"pytest": "fixtures", "cryptography": "tls"}  # package -> the only module allowed to import it


def _imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    """Every import statement, also those under `if TYPE_CHECKING:` or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def _sibling_imports(path: Path, modules: set[str]) -> set[str]:
    found = set()
    for node in _imports(path):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module.split(".")[0]] if node.module else [alias.name for alias in node.names]
            found.update(name for name in names if name in modules)
    return found


def _outside_imports(path: Path) -> set[str]:
    found = set()
    for node in _imports(path):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _graph() -> dict[str, set[str]]:
    paths = {path.stem: path for path in SANDBOX.glob("*.py")}
    return {name: _sibling_imports(path, set(paths)) for name, path in paths.items()}


def _cycle_from(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start, if there is one (depth-first)."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for dep in graph[node]:
            if dep == start:
                return [*path, start]
            if dep not in seen:
                seen.add(dep)
                stack.append((dep, [*path, dep]))
    return None


def test_it_has_no_import_cycle_between_sandbox_modules():
    graph = _graph()

    cycles = [cycle for cycle in (_cycle_from(graph, name) for name in graph) if cycle]

    assert cycles == []


def test_it_imports_only_the_standard_library_and_its_two_named_packages():
    outside = {path.stem: _outside_imports(path) - set(sys.stdlib_module_names) for path in SANDBOX.glob("*.py")}

    unexpected = {module: {n for n in names if THIRD_PARTY.get(n) != module} for module, names in outside.items()}

    assert {module: names for module, names in unexpected.items() if names} == {}
