"""The graph annotated at one point, for pictures: nodes by depth, each with its definition,
forward value and adjoint, and every edge with its local partial and that partial's value.

The numbers come from `deriv.solution.solve` (one forward pass, one reverse sweep from the
output); the renderers (render/dot.py, render/graphtext.py) only lay them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from deriv.errors import DerivError
from deriv.problem import Problem


@dataclass
class PictureNode:
    name: str
    depth: int                     # inputs 0; a node 1 + its deepest parent
    expr: sp.Expr | None           # definition in parent symbols (None for an input)
    value: float                   # forward value at the point
    adjoint: float | None          # ∂output/∂name at the point; None off every path to output
    adjoint_expr: sp.Expr | None = None
    is_input: bool = False
    is_output: bool = False


@dataclass
class PictureEdge:
    parent: str
    child: str
    local: sp.Expr                 # ∂child/∂parent, other parents held fixed
    value: float                   # its value at the point


@dataclass
class Picture:
    problem: Problem
    point: dict[str, float]
    point_source: str
    output: str
    nodes: dict[str, PictureNode] = field(default_factory=dict)
    edges: list[PictureEdge] = field(default_factory=list)

    @property
    def layers(self) -> list[list[PictureNode]]:
        depth = max((n.depth for n in self.nodes.values()), default=0)
        layers: list[list[PictureNode]] = [[] for _ in range(depth + 1)]
        for node in self.nodes.values():
            layers[node.depth].append(node)
        return layers

    def incoming(self, name: str) -> list[PictureEdge]:
        return [e for e in self.edges if e.child == name]


def annotate(problem: Problem, at: dict[str, float] | None = None, seed: int = 0) -> Picture:
    from deriv.solution import node_values, solve
    graph = problem.graph
    if any(graph.shape(n) for n in graph.symbols):
        raise DerivError(f"{problem.id} has vectors and matrices; the picture shows one number "
                         "a node (`deriv solve` derives it)")

    sol = solve(problem, mode="reverse", wrt=None, at=at, seed=seed)
    output = problem.output
    values = node_values(problem, sol.point)
    adjoints = {}
    for sweep in sol.sweeps:
        if sweep.mode == "reverse" and sweep.origin == output:
            for step in sweep.steps:
                adjoints[step.target.wrt] = (sol.shown[("reverse", step.target)],
                                             sol.values[("reverse", step.target)])
    picture = Picture(problem, dict(sol.point), sol.point_source, output)
    depth: dict[str, int] = {}
    for name in graph.inputs:
        depth[name] = 0
        expr, value = adjoints.get(name, (None, None))
        picture.nodes[name] = PictureNode(name, 0, None, float(sol.point[name]), value, expr,
                                          is_input=True)
    for name in graph.order:
        node = graph.nodes[name]
        depth[name] = 1 + max((depth[p] for p in node.parents), default=-1)
        expr, value = adjoints.get(name, (None, None))
        picture.nodes[name] = PictureNode(name, depth[name], node.expr,
                                          float(values.env[node.symbol][0]), value, expr,
                                          is_output=name == output)
        for parent in node.parents:
            local = graph.local(name, parent)
            picture.edges.append(PictureEdge(parent, name, local,
                                             float(values.value(local)[0])))
    return picture

