"""What the inputs' domains fix: the sign of a kink's argument — relu(w·x) of positive w and x
has one side only, so a pass that saw it saw every branch (coverage, --strict) — and whether a
point is inside them (a file's `at`, `solve --at`)."""

from __future__ import annotations

import sympy as sp

from deriv import algebra as A

MAX_UPSTREAM = 12       # nodes a kink argument is read through, at most


def signed_inputs(graph) -> dict:
    """Scalar inputs whose domain fixes their sign, as SymPy symbols that know it (positive,
    negative, an interval on one side of 0), for reading a kink argument's sign."""
    out = {}
    for i in graph.inputs.values():
        if i.shape:
            continue
        lo, hi = i.interval if i.domain == "interval" and i.interval else (None, None)
        if i.domain == "positive" or (lo is not None and lo > 0):
            out[i.symbol] = sp.Symbol(i.name, positive=True)
        elif i.domain == "negative" or (hi is not None and hi < 0):
            out[i.symbol] = sp.Symbol(i.name, negative=True)
        elif lo is not None and lo >= 0:
            out[i.symbol] = sp.Symbol(i.name, nonnegative=True)
        else:                  # (x² + 1 > 0 for every real x)
            out[i.symbol] = sp.Symbol(i.name, real=True)
    return out


def _bounds(graph, e):
    """e's range over the inputs' intervals (interval arithmetic: it may be wider than the
    range), or None where an input of it has no interval."""
    bounds = {}
    for i in graph.inputs.values():
        if i.symbol in e.free_symbols:
            if i.domain != "interval" or not i.interval:
                return None
            bounds[i.symbol] = sp.AccumBounds(*i.interval)
    try:
        found = e.xreplace(bounds) if bounds else None
    except (TypeError, ValueError, AttributeError):
        return None
    return found if isinstance(found, sp.AccumBounds) else None


def fixed_sign(graph, k) -> bool:
    """Does the inputs' domain fix the sign of a kink's argument (relu(w·x) of positive w and
    x)? Then its other side is no branch to see. Read on a few nodes only: inlined, a
    100-node chain's argument is a formula of thousands of operations."""
    upstream = set()
    for s in k.free_symbols:
        upstream |= set(graph.ancestors.get(s.name, ())) | {s.name}
    signed = signed_inputs(graph)
    if len(upstream) > MAX_UPSTREAM or not signed:
        return False
    flat: dict = {}            # (those nodes alone inlined: graph.inline does them all)
    for name in graph.order:
        if name in upstream and name in graph.nodes:
            flat[graph.nodes[name].symbol] = graph.nodes[name].expr.xreplace(flat)
    inlined = k.xreplace(flat)
    if not A.within(inlined, 64):
        return False
    e = inlined.xreplace(signed)
    if e.is_positive or e.is_negative or e.is_nonnegative or e.is_nonpositive:
        return True
    bounds = _bounds(graph, inlined)       # relu(x + 3) with x in (−2, 2): x + 3 in (1, 5)
    return bool(bounds is not None and (bounds.min > 0 or bounds.max < 0))


def outside(inp, value: float) -> str:
    """What an input's declared domain says that `value` breaks ("" when inside it): the
    derivative at a point the problem excludes (log x at x = 0) is not what it asks."""
    domain = inp.domain
    if domain == "positive" and not value > 0:
        return "positive (> 0)"
    if domain == "negative" and not value < 0:
        return "negative (< 0)"
    if domain == "nonzero" and value == 0:
        return "nonzero"
    if domain == "interval" and inp.interval and not inp.interval[0] <= value <= inp.interval[1]:
        lo, hi = inp.interval
        return f"in the interval [{lo:g}, {hi:g}]"
    return ""
