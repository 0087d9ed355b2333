"""The computational graph: inputs, nodes in topological order, parents, children, paths.

One graph for every kind: a scalar is a shape () node of the same graph as vectors and
matrices. Each node's expression is kept in terms of its parents' symbols, never inlined, so
a deep graph stays linear in size. `inline` builds the flat expression (for the tests' oracle
and for `deriv plot`, on small problems).
"""

from __future__ import annotations

import contextlib
import graphlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import sympy as sp

from deriv import algebra as A
from deriv.errors import DerivError

MAX_PATHS = 10_000


@dataclass
class Input:
    name: str
    symbol: sp.Symbol
    domain: str = "real"           # real, positive, negative, nonzero or interval
    interval: tuple[float, float] | None = None
    kind: str = "real"             # as written: real, positive, vector(n), matrix(m, n), ...
    structure: str = ""            # onehot, simplex, symmetric or posdef (deriv.constraints)

    @property
    def shape(self) -> tuple:
        return A.shape_of(self.symbol)


@dataclass
class Node:
    name: str
    symbol: sp.Symbol
    expr: sp.Expr                  # in terms of parent symbols
    text: str                      # as written in the file
    line: int | None = None
    parents: tuple[str, ...] = field(default_factory=tuple)

    @property
    def shape(self) -> tuple:
        return A.shape_of(self.symbol)


class Graph:
    """Built once when a problem loads; every later question is a lookup."""

    def __init__(self, inputs: list[Input], nodes: list[Node], file: str | None = None,
                 sizes: tuple[str, ...] = ()):
        self.file = file
        self.sizes = sizes                 # the size names of vectors and matrices (n, D1)
        self.inputs = {i.name: i for i in inputs}
        self.nodes = {n.name: n for n in nodes}
        self.symbols: dict[str, sp.Symbol] = {i.name: i.symbol for i in inputs}
        self.symbols.update({n.name: n.symbol for n in nodes})
        by_symbol = {s: name for name, s in self.symbols.items()}
        index = {name: i for i, name in enumerate(self.symbols)}
        for node in nodes:
            node.parents = tuple(sorted((by_symbol[s] for s in node.expr.free_symbols
                                         if s in by_symbol), key=index.__getitem__))
        self.order = self._topological(nodes, file)
        self.children: dict[str, list[str]] = {name: [] for name in self.symbols}
        for name in self.order:
            for p in self.nodes[name].parents:
                self.children[p].append(name)
        self._shares: dict[tuple, sp.Expr] = {}     # (vjp|jvp, child, parent, seed) → share
        self.programs: dict = {}                   # deriv.program's compiled code, per graph

    def _topological(self, nodes: list[Node], file: str | None) -> list[str]:
        declared = [n.name for n in nodes]
        position = {name: i for i, name in enumerate(declared)}
        # Keep the document's order when it is already topological (it nearly always is:
        # then there is no cycle either).
        if all(position[p] < position[n.name] for n in nodes for p in n.parents if p in position):
            return declared
        try:
            return static_order({n.name: [p for p in n.parents if p in self.nodes]
                                 for n in nodes})
        except graphlib.CycleError as err:
            cycle = err.args[1]
            first = self.nodes[cycle[0]]
            raise DerivError("the graph has a cycle: " + " → ".join(cycle), file, first.line) \
                from None

    # --- structure -------------------------------------------------------------------------
    def shape(self, name: str) -> tuple:
        return A.shape_of(self.symbols[name])

    def parents(self, name: str) -> tuple[str, ...]:
        return self.nodes[name].parents if name in self.nodes else ()

    @cached_property
    def _reach(self) -> tuple[dict[str, int], dict[str, int]]:
        """Each name's ancestors as the bits of one integer: a chain of n nodes costs n²/64
        machine words, not n²/2 set entries (a 5,000-node chain: 3 MB, not 1 GB)."""
        index = {n: i for i, n in enumerate(self.symbols)}
        masks = {name: 0 for name in self.inputs}
        for name in self.order:
            mask = 0
            for p in self.nodes[name].parents:
                mask |= masks[p] | (1 << index[p])
            masks[name] = mask
        return index, masks

    def bypassed(self, child: str, parent: str) -> bool:
        """Does another path lead from parent to child besides the edge (f₁ → f₂ → f₃
        beside f₁ → f₃)? One bit of the union of the other parents' ancestors (made once a
        child: a sum of a thousand inputs asked it of each edge)."""
        index, masks = self._reach
        union = self._parents_reach.get(child)
        if union is None:
            union = 0
            for p in self.parents(child):
                union |= masks.get(p, 0)
            self._parents_reach[child] = union
        return parent in index and bool(union >> index[parent] & 1)

    @cached_property
    def _parents_reach(self) -> dict[str, int]:
        return {}

    def carries(self, of: str, wrt: str) -> bool:
        """Whether a derivative flows from wrt to of: along a path through no piecewise
        constant node (heaviside, sign, rect: every partial identically 0), where ∂of/∂wrt is
        0 by structure, not by round-off."""
        if of == wrt:
            return True
        index, masks = self._carrying
        return wrt in index and of in masks and bool(masks[of] >> index[wrt] & 1)

    @cached_property
    def _carrying(self) -> tuple[dict[str, int], dict[str, int]]:
        index, masks = self._reach
        flat = {name for name in self.order if _piecewise_constant(self.nodes[name].expr)}
        if not flat:
            return index, masks
        carrying = {name: 0 for name in self.inputs}
        for name in self.order:
            mask = 0
            if name not in flat:
                for p in self.nodes[name].parents:
                    mask |= carrying[p] | (1 << index[p])
            carrying[name] = mask
        return index, carrying

    @cached_property
    def ancestors(self) -> Mapping[str, frozenset[str]]:
        return _Ancestors(self)

    def depends(self, of: str, wrt: str) -> bool:
        if of == wrt:
            return True
        index, masks = self._reach
        return wrt in index and of in masks and bool(masks[of] >> index[wrt] & 1)

    def count_paths(self, src: str, dst: str, avoid: frozenset = frozenset()) -> int:
        """How many paths lead from src to dst, through none of `avoid` (counted, never
        listed: a ladder of diamonds has 2^depth)."""
        if not self.depends(dst, src):
            return 0
        count = {src: 1}
        for name in self.order:
            if name != src and name not in avoid and self.depends(dst, name) and \
                    self.depends(name, src):
                count[name] = sum(count.get(p, 0) for p in self.nodes[name].parents
                                  if p not in avoid)
        return count.get(dst, 1 if dst == src else 0)

    def some_paths(self, src: str, dst: str, limit: int = 3) -> list[tuple[str, ...]]:
        """The first `limit` paths src → … → dst (found without listing them all)."""
        import itertools
        return list(itertools.islice(self._walk(src, dst), limit))

    def _walk(self, src: str, dst: str):
        if not self.depends(dst, src):
            return
        stack = [(src, (src,))]   # depth-first, without recursion: a chain may be 5000 long
        while stack:
            at, path = stack.pop()
            if at == dst:
                yield path
                continue
            stack.extend((c, path + (c,)) for c in reversed(self.children[at])
                         if self.depends(dst, c))

    def shortest_paths(self, src: str, dst: str, limit: int = 3) -> list[tuple[str, ...]]:
        """The first `limit` paths src → … → dst, shortest first (breadth-first, bounded by
        the paths it holds: a wide graph's frontier is not listed whole)."""
        from collections import deque
        if not self.depends(dst, src):
            return []
        found, queue, held = [], deque([(src, (src,))]), 0
        while queue and len(found) < limit and held < 100_000:
            at, path = queue.popleft()
            if at == dst:
                found.append(path)
                continue
            for c in self.children[at]:
                if c == dst or self.depends(dst, c):
                    queue.append((c, path + (c,)))
                    held += 1
        return found

    def paths(self, src: str, dst: str) -> list[tuple[str, ...]]:
        """Every path src → … → dst along edges (bounded: a huge count is an error)."""
        found = self.some_paths(src, dst, MAX_PATHS + 1)
        if len(found) > MAX_PATHS:
            node = self.nodes.get(dst)
            raise DerivError(f"more than {MAX_PATHS} paths from {src} to {dst}", self.file,
                             node.line if node else None)
        return found

    # --- calculus: one edge ---------------------------------------------------------------------
    def adjoint_share(self, child: str, parent: str, bar: sp.Expr) -> sp.Expr:
        """parent's share of child's adjoint `bar` through the edge (VJP of child's expression):
        bar·∂child/∂parent for scalars, Z̄Yᵀ for Z = XY."""
        key = ("vjp", child, parent, bar)
        if key not in self._shares:
            node = self.nodes[child]
            with self._placed(node):
                self._shares[key] = A.edge_vjp(node.expr, bar, self.symbols[parent],
                                               node.symbol)
        return self._shares[key]

    @contextlib.contextmanager
    def _placed(self, node: Node):
        """An edge too large to write out is reported at its node's line."""
        try:
            yield
        except DerivError as err:
            if err.line is None:
                err.file, err.line = self.file, node.line
            raise

    def tangent_share(self, child: str, parent: str, dot: sp.Expr) -> sp.Expr:
        """child's tangent from parent's tangent `dot` through the edge (JVP)."""
        key = ("jvp", child, parent, dot)
        if key not in self._shares:
            node = self.nodes[child]
            with self._placed(node):
                self._shares[key] = A.edge_jvp(node.expr, dot, self.symbols[parent],
                                               node.symbol)
        return self._shares[key]

    def local(self, child: str, parent: str) -> sp.Expr:
        """∂child/∂parent of a scalar edge, other parents held fixed (0 if no edge)."""
        node = self.nodes.get(child)
        if node is None or parent not in node.parents:
            return sp.S.Zero
        if not node.shape:
            return self.adjoint_share(child, parent, sp.S.One)
        # a vector child: its VJP with c̄ = I is the Jacobian in the gradient layout (Ωᵀ), or
        # else the VJP itself, written with c̄
        bar = A.symbol(child + "_bar", node.shape)
        share = self.adjoint_share(child, parent, bar)
        jacobian = A.jacobian(share, bar, node.shape[0]) if node.shape[1] == 1 else None
        return jacobian if jacobian is not None else share

    @cached_property
    def inlined(self) -> dict[sp.Symbol, sp.Expr]:
        """Each node symbol → its expression in the inputs alone (for the oracle and display)."""
        flat: dict[sp.Symbol, sp.Expr] = {}
        for name in self.order:
            node = self.nodes[name]
            flat[node.symbol] = node.expr.xreplace(flat)
        return flat

    def inline(self, expr: sp.Expr) -> sp.Expr:
        return expr.xreplace(self.inlined)


def static_order(predecessors: Mapping) -> list:
    """graphlib.TopologicalSorter(predecessors).static_order() as a list: the same order
    (nodes without predecessors as first met, then each as its last predecessor is passed
    out) and the same CycleError, several times faster on a graph of thousands of nodes."""
    count: dict = {}
    successors: dict = {}
    for node, preds in predecessors.items():
        if node not in count:
            count[node], successors[node] = 0, []
        count[node] += len(preds)
        for p in preds:
            if p not in count:
                count[p], successors[p] = 0, []
            successors[p].append(node)
    order = [node for node, k in count.items() if k == 0]
    for node in order:                 # (the list grows as it is walked: first in, first out)
        for s in successors[node]:
            count[s] -= 1
            if count[s] == 0:
                order.append(s)
    if len(order) < len(count):        # a cycle: graphlib finds it and says which
        list(graphlib.TopologicalSorter(predecessors).static_order())
    return order


class _Ancestors(Mapping):
    """name → the names it depends on, built from the bit masks when asked."""

    def __init__(self, graph: Graph):
        self.graph, self.sets = graph, {}

    def __getitem__(self, name: str) -> frozenset[str]:
        if name not in self.sets:
            mask = self.graph._reach[1][name]
            self.sets[name] = frozenset(n for n, i in self.graph._reach[0].items()
                                        if mask >> i & 1)
        return self.sets[name]

    def __iter__(self):
        return iter(self.graph._reach[1])

    def __len__(self) -> int:
        return len(self.graph._reach[1])


def _piecewise_constant(expr: sp.Expr) -> bool:
    entry = A.P.entry_of(expr)
    if entry is None or not entry.partials:
        return False
    # a property of the primitive (heaviside, sign, rect), asked once each: building every
    # node's partials took 1.7 s on a 2,000-node graph
    key = (entry.name, tuple(A.shape_of(a) for a in expr.args))
    if key not in _FLAT:       # (on stand-ins: max(x, x)'s own 𝕀[x > x] = 0 is no property)
        stand_ins = [A.symbol(f"_flat{i}", shape) for i, shape in enumerate(key[1])]
        try:
            _FLAT[key] = all(rule(*stand_ins) == 0 for rule in entry.partials)
        except Exception:       # noqa: BLE001 — a rule that needs its real arguments
            return all(rule(*expr.args) == 0 for rule in entry.partials)
    return _FLAT[key]


_FLAT: dict[tuple, bool] = {}
