"""The import graph of the service's own modules has no circle, package `__init__`s included.

`make lint` (import-linter) checks the layers and that sibling modules and packages never
import each other in a circle; this test also counts a package's `__init__` importing one of
its children that imports the package back (the usual Flask blueprint circle).
"""

from __future__ import annotations

import grimp

PACKAGES = ("web", "workers", "services", "models", "matcher")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    imported = graph.find_modules_directly_imported_by(child)
                    work.append((child, iter(sorted(imported))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_tarjan_helper_finds_a_circle():
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c", "d"):
        graph.add_module(name)
    graph.add_import(importer="a", imported="a.b")
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a")
    graph.add_import(importer="d", imported="a")
    assert _cycles(graph) == [["a", "a.b", "a.c"]]


def test_no_module_of_the_service_is_in_an_import_circle():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert _cycles(graph) == []
