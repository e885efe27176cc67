"""The package's shape: no import cycles between its modules, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "direct2v"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports anywhere in its body (function-level too)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for t in targets:
                # The longest package module the name refers to (a module, or a name in one).
                while t and t not in modules:
                    t = t.rpartition(".")[0]
                if t and t != mod and not mod.startswith(t + "."):
                    graph[mod].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_in_the_package():
    graph = import_graph()
    assert "direct2v.cli" in graph and "direct2v.settings" in graph["direct2v.cli"]
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_services_import_neither_gradio_nor_the_page():
    """direct2v.services is what the page holds and runs; the CLI and tests use it without
    Gradio, so neither Gradio nor a direct2v.ui module may appear in its imports, lazy ones
    included."""
    graph = import_graph()
    services = {m for m in graph if m == "direct2v.services" or m.startswith("direct2v.services.")}
    assert {"direct2v.services.runtime", "direct2v.services.jobs", "direct2v.services.turns"} <= services
    for mod in sorted(services):
        assert not any(t == "direct2v.ui" or t.startswith("direct2v.ui.") for t in graph[mod]), mod
        path = PACKAGE.parent / (mod.replace(".", "/") + ".py")
        if not path.exists():
            path = PACKAGE.parent / mod.replace(".", "/") / "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            assert not any(n == "gradio" or n.startswith("gradio.") for n in names), f"{mod} imports {names}"


def test_tabs_do_not_import_each_other():
    """The Render and Compare tabs share direct2v.ui.gpu_jobs; only the page's assembly (its
    panels and their wiring) imports a tab."""
    graph = import_graph()
    assembly = {"direct2v.ui.layout", "direct2v.ui.panels", "direct2v.ui.wiring"}
    for tab in ("direct2v.ui.render", "direct2v.ui.compare"):
        importers = {m for m, targets in graph.items() if tab in targets}
        assert importers <= assembly, (tab, importers)
    assert "direct2v.ui.gpu_jobs" in graph["direct2v.ui.compare"] and "direct2v.ui.gpu_jobs" in graph["direct2v.ui.render"]


def long_functions(folder: Path, limit: int = 80) -> list[str]:
    """`path:name (n lines)` for every function in `folder` (methods and nested ones too) longer
    than `limit` lines, counted from `def` to its last line."""
    long = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > limit:
                long.append(f"{path.relative_to(folder).as_posix()}:{node.name} ({node.end_lineno - node.lineno + 1} lines)")
    return long


def test_no_function_in_the_package_is_over_80_lines():
    assert long_functions(PACKAGE) == []


def test_the_length_rule_counts_from_def_to_the_last_line(tmp_path):
    def body(n: int, indent: str) -> str:
        return "".join(f"{indent}x{i} = {i}\n" for i in range(n))

    (tmp_path / "m.py").write_text(
        "def fits():\n" + body(79, "    ") + "\n\nclass C:\n    def too_long(self):\n" + body(80, "        "),
        encoding="utf-8",
    )
    assert long_functions(tmp_path) == ["m.py:too_long (81 lines)"]
