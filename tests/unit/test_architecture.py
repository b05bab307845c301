"""The shape of the code (docs/architecture.md): no import cycle between modules, no function too complex to read.

The layers themselves are checked by `lint-imports` (contracts in pyproject.toml), ruff and mypy by
`scripts/test`; these two rules have no such tool of their own.
"""

from __future__ import annotations

from pathlib import Path

import grimp
from radon.complexity import cc_visit
from radon.visitors import Class, Function

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ecosystem", "api", "importers", "visualisations")
MAX_COMPLEXITY = 20  # the same bound as ruff's mccabe setting in pyproject.toml


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back_through_others() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    packages = {m for m in graph.modules if any(m != c and c.startswith(m + ".") for c in graph.modules)}
    # a package's __init__ that re-exports its modules is not a cycle of meaning: leave packages out
    edges = {m: {t for t in graph.find_modules_directly_imported_by(m) if t not in packages}
             for m in graph.modules if m not in packages}
    assert _cycles(edges) == []


def _functions(blocks: list[Function | Class]) -> list[Function]:
    """Every function, method and closure (a class itself is not a function)."""
    out: list[Function] = []
    for block in blocks:
        if isinstance(block, Class):
            out += _functions(list(block.methods) + list(block.inner_classes))
        else:
            out.append(block)
            out += _functions(list(block.closures))
    return out


def test_no_function_is_more_complex_than_the_bound() -> None:
    too_complex: set[str] = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for block in _functions(cc_visit(path.read_text(encoding="utf-8"))):
                if block.complexity > MAX_COMPLEXITY:
                    too_complex.add(f"{path.relative_to(ROOT)}:{block.lineno} {block.name} ({block.complexity})")
    assert not too_complex, "split these functions:\n" + "\n".join(sorted(too_complex))
