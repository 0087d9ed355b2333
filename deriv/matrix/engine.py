"""Matrix reverse mode: per-node adjoint rules, symbolic steps with shapes, numeric values.

For each node c, `rules[c][p]` is c's contribution to p̄, built from the operation rules of
rules.py by walking c's expression, in terms of the placeholder c̄ (gradient layout).

    symbolic:  p̄ = Σ_children c  rules[c][p](c̄)           (steps of `deriv solve`)
    numeric:   the same rules evaluated on drawn arrays      (truth for `deriv check`)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deriv.matrix import expr as E
from deriv.matrix.expr import MExpr
from deriv.matrix.problem import MGraph
from deriv.matrix.rules import Evaluator, adjoint
from deriv.parse import DRef


def _backprop(e: MExpr, bar: MExpr, out: dict[str, list[MExpr]]):
    if e.op == "var":
        out.setdefault(e.data, []).append(bar)
        return
    if not e.args or not E.names(e):
        return
    for arg, contribution in zip(e.args, adjoint(e, bar)):
        if contribution is not None:
            _backprop(arg, contribution, out)


def _sum(terms: list[MExpr]) -> MExpr:
    total = terms[0]
    for t in terms[1:]:
        total = E.add(total, t)
    return total


class Engine:
    def __init__(self, graph: MGraph, output: str):
        self.graph = graph
        self.output = output
        self.rules: dict[str, dict[str, MExpr]] = {}
        for name in graph.order:
            node = graph.nodes[name]
            out: dict[str, list[MExpr]] = {}
            _backprop(node.expr, E.adj(output, name, node.expr.shape), out)
            self.rules[name] = {p: E.simplify(_sum(ts)) for p, ts in out.items()}

    # --- numeric --------------------------------------------------------------------------
    def forward(self, inputs: dict[str, np.ndarray], sizes: dict) -> tuple[dict, Evaluator]:
        values = dict(inputs)
        ev = Evaluator(lambda e: values[e.data], sizes)
        for name in self.graph.order:
            values[name] = ev(self.graph.nodes[name].expr)
        return values, ev

    def adjoints(self, values: dict, sizes: dict, of: str, seed: np.ndarray,
                 local_parent: str | None = None) -> dict[str, np.ndarray]:
        adjs = {of: seed}
        order = self.graph.order[: self.graph.order.index(of) + 1]
        for c in reversed(order):
            if c not in adjs:
                continue
            ev = Evaluator(lambda e: values[e.data] if e.op == "var" else adjs[e.data[1]], sizes)
            for p, rule in self.rules[c].items():
                if local_parent is not None and p != local_parent:
                    continue
                v = ev(rule)
                adjs[p] = adjs[p] + v if p in adjs else v
            if local_parent is not None:
                break
        return adjs

    def derivative(self, values: dict, sizes: dict, of: str, wrt: str, layout: str = "gradient",
                   local: bool = False, memo: dict | None = None) -> np.ndarray:
        """D(of, wrt) as an array: gradient layout (of scalar: wrt's shape; vectors:
        len(wrt) × len(of)), transposed in derivative layout. `memo` (one per point) keeps
        each reverse sweep, so every other wrt of the same output is a lookup."""
        shape_of = values[of].shape
        shape_wrt = values[wrt].shape
        lp = wrt if local else None

        def sweep(seed_index, seed):
            if lp is not None or memo is None:
                return self.adjoints(values, sizes, of, seed, lp)
            key = ("adjoints", of, seed_index)
            if key not in memo:
                memo[key] = self.adjoints(values, sizes, of, seed, None)
            return memo[key]

        if shape_of == (1, 1):
            adjs = sweep(None, np.ones((1, 1)))
            g = adjs.get(wrt, np.zeros(shape_wrt)) if wrt != of else np.ones((1, 1))
        else:
            n = int(np.prod(shape_of))
            cols = []
            for j in range(n):
                seed = np.zeros(n)
                seed[j] = 1.0
                if wrt == of:
                    cols.append(seed.copy())
                    continue
                adjs = sweep(j, seed.reshape(shape_of))
                cols.append(adjs.get(wrt, np.zeros(shape_wrt)).reshape(-1))
            g = np.stack(cols, axis=1)
        return g if layout == "gradient" else g.T

    # --- symbolic ---------------------------------------------------------------------------
    def steps(self) -> list["MStep"]:
        """∂L/∂name for every name L depends on, output to inputs, with the shapes of factors."""
        g, out = self.graph, self.output
        closed: dict[str, MExpr] = {out: E.const(1)}
        steps = []
        names = [n for n in reversed(g.order) if g.depends(out, n) and n != out] + \
                [i for i in g.inputs if g.depends(out, i)]
        for name in names:
            children = [c for c in g.children[name] if g.depends(out, c) and name in self.rules[c]]
            program_terms = [self.rules[c][name] for c in children]
            seed = (lambda e: E.const(1) if e.op == "adj" and e.data[1] == out else None)
            program_terms = [E.simplify(E.substitute(t, seed)) for t in program_terms]
            program = E.simplify(_sum(program_terms))
            value_terms = [E.substitute(self.rules[c][name],
                                        lambda e: closed[e.data[1]] if e.op == "adj" else None)
                           for c in children]
            closed[name] = E.simplify(_sum(value_terms))
            steps.append(MStep(DRef(out, name), program, closed[name],
                               [factor_shapes(t) for t in terms_of(program)], g.shape(name)))
        return steps

    def inline(self, e: MExpr) -> MExpr:
        """Node names replaced by their expressions, down to the inputs."""
        g = self.graph

        def leaf(x):
            if x.op == "var" and x.data in g.nodes:
                return self.inline(g.nodes[x.data].expr)
            return None
        return E.simplify(E.substitute(e, leaf))


def terms_of(e: MExpr) -> list[MExpr]:
    if e.op == "add":
        return terms_of(e.args[0]) + terms_of(e.args[1])
    if e.op == "neg":
        return terms_of(e.args[0])
    return [e]


def factor_shapes(e: MExpr) -> list[tuple]:
    """The shapes of a product's factors: (∂L/∂g)xᵀ → [(n, 1), (1, n)]."""
    if e.op == "matmul":
        return factor_shapes(e.args[0]) + factor_shapes(e.args[1])
    if e.op == "scale":
        s, a = e.args
        return ([] if s.op == "const" else factor_shapes(s)) + factor_shapes(a)
    if e.op == "neg":
        return factor_shapes(e.args[0])
    return [e.shape]


@dataclass
class MStep:
    target: DRef
    program: MExpr                 # in terms of the children's adjoints ∂L/∂c
    closed: MExpr                  # the same, with each ∂L/∂c replaced by its own value
    shapes: list[list[tuple]] = field(default_factory=list)   # per term, the factor shapes
    shape: tuple = E.SCALAR

    def shapes_text(self) -> str:
        return " + ".join("".join(E.shape_text(s) for s in term) for term in self.shapes)

