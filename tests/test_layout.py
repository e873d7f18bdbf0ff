"""The package layout as its imports draw it: no module imports itself back through
others (a circle), and no method package imports the multi-stage jobs above it.

Every `import` of a rayqa module counts, at the top of a file or inside a function."""

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "rayqa"
# The jobs that chain several methods; the packages below them must not import them.
JOBS = "rayqa.pipelines"
METHODS = ("rayqa.answer", "rayqa.augment", "rayqa.corpus", "rayqa.crosslingual",
           "rayqa.data", "rayqa.eval", "rayqa.mining", "rayqa.models", "rayqa.retrieval",
           "rayqa.train", "rayqa.translate")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.AST, package: str, modules: set[str]) -> list[str]:
    """The rayqa modules an import statement names (a `from` names its module, or the
    submodules it imports by name)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                            + ([base] if base else []))
        subs = [f"{base}.{alias.name}" for alias in node.names]
        return [name for name in subs if name in modules] or \
            ([base] if base in modules else [])
    return []


def import_graph() -> nx.DiGraph:
    files = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in imported(node, package, set(files)):
                if target != name and not name.startswith(target + "."):
                    graph.add_edge(name, target)
    return graph


def test_no_module_imports_itself_back():
    circles = [sorted(c) for c in nx.strongly_connected_components(import_graph())
               if len(c) > 1]
    assert not circles, circles


def test_method_packages_do_not_import_the_jobs_above_them():
    upward = [(a, b) for a, b in import_graph().edges
              if a.startswith(METHODS) and (b == JOBS or b.startswith(JOBS + "."))]
    assert not upward, upward
