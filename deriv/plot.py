"""A derivative as a function of one input: `deriv plot ID --wrt NAME --over x=LO:HI`.

The derivative ∂output/∂NAME is evaluated over LO ≤ x ≤ HI with every other input held at the
evaluation point (the document's, `--at`, or a seeded one: `deriv.solution.choose_point`). Where a
branch argument (`deriv.primitives.kink_arguments`: the argument of relu, 𝕀, abs, max, ...) of the
derivative or of a node it depends on crosses zero, the derivative may jump or bend: each
crossing is found by sampling and refined by bisection, then classified from its one-sided
limits (a jump, or a kink where only the slope changes; a crossing that changes neither is not
listed). Between them, each piece is described as a constant value, a line with its slope, or a
curve. The renderers (render/textplot.py, render/figure.py) only draw these numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from deriv import algebra as A

from deriv.errors import DerivError
from deriv.parse import DRef, dref_of
from deriv.primitives import kink_arguments
from deriv.problem import Problem
from deriv.program import Values

SAMPLES = 2001            # grid for finding sign changes (and for the text plot)
PIECE_SAMPLES = 200       # per piece, for fitting and drawing
BISECTIONS = 80
CHUNK = 8192               # points a forward pass of a plot evaluates at once


@dataclass
class Kink:
    x: float
    kind: str                      # "jump" (the derivative is discontinuous) or "kink" (slope)
    argument: sp.Expr              # the branch argument, in the inputs, that crosses zero here
    location: sp.Expr | None       # x solved from argument = 0 (e.g. -b1_1/W1_1), when linear
    left: float                    # one-sided limits of the derivative
    right: float
    slope_left: float
    slope_right: float


@dataclass
class Piece:
    lo: float
    hi: float
    kind: str                      # "constant", "linear", "curved" or "undefined"
    value: float | None = None     # constant: the value
    slope: float | None = None     # linear (and constant: 0)
    intercept: float | None = None
    low: float | None = None       # range of the derivative over the piece
    high: float | None = None
    xs: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    ys: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)


@dataclass
class Curve:
    problem: Problem
    of: str
    wrt: str
    over: str
    lo: float
    hi: float
    point: dict[str, float]        # every input; `over` is the one that varies
    point_source: str
    expr: sp.Expr                  # the derivative, in node symbols
    inlined: sp.Expr               # the same in the inputs
    xs: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    ys: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    kinks: list[Kink] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)

    @property
    def held(self) -> dict[str, float]:
        """The inputs held fixed."""
        return {k: v for k, v in self.point.items() if k != self.over}


OVER_LIMIT = 1e6


def parse_over(text: str) -> tuple[str, float, float]:
    """"x=-3:3" → ("x", -3.0, 3.0)"""
    name, sep, span = text.partition("=")
    lo_text, colon, hi_text = span.partition(":")
    try:
        if not sep or not colon:
            raise ValueError
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise DerivError(f"--over takes NAME=LO:HI (e.g. x=-3:3), not {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise DerivError(f"--over {text}: LO must be a finite number below HI")
    # a plot's pieces are located in float64: bounds beyond 10⁶ or a range narrower than a
    # millionth of them cannot be resolved (LAPACK fails on 10³⁰⁰, denormals underflow)
    if max(abs(lo), abs(hi)) > OVER_LIMIT or hi - lo < 1e-6 * max(1.0, abs(lo), abs(hi)):
        raise DerivError(f"--over {text}: the bounds must lie within ±{OVER_LIMIT:g} and be at "
                         "least a millionth of their size apart")
    return name.strip(), lo, hi


def _clean(v: float) -> float:
    """Round-off away: 0.8999999999 → 0.9, -0.0 → 0."""
    if not math.isfinite(v):
        return v
    r = float(f"{v:.10g}")
    return 0.0 if r == 0 else r


class _Evaluator:
    """Node values and the derivative along the varying input, other inputs fixed."""

    def __init__(self, problem: Problem, point: dict[str, float], over: str, exprs):
        self.problem = problem
        self.point = point
        self.over = over
        self.exprs = exprs

    def __call__(self, xs: np.ndarray) -> list[np.ndarray]:
        graph = self.problem.graph
        xs = np.asarray(xs, dtype=float)
        n = xs.shape[0]
        inputs = {name: (xs if name == self.over else np.full(n, float(v)))
                  for name, v in self.point.items()}
        values = Values(self.problem, inputs, {})
        # one program for all of them (a hundred kinks' arguments compiled apart took 28 s);
        # a derivative D(y, x) itself from the adjoint program
        refs = [dref_of(e) if isinstance(e, sp.Symbol) else None for e in self.exprs]
        plain = values.values([e for e, r in zip(self.exprs, refs) if r is None]) \
            if any(r is None for r in refs) else []
        out, rest = [], iter(plain)
        for r in refs:
            v = values.derivative(r.of, r.wrt) if r is not None else next(rest)
            out.append(np.broadcast_to(np.asarray(v, dtype=float), (n,)))
        return out


def _branch_arguments(problem: Problem, expr: sp.Expr) -> list[sp.Expr]:
    """Branch arguments of `expr` and of every node it depends on (in node symbols)."""
    graph = problem.graph
    names = {s.name for s in expr.free_symbols} & set(graph.nodes)
    involved = set(names)
    for name in names:
        involved |= set(graph.ancestors[name]) & set(graph.nodes)
    found: list[sp.Expr] = list(kink_arguments(expr))
    for name in graph.order:
        if name in involved:
            found.extend(kink_arguments(graph.nodes[name].expr))
    unique: list[sp.Expr] = []
    for arg in found:
        if arg.is_number:
            continue
        if arg not in unique and -arg not in unique:
            unique.append(arg)
    return unique


def _location(problem: Problem, argument: sp.Expr, over: str) -> sp.Expr | None:
    """Where `argument` = 0, solved for the varying input, when it is linear in it."""
    x = problem.graph.symbols[over]
    try:
        poly = sp.Poly(sp.expand(argument), x)
    except (sp.PolynomialError, sp.GeneratorsNeeded, sp.CoercionFailed):
        return None
    if poly.degree() != 1:
        return None
    a, b = poly.all_coeffs()
    if any(x in c.free_symbols for c in (a, b)):
        return None
    where = -b / a
    # (a kink of w·x − c is at c/w already: SymPy's simplify took 18 ms a kink)
    return where if A.size(where) <= 3 else sp.simplify(where)


MAX_INLINED_NODES = 100     # a graph larger than this is shown in its node symbols


def derivative_curve(problem: Problem, wrt: str, over: str, lo: float, hi: float,
                     at: dict[str, float] | None = None, seed: int = 0,
                     samples: int = SAMPLES) -> Curve:
    from deriv.solution import choose_point
    from deriv.sweep import reverse

    graph = problem.graph
    if any(graph.shape(n) for n in graph.symbols):
        raise DerivError(f"{problem.id} has vectors and matrices; a plot is drawn over one "
                         "scalar input of a scalar problem (`deriv solve` derives it)")
    if over not in graph.inputs:
        raise DerivError(f"--over {over}=…: '{over}' is not an input of {problem.id} "
                         f"(inputs: {', '.join(graph.inputs)})")
    if wrt not in graph.symbols:
        raise DerivError(f"--wrt {wrt}: not an input or node of {problem.id}")
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise DerivError("the interval of --over needs LO < HI")
    fixed = dict(at or {})
    point, source, _ = choose_point(problem, fixed, seed)
    point[over] = (lo + hi) / 2
    output = problem.output
    large = len(graph.order) > MAX_INLINED_NODES
    if output == wrt:
        expr = sp.S.One
    elif large:        # its values from the adjoint program; its formula is `deriv solve`'s
        expr = DRef(output, wrt).symbol(())
    else:              # the closed form in node symbols (built in SymPy: quadratic in nodes)
        expr = reverse(graph, output).closed_forms(10_000).get(DRef(output, wrt), sp.S.Zero)
    # in the inputs too where that stays small (a chain of a thousand nodes nests a thousand
    # deep: shown in its nodes)
    inlined = expr if large else graph.inline(expr)
    arguments = _branch_arguments(problem, graph.symbols[output] if large else expr)
    evaluate_all = _Evaluator(problem, point, over, [expr] + arguments)
    evaluate_derivative = _Evaluator(problem, point, over, [expr])

    def f(xs):
        return evaluate_all(np.atleast_1d(np.asarray(xs, dtype=float)))

    def derivative(xs):         # in chunks: the pieces of 500 kinks are 100,000 points
        xs = np.atleast_1d(np.asarray(xs, dtype=float))
        return np.concatenate([evaluate_derivative(xs[i:i + CHUNK])[0]
                               for i in range(0, len(xs), CHUNK)] or [np.zeros(0)])

    xs = np.linspace(lo, hi, samples)
    values = f(xs)
    ys = values[0]
    span = hi - lo

    # 1. crossings of every branch argument, refined by bisection
    crossings: list[tuple[float, sp.Expr]] = []
    brackets = []                       # [a, b, g(a), k]: a sign change of argument k
    for k, arg in enumerate(arguments, start=1):
        g = values[k]
        s = np.sign(g)
        for i in range(len(xs) - 1):
            if s[i] == 0 and 0 < i and s[i - 1] * s[i + 1] < 0:
                crossings.append((float(xs[i]), arg))
            elif s[i] * s[i + 1] < 0:
                brackets.append([float(xs[i]), float(xs[i + 1]), float(g[i]), k])
    # every bracket bisected at once: one forward pass a step for all of them
    active = list(range(len(brackets)))
    for _ in range(BISECTIONS):
        if not active:
            break
        mids = [0.5 * (brackets[j][0] + brackets[j][1]) for j in active]
        at = f(mids)
        still = []
        for j, m, column in zip(active, mids, range(len(active))):
            a, b, ga, k = brackets[j]
            gm = float(at[k][column])
            if gm == 0:
                brackets[j][:2] = [m, m]
                continue
            if (gm > 0) == (ga > 0):
                brackets[j][0], brackets[j][2] = m, gm
            else:
                brackets[j][1] = m
            if brackets[j][1] - brackets[j][0] > 1e-15 * max(1.0, abs(m)):
                still.append(j)
        active = still
    crossings += [(0.5 * (a + b), arguments[k - 1]) for a, b, _, k in brackets]
    crossings.sort(key=lambda c: c[0])
    merged: list[tuple[float, sp.Expr]] = []
    for x, arg in crossings:
        if merged and abs(x - merged[-1][0]) <= 1e-9 * max(1.0, span):
            continue
        if x <= lo or x >= hi:
            continue
        merged.append((x, arg))

    # 2. one-sided limits: a jump, a kink, or nothing visible
    scale = 1 + float(np.nanmax(np.abs(ys))) if np.isfinite(ys).any() else 1.0
    kinks: list[Kink] = []
    positions = [x for x, _ in merged]
    probes, steps = [], []           # four points beside each crossing, evaluated at once
    for j, (x, arg) in enumerate(merged):
        gap = min([x - lo] + [positions[j + 1] - x if j + 1 < len(positions) else hi - x] +
                  ([x - positions[j - 1]] if j else []))
        near, far = min(1e-9 * span, gap / 8), min(1e-3 * span, gap / 4)
        probes += [x - near, x - far, x + near, x + far]
        steps.append((near, far))
    beside = derivative(probes) if probes else []
    for j, (x, arg) in enumerate(merged):
        near, far = steps[j]
        left1, left2, right1, right2 = (float(v) for v in beside[4 * j: 4 * j + 4])
        slope_l = (left1 - left2) / (far - near)
        slope_r = (right2 - right1) / (far - near)
        left, right = left1 + slope_l * near, right1 - slope_r * near   # the limits at x
        if not all(map(math.isfinite, (left1, left2, right1, right2))):
            kind = "jump"
        elif abs(right - left) > 1e-6 * scale:
            kind = "jump"
        elif abs(slope_r - slope_l) > 1e-5 * (1 + max(abs(slope_l), abs(slope_r))):
            kind = "kink"
        else:
            continue
        inlined_arg = graph.inline(arg) if len(graph.order) <= MAX_INLINED_NODES else arg
        kinks.append(Kink(x, kind, inlined_arg, _location(problem, inlined_arg, over),
                          _clean(left), _clean(right), _clean(slope_l), _clean(slope_r)))

    # 3. the pieces between them
    bounds = [lo] + [k.x for k in kinks] + [hi]
    grids = []
    for a, b in zip(bounds, bounds[1:]):
        eps = min(1e-9 * span, (b - a) / 1000)
        grids.append(np.linspace(a + (eps if a != lo else 0), b - (eps if b != hi else 0),
                                 PIECE_SAMPLES))
    heights = np.split(derivative(np.concatenate(grids)), len(grids))
    pieces = [_describe(a, b, px, py)
              for a, b, px, py in zip(bounds, bounds[1:], grids, heights)]

    return Curve(problem, output, wrt, over, lo, hi, point, source, expr, inlined, xs, ys,
                 kinks, pieces)


def _describe(a: float, b: float, px: np.ndarray, py: np.ndarray) -> Piece:
    ok = np.isfinite(py)
    if ok.sum() < 2:
        return Piece(a, b, "undefined", xs=px, ys=py)
    x, y = px[ok], py[ok]
    slope, intercept = np.polyfit(x, y, 1)
    tol = 1e-7 * (1 + float(np.max(np.abs(y))))
    residual = float(np.max(np.abs(y - (slope * x + intercept))))
    low, high = _clean(float(np.min(y))), _clean(float(np.max(y)))
    if high - low <= tol:
        v = _clean(float(np.mean(y)))
        return Piece(a, b, "constant", value=v, slope=0.0, intercept=v, low=low, high=high,
                     xs=px, ys=py)
    if residual <= tol:
        return Piece(a, b, "linear", slope=_clean(float(slope)), intercept=_clean(float(intercept)),
                     low=low, high=high, xs=px, ys=py)
    return Piece(a, b, "curved", low=low, high=high, xs=px, ys=py)
