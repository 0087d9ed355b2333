"""Forward and reverse sweeps: chain-rule steps as data.

The sweeps know no particular operation: every local partial comes from `Graph.local`
(SymPy's `diff` on one node's expression, whose rules live with each primitive).

    forward (tangent), for one input u:   ȧ = Σ_parents p  ∂a/∂p · ṗ        (u̇ = 1)
    reverse (adjoint), for one output y:  b̄ = Σ_children c  c̄ · ∂c/∂b       (ȳ = 1)

Each step keeps its terms as factor pairs, the sum in node symbols (as a document writes
it), and a `program` form over the tangent/adjoint symbols of the previous steps, whose size
grows linearly with the graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from deriv.graph import Graph
from deriv.parse import DRef


def bar(name: str) -> sp.Symbol:
    """The adjoint symbol x_bar (autodidax's naming)."""
    return sp.Symbol(f"{name}_bar", real=True)


def dot(name: str) -> sp.Symbol:
    """The tangent symbol x_dot."""
    return sp.Symbol(f"{name}_dot", real=True)


class Term:
    """One product of the chain rule, e.g. ∂y/∂f₄ · ∂f₄/∂f₃, and its symbolic value.

    A sweep's terms are lazy: `expr` (upstream derivative × local partial, in node symbols)
    is built only when asked for, so the sweep itself stays linear in the graph's size.
    """

    __slots__ = ("factors", "local", "upstream", "edge", "bypassed", "_expr", "_sweep")

    def __init__(self, factors, expr=None, *, local=None, upstream=None, sweep=None,
                 edge=None, bypassed=False):
        self.factors = tuple(factors)
        self.edge = edge                  # the factor that is an edge partial, if any
        self.bypassed = bypassed          # other paths also join edge.wrt to edge.of, so the
                                          # edge partial is not the total derivative
        self.local = local if local is not None else expr
        self.upstream = upstream          # the step this term builds on (None: the seed)
        self._expr = expr
        self._sweep = sweep

    @property
    def expr(self) -> sp.Expr:
        if self._expr is None:
            up = self._sweep.expr(self.upstream) if self.upstream is not None else sp.S.One
            self._expr = up * self.local if self._sweep.mode == "reverse" else self.local * up
        return self._expr

    def __repr__(self) -> str:
        return f"Term({', '.join(map(str, self.factors))})"


class Step:
    """D(of, wrt) as one line of the derivation."""

    def __init__(self, target: DRef, terms: list[Term], expr: sp.Expr | None, program: sp.Expr,
                 program_symbol: sp.Symbol, sweep: "Sweep | None" = None):
        self.target = target
        self.terms = terms
        self.program = program            # Σ over x_bar / x_dot symbols: linear cost
        self.program_symbol = program_symbol
        self._expr = expr
        self._sweep = sweep

    @property
    def expr(self) -> sp.Expr:
        """Σ term values, in node and input symbols (as a document writes it)."""
        if self._expr is None:
            self._expr = self._sweep.expr(self.target)
        return self._expr

    @property
    def seed(self) -> bool:
        return not self.terms

    def __repr__(self) -> str:
        return f"Step({self.target}, {len(self.terms)} terms)"


@dataclass
class Sweep:
    mode: str                      # "reverse" or "forward"
    origin: str                    # the output (reverse) or the input (forward)
    steps: list[Step] = field(default_factory=list)

    def step(self, of: str, wrt: str) -> Step | None:
        return self._index().get(DRef(of, wrt))

    def _index(self) -> dict[DRef, Step]:
        if getattr(self, "_by_target", None) is None or len(self._by_target) != len(self.steps):
            self._by_target = {s.target: s for s in self.steps}
        return self._by_target

    def expr(self, target: DRef) -> sp.Expr:
        """The step's sum in node symbols, built in step order (no deep recursion)."""
        for step in self.steps:
            if step._expr is None:
                step._expr = sp.Add(*(t.expr for t in step.terms))
            if step.target == target:
                return step._expr
        raise KeyError(str(target))

    def program(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        return [(s.program_symbol, s.program) for s in self.steps]


def _bypassed(graph: Graph, child: str, parent: str) -> bool:
    """Does another path lead from parent to child besides the edge (f₁ → f₂ → f₃ beside
    f₁ → f₃)? Then ∂child/∂parent as an edge partial differs from the total derivative."""
    return any(parent in graph.ancestors[p] for p in graph.parents(child) if p != parent)


def reverse(graph: Graph, output: str) -> Sweep:
    """Adjoints of every ancestor of `output`, in reverse topological order, inputs last."""
    sweep = Sweep("reverse", output)
    relevant = graph.ancestors[output] | {output}
    sweep.steps.append(Step(DRef(output, output), [], sp.S.One, sp.S.One, bar(output), sweep))
    order = [n for n in reversed(graph.order) if n in relevant and n != output]
    order += [i for i in graph.inputs if i in relevant]
    for name in order:
        terms, program = [], []
        for child in graph.children[name]:
            if child not in relevant:
                continue
            local = graph.local(child, name)
            edge = dict(edge=DRef(child, name), bypassed=_bypassed(graph, child, name))
            if child == output:
                terms.append(Term((DRef(child, name),), local=local, sweep=sweep, **edge))
            else:
                terms.append(Term((DRef(output, child), DRef(child, name)), local=local,
                                  upstream=DRef(output, child), sweep=sweep, **edge))
            program.append(bar(child) * local)
        sweep.steps.append(Step(DRef(output, name), terms, None, sp.Add(*program), bar(name),
                                sweep))
    return sweep


def forward(graph: Graph, wrt: str) -> Sweep:
    """Tangents of every descendant of input (or node) `wrt`, in topological order."""
    sweep = Sweep("forward", wrt)
    reached = {wrt}
    for name in graph.order:
        if name == wrt or not graph.depends(name, wrt):
            continue
        terms, program = [], []
        for parent in graph.parents(name):
            if parent not in reached:
                continue
            local = graph.local(name, parent)
            edge = dict(edge=DRef(name, parent), bypassed=_bypassed(graph, name, parent))
            if parent == wrt:
                terms.append(Term((DRef(name, parent),), local=local, sweep=sweep, **edge))
            else:
                terms.append(Term((DRef(name, parent), DRef(parent, wrt)), local=local,
                                  upstream=DRef(parent, wrt), sweep=sweep, **edge))
            program.append(local * dot(parent))
        reached.add(name)
        sweep.steps.append(Step(DRef(name, wrt), terms, None, sp.Add(*program), dot(name), sweep))
    return sweep


class Derivatives:
    """Every total and local derivative of one graph, computed on demand and cached.

    The truth that claims are checked against: D(a, b) is the adjoint of b in the reverse
    sweep from a; a local claim is the edge partial.
    """

    def __init__(self, graph: Graph):
        self.graph = graph
        self._sweeps: dict[str, Sweep] = {}

    def sweep_from(self, of: str) -> Sweep:
        if of not in self._sweeps:
            self._sweeps[of] = reverse(self.graph, of)
        return self._sweeps[of]

    def total(self, of: str, wrt: str) -> sp.Expr:
        """dof/dwrt through every path, in node symbols (0 when wrt does not reach of)."""
        if of == wrt:
            return sp.S.One
        step = self.sweep_from(of).step(of, wrt)
        return step.expr if step is not None else sp.S.Zero

    def reference(self, ref: DRef) -> sp.Expr:
        """What D(a, b) means inside a claim: the edge partial when b is a direct parent of a
        (the chain-rule factor a document writes), the total derivative otherwise."""
        if ref.of in self.graph.inputs:
            return sp.S.One if ref.of == ref.wrt else sp.S.Zero
        if ref.wrt in self.graph.parents(ref.of):
            return self.graph.local(ref.of, ref.wrt)
        return self.total(ref.of, ref.wrt)

    def step(self, of: str, wrt: str) -> Step | None:
        return self.sweep_from(of).step(of, wrt)
