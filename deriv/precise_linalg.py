"""The mpmath back-end's matrix kernels: determinant, log-determinant and inverse at the
working precision, from one LU factorisation with partial pivoting.

The arithmetic is Python's decimal at a few more digits than mpmath's precision: its numbers
are C, where mpmath's matrices are Python objects (a 64×64 inverse at 44 digits took 3.3 s
there, 0.2 s here). As mpmath's own LU, a pivot below ‖A‖₁·2⁻ᵖʳᵉᶜ is singular. The forward
pass's det and the sweep's inverse of the same matrix at a point share their factorisation.
"""

from __future__ import annotations

import decimal

import numpy as np

_LAST: list = [None, None, None]        # the matrix last factorised, its precision, its LU
_INVERSE: list = [None, None, None]     # the matrix last inverted, its precision, its inverse


def _mp():
    import mpmath
    return mpmath


def _context() -> decimal.Context:
    digits = int((_mp().mp.prec + 10) * 0.30103) + 5       # bits → decimal digits, and more
    return decimal.Context(prec=digits, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                           traps=[decimal.InvalidOperation])


def _to_decimal(x, context: decimal.Context) -> decimal.Decimal:
    sign, man, exp, _ = x._mpf_                    # (−1)^sign · man · 2^exp, exactly
    whole = decimal.Decimal(-man if sign else man)
    return context.multiply(whole, context.power(2, exp)) if exp else whole


def factor(x: np.ndarray):
    """(LU packed in one array, row order, sign of the permutation) of an n×n object array of
    mpf, in decimal; None if an entry is not finite. ZeroDivisionError: singular."""
    mp = _mp()
    if _LAST[0] is x and _LAST[1] == mp.mp.prec:
        return _LAST[2]
    result = None
    if all(mp.isfinite(v) for v in x.flat):
        context = _context()
        a = np.array([[_to_decimal(mp.mpf(v), context) for v in row] for row in x], dtype=object)
        with decimal.localcontext(context):
            result = _lu(a, context)
    _LAST[:] = [x, mp.mp.prec, result]
    return result


def _lu(a: np.ndarray, context: decimal.Context):
    n = len(a)
    order, sign = np.arange(n), 1
    tolerance = max(sum(abs(v) for v in a[:, j]) for j in range(n)) * \
        context.power(2, -_mp().mp.prec)
    for k in range(n):
        p = k + int(np.argmax(np.abs(a[k:, k])))
        if abs(a[p, k]) <= tolerance:
            raise ZeroDivisionError("matrix is numerically singular")
        if p != k:
            a[[k, p]] = a[[p, k]]
            order[[k, p]] = order[[p, k]]
            sign = -sign
        a[k + 1:, k] = a[k + 1:, k] / a[k, k]
        a[k + 1:, k + 1:] = a[k + 1:, k + 1:] - np.outer(a[k + 1:, k], a[k, k + 1:])
    return a, order, sign


def det(x: np.ndarray):
    mp = _mp()
    try:
        found = factor(x)
    except ZeroDivisionError:
        return mp.mpf(0)
    if found is None:
        return mp.nan
    lu, _, sign = found
    with decimal.localcontext(_context()):
        value = sign * np.prod(np.diag(lu))
    return mp.mpf(str(value))


def inverse(x: np.ndarray) -> np.ndarray:
    """A⁻¹ = U⁻¹L⁻¹P, each column by substitution (ZeroDivisionError: singular)."""
    mp = _mp()
    if _INVERSE[0] is x and _INVERSE[1] == mp.mp.prec:     # the claim's inv(X) and the truth's
        return _INVERSE[2].copy()
    found = factor(x)
    if found is None:
        return np.full(x.shape, mp.nan, dtype=object)
    lu, order, _ = found
    n = len(lu)
    with decimal.localcontext(_context()):
        y = np.full((n, n), decimal.Decimal(0), dtype=object)
        y[np.arange(n), order] = decimal.Decimal(1)             # the row permutation P
        for i in range(1, n):
            y[i] = y[i] - lu[i, :i] @ y[:i]
        for i in reversed(range(n)):
            if i < n - 1:
                y[i] = y[i] - lu[i, i + 1:] @ y[i + 1:]
            y[i] = y[i] / lu[i, i]
    out = np.array([[mp.mpf(str(v)) for v in row] for row in y], dtype=object)
    _INVERSE[:] = [x, mp.mp.prec, out]
    return out
