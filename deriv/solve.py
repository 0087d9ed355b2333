"""`deriv solve` as a library call: forward pass, sweeps, values at a point, results."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from deriv.errors import DerivError
from deriv.functions import kink_arguments
from deriv.numeric import evaluate
from deriv.parse import DRef
from deriv.problem import Problem
from deriv.sampling import draw_all
from deriv.simplify import tidy
from deriv.sweep import Step, Sweep, forward, reverse


@dataclass
class ForwardValue:
    name: str
    expr: sp.Expr
    value: float


@dataclass
class Result:
    target: DRef
    expr: sp.Expr                  # in node symbols, as the sweep derived it
    in_inputs: sp.Expr             # inlined and simplified
    value: float


@dataclass
class Solution:
    problem: Problem
    point: dict[str, float]
    point_source: str              # "document", "--at" or "seeded"
    forward_pass: list[ForwardValue]
    sweeps: list[Sweep]
    values: dict[tuple[str, DRef], float] = field(default_factory=dict)  # (mode, target) → value
    shown: dict[tuple[str, DRef], sp.Expr] = field(default_factory=dict)  # tidied step sums
    results: list[Result] = field(default_factory=list)

    def value(self, mode: str, step: Step) -> float:
        return self.values[(mode, step.target)]

    def _repr_markdown_(self) -> str:   # Jupyter shows the derivation, $$ … $$ per step
        from deriv.render.markdown import solution
        return solution(self)

    def _repr_latex_(self) -> str:
        from deriv.render.latex import solution_math
        return solution_math(self)


def choose_point(problem: Problem, overrides: dict[str, float] | None = None, seed: int = 0
                 ) -> tuple[dict[str, float], str]:
    """The document's point, completed by `--at` values, else a seeded point off every kink."""
    overrides = dict(overrides or {})
    for name in overrides:
        if name not in problem.inputs:
            raise DerivError(f"--at {name}=…: '{name}' is not an input of {problem.id} "
                             f"(inputs: {', '.join(problem.inputs) or 'none'})")
    point = dict(problem.at)
    source = "document" if problem.at else "seeded"
    missing = [n for n in problem.inputs if n not in point and n not in overrides]
    if missing:
        kinks = [k for n in problem.graph.order for k in kink_arguments(problem.graph.nodes[n].expr)]
        for attempt in range(100):
            drawn = draw_all(problem.inputs, 1, seed + attempt)
            candidate = {n: round(float(drawn[n][0]), 1) for n in problem.inputs}
            candidate.update(point)
            candidate.update(overrides)
            env = node_values(problem, candidate)
            if all(abs(float(evaluate(k, env, 1)[0])) > 1e-3 for k in kinks):
                break
        point = candidate
        source = "seeded" if not problem.at else "document + seeded"
    point.update(overrides)
    if overrides:
        source = "--at" if not problem.at else source + " + --at"
    return point, source


def node_values(problem: Problem, point: dict[str, float]) -> dict[sp.Symbol, np.ndarray]:
    graph = problem.graph
    env = {graph.symbols[n]: np.array([float(v)]) for n, v in point.items()}
    for name in graph.order:
        node = graph.nodes[name]
        env[node.symbol] = evaluate(node.expr, env, 1)
    return env


def solve(problem: Problem, mode: str | None = None, wrt: list[str] | None = None,
          at: dict[str, float] | None = None, seed: int = 0, simplify: bool = True) -> Solution:
    if getattr(problem, "is_matrix", False):    # vectors and matrices: deriv.matrix derives it
        from deriv.matrix.solve import solve_matrix
        return solve_matrix(problem, mode=mode, wrt=wrt, at=at, seed=seed, simplify=simplify)
    mode = mode or problem.mode
    graph = problem.graph
    for name in wrt or []:
        if name not in graph.symbols:
            raise DerivError(f"--wrt {name}: not an input or node of {problem.id}")
    point, source = choose_point(problem, at, seed)
    env = node_values(problem, point)
    forward_pass = [ForwardValue(n, graph.nodes[n].expr, float(env[graph.symbols[n]][0]))
                    for n in graph.order]
    requested = [DRef(problem.output, w) for w in wrt] if wrt else problem.requested()
    sweeps: list[Sweep] = []
    if mode in ("reverse", "both"):
        sweeps.append(reverse(graph, problem.output))
    if mode in ("forward", "both"):
        for name in dict.fromkeys(r.wrt for r in requested):
            sweeps.append(forward(graph, name))
    solution = Solution(problem, point, source, forward_pass, sweeps)
    for sweep in sweeps:
        for step in sweep.steps:
            solution.values[(sweep.mode, step.target)] = float(evaluate(step.expr, env, 1)[0])
            if simplify:
                solution.shown[(sweep.mode, step.target)] = tidy(step.expr, seconds=0.3)
    from deriv.sweep import Derivatives
    truth = Derivatives(graph)
    for ref in requested:
        expr = truth.total(ref.of, ref.wrt)
        inlined = graph.inline(expr)
        solution.results.append(Result(ref, tidy(expr, seconds=0.3) if simplify else expr,
                                       tidy(inlined, seconds=0.5) if simplify else inlined,
                                       float(evaluate(expr, env, 1)[0])))
    return solution
