"""The structure of a printed chain-rule decomposition, independent of its numbers.

Each product must telescope from `wrt` to `of` along the graph (D(a, b) with b a parent of a
is the edge b → a; otherwise it stands for every path b ⇝ a), and the products together must
cover every path from `wrt` to `of` exactly once.
"""

from __future__ import annotations

from collections import Counter

from deriv.findings import Finding
from deriv.graph import MAX_PATHS, Graph
from deriv.parse import DRef


def telescope(product: list[DRef], wrt: str, of: str) -> tuple[list[DRef] | None,
                                                                 Finding | None]:
    """Order the factors into wrt → … → of, or say where the chain breaks. The seeds D(of, of)
    of a reverse sweep and D(wrt, wrt) of a forward one are 1: no link (an identity factor
    between two links, ∂h₁/∂h₁, is no link of the graph and breaks the chain)."""
    remaining = [f for f in product if not (f.of == f.wrt and f.of in (of, wrt))]
    ordered: list[DRef] = []
    at = wrt
    target = DRef(of, wrt)
    while remaining:
        nxt = next((f for f in remaining if f.wrt == at), None)
        if nxt is None:
            # Name the break in the document's own order: the factor that cannot follow.
            stray = remaining[0]
            if ordered:       # derivative: the factor before the break; expr: the stray one
                return None, Finding("broken-link", target, derivative=ordered[-1],
                                     expr=stray, symbols=(at, stray.wrt))
            return None, Finding("broken-link", target, expr=stray, symbols=(wrt,))
        remaining.remove(nxt)
        ordered.append(nxt)
        at = nxt.of
    if at != of:
        return None, Finding("broken-link", target, symbols=(at, of), count=0)
    return ordered, None


def _covers(graph: Graph, ordered: list[DRef], path: tuple[str, ...]) -> bool:
    """Does this telescoped product account for this path?"""
    position = {n: i for i, n in enumerate(path)}
    prev = -1
    for link in ordered:
        if link.wrt not in position or link.of not in position:
            return False
        i, j = position[link.wrt], position[link.of]
        if i != prev and prev != -1 or j <= i:
            return False
        if link.wrt in graph.parents(link.of) and j != i + 1:
            return False  # an edge factor covers only the direct edge
        prev = j
    return True


def _covered_count(graph: Graph, ordered: list[DRef]) -> int:
    """How many paths a telescoped product stands for: an edge factor one, a total
    derivative every path between its ends."""
    count = 1
    for link in ordered:
        if link.wrt not in graph.parents(link.of):
            count *= graph.count_paths(link.wrt, link.of)
    return count


def chain_findings(graph: Graph, chain: list[list[DRef]], of: str, wrt: str) -> list[Finding]:
    findings: list[Finding] = []
    telescoped = []
    target = DRef(of, wrt)
    for product in chain:
        for f, count in Counter(product).items():
            if count > 1:
                findings.append(Finding("repeated-factor", target, derivative=f, count=count))
        for f in product:
            if f.of != f.wrt and not graph.depends(f.of, f.wrt):   # a zero factor
                findings.append(Finding("broken-link", target, derivative=f, count=-1))
        ordered, problem = telescope(product, wrt, of)
        if problem:
            findings.append(problem)
        else:
            telescoped.append(ordered)
    if findings or not telescoped:
        return findings
    total = graph.count_paths(wrt, of)
    if total > MAX_PATHS:       # too many to list: count the paths each product covers
        covered = sum(_covered_count(graph, t) for t in telescoped)
        if covered < total:
            findings.append(Finding("missing-path", target, count=total - covered))
        elif covered > total:
            findings.append(Finding("repeated-path", target, count=covered - total))
        return findings
    paths = graph.paths(wrt, of)
    counts = Counter()
    for path in paths:
        counts[path] = sum(_covers(graph, t, path) for t in telescoped)
    missing = [p for p in paths if counts[p] == 0]
    repeated = [p for p in paths if counts[p] > 1]
    if missing:
        findings.append(Finding("missing-path", target, paths=tuple(missing[:3]),
                                count=len(missing)))
    for p in repeated[:3]:
        findings.append(Finding("repeated-path", target, paths=(p,), count=counts[p]))
    return findings
