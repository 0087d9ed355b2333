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
from typing import Iterable

import sympy as sp

from deriv.graph import Graph
from deriv.parse import DRef


def bar(name: str) -> sp.Symbol:
    """The adjoint symbol x_bar (autodidax's naming)."""
    return sp.Symbol(f"{name}_bar", real=True)


def dot(name: str) -> sp.Symbol:
    """The tangent symbol x_dot."""
    return sp.Symbol(f"{name}_dot", real=True)


@dataclass(frozen=True)
class Term:
    """One product of the chain rule, e.g. ∂y/∂f₄ · ∂f₄/∂f₃, and its symbolic value."""

    factors: tuple[DRef, ...]
    expr: sp.Expr


@dataclass
class Step:
    target: DRef                   # D(of, wrt)
    terms: list[Term]
    expr: sp.Expr                  # Σ term values, in node and input symbols
    program: sp.Expr               # the same sum over x_bar / x_dot symbols: linear cost
    program_symbol: sp.Symbol      # what `program` assigns to

    @property
    def seed(self) -> bool:
        return not self.terms


@dataclass
class Sweep:
    mode: str                      # "reverse" or "forward"
    origin: str                    # the output (reverse) or the input (forward)
    steps: list[Step] = field(default_factory=list)

    def step(self, of: str, wrt: str) -> Step | None:
        for s in self.steps:
            if s.target == DRef(of, wrt):
                return s
        return None

    def program(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        return [(s.program_symbol, s.program) for s in self.steps]


def reverse(graph: Graph, output: str, only: Iterable[str] | None = None) -> Sweep:
    """Adjoints of every ancestor of `output`, in reverse topological order, inputs last."""
    sweep = Sweep("reverse", output)
    relevant = graph.ancestors[output] | {output}
    adjoint: dict[str, sp.Expr] = {output: sp.S.One}
    sweep.steps.append(Step(DRef(output, output), [], sp.S.One, sp.S.One, bar(output)))
    order = [n for n in reversed(graph.order) if n in relevant and n != output]
    order += [i for i in graph.inputs if i in relevant]
    for name in order:
        terms, program = [], []
        for child in graph.children[name]:
            if child not in relevant:
                continue
            local = graph.local(child, name)
            if child == output:
                terms.append(Term((DRef(child, name),), local))
            else:
                terms.append(Term((DRef(output, child), DRef(child, name)),
                                  adjoint[child] * local))
            program.append(bar(child) * local)
        adjoint[name] = sp.Add(*(t.expr for t in terms))
        sweep.steps.append(Step(DRef(output, name), terms, adjoint[name], sp.Add(*program),
                                bar(name)))
    if only is not None:
        keep = set(only)
        sweep.steps = [s for s in sweep.steps if s.target.wrt in keep]
    return sweep


def forward(graph: Graph, wrt: str, only: Iterable[str] | None = None) -> Sweep:
    """Tangents of every descendant of input (or node) `wrt`, in topological order."""
    sweep = Sweep("forward", wrt)
    tangent: dict[str, sp.Expr] = {wrt: sp.S.One}
    for name in graph.order:
        if name == wrt or not graph.depends(name, wrt):
            continue
        terms, program = [], []
        for parent in graph.parents(name):
            if parent not in tangent:
                continue
            local = graph.local(name, parent)
            if parent == wrt:
                terms.append(Term((DRef(name, parent),), local))
            else:
                terms.append(Term((DRef(name, parent), DRef(parent, wrt)),
                                  local * tangent[parent]))
            program.append(local * dot(parent))
        tangent[name] = sp.Add(*(t.expr for t in terms))
        sweep.steps.append(Step(DRef(name, wrt), terms, tangent[name], sp.Add(*program),
                                dot(name)))
    if only is not None:
        keep = set(only)
        sweep.steps = [s for s in sweep.steps if s.target.of in keep]
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
