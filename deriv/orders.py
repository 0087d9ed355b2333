"""Products written in another order: the candidates for a wrong-product-order diagnosis.

A claim's matrix products are read as chains of factors (A @ X @ B is [A, X, B]); a chain
written in the wrong order — BA for AB, AAᵀ for AᵀA, X⁻¹ABX⁻¹ for X⁻¹BAX⁻¹ — becomes right
when two neighbouring factors are exchanged, or the whole chain is reversed. Each candidate
is the whole claim with one chain reordered; only those whose shapes fit are kept.
"""

from __future__ import annotations

import sympy as sp

from deriv import algebra as A
from deriv import primitives as P

MAX_REORDERINGS = 32        # candidates a claim yields, at most


def _factors(e: sp.Expr) -> list[sp.Expr]:
    if isinstance(e, P.REGISTRY["matmul"].cls):
        return _factors(e.args[0]) + _factors(e.args[1])
    return [e]


def _chains(expr: sp.Expr) -> list[sp.Expr]:
    """The maximal products of expr, outermost first (a product's own factors are searched
    too: the inverse's argument in X⁻¹BAX⁻¹ is a product of its own)."""
    out: list[sp.Expr] = []

    def walk(e, inside: bool):
        is_product = isinstance(e, P.REGISTRY["matmul"].cls)
        if is_product and not inside:
            out.append(e)
        for a in e.args:
            walk(a, is_product and isinstance(a, P.REGISTRY["matmul"].cls))
    walk(expr, False)
    return list(dict.fromkeys(out))


def _product(factors: list[sp.Expr]) -> sp.Expr:
    out = factors[0]
    for f in factors[1:]:
        out = A.matmul(out, f)
    return out


def _orders(factors: list[sp.Expr]) -> list[tuple[str, list[sp.Expr]]]:
    """(how, the factors reordered): each neighbouring pair exchanged (an outer product
    abᵀ exchanged as baᵀ), and the whole chain reversed."""
    out = []
    for i in range(len(factors) - 1):
        a, b = factors[i], factors[i + 1]
        if a != b:
            out.append((f"swap{i}", factors[:i] + [b, a] + factors[i + 2:]))
        shape_a, shape_b = A.shape_of(a), A.shape_of(b)
        if shape_a and shape_b and shape_a[1] == 1 and shape_b[0] == 1:   # a column, a row
            out.append((f"outer{i}", factors[:i] + [A.T(b), A.T(a)] + factors[i + 2:]))
    if len(factors) > 2:
        out.append(("reverse", factors[::-1]))
    return out


def _fitting(factors: list[sp.Expr], chain: sp.Expr) -> sp.Expr | None:
    """The product of `factors`, where it has the shape of the chain it replaces."""
    try:
        product = _product(factors)
        return product if A.shape_of(product) == A.shape_of(chain) else None
    except A.ShapeError:
        return None


def _reordered(expr: sp.Expr, replace: dict) -> sp.Expr | None:
    try:
        candidate = expr.xreplace(replace)
        A.shape_of(candidate)
    except A.ShapeError:
        return None
    return candidate if candidate != expr else None


def reorderings(expr: sp.Expr) -> list[tuple[sp.Expr, sp.Expr, sp.Expr]]:
    """(the claim with its products reordered, a product as written, as reordered): one
    product at a time, then the same reordering of every product at once (both terms of
    AᵀXᵀBᵀ + BᵀXᵀAᵀ written XᵀAᵀBᵀ + XᵀBᵀAᵀ)."""
    out = []
    by_how: dict[str, dict] = {}
    for chain in _chains(expr):
        for how, order in _orders(_factors(chain)):
            product = _fitting(order, chain)
            if product is None:
                continue
            by_how.setdefault(how, {})[chain] = product
            candidate = _reordered(expr, {chain: product})
            if candidate is not None:
                out.append((candidate, chain, product))
    for how, replace in by_how.items():
        if len(replace) > 1:
            candidate = _reordered(expr, replace)
            if candidate is not None:
                chains = sp.Add(*replace)
                out.append((candidate, chains, sp.Add(*replace.values())))
    return out[:MAX_REORDERINGS]


def transpositions(expr: sp.Expr) -> list[tuple[sp.Expr, sp.Expr, sp.Expr]]:
    """(the claim with one factor of a product transposed, the factor as written, transposed):
    backprop's commonest slip, AG for AᵀG; only where the product's shape is unchanged."""
    out = []
    for chain in _chains(expr):
        factors = _factors(chain)
        for i, factor in enumerate(factors):
            if not A.shape_of(factor):
                continue
            flipped = A.T(factor)
            product = _fitting(factors[:i] + [flipped] + factors[i + 1:], chain)
            if product is None:
                continue
            candidate = _reordered(expr, {chain: product})
            if candidate is not None:
                out.append((candidate, factor, flipped))
    return out[:MAX_REORDERINGS]
