"""Elementwise products in a diagnosis: a formula read term by term once its products over sums
are multiplied out, a factor too many in an elementwise product, and a rank-one term uvᵀ that
a Jacobian misses.

Softmax's backward p ⊙ (g − (pᵀg)𝟏) is one product as the engine writes it; multiplied out it
has the terms p ⊙ g and −(pᵀg)p that a student's p ⊙ g is matched against. Its Jacobian
diag(p) − ppᵀ written diag(p) misses the rank-one term −ppᵀ of two of the graph's vectors.
Every candidate is confirmed on the sampled points as every explanation is.
"""

from __future__ import annotations

from itertools import islice

import sympy as sp

from deriv import algebra as A
from deriv import primitives as P
from deriv.findings import Finding
from deriv.matrix_form import reference_form
from deriv.parse import DRef, dref_of

MAX_EXPANDED_OPS = 40       # a formula multiplied out into terms up to this size
MAX_FACTORS_DROPPED = 8     # factors of an elementwise product tried as the extra one
MAX_SLOPE_NODES = 16        # nodes whose elementwise slope may stand for a factor
MAX_SLOPE_TRIALS = 32       # (factor, node slope) pairs tried in an elementwise product
MAX_OUTER_PAIRS = 16        # vector pairs (u, v) tried as a missing term ±uvᵀ
# symbols of a formula that are no node of the graph: eye, ones, literals, a size as a number
CONSTANTS = (A.SizeConstant, A.ArrayLiteral, A.SizeValue)


def term_readings(expr: sp.Expr) -> list[list[sp.Expr]]:
    """The formula's terms as written, then — where a product over a sum gives more —
    multiplied out at the top (p ⊙ (g − (pᵀg)𝟏) is p ⊙ g − (pᵀg)p)."""
    readings = [list(sp.Add.make_args(expr))]
    if A.within(expr, MAX_EXPANDED_OPS) and not A.high_power(expr):
        expanded = list(sp.Add.make_args(sp.expand(expr, deep=False)))
        if len(expanded) > len(readings[0]):
            readings.append(expanded)
    return readings


def matched_terms(d, written: list, right: list, values: dict) -> Finding | None:
    """The printed terms paired with the derivative's by value (`values`: a cache per batch):
    one left on each side is a wrong term, one of the derivative's left alone a missing term.
    `d`: the Diagnosis."""
    def value(e):
        def at(b, k):
            cache = values.setdefault(k, {})
            if e not in cache:
                cache[e] = d.pc.evaluate(b.values, e)
            return cache[e]
        return at
    unmatched = list(right)
    left = []
    for w in written:
        twin = next((r for r in unmatched if d.matches(value(w), value(r))), None)
        if twin is None:
            left.append(w)
        else:
            unmatched.remove(twin)
    if len(left) == 1 and len(unmatched) == 1 and len(written) > 1:
        return Finding("wrong-term", d.target, printed=left[0],
                       expr=reference_form(unmatched[0]))
    if not left and len(unmatched) == 1:
        return Finding("missing-term", d.target, expr=reference_form(unmatched[0]))
    return None


def extra_elementwise_factor(d) -> Finding | None:
    """An array claim that is an elementwise product (G ⊙ σ(Z) ⊙ (1 − σ(Z))) with one factor
    too many: without it, the claim is right — what a scalar product's extra factor is, for
    ⊙. `d`: the Diagnosis."""
    written = d.written
    if written is None or not written.is_Mul or not d.pc.target_shape(d.claim) or \
            d.claim.is_value or d.claim.update or any(dref_of(s) for s in written.free_symbols):
        return None
    factors = [f for f in written.args if not f.is_number]
    if not 2 <= len(factors) <= MAX_FACTORS_DROPPED:
        return None
    for factor in factors:
        rest = written / factor
        if _shape(rest) != _shape(written):
            continue
        if d.matches(lambda b, k, e=rest: d.pc.evaluate(b.values, e),
                     lambda b, k: d.pairs[k][2]):
            return Finding("extra-factor", d.target, expr=factor)
    return None


def missing_outer_term(d) -> Finding | None:
    """A square Jacobian of a vector that misses (or has too many) a rank-one term ±uvᵀ of
    two of the graph's vectors (softmax's −ppᵀ, written diag(p))."""
    want = d.pc.target_shape(d.claim)
    if d.claim.is_value or d.claim.update or len(want) != 2 or want[0] != want[1] or \
            want[0] == 1:
        return None
    # the vectors the claim is about or names (softmax's p is its `of`)
    written = d.written if d.written is not None else sp.S.Zero
    names = [d.claim.of, d.claim.wrt] + sorted(s.name for s in written.free_symbols)
    vectors = [d.graph.symbols[n] for n in dict.fromkeys(names) if n in d.graph.symbols and
               _shape(d.graph.symbols[n]) == (want[0], 1)]
    pairs = islice(((u, v) for u in vectors for v in vectors), MAX_OUTER_PAIRS)
    for u, v in pairs:
        outer = A.matmul(u, A.T(v))
        for sign in (-1, 1):
            # the claim is the Jacobian without the term sign·uvᵀ: "misses" it where the claim
            # never writes uvᵀ, else it has the opposite term too many
            if d.matches(lambda b, k, e=outer, s=sign: d.pairs[k][2] - s * d.pc.evaluate(
                    b.values, e)):
                if d.written is not None and d.written.has(outer):
                    return Finding("extra-term", d.target, expr=reference_form(-sign * outer))
                return Finding("missing-term", d.target, expr=reference_form(sign * outer))
    return None


def _shape(expr: sp.Expr):
    try:
        return A.shape_of(expr)
    except A.ShapeError:
        return None



def wrong_elementwise_factor(d) -> Finding | None:
    """An elementwise product with one factor that is not the slope it stands for: a node
    z = φ(a) where φ′(a) belongs (δ ⊙ relu(a) for δ ⊙ 𝕀[a > 0]), or a miswritten slope
    (G ⊙ (1 − H) for tanh′ = 1 − H⊙H). With the elementwise slope of a node on the claim's
    paths in its place, the claim is right."""
    written, graph, claim = d.written, d.graph, d.claim
    if written is None or not written.is_Mul or not d.pc.target_shape(claim) or \
            claim.is_value or claim.update:
        return None
    slopes = []                      # (node, parent, its elementwise slope)
    named = {s.name for s in written.free_symbols}
    # the nodes the claim names first, then the others: bounded by count on a long graph
    for name in sorted(graph.order, key=lambda n: n not in named)[:MAX_SLOPE_NODES]:
        parents = graph.parents(name)
        if graph.shape(name) and len(parents) == 1 and graph.depends(claim.of, name) and \
                graph.depends(parents[0], claim.wrt):
            slope = _elementwise(graph.local(name, parents[0]), name)
            if slope is not None:
                slopes.append((name, parents[0], slope))
    factors = [f for f in written.args if not f.is_number]
    # a factor that names a node is tried against that node's slope first
    pairs = sorted(((f, s) for f in factors for s in slopes),
                   key=lambda p: getattr(p[0], "name", None) != p[1][0])
    for factor, (name, parent, slope) in pairs[:MAX_SLOPE_TRIALS]:
        if _shape(slope) != _shape(factor):
            continue
        candidate = written.xreplace({factor: slope})
        if d.matches(lambda b, k, e=candidate: d.pc.evaluate(b.values, e),
                     lambda b, k: d.pairs[k][2]):
            return Finding("wrong-factor", d.target, derivative=DRef(name, parent),
                           printed=factor, expr=slope)
    return None


def _elementwise(local: sp.Expr, name: str) -> sp.Expr | None:
    """An elementwise node's partial as an array of slopes: diag(v) is v, z̄ ⊙ v is v."""
    if getattr(P.entry_of(local), "name", None) == "diag":
        return local.args[0]
    bars = [s for s in local.free_symbols if s.name == name + "_bar"]
    if len(bars) == 1 and local.is_Mul and bars[0] in local.args:
        slope = local / bars[0]
        return None if slope.has(bars[0]) else slope
    return None
