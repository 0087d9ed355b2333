"""`deriv solve` for a matrix problem: forward pass with shapes, reverse steps in matrix form.

The records duck-type deriv.solve's Solution, Step and Result so the shared text and JSON
renderers show them unchanged: each step's line is `∂L/∂W = (∂L/∂g)xᵀ = 2mxᵀ   [n×1][1×n]`.
A matrix has no single value: the text shows its shape where a scalar shows its value (JSON
gets the Frobenius norm there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deriv.errors import DerivError
from deriv.matrix import expr as E
from deriv.matrix.check import size_assignments
from deriv.matrix.engine import Engine
from deriv.matrix.problem import MProblem
from deriv.matrix.rules import Singular
from deriv.parse import DRef
from deriv.sampling import draw


class ShapeTag(float):
    """A float (the Frobenius norm) that formats as a shape, for the shared renderers."""

    def __new__(cls, value: float, shape: tuple):
        obj = super().__new__(cls, value if 1e-4 < abs(value) < 1e6 and value != int(value)
                              else 1.5)
        obj.shape = shape
        return obj

    def __format__(self, spec):
        return E.shape_text(self.shape)


def value_of(array: np.ndarray, shape) -> float:
    if array.shape == (1, 1):
        return float(array[0, 0])
    return ShapeTag(float(np.linalg.norm(array)), shape)


@dataclass
class Line:
    """Text that prints itself through deriv's TextPrinter (and says it is a number, so the
    renderers add no value after it)."""

    text: str
    is_Number: bool = True

    def _sympystr(self, printer, **_):
        return self.text

    def __str__(self):
        return self.text


@dataclass
class ForwardValue:
    name: str
    expr: object
    value: float


@dataclass
class Term:
    factors: tuple
    expr: object


@dataclass
class Step:
    target: DRef
    terms: list
    expr: object
    program: object
    program_symbol: str

    @property
    def seed(self) -> bool:
        return not self.terms


@dataclass
class Sweep:
    mode: str
    origin: str
    steps: list = field(default_factory=list)


@dataclass
class Result:
    target: DRef
    expr: object
    in_inputs: object
    value: float


@dataclass
class Solution:
    problem: MProblem
    point: dict
    point_source: str
    forward_pass: list
    sweeps: list
    values: dict = field(default_factory=dict)
    shown: dict = field(default_factory=dict)
    results: list = field(default_factory=list)

    def value(self, mode: str, step) -> float:
        return self.values[(mode, step.target)]


def draw_point(problem: MProblem, engine: Engine, sizes: dict, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        values = {}
        for name, inp in problem.graph.inputs.items():
            if E.is_scalar(inp.shape):
                values[name] = np.round(draw(inp, 1, rng).reshape(1, 1), 1)
            else:
                r, c = (s if isinstance(s, int) else sizes[s] for s in inp.shape)
                values[name] = np.round(rng.uniform(-2, 2, (r, c)), 1)
        try:
            values, ev = engine.forward(values, sizes)
        except Singular:
            continue
        if ev.min_kink > 1e-3:
            return values
    raise DerivError(f"{problem.id}: no usable point found (singular or at a kink)")


def solve_matrix(problem: MProblem, mode=None, wrt=None, at=None, seed: int = 0,
                 simplify: bool = True) -> Solution:
    graph, d = problem.graph, problem.display
    if at:
        raise DerivError("--at sets scalar values; a matrix problem is derived symbolically "
                         "and evaluated at drawn sizes")
    if mode in ("forward", "both"):
        raise DerivError("matrix problems are derived in reverse mode (--mode reverse)")
    for name in wrt or []:
        if name not in graph.symbols:
            raise DerivError(f"--wrt {name}: not an input or node of {problem.id}")
    if not E.is_scalar(graph.shape(problem.output)):
        raise DerivError(f"{problem.id}: the output {problem.output} is "
                         f"{E.shape_text(graph.shape(problem.output))}; the matrix reverse sweep "
                         "needs a scalar output (`deriv check` still checks its Jacobian claims)")
    engine = Engine(graph, problem.output)
    sizes = size_assignments(problem.sizes, seed)[1 if problem.sizes else 0]
    values = draw_point(problem, engine, sizes, seed)

    forward = []
    for name in graph.order:
        node = graph.nodes[name]
        forward.append(ForwardValue(name, Line(f"{E.show(node.expr, d)}"),
                                    value_of(values[name], node.expr.shape)))
    sweep = Sweep("reverse", problem.output)
    sol = Solution(problem, dict(sizes), "sizes drawn; each step is symbolic",
                   forward, [sweep])
    closed = {}
    for st in engine.steps():
        closed[st.target.wrt] = st.closed
        line = f"{E.show(st.program, d)}"
        if st.closed != st.program:
            line += f" = {E.show(st.closed, d)}"
        line += f"   {st.shapes_text()}"
        if len(st.shapes) != 1 or len(st.shapes[0]) != 1:
            line += f" → {E.shape_text(st.shape)}"
        step = Step(st.target, [Term((st.target,), st.program)], Line(line), st.program,
                    f"{st.target.wrt}_bar")
        sweep.steps.append(step)
        sol.shown[("reverse", st.target)] = Line(line)
        try:
            g = engine.derivative(values, sizes, problem.output, st.target.wrt)
            sol.values[("reverse", st.target)] = value_of(g, st.shape)
        except Singular:
            sol.values[("reverse", st.target)] = float("nan")

    requested = [DRef(problem.output, w) for w in wrt] if wrt else problem.requested()
    for ref in requested:
        if ref.of == problem.output and ref.wrt in closed:
            e = closed[ref.wrt]
            flat = engine.inline(e)
            shape = E.shape_text(graph.shape(ref.wrt))
            sol.results.append(Result(ref, Line(f"{E.show(e, d)}   {shape}"),
                                      Line(f"{E.show(flat, d)}   {shape}"), float("nan")))
    shown_chains = set()
    for claim in problem.claims:                 # the sizes of each printed chain's terms
        source = claim.chain if claim.chain is not None else None
        if source is None or not E.drefs(source) or (claim.target, source) in shown_chains:
            continue
        shown_chains.add((claim.target, source))
        from deriv.matrix.problem import derivative_shape
        lhs = derivative_shape(graph, claim.of, claim.wrt, claim.layout)
        factors = E.drefs(source)
        text = " ".join(f"{E.show(f, d)}" for f in factors)
        sizes_text = "".join(E.shape_text(f.shape) for f in factors)
        line = Line(f"{text}   ({claim.layout} layout)")
        sol.results.append(Result(claim.target, line,
                                  Line(f"{E.shape_text(lhs)} = {sizes_text}"), float("nan")))
    return sol
