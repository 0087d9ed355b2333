"""Reductions taken over the other axis: the candidates for a wrong-axis diagnosis.

A sum, mean, max, min, log-sum-exp or softmax over axis 0 (down each column) written over
axis 1 (along each row), or the other way: the commonest slip of batch gradients (a bias's
gradient summed over the classes, a softmax's −Σ taken over the batch). Each candidate is the
whole claim with one reduction moved to the other axis — a mean keeps its meaning, so its
count moves with it (Σ₁/D becomes Σ₀/N) — or every reduction of that kind at once; only
those whose shapes fit are kept.
"""

from __future__ import annotations

import sympy as sp

from deriv import algebra as A
from deriv import primitives as P

MAX_AXIS_CANDIDATES = 16    # candidates a claim yields, at most
# the registry's names of a reduction over an axis, as (kind, axis)
AXIS_ENTRIES = {f"{kind}{axis}": (kind, axis)
                for kind in ("total", "softmax", "logsumexp", "maxall", "minall")
                for axis in (0, 1)}


def _axis_calls(expr: sp.Expr) -> list[sp.Expr]:
    calls = []
    for node in sp.preorder_traversal(expr):
        entry = P.entry_of(node)
        if entry is not None and entry.name in AXIS_ENTRIES and node not in calls:
            calls.append(node)
    return calls


def _count(shape: tuple, axis: int) -> sp.Expr:
    size = shape[axis]
    return A.size_value(size) if isinstance(size, str) else sp.Integer(size)


def _moved(call: sp.Expr) -> list[tuple[sp.Expr, sp.Expr, sp.Expr]]:
    """(the replacement, the part as written, as moved): the call over the other axis; for a
    sum, also as a mean's would move (Σ₁/D as Σ₀/N: its count exchanged for the other
    axis's)."""
    kind, axis = AXIS_ENTRIES[P.entry_of(call).name]
    (x,) = call.args
    other = P.call(f"{kind}{1 - axis}", x)
    out = [(other, call, other)]
    if kind == "total":
        shape = A.shape_of(x)
        was, now = _count(shape, axis), _count(shape, 1 - axis)
        if was != now:
            out.append((other * was / now, call / was, other / now))
    return out


def _fits(candidate: sp.Expr, expr: sp.Expr) -> bool:
    try:
        return A.shape_of(candidate) == A.shape_of(expr)
    except A.ShapeError:
        return False


def axis_swaps(expr: sp.Expr) -> list[tuple[sp.Expr, sp.Expr, sp.Expr]]:
    """(the claim with a reduction over the other axis, the reduction as written, as moved):
    one reduction at a time, then every one at once."""
    out = []
    calls = _axis_calls(expr)
    for call in calls:
        for moved, printed, right in _moved(call):
            candidate = _rebuilt(expr, {call: moved})
            if candidate is not None:
                out.append((candidate, printed, right))
    if len(calls) > 1:
        # every one at once, as a sum moves and as a mean does (the layer norm's two means
        # over the batch instead of the features: Σ₀/N for Σ₁/D each time)
        for reading in (0, -1):
            moves = {call: _moved(call)[reading] for call in calls}
            every = {call: moved for call, (moved, _, _) in moves.items()}
            candidate = _rebuilt(expr, every)
            if candidate is not None and not any(candidate == c for c, _, _ in out):
                out.append((candidate, sp.Tuple(*(p for _, p, _ in moves.values())),
                            sp.Tuple(*(r for _, _, r in moves.values()))))
    return out[:MAX_AXIS_CANDIDATES]


def _rebuilt(expr: sp.Expr, replace: dict) -> sp.Expr | None:
    try:
        candidate = expr.xreplace(replace)
    except (A.ShapeError, ValueError):
        return None
    if candidate == expr or not _fits(candidate, expr):
        return None
    return candidate
