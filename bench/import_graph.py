"""The import graph of the four packages: which package imports which, the cycles between modules, and
every project import made inside a function (with the comment that says why it is lazy).

    python bench/import_graph.py [ROOT]          # ROOT: a checkout (default: this one)

It reads the source (``ast``), runs nothing. Exit status 1 when a package imports one above it or two
modules import each other, so it can compare two checkouts: ``git worktree add /tmp/old REV`` and run it
on both. ``lint-imports`` (setup.cfg) is the check CI runs; this script is the picture for people.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter, defaultdict
from pathlib import Path

PACKAGES = ("tracker", "alerts", "spiders", "db")
RANK = {"tracker": 0, "alerts": 1, "spiders": 2, "db": 2}  # imports only point down (to a higher rank)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(root: Path, path: Path, modules: set[str]):
    """``(target, line, in_function, comment)`` for each import of a project module in ``path``."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    this = module_name(root, path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]

    def resolve(node: ast.ImportFrom) -> list[str]:
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            stem = ".".join(base + ([node.module] if node.module else []))
        else:
            stem = node.module or ""
        # "from x import y" imports the module x.y when there is one, else the package x
        return [f"{stem}.{a.name}" if f"{stem}.{a.name}" in modules else stem for a in node.names]

    def walk(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            targets = []
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                targets = resolve(child)
            for target in dict.fromkeys(targets):
                if target.split(".")[0] in PACKAGES:
                    line = lines[child.lineno - 1]
                    comment = line.split("#", 1)[1].strip() if "#" in line else ""
                    yield target, child.lineno, in_function, comment
            yield from walk(child, inside)

    yield from walk(tree, False)


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one module: the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent.parent)
    files = [p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py")) if "migrations" not in p.parts]
    modules = {module_name(root, p) for p in files}
    graph: dict[str, set[str]] = defaultdict(set)
    package_edges: Counter = Counter()
    upward, lazy = [], []
    for path in files:
        this = module_name(root, path)
        for target, line, in_function, comment in imports_of(root, path, modules):
            if target not in modules:
                continue
            graph[this].add(target)
            src, dst = this.split(".")[0], target.split(".")[0]
            if src != dst:
                package_edges[(src, dst)] += 1
                if RANK[dst] <= RANK[src]:
                    upward.append(f"{path.relative_to(root)}:{line} {this} -> {target}")
            if in_function:
                lazy.append(f"{path.relative_to(root)}:{line} -> {target}" + (f"   # {comment}" if comment else ""))
    print(f"{root}: {len(files)} modules")
    print("\nPackage imports (importer -> imported: imports):")
    for (src, dst), n in sorted(package_edges.items(), key=lambda kv: (RANK[kv[0][0]], kv[0])):
        arrow = "UP" if RANK[dst] <= RANK[src] else "down"
        print(f"  {src:8} -> {dst:8} {n:4}   {arrow}")
    cycles = strongly_connected(graph)
    print(f"\nCycles between modules: {len(cycles)}")
    for c in cycles:
        print("  " + " <-> ".join(c))
    print(f"\nImports that point up: {len(upward)}")
    for u in upward:
        print("  " + u)
    print(f"\nProject imports inside functions: {len(lazy)}")
    for item in lazy:
        print("  " + item)
    return 1 if cycles or upward else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
