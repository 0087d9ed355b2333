"""`deriv solve` as a library call: forward pass, sweeps, values at a point — as data.

One path for every kind: a scalar problem is evaluated at the document's point (or `--at`, or a
seeded one); a problem with vectors and matrices at a seeded draw at the square sizes (every
size 3). Each step is shown in the graph's own symbols, tidied within a size bound, so the
output grows linearly with the graph; its value comes from evaluating the program.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from deriv import algebra as A
from deriv import textbook
from deriv.domains import outside as domain_breaks
from deriv.errors import DerivError
from deriv.matrix_form import reference_form
from deriv.parse import DRef
from deriv.primitives import kink_arguments
from deriv.problem import Problem
from deriv.program import Values
from deriv import constraints
from deriv.sampling import draw_all, size_assignments

KEEP_DIGITS = ("simplex", "posdef")    # rounded to 0.1 they would leave their set
from deriv.sweep import Step, Sweep, forward, reverse

TIDY_MAX_OPS = 60           # a step longer than this is shown in the earlier steps' symbols
LONG_SWEEP = 1000           # (a third of it in a sweep of more steps than this)
FACTOR_MAX_OPS = 40         # factoring (milliseconds each) is tried on steps up to this size,
FACTOR_STEPS = 60           # and on at most this many steps of one solution
POINT_NODES = 20_000        # forward-pass nodes spent looking for a point off every kink
MAX_TANGENT_STEPS = 1000    # steps of a solution's tangent sweeps in all (one sweep an input:
                            # 200 inputs of a 400-node chain are 40,000 steps, 8 MB of text)


@dataclass
class ForwardValue:
    name: str
    expr: sp.Expr
    value: object                  # a float, or an array (rows, cols) for a vector or matrix


@dataclass
class Result:
    target: DRef
    expr: sp.Expr                  # in node symbols, tidied
    value: object


@dataclass
class Solution:
    problem: Problem
    point: dict[str, object]       # input → value (arrays for vector and matrix inputs)
    point_source: str              # "document", "--at", "seeded", ...
    sizes: dict[str, int]
    forward_pass: list[ForwardValue]
    sweeps: list[Sweep]
    values: dict[tuple[str, DRef], object] = field(default_factory=dict)   # (mode, target)
    shown: dict[tuple[str, DRef], sp.Expr] = field(default_factory=dict)   # tidied steps
    results: list[Result] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)    # inputs whose tangent sweep is not shown

    def value(self, mode: str, step: Step):
        return self.values[(mode, step.target)]


def choose_point(problem: Problem, overrides: dict[str, float] | None = None, seed: int = 0,
                 sizes: dict | None = None) -> tuple[dict[str, object], str, dict]:
    """The document's point, completed by `--at` values, else a seeded point off every kink."""
    return _choose_point(problem, overrides, seed, sizes)[:3]


def _choose_point(problem: Problem, overrides: dict[str, float] | None, seed: int,
                  sizes: dict | None) -> tuple[dict[str, object], str, dict, Values | None]:
    """choose_point, and the forward pass at the point where it was computed (else None)."""
    overrides = dict(overrides or {})
    for name in overrides:
        if name not in problem.inputs:
            raise DerivError(f"--at {name}=…: '{name}' is not an input of {problem.id} "
                             f"(inputs: {', '.join(problem.inputs) or 'none'})")
        if problem.graph.shape(name):
            raise DerivError(f"--at {name}=…: '{name}' is a {problem.inputs[name].kind}; --at "
                             "gives scalars")
        outside = domain_breaks(problem.inputs[name], overrides[name])
        if outside:
            raise DerivError(f"--at {name}={overrides[name]:g}: '{name}' is declared {outside}")
    for name in sizes or {}:
        if name not in problem.sizes:
            raise DerivError(f"--size {name}=…: '{name}' is not a size of {problem.id} "
                             f"(sizes: {', '.join(problem.sizes) or 'none'})")
    sizes = shown_sizes(problem, sizes, seed)
    point: dict[str, object] = dict(problem.at)
    source = "document" if problem.at else "seeded"
    missing = [n for n in problem.inputs if n not in point and n not in overrides]
    values = None
    if missing:
        kinks = [k for n in problem.graph.order for k in kink_arguments(problem.graph.nodes[n].expr)]
        candidate = {}
        # a forward pass a draw: fewer draws on a larger graph (a 2,000-node product that
        # overflows at every draw tried 100 of them)
        for attempt in range(max(5, min(100, POINT_NODES // max(1, len(problem.graph.order))))):
            drawn = draw_all(problem.inputs, 1, seed + attempt, sizes)
            candidate = {n: drawn[n][..., 0] if problem.inputs[n].structure in KEEP_DIGITS
                         else np.round(drawn[n][..., 0], 1) if np.ndim(drawn[n]) > 1
                         else round(float(drawn[n][0]), 1) for n in problem.inputs}
            candidate.update(point)
            candidate.update(overrides)
            values = _values(problem, candidate, sizes)
            if all(np.all(np.abs(values.value(k)) > 1e-3) for k in kinks) and \
                    all(np.all(np.isfinite(v)) for v in values.env.values()):
                break
        point = candidate
        source = "seeded" if not problem.at else "document + seeded"
    point.update(overrides)       # (the candidate holds them already: values stay valid)
    if overrides:
        source = "--at" if not problem.at else source + " + --at"
    return point, source, sizes, values


def shown_sizes(problem: Problem, sizes: dict | None = None, seed: int = 0) -> dict:
    """The sizes a problem is shown at: 3 each, within --size, what onehot(k, n) needs and the
    problem's size relations."""
    ranges = constraints.ranges(problem, sizes)
    if not ranges:
        return size_assignments(problem.sizes, seed, 1, problem.relations)[0] \
            if problem.relations else {s: 3 for s in problem.sizes}
    fitting = size_assignments(problem.sizes, seed, relations=problem.relations, ranges=ranges)
    if not fitting:
        raise DerivError(f"no sizes of {problem.id} satisfy both --size and its size relations")
    return fitting[0]


def _values(problem: Problem, point: dict[str, object], sizes: dict) -> Values:
    arrays = {n: np.asarray(v, dtype=float)[..., None] for n, v in point.items()}
    return Values(problem, arrays, sizes)


def _at_point(v):
    """An evaluated (…, 1) array → a float or a (rows, cols) array (an mpf: its float)."""
    if not isinstance(v, np.ndarray) and not isinstance(v, (int, float)):
        return float(v)                            # (a scalar problem's value in mpmath)
    v = np.asarray(v)[..., 0]
    return float(v) if v.ndim == 0 else v


PRECISE_NODES = 300     # a scalar problem this small is shown at high precision where float64
                        # computes its values wrongly ((1 − cos x)/x² at x = 10⁻¹⁴ is 0 there)


def _precise(problem: Problem, point: dict, values: Values):
    """(values in mpmath, their digits) where float64's forward pass at the point is off by
    more than 10⁻⁶ of a value; None where it is right, or the problem has arrays or is large."""
    import mpmath as mp
    from deriv.recheck import first_digits
    graph = problem.graph
    if len(graph.order) > PRECISE_NODES or any(graph.shape(n) for n in graph.symbols):
        return None
    digits = first_digits(np.ravel(v) for v in values.env.values())
    with mp.workdps(digits):
        try:
            precise = Values(problem, {k: mp.mpf(float(v)) for k, v in point.items()}, {},
                             backend="mpmath", n=1)
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return None
        for symbol, v in values.env.items():
            exact = precise.env.get(symbol)
            if exact is None or not mp.isfinite(exact):
                continue
            a = float(np.ravel(v)[0])
            if not np.isfinite(a) or abs(a - exact) > 1e-6 * abs(exact) + 1e-300:
                return precise, digits
    return None


def solve(problem: Problem, mode: str | None = None, wrt: list[str] | None = None,
          at: dict[str, float] | None = None, seed: int = 0, simplify: bool = True,
          sizes: dict | None = None) -> Solution:
    """Derive `problem` step by step. `mode`: forward, reverse or both (default: the
    problem's); `wrt`: the inputs or nodes asked for (default: what the problem asks)."""
    mode = mode or problem.mode
    if mode not in ("forward", "reverse", "both"):
        raise DerivError(f"mode must be forward, reverse or both, not {mode!r}")
    graph = problem.graph
    for name in wrt or []:
        if name not in graph.symbols:
            raise DerivError(f"--wrt {name}: not an input or node of {problem.id}")
    point, source, sizes, values = _choose_point(problem, at, seed, sizes)
    if values is None:
        values = _values(problem, point, sizes)
    precise = _precise(problem, point, values)
    if precise is not None:
        import mpmath as mp
        values, digits = precise
        with mp.workdps(digits):     # every value shown, derived at the digits it needs
            return _derive(problem, point, source, sizes, values, mode, wrt, simplify)
    return _derive(problem, point, source, sizes, values, mode, wrt, simplify)


def _derive(problem: Problem, point: dict, source: str, sizes: dict, values: Values, mode: str,
            wrt: list[str] | None, simplify: bool) -> Solution:
    graph = problem.graph
    forward_pass = [ForwardValue(n, graph.nodes[n].expr, _at_point(values.env[graph.symbols[n]]))
                    for n in graph.order]
    requested = [DRef(problem.output, w) for w in wrt] if wrt else problem.requested()
    sweeps: list[Sweep] = []
    if mode in ("reverse", "both"):      # one sweep per numerator: a second derivative's
        for origin in dict.fromkeys(r.of for r in requested):    # is from the node ∂L/∂x
            sweeps.append(reverse(graph, origin))
    omitted, tangent_steps = [], 0
    if mode in ("forward", "both"):
        for name in dict.fromkeys(r.wrt for r in requested):
            steps = sum(1 for n in graph.order if graph.depends(n, name))
            if tangent_steps and tangent_steps + steps > MAX_TANGENT_STEPS:
                omitted.append(name)        # its result's formula comes from a reverse sweep
                continue
            tangent_steps += steps
            sweeps.append(forward(graph, name))
    solution = Solution(problem, point, source, sizes, forward_pass, sweeps, omitted=omitted)
    budget = [FACTOR_STEPS]
    rewriter = textbook.Rewriter(graph)

    def shown_steps(sweep: Sweep) -> dict:
        scalar = simplify and not any(step.shape for step in sweep.steps)
        # a long sweep's steps written out to a third of the size (a 5,000-step chain spent
        # most of its time building and printing products of 20 factors)
        bound = TIDY_MAX_OPS if len(sweep.steps) <= LONG_SWEEP else TIDY_MAX_OPS // 3
        shown = textbook.closed_forms(sweep, rewriter, bound) if scalar else \
            sweep.closed_forms(bound if simplify else 0)
        if sweep.mode == "reverse" and graph.shape(sweep.origin):
            shown = _jacobians(graph, sweep, shown)
        return {step.target: tidy(shown[step.target], budget) if simplify and not scalar
                else shown[step.target] for step in sweep.steps}     # (textbook: already)

    for sweep in sweeps:
        shown = shown_steps(sweep)
        numbers = _sweep_values(values, sweep)
        for step in sweep.steps:
            solution.values[(sweep.mode, step.target)] = numbers.get(step.target.wrt
                                                                     if sweep.mode == "reverse"
                                                                     else step.target.of)
            solution.shown[(sweep.mode, step.target)] = shown[step.target]
    unshown: dict[str, dict] = {}          # reverse sweeps for the tangents not shown
    for ref in requested:
        sweep = next((s for s in sweeps if s.mode == "reverse" and s.origin == ref.of), None) or \
            next((s for s in sweeps if s.origin == ref.wrt), None)
        if sweep is None:
            if ref.of not in unshown:
                unshown[ref.of] = shown_steps(reverse(graph, ref.of))
            expr = unshown[ref.of].get(ref, sp.S.Zero)
        else:
            expr = solution.shown.get((sweep.mode, ref), sp.S.Zero)
        if _matrix_by_scalar(graph, ref) and (sweep is None or sweep.mode == "reverse"):
            # the reverse step is the VJP with Z̄; ∂Y/∂x itself is the tangent of a forward sweep
            tangent = forward(graph, ref.wrt)
            expr = tidy(tangent.closed_forms(TIDY_MAX_OPS if simplify else 0).get(ref, sp.S.Zero))
        value = None                   # a tensor (a vector by a matrix) has no value shown
        if not graph.depends(ref.of, ref.wrt):
            value = 0.0
        elif _jacobian_exists(graph, ref.of, ref.wrt):
            value = _at_point(values.derivative(ref.of, ref.wrt))
        solution.results.append(Result(ref, expr, value))
    return solution


def _sweep_values(values: Values, sweep: Sweep) -> dict[str, object]:
    """Each step's value: adjoints from one reverse program (a vector output: the Jacobian),
    tangents of a scalar input from one forward program (an array's depend on its ẋ)."""
    graph = values.graph
    if sweep.mode == "reverse":
        if not graph.shape(sweep.origin):
            bars = values.adjoints(sweep.origin)
            return {name: _at_point(v) for name, v in bars.items()}
        return {s.target.wrt: _at_point(values.derivative(sweep.origin, s.target.wrt))
                for s in sweep.steps if _jacobian_exists(graph, sweep.origin, s.target.wrt)
                and not _matrix_by_scalar(graph, s.target)}
    if graph.shape(sweep.origin):
        return {}       # an array's tangents depend on its direction ẋ: the formulas say it all
    dots = {sweep.origin: values.zeros(graph.shape(sweep.origin)) + 1}
    for step in sweep.steps:
        name = step.target.of
        total = 0
        for term in step.terms:
            parent = term.edge.wrt
            parent_dot = A.symbol(parent + "_dot", graph.shape(parent))
            share = graph.tangent_share(name, parent, parent_dot)
            total = total + values.value(share, {parent_dot: dots[parent]})
        dots[name] = total
    return {name: _at_point(v) for name, v in dots.items() if name != sweep.origin}


def _jacobians(graph, sweep: Sweep, shown: dict) -> dict:
    """With a vector output y, a step is the VJP of ȳ; where wrt is a vector too, ȳ = I gives
    the Jacobian in the gradient layout (∂z/∂h = Ωᵀ for z = β + Ωh)."""
    out = dict(shown)
    seed = sweep.steps[0].program_symbol
    size = graph.shape(sweep.origin)[0]
    for step in sweep.steps:
        shape = graph.shape(step.target.wrt)
        if shape and shape[1] == 1:
            jacobian = A.jacobian(shown[step.target], seed, size)
            if jacobian is not None:
                out[step.target] = jacobian
    return out


def _matrix_by_scalar(graph, ref: DRef) -> bool:
    """∂Y/∂x of a matrix Y (neither side 1) by a scalar x: a reverse step shows its VJP."""
    of = graph.shape(ref.of)
    return len(of) == 2 and 1 not in of and not graph.shape(ref.wrt)


def _jacobian_exists(graph, of: str, wrt: str) -> bool:
    from deriv.problem import derivative_shape
    try:
        derivative_shape(graph, of, wrt)
    except DerivError:
        return False
    return True


def tidy(expr: sp.Expr, budget: list[int] | None = None) -> sp.Expr:
    """A readable form within a size bound: factored with function applications held opaque
    (exp(a + b) stays whole), if that is no longer. Arrays in a reference's form (matrix_form);
    `budget` counts the factorings left (a deterministic bound, never a timer)."""
    if A.shape_of(expr):         # (a step of arrays tidied takes as long as a factoring)
        if budget is not None:
            if budget[0] <= 0 or A.size(expr) > FACTOR_MAX_OPS:
                return expr
            budget[0] -= 1
        return reference_form(_elementwise_factored(expr))
    if expr.is_Atom or A.size(expr) > FACTOR_MAX_OPS or \
            any(isinstance(s, A.ShapedSymbol) for s in expr.free_symbols) or \
            (budget is not None and budget[0] <= 0):
        return expr
    if budget is not None:
        budget[0] -= 1
    hidden: dict[sp.Expr, sp.Dummy] = {}

    def hide(e):
        if isinstance(e, sp.Function):
            return hidden.setdefault(e, sp.Dummy())
        return e.func(*(hide(a) for a in e.args)) if e.args else e
    try:
        factored = sp.factor(hide(expr)).xreplace({d: e for e, d in hidden.items()})
    except (sp.PolynomialError, RecursionError):
        return expr
    return factored if A.size(factored) <= A.size(expr) else expr


def _elementwise_factored(expr: sp.Expr) -> sp.Expr:
    """An array formula's elementwise algebra cancelled as a scalar's is — its products are
    ⊙, commutative, and every matrix operation is held opaque — where that is much shorter:
    −(1 − p) ⊙ (y/p − (1 − y)/(1 − p)) ⊙ p/N, a batch's BCE gradient, is (p − y)/N."""
    if A.size(expr) > FACTOR_MAX_OPS:
        return expr
    hidden: dict[sp.Expr, sp.Dummy] = {}
    divides = any(e.is_Pow and e.exp.is_negative for e in sp.preorder_traversal(expr))

    def hide(e):
        if isinstance(e, sp.Function):      # (its arguments factored too: Xᵀ(… ⊙ p)/N)
            inner = e.func(*(_elementwise_factored(a) if A.shape_of(a) and a.args else a
                             for a in e.args))
            return hidden.setdefault(inner, sp.Dummy())
        return e.func(*(hide(a) for a in e.args)) if e.args else e
    try:
        # (cancel, not factor: factor writes 1 − x² as −(x + 1)(x − 1); and only where there
        # is a division to cancel: (1 − x²) ⊙ ḃ stays as it is)
        flat = hide(expr)
        if not divides:
            return flat.xreplace({d: e for e, d in hidden.items()})
        factored = sp.cancel(flat).xreplace({d: e for e, d in hidden.items()})
    except (sp.PolynomialError, RecursionError, A.ShapeError, TypeError, ValueError):
        return expr
    if factored.is_Mul and factored.args[0] == -1:      # −(−p + y)/N as (p − y)/N
        sums = [a for a in factored.args if a.is_Add]
        if len(sums) == 1:
            factored = sp.Mul(*(-a if a is sums[0] else a for a in factored.args[1:]))
    try:
        same = A.shape_of(factored) == A.shape_of(expr)
    except A.ShapeError:
        return expr
    return factored if same and 4 * A.size(factored) <= 3 * A.size(expr) else expr


def node_values(problem: Problem, point: dict[str, float]) -> Values:
    """The forward pass at one point (the pictures and plots use it)."""
    return _values(problem, point, shown_sizes(problem))
