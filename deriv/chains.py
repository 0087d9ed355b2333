"""The structure of a printed chain-rule decomposition, independent of its numbers.

Each product must telescope from `wrt` to `of` along the graph (D(a, b) with b a parent of a
is the edge b → a; otherwise it stands for every path b ⇝ a), and the products together must
cover every path from `wrt` to `of` exactly once.
"""

from __future__ import annotations

from collections import Counter

from deriv.findings import Finding
from deriv.graph import Graph
from deriv.names import partial, pretty
from deriv.parse import DRef


def telescope(product: list[DRef], wrt: str, of: str, display: dict | None = None
              ) -> tuple[list[DRef] | None, str | None]:
    """Order the factors into wrt → … → of, or say where the chain breaks."""
    remaining = list(product)
    ordered: list[DRef] = []
    at = wrt
    while remaining:
        nxt = next((f for f in remaining if f.wrt == at), None)
        if nxt is None:
            # Name the break in the document's own order: the factor that cannot follow.
            stray = remaining[0]
            if ordered:
                last = ordered[-1]
                return None, (f"broken link: {partial(last.of, last.wrt, display)} is followed by "
                              f"{partial(stray.of, stray.wrt, display)} ({pretty(at, display)} ≠ {pretty(stray.wrt, display)})")
            return None, (f"broken link: no factor starts from {pretty(wrt, display)} "
                          f"(first factor {partial(stray.of, stray.wrt, display)})")
        remaining.remove(nxt)
        ordered.append(nxt)
        at = nxt.of
    if at != of:
        return None, f"broken link: the chain ends at {pretty(at, display)}, not at {pretty(of, display)}"
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


def chain_findings(graph: Graph, chain: list[list[DRef]], of: str, wrt: str,
                   display: dict | None = None) -> list[Finding]:
    findings: list[Finding] = []
    telescoped = []
    for product in chain:
        for f, count in Counter(product).items():
            if count > 1:
                findings.append(Finding("repeated-factor", f"the factor {partial(f.of, f.wrt, display)} "
                                        f"is printed {count} times in one product"))
        for f in product:
            if f.of != f.wrt and not graph.depends(f.of, f.wrt):
                findings.append(Finding("broken-link", f"{partial(f.of, f.wrt, display)} is zero: "
                                        f"{pretty(f.wrt, display)} does not reach {pretty(f.of, display)}"))
        ordered, problem = telescope(product, wrt, of, display)
        if problem:
            findings.append(Finding("broken-link", problem))
        else:
            telescoped.append(ordered)
    if findings or not telescoped:
        return findings
    paths = graph.paths(wrt, of)
    counts = Counter()
    for path in paths:
        counts[path] = sum(_covers(graph, t, path) for t in telescoped)
    missing = [p for p in paths if counts[p] == 0]
    repeated = [p for p in paths if counts[p] > 1]
    for p in missing[:3]:
        findings.append(Finding("missing-path", "missing path " + " → ".join(pretty(n, display) for n in p)))
    if len(missing) > 3:
        findings.append(Finding("missing-path", f"… and {len(missing) - 3} more missing paths"))
    for p in repeated[:3]:
        findings.append(Finding("repeated-path", f"path {' → '.join(pretty(n, display) for n in p)} "
                                f"counted {counts[p]} times"))
    return findings
