"""Forward and reverse sweeps: chain-rule steps as data.

The sweeps know no particular operation: every edge's contribution comes from the graph
(`adjoint_share`, `tangent_share`: the VJP and JVP of one node's expression, which
deriv.algebra builds from the registry's rules), for scalars and arrays alike.

    forward (tangent), for one input u:   ȧ = Σ_parents p  ∂a/∂p · ṗ        (u̇ = 1)
    reverse (adjoint), for one output y:  b̄ = Σ_children c  c̄ · ∂c/∂b       (ȳ = 1)

Each step keeps its terms as factor pairs and a `program` line over the tangent/adjoint
symbols of the previous steps, whose size grows linearly with the graph.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy as sp

from deriv import algebra as A
from deriv.graph import Graph
from deriv.parse import DRef


@functools.lru_cache(maxsize=1 << 16)     # a matrix symbol is built anew on each call
def bar(name: str, shape: tuple = ()) -> sp.Symbol:
    """The adjoint symbol x_bar (autodidax's naming)."""
    return A.symbol(f"{name}_bar", shape)


@functools.lru_cache(maxsize=1 << 16)
def dot(name: str, shape: tuple = ()) -> sp.Symbol:
    """The tangent symbol x_dot."""
    return A.symbol(f"{name}_dot", shape)


class Term:
    """One product of the chain rule, e.g. ∂y/∂f₄ · ∂f₄/∂f₃: the factors as written, and the
    edge's share in terms of the previous step's symbol (ȳ_f₄·exp(f₃))."""

    __slots__ = ("factors", "local", "upstream", "edge", "bypassed")

    def __init__(self, factors, local, upstream=None, edge=None, bypassed=False):
        self.factors = tuple(factors)
        self.local = local                # the share, in the upstream step's symbol
        self.upstream = upstream          # the step this term builds on (None: the seed)
        self.edge = edge                  # the factor that is an edge partial
        self.bypassed = bypassed          # other paths also join edge.wrt to edge.of, so the
                                          # edge partial is not the total derivative

    def __repr__(self) -> str:
        return f"Term({', '.join(map(str, self.factors))})"


class Step:
    """D(of, wrt) as one line of the derivation: its terms, and the program line
    `x̄ = Σ shares` over the symbols of earlier steps."""

    def __init__(self, target: DRef, terms: list[Term], program: sp.Expr,
                 program_symbol: sp.Symbol, shape: tuple = ()):
        self.target = target
        self.terms = terms
        self.program = program
        self.program_symbol = program_symbol
        self.shape = shape

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
        if getattr(self, "_by_target", None) is None or len(self._by_target) != len(self.steps):
            self._by_target = {(s.target.of, s.target.wrt): s for s in self.steps}
        return self._by_target.get((of, wrt))

    def closed_forms(self, max_ops: int = 60) -> dict[DRef, sp.Expr]:
        """Each step in node symbols alone (earlier steps substituted), as a document writes
        it — where that stays within `max_ops`; a longer one keeps the earlier steps' symbols,
        so what solve prints grows linearly with the graph."""
        closed: dict[sp.Symbol, sp.Expr] = {}
        out: dict[DRef, sp.Expr] = {}
        arrays = any(step.shape for step in self.steps)    # (only products need rebuilding)
        for step in self.steps:
            expr = step.program.xreplace(closed) if closed else step.program
            expr = A.rebuild(expr) if arrays and closed else expr
            if A.size(expr) > max_ops:
                expr = step.program
            else:
                closed[step.program_symbol] = expr
            out[step.target] = expr
        return out


def _bypassed(graph: Graph, child: str, parent: str) -> bool:
    """Does another path lead from parent to child besides the edge (f₁ → f₂ → f₃ beside
    f₁ → f₃)? Then ∂child/∂parent as an edge partial differs from the total derivative."""
    return graph.bypassed(child, parent)


def reverse(graph: Graph, output: str) -> Sweep:
    """Adjoints of every ancestor of `output`, in reverse topological order, inputs last.
    A scalar output is seeded with 1; a vector output keeps its seed ȳ (each step is then
    the VJP; with ȳ = I, the Jacobian in the gradient layout)."""
    sweep = Sweep("reverse", output)
    relevant = graph.ancestors[output] | {output}
    shape = graph.shape(output)
    seed = bar(output, shape)
    sweep.steps.append(Step(DRef(output, output), [], A.seed(seed), seed, shape))
    order = [n for n in reversed(graph.order) if n in relevant and n != output]
    order += [i for i in graph.inputs if i in relevant]
    for name in order:
        terms, program = [], []
        for child in graph.children[name]:
            if child not in relevant:
                continue
            child_bar = bar(child, graph.shape(child))
            share = graph.adjoint_share(child, name, child_bar)
            edge = dict(edge=DRef(child, name), bypassed=_bypassed(graph, child, name))
            if child == output:
                share = share.xreplace({child_bar: A.seed(child_bar)})
                terms.append(Term((DRef(child, name),), share, **edge))
            else:
                terms.append(Term((DRef(output, child), DRef(child, name)), share,
                                  upstream=DRef(output, child), **edge))
            program.append(share)
        sweep.steps.append(Step(DRef(output, name), terms, sp.Add(*program),
                                bar(name, graph.shape(name)), graph.shape(name)))
    return sweep


def forward(graph: Graph, wrt: str) -> Sweep:
    """Tangents of every descendant of `wrt`, in topological order (a scalar is seeded with
    1; an array with its direction ẋ)."""
    sweep = Sweep("forward", wrt)
    reached = {wrt}
    for name in graph.order:
        if name == wrt or not graph.depends(name, wrt):
            continue
        terms, program = [], []
        for parent in graph.parents(name):
            if parent not in reached:
                continue
            parent_dot = dot(parent, graph.shape(parent))
            share = graph.tangent_share(name, parent, parent_dot)
            edge = dict(edge=DRef(name, parent), bypassed=_bypassed(graph, name, parent))
            if parent == wrt:
                share = share.xreplace({parent_dot: A.seed(parent_dot)})
                terms.append(Term((DRef(name, parent),), share, **edge))
            else:
                terms.append(Term((DRef(name, parent), DRef(parent, wrt)), share,
                                  upstream=DRef(parent, wrt), **edge))
            program.append(share)
        reached.add(name)
        sweep.steps.append(Step(DRef(name, wrt), terms, sp.Add(*program),
                                dot(name, graph.shape(name)), graph.shape(name)))
    return sweep
