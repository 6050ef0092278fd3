"""The shape of the code that the layers rely on, beyond what ``lint-imports`` checks: the environment is read in
the composition root only, and an import made inside a function says why it is lazy."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tracker", "alerts", "spiders", "db")


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_only_the_composition_root_reads_the_environment():
    readers = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers and all(r.startswith("tracker/application.py:") for r in readers), readers


def test_an_import_inside_a_function_says_why_it_is_lazy():
    unexplained = []
    for path, tree in _sources():
        lines = path.read_text(encoding="utf-8").splitlines()
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                    # the reason is on the import's line or in the comment lines just above it
                    above = lines[max(0, node.lineno - 4):node.lineno]
                    if not any("lazy" in line for line in above):
                        unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}")
    assert unexplained == []  # else: import it at the top, or say why not (e.g. start-up time, measured)
