"""A gradient step w − ε·∇L written with its step wrong as a whole: ε lost, a constant
multiple, a node or input too many or too few in it, or its gradient missing a term (the
regulariser's λw). The step the claim takes, w − claim, is compared with ε·∇L; the gradient
inside it, (w − claim)/ε, is explained as a derivative claim is."""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from deriv import algebra as A
from deriv.findings import Finding
from deriv.program import per_point


def wrong_step(d) -> Finding | None:
    """`d`: the claim's deriv.diagnose.Diagnosis."""
    claim, graph = d.claim, d.graph
    if not claim.update or claim.update == "newton":
        return None
    w, epsilon = graph.symbols[claim.wrt], graph.symbols[claim.update]

    def taken(b, k):
        return b.values.env[w] - d.pairs[k][1]

    def right(b, k):
        return b.values.env[w] - d.pairs[k][2]
    if d.matches(lambda b, k: right(b, k) / b.values.env[epsilon], taken):
        return Finding("missing-factor", d.target, expr=epsilon, text="step")
    found = _multiple(d, taken, right)
    if found is not None:
        return found
    shape = A.shape_of(w)
    for symbol in graph.symbols.values():
        if symbol in (w, epsilon) or A.shape_of(symbol) not in ((), shape):
            continue
        if d.matches(lambda b, k, s=symbol: right(b, k) * b.values.env[s], taken):
            return Finding("extra-factor", d.target, expr=symbol, text="step")
        if d.matches(lambda b, k, s=symbol: right(b, k) / b.values.env[s], taken):
            return Finding("missing-factor", d.target, expr=symbol, text="step")
    return _gradient_term(d, taken, epsilon)


def _multiple(d, taken, right) -> Finding | None:
    """The step a constant times ε·∇L (not −1: that is the sign, said before)."""
    batch, _, _, valid = d.pairs[0]
    with np.errstate(all="ignore"):
        ratio = taken(batch, 0) / right(batch, 0)
    if np.ndim(ratio):
        ratio = ratio[..., per_point(valid)]
    ratio = np.ravel(ratio)
    ratio = ratio[np.isfinite(ratio)]
    if not ratio.size or min(abs(ratio[0] - 1), abs(ratio[0] + 1)) < 1e-6:
        return None
    r = float(ratio[0])
    if not d.matches(lambda b, k: r * right(b, k), taken):
        return None
    number = sp.nsimplify(r, rational=True, tolerance=1e-9)
    if abs(number) > 1:
        return Finding("extra-factor", d.target, expr=number, text="step")
    return Finding("missing-factor", d.target, expr=1 / number, text="step")


def _gradient_term(d, taken, epsilon) -> Finding | None:
    """The gradient inside the step, (w − claim)/ε, against ∇L: a term or a path it lacks."""
    claim = d.claim
    w = d.graph.symbols[claim.wrt]
    inner = dataclasses.replace(claim, update=None)
    pairs = []
    for k, (batch, c, t, valid) in enumerate(d.pairs):
        with np.errstate(all="ignore"):
            g = taken(batch, k) / batch.values.env[epsilon]
        grad = batch.values.derivative(claim.of, claim.wrt, "gradient")
        pairs.append((batch, g, grad, valid & per_point(np.isfinite(g))))
    written = None if d.written is None else sp.expand((w - d.written) / epsilon)
    sub = type(d)(d.pc, inner, written, pairs)      # (a Diagnosis of the gradient alone)
    for method in (sub.lost_path, sub.term):
        found = method()
        if found is not None and found.kind in ("lost-path", "missing-term", "extra-term"):
            return dataclasses.replace(found, text="step") if found.kind != "lost-path" \
                else found
    return None
