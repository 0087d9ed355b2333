"""Checking the claims of other kinds (deriv.kinds): each against what the engine derives.

- shape: the tensor ∂of/∂wrt has the sizes of wrt then of (gradient layout; of then wrt in the
  derivative layout), vectors counted once: ∂g/∂W for g ∈ ℝⁿ, W ∈ ℝⁿˣⁿ is n×n×n.
- count: exact arithmetic (SymPy integers and rationals); a `count` measure — entries of
  inputs, a checkpointing plan's counts — is derived from the graph, and the printed formula
  must equal it identically in the sizes.
- optimum: on the drawn points, the gradient (the engine's reverse sweep) at the claimed point
  must vanish, and second differences along random directions and the Hessian's extreme ones
  (by differences of the gradient, up to 64 variables) say minimum, maximum or saddle.
- expectation: SymPy's exact expectation where the expression is piecewise polynomial in the
  random variables; otherwise Monte Carlo on the engine's forward pass, seeded, with a stated
  confidence bound and a fixed number of draws (bounded in time by a count, never a clock).
- at: every named derivative (or value) at the stated point, the other inputs drawn.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from deriv.findings import Finding, Verdict
from deriv.kinds import size_symbol
from deriv.parse import DRef
from deriv.program import Values, per_point

STATIONARY = 1e-6           # |∇ at the claimed optimum| ≤ this × the gradient's typical size
DIRECTIONS = 8              # random directions of the second-order test, per point
MAX_HESSIAN = 64            # and, up to this many variables, the Hessian's extreme ones
MC_DRAWS = 200_000          # Monte Carlo draws per parameter point, fewer on a large graph:
MC_WORK = 20_000_000        # draws × nodes at most (the bound widens as the draws are fewer)
MC_POINTS = 4               # parameter points (the other inputs) an expectation is tested at
HEAVY_SHARE = 0.08          # one draw this share of all draws' |sum|: heavy tails (e^a, a ~
                            # N(0, 4): its mean is off by a third), undecided, never passed
MC_Z = 5.0                  # the bound: 5 standard errors (two-sided, 1 − 5.7·10⁻⁷)
MAX_SYMBOLIC_NODES = 24     # an expectation in closed form: of a node this few nodes feed
MAX_SYMBOLIC_PIECES = 2     # ... with this few relu, 𝕀, abs, max, min (else Monte Carlo)
SYMBOLIC = {"relu", "indicator", "Abs", "maximum", "minimum"}   # piecewise-polynomial pieces


def check_kind(pc, claim) -> Verdict:
    spec = claim.spec
    v = Verdict(pc.problem.id, claim, "pass")
    findings = {"shape": _shape, "count": _count, "optimum": _optimum,
                "expectation": _expectation, "at": _at}[spec.kind](pc, claim, v)
    if findings:
        v.verdict = "fail"
        v.diagnosis = findings
    return v


# --- shape ------------------------------------------------------------------------------------
def tensor_shape(graph, of: str, wrt: str, layout: str = "gradient") -> tuple:
    """The sizes of ∂of/∂wrt as a tensor: a vector counts once (n, not n×1), a scalar not at
    all; wrt's sizes first in the gradient layout."""
    def dims(name):
        shape = tuple(graph.shape(name))
        return tuple(d for d in shape if d != 1) if 1 in shape else shape
    if not wrt:
        return dims(of)
    if layout == "derivative" and not dims(of) and len(dims(wrt)) == 2:
        return dims(wrt)[::-1]         # a scalar by a matrix: its transpose, as `expr` has it
    parts = (dims(wrt), dims(of)) if layout == "gradient" else (dims(of), dims(wrt))
    return parts[0] + parts[1]


def _shape(pc, claim, v) -> list:
    spec = claim.spec
    v.samples = 1                 # derived once, from the shapes of of and wrt
    derived = tensor_shape(pc.graph, claim.of, claim.wrt, claim.layout)
    ref = DRef(claim.of, claim.wrt) if claim.wrt else None
    if spec.order is not None:
        if len(derived) != spec.order:
            return [Finding("tensor-order", ref, derivative=ref, count=spec.order,
                            shapes=(derived,))]
        return []
    printed = tuple(d for d in spec.shape if d != 1) if 1 in spec.shape and \
        len(spec.shape) == 2 else spec.shape      # ℝⁿˣ¹ is ℝⁿ
    if printed != derived:
        return [Finding("shape-printed", ref, derivative=ref, shapes=(spec.shape, derived),
                        text=claim.of if ref is None else "")]
    return []


# --- count ------------------------------------------------------------------------------------
def measure_value(problem, measure: tuple) -> sp.Expr:
    """What a count measure counts, exactly: a polynomial in the sizes, or a number."""
    if measure[0] == "entries":
        total = sp.Integer(0)
        for name in measure[1]:
            total += sp.Mul(*[size_symbol(d) if isinstance(d, str) else sp.Integer(d)
                              for d in problem.graph.shape(name)])
        return total
    from deriv.checkpoint import plan
    return sp.Integer(plan(problem.graph, measure[1]).count(measure[2]))


def holds(left: sp.Expr, relation: str, right: sp.Expr) -> bool:
    difference = sp.nsimplify(sp.expand(left - right))
    if not difference.is_Rational:
        return False
    return {"=": difference == 0, "<": difference < 0, "<=": difference <= 0,
            ">": difference > 0, ">=": difference >= 0}[relation]


def _count(pc, claim, v) -> list:
    spec = claim.spec
    out = []
    at = {size_symbol(k): sp.Integer(n) for k, n in spec.sizes}
    if spec.measure:
        truth = measure_value(pc.problem, spec.measure)
        if not spec.formula.free_symbols:       # the numbers: what it counts at those sizes
            truth = truth.xreplace(at)
        if sp.expand(spec.formula - truth) != 0:
            out.append(Finding("count-formula", None, expr=truth, printed=spec.formula,
                               text=claim.expr_text or "", symbols=_measure_names(spec.measure)))
    if spec.value is not None:
        left, right = spec.formula.xreplace(at), spec.value.xreplace(at)
        if not holds(left, spec.relation, right):
            out.append(Finding("count-value", None, printed=spec.value, text=claim.expr_text,
                               symbols=(spec.relation,), values=(sp.expand(left), right),
                               point=tuple(spec.sizes)))
    v.samples = 1
    return out


def _measure_names(measure: tuple) -> tuple:
    if measure[0] == "entries":
        return ("entries",) + tuple(measure[1])
    return tuple(str(x) for x in measure)


# --- optimum ----------------------------------------------------------------------------------
def _optimum(pc, claim, v) -> list:
    spec, graph, problem = claim.spec, pc.graph, pc.problem
    rng = np.random.default_rng(pc.options.seed + 101)
    worst, shapes_found, gradients, valid_points = 0.0, {}, [], 0
    for batch in pc.batches:
        claimed = batch.values.value(spec.formula)
        inputs = {**batch.inputs, claim.wrt: claimed}
        at = Values(problem, inputs, batch.sizes)
        grad = at.derivative(claim.of, claim.wrt)
        typical = batch.values.derivative(claim.of, claim.wrt)   # at the drawn wrt
        size = _per_point_max(typical)
        g = _per_point_max(grad)
        j0 = at.env[graph.symbols[claim.of]]
        ok = np.isfinite(g) & np.isfinite(size) & np.isfinite(j0)
        moving = ok & (size > 0)       # (where J is flat — a dead relu — its slope is no scale)
        scale = float(np.median(size[moving])) if moving.any() else 1.0
        # at a kink (the lasso's soft threshold puts w at |w|'s) the slope is one of many: the
        # values around the point decide there, not the gradient
        kinked = np.zeros(np.shape(ok), dtype=bool)
        with np.errstate(all="ignore"):
            for k in pc.kinks:
                arg = np.abs(np.asarray(at.value(k), dtype=float))
                kinked |= np.broadcast_to(per_point(arg <= 1e-12 * (1 + arg), every=False),
                                          np.shape(ok))
        gradients.append((g[ok & ~kinked], scale))
        # second differences along random directions: J(ŵ + tv) + J(ŵ − tv) − 2J(ŵ)
        step = 1e-3 * (1.0 + _per_point_max(claimed))
        signs = []
        directions = []
        for _ in range(DIRECTIONS):
            direction = rng.standard_normal(np.shape(claimed))
            axes = tuple(range(direction.ndim - 1))
            direction /= np.sqrt(np.sum(direction ** 2, axis=axes)) if axes else \
                np.abs(direction)
            directions.append(direction)
        directions += _extreme_directions(pc, batch, claim, claimed, step)
        objective = _shifted(pc, batch, claim.wrt, [
            claimed + sign * step * direction for direction in directions for sign in (1, -1)],
            lambda values: values.env[graph.symbols[claim.of]])
        lower = higher = np.zeros(np.shape(ok), dtype=bool)   # J below / above J(ŵ) nearby
        for k in range(len(directions)):
            moved = objective[2 * k: 2 * k + 2]
            second = (moved[0] + moved[1] - 2 * j0) / step ** 2
            # round-off of the three values, relative to them: an objective of tiny values
            # (exp(−‖w‖²/2 − …) far from 0) still curves, and its curvature is what counts
            noise = 1e-8 * np.maximum.reduce([np.abs(j0), np.abs(moved[0]), np.abs(moved[1]),
                                              np.full(np.shape(j0), 1e-300)]) / step ** 2
            signs.append(np.where(second > noise, 1, np.where(second < -noise, -1, 0)))
            for m in moved:
                lower = lower | (m < j0 - noise * step ** 2)
                higher = higher | (m > j0 + noise * step ** 2)
        signs = np.array(signs)[:, ok]
        # at a kink, or where no curvature shows (|w − a| + |w − b| between a and b: a flat
        # minimum is a minimum), the values decide: nothing nearby lower is a minimum
        curved = (signs != 0).any(axis=0)
        by_value = (kinked[ok] | ~curved)
        value_kind = np.where(~lower[ok] & higher[ok], "min", np.where(
            lower[ok] & ~higher[ok], "max", np.where(~lower[ok] & ~higher[ok], spec.optimum,
                                                      "saddle")))
        # a direction of no curvature is neutral (x₁² with x₂ free is a minimum in w): the
        # Hessian's least-curvature direction is exactly such a one, where random ones
        # almost never are
        rising, falling = (signs > 0).any(axis=0), (signs < 0).any(axis=0)
        for kind, where in (("saddle", rising & falling), ("min", rising & ~falling),
                            ("max", falling & ~rising), ("flat", ~rising & ~falling)):
            where = where & ~by_value
            if where.any():
                shapes_found[kind] = shapes_found.get(kind, 0) + int(where.sum())
        for kind in ("min", "max", "saddle"):
            count = int(np.count_nonzero(by_value & (value_kind == kind)))
            if count:
                shapes_found[kind] = shapes_found.get(kind, 0) + count
        valid_points += int(ok.sum())
    v.samples = valid_points
    if valid_points < 10:
        v.verdict, v.reason = "error", "too-few-points"
        return []
    out = []
    for g, scale in gradients:
        if len(g):
            worst = max(worst, float(np.max(g)) / max(scale, 1e-300))
    ref = DRef(claim.of, claim.wrt)
    if worst > STATIONARY:
        out.append(Finding("not-stationary", ref, number=worst))
    # the commonest kind other than the claimed one, at how many points (a minimum at most
    # points and a saddle at some is not a minimum)
    others = {k: n for k, n in shapes_found.items() if k != spec.optimum}
    if not out and others:
        found = max(others, key=others.get)
        out.append(Finding("optimum-kind", ref, text=found, symbols=(spec.optimum,),
                           count=others[found], number=valid_points))
    return out


def _extreme_directions(pc, batch, claim, claimed, step) -> list:
    """Per point, the directions of least and of largest curvature of the objective at the
    claimed optimum, from its Hessian (columns by central differences of the gradient): random
    directions miss a saddle's one falling direction among 64."""
    shape = np.shape(claimed)
    n = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    if not 2 <= n <= MAX_HESSIAN:
        return []
    units = []
    for k in range(n):
        unit = np.zeros(shape)
        unit.reshape(n, -1)[k] = 1.0
        units += [claimed + step * unit, claimed - step * unit]
    sides = _shifted(pc, batch, claim.wrt, units,
                     lambda values: values.derivative(claim.of, claim.wrt))
    columns = [(np.asarray(sides[2 * k], dtype=float).reshape(n, -1) -
                np.asarray(sides[2 * k + 1], dtype=float).reshape(n, -1)) / (2 * step)
               for k in range(n)]
    hessian = np.moveaxis(np.stack(columns, axis=1), -1, 0)          # (points, n, n)
    hessian = np.nan_to_num((hessian + np.swapaxes(hessian, 1, 2)) / 2)
    _, vectors = np.linalg.eigh(hessian)
    return [np.moveaxis(vectors[:, :, j], 0, -1).reshape(shape) for j in (0, -1)]


def _shifted(pc, batch, wrt: str, values_of_wrt: list, read) -> list:
    """read(values) at the batch's points with wrt moved to each of `values_of_wrt`: the
    shifts side by side along the points, in as few forward passes as memory allows (one
    pass a shift made the optimum test a thousand small passes)."""
    points = next(iter(batch.inputs.values())).shape[-1]
    group = max(1, pc.fitting_points(batch.sizes) // points)
    out = []
    for start in range(0, len(values_of_wrt), group):
        chunk = values_of_wrt[start:start + group]
        inputs = {k: np.concatenate([v] * len(chunk), axis=-1) for k, v in batch.inputs.items()}
        inputs[wrt] = np.concatenate(chunk, axis=-1)
        found = np.asarray(read(Values(pc.problem, inputs, batch.sizes)), dtype=float)
        out += np.split(found, len(chunk), axis=-1)
    return out


def _per_point_max(a) -> np.ndarray:
    a = np.abs(np.asarray(a, dtype=float))
    return a if a.ndim == 1 else a.reshape(-1, a.shape[-1]).max(axis=0)


# --- expectation -----------------------------------------------------------------------------
def _inlined(graph, name: str) -> sp.Expr:
    expr = graph.symbols[name]
    for node in reversed(graph.order):
        expr = expr.xreplace({graph.symbols[node]: graph.nodes[node].expr})
    return expr


def _piecewise(expr: sp.Expr) -> sp.Expr | None:
    """The expression with relu, 𝕀, abs, max, min written as SymPy's own, or None if it holds
    anything else than those and polynomial arithmetic (then: Monte Carlo)."""
    from deriv.primitives import entry_of
    for e in sp.preorder_traversal(expr):
        entry = entry_of(e)
        if entry is not None and entry.name not in SYMBOLIC:
            return None
        if entry is None and e.args and not isinstance(e, (sp.Add, sp.Mul, sp.Pow)):
            return None
        if isinstance(e, sp.Pow) and not (e.exp.is_Integer and e.exp >= 0):
            return None
    rules = {"relu": lambda z: sp.Piecewise((z, z > 0), (0, True)),
             "indicator": lambda z: sp.Piecewise((1, z > 0), (0, True)),
             "maximum": sp.Max, "minimum": sp.Min}
    return expr.replace(lambda e: entry_of(e) is not None and entry_of(e).name in rules,
                        lambda e: rules[entry_of(e).name](*e.args))


def _symbolic(pc, claim):
    """E[of] in closed form, or None where it is not tried: one random variable, the node
    piecewise polynomial in it. Each piece is integrated against the density over its own
    interval (SymPy's integrate of a polynomial times a density: fast, exact)."""
    graph, spec = pc.graph, claim.spec
    if len(spec.random) != 1 or \
            sum(graph.depends(claim.of, n) for n in graph.order) > MAX_SYMBOLIC_NODES:
        return None            # (inlined, a chain of a thousand nests a thousand deep)
    from deriv.primitives import entry_of
    inlined = _inlined(graph, claim.of)
    if sum(1 for e in sp.preorder_traversal(inlined)
           if getattr(entry_of(e), "name", None) in SYMBOLIC) > MAX_SYMBOLIC_PIECES:
        return None            # (each piecewise piece doubles the cases integrated)
    expr = _piecewise(inlined)
    if expr is None:
        return None
    name, dist, params = spec.random[0]
    a = sp.Symbol(name, real=True)
    others = {inp.symbol: sp.Symbol(inp.name, positive=True) for inp in graph.inputs.values()
              if inp.domain == "positive"}
    expr = expr.xreplace(others).xreplace({graph.symbols[name]: a})
    p0, p1 = (p.xreplace(others) for p in params)
    if not (p1 if dist == "normal" else p1 - p0).is_positive:
        return None            # valid only for some values of the parameters: drawn instead
    if dist == "normal":
        density, support = sp.exp(-(a - p0) ** 2 / (2 * p1 ** 2)) / (p1 * sp.sqrt(2 * sp.pi)), \
            sp.Interval(-sp.oo, sp.oo)
    else:
        density, support = 1 / (p1 - p0), sp.Interval(p0, p1)
    try:
        pieces = sp.piecewise_fold(expr)
        pieces = pieces.args if isinstance(pieces, sp.Piecewise) else ((pieces, sp.true),)
        total, before = sp.Integer(0), sp.false
        for value, condition in pieces:
            region = (condition & ~before) if before is not sp.false else condition
            before = before | condition
            where = support if region is sp.true else _as_set(region, a)
            for part in (where.args if isinstance(where, sp.Union) else (where,)):
                if value == 0 or part.is_empty:
                    continue
                if not isinstance(part, sp.Interval) or not value.is_polynomial(a):
                    return None
                # the piece's interval within the support (SymPy's intersect leaves symbolic
                # bounds such as ±√3σ unevaluated; Max and Min settle them by the signs)
                lo, hi = sp.Max(part.inf, support.inf), sp.Min(part.sup, support.sup)
                if lo.has(sp.Max) or hi.has(sp.Min):
                    return None
                if (hi - lo).is_nonpositive:
                    continue
                total += _normal_piece(value, a, p0, p1, lo, hi) if dist == "normal" else \
                    sp.integrate(value * density, (a, lo, hi))
        total = sp.expand(total)    # (sp.simplify imports sympy.physics: 1.7 s)
    except Exception:          # SymPy gives up on a piece (a symbolic kink): Monte Carlo then
        return None
    if total.has(sp.Integral) or total.has(sp.Piecewise):
        return None
    return total.xreplace({v: k for k, v in others.items()})


def _as_set(condition, a: sp.Symbol) -> sp.Set:
    """The set of a where a condition holds: a kink's side a − c > 0 read directly (SymPy's
    as_set solves every inequality in general: most of an expectation's time)."""
    if isinstance(condition, (sp.And, sp.Or)):
        parts = [_as_set(c, a) for c in condition.args]
        return sp.Intersection(*parts) if isinstance(condition, sp.And) else sp.Union(*parts)
    if isinstance(condition, sp.Not):
        return sp.Complement(sp.S.Reals, _as_set(condition.args[0], a))
    if isinstance(condition, (sp.StrictGreaterThan, sp.GreaterThan, sp.StrictLessThan,
                              sp.LessThan)):
        difference = condition.lhs - condition.rhs
        if difference.is_polynomial(a):
            poly = sp.Poly(difference, a)
            slope, offset = poly.all_coeffs() if poly.degree() == 1 else (0, 0)
            if slope != 0 and (slope.is_positive or slope.is_negative):
                root = -offset / slope
                above = isinstance(condition, (sp.StrictGreaterThan, sp.GreaterThan)) == \
                    bool(slope.is_positive)
                strict = isinstance(condition, (sp.StrictGreaterThan, sp.StrictLessThan))
                return sp.Interval(root, sp.oo, left_open=strict) if above else \
                    sp.Interval(-sp.oo, root, right_open=strict)
    return condition.as_set()


def _normal_piece(value: sp.Expr, a: sp.Symbol, mean, sd, lo, hi) -> sp.Expr:
    """∫ value(a) N(a; mean, sd²) da over [lo, hi] for a polynomial value, in closed form: with
    a = mean + sd·z, Mₖ = ∫ zᵏφ(z)dz = [−zᵏ⁻¹φ(z)] + (k − 1)Mₖ₋₂, M₀ = Φ(h) − Φ(l), M₁ = φ(l) − φ(h)
    (SymPy's integrate takes about a second for each Gaussian piece)."""
    z = sp.Dummy("z", real=True)
    poly = sp.Poly(sp.expand(value.xreplace({a: mean + sd * z})), z)
    l, h = (lo - mean) / sd, (hi - mean) / sd

    def phi(t):
        return sp.Integer(0) if t.is_infinite else sp.exp(-t ** 2 / 2) / sp.sqrt(2 * sp.pi)

    def edge(t, k):          # tᵏ⁻¹φ(t), 0 at ±∞
        return sp.Integer(0) if t.is_infinite else t ** (k - 1) * phi(t)
    moments = [(sp.erf(h / sp.sqrt(2)) - sp.erf(l / sp.sqrt(2))) / 2, phi(l) - phi(h)]
    for k in range(2, poly.degree() + 1):
        moments.append(edge(l, k) - edge(h, k) + (k - 1) * moments[k - 2])
    return sum(c * moments[k] for (k,), c in poly.terms())


def _zero(difference: sp.Expr) -> bool:
    """Identically zero: expanded, or else at a few exact points of its (positive) symbols
    (sp.simplify imports sympy.physics, 1.7 s, and may not settle it either)."""
    difference = sp.expand(difference)
    if difference == 0 or not difference.free_symbols:
        return difference == 0
    for k in (1, 2, 3):
        at = {s: sp.Rational(k * 7 + i, 5) for i, s in enumerate(sorted(difference.free_symbols,
                                                                        key=str))}
        if abs(complex(difference.xreplace(at).evalf(30))) > 1e-20:
            return False
    return True


def _expectation(pc, claim, v) -> list:
    spec, graph = claim.spec, pc.graph
    exact = _symbolic(pc, claim)
    if exact is not None:
        v.samples = 1
        if not _zero(exact - spec.formula):
            return [Finding("expectation", None, expr=exact, printed=spec.formula,
                            text="symbolic", symbols=(claim.of,))]
        return []
    batch = pc.batches[0]
    rng = np.random.default_rng(pc.options.seed + 202)
    random = {name for name, _, _ in spec.random}
    used = set(spec.formula.free_symbols).union(*(p.free_symbols for _, _, ps in spec.random
                                                  for p in ps))
    used |= {graph.symbols[k] for k in graph.inputs if graph.depends(claim.of, k)}
    out = []
    draws = max(2_000, min(MC_DRAWS, MC_WORK // max(1, len(graph.order))))
    for i in _spread(pc, batch, random):
        # a point's arrays (scalars, vectors, matrices alike), each repeated over the draws
        point = {k: np.asarray(val, dtype=float)[..., i] for k, val in batch.inputs.items()
                 if k not in random}
        inputs = {k: np.repeat(x[..., None], draws, axis=-1) for k, x in point.items()}
        one = Values(pc.problem, {k: x[..., None] for k, x in point.items()} |
                     {r: np.array([0.0]) for r in random}, batch.sizes)
        for name, dist, params in spec.random:
            a, b = (float(np.ravel(one.value(p))[0]) for p in params)
            if not (np.isfinite(a) and np.isfinite(b) and (b > 0 if dist == "normal" else
                                                            b > a)):
                v.verdict, v.reason = "error", "distribution"
                return []
            inputs[name] = rng.normal(a, b, draws) if dist == "normal" else \
                rng.uniform(a, b, draws)
        values = Values(pc.problem, inputs, batch.sizes)
        sample = np.asarray(values.env[graph.symbols[claim.of]], dtype=float)
        sample = np.where(np.isfinite(sample), sample, np.nan)
        drawn = np.count_nonzero(np.isfinite(sample), axis=-1)
        magnitude = np.nansum(np.abs(sample), axis=-1)
        with np.errstate(all="ignore"):
            share = np.nanmax(np.abs(sample), axis=-1) / magnitude
        if np.any(share > HEAVY_SHARE):       # a few draws make the mean: no bound holds
            v.verdict, v.reason = "error", "heavy-tails"
            return []
        mean = np.nanmean(sample, axis=-1)
        bound = MC_Z * np.nanstd(sample, axis=-1, ddof=1) / np.sqrt(np.maximum(drawn, 1))
        claimed = np.asarray(one.value(spec.formula), dtype=float)[..., 0] * np.ones_like(mean)
        v.samples += int(np.min(drawn))
        off = np.abs(mean - claimed) - bound - 1e-12 * np.maximum(np.abs(mean), 1.0)
        if np.any(off > 0):
            worst = np.unravel_index(int(np.argmax(off)), np.shape(off)) if np.ndim(off) else ()
            out.append(Finding("expectation", None, printed=spec.formula,
                               number=float(claimed[worst]),
                               values=(float(mean[worst]), float(bound[worst])),
                               count=int(np.min(drawn)), text="monte-carlo",
                               symbols=(claim.of,),
                               point=tuple((k, float(x) if not np.ndim(x) else x)
                                           for k, x in point.items()
                                           if graph.symbols[k] in used)))
            break
    return out


def _spread(pc, batch, random: set) -> list[int]:
    """MC_POINTS points of the batch for the other inputs, each side of every kink they decide
    first (relu(m − 1): one point with m > 1, one with m < 1 — a claim wrong on one side had
    passed at half the seeds), then the batch's first."""
    graph = pc.graph
    kinks = [k for k in pc.kinks if not any(
        s.name in random or any(graph.depends(s.name, r) for r in random)
        for s in k.free_symbols)]
    chosen, seen = [], set()
    if kinks:
        with np.errstate(all="ignore"):
            signs = np.stack([np.broadcast_to(per_point(
                np.asarray(batch.values.value(k)) > 0, every=False), (batch.n,))
                for k in kinks])
        for i in range(batch.n):
            pattern = tuple(signs[:, i])
            if pattern not in seen:
                seen.add(pattern)
                chosen.append(i)
            if len(chosen) == MC_POINTS:
                break
    chosen += [i for i in range(batch.n) if i not in chosen][:MC_POINTS - len(chosen)]
    return chosen


# --- at a stated point ------------------------------------------------------------------------
def _at(pc, claim, v) -> list:
    spec, graph = claim.spec, pc.graph
    out, failed = [], set()
    for batch in pc.batches:
        inputs = dict(batch.inputs)
        for name, number in spec.point:
            inputs[name] = np.full_like(inputs[name], float(number))
        values = Values(pc.problem, inputs, batch.sizes)
        claimed = pc.evaluate(values, spec.formula)
        for of, wrt in spec.pairs:
            if (of, wrt) in failed:
                continue
            truth = values.env[graph.symbols[of]] if not wrt else values.derivative(of, wrt)
            truth = np.asarray(truth, dtype=float)
            try:
                c = np.broadcast_to(np.asarray(claimed, dtype=float), truth.shape)
            except ValueError:      # the claimed value has another shape than the derivative
                out.append(Finding("shape", DRef(of, wrt) if wrt else None,
                                   shapes=(np.shape(claimed)[:-1], truth.shape[:-1]),
                                   text=claim.layout))
                failed.add((of, wrt))
                continue
            defined = per_point(np.isfinite(truth))
            ok = defined & per_point(np.isfinite(c))
            v.samples += int(defined.sum())
            scale = max(float(np.max(np.abs(truth[..., ok]), initial=0.0)), 1.0)
            # (a claim undefined where the truth is defined is wrong there)
            wrong = (~per_point(np.abs(c - truth) <= 1e-9 * scale) & ok) | (defined & ~ok)
            if wrong.any():
                i = int(np.flatnonzero(wrong)[0])
                failed.add((of, wrt))
                out.append(Finding("at-point", DRef(of, wrt) if wrt else None,
                                   derivative=DRef(of, wrt) if wrt else None,
                                   printed=spec.formula, symbols=(of,),
                                   point=tuple((k, float(n)) for k, n in spec.point),
                                   values=(c[..., i], truth[..., i])))
    if not v.samples and not out:         # undefined there: nothing was compared
        v.verdict, v.reason = "error", "undefined-at"
    return out
