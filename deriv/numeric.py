"""Numbers from expressions: SymPy → NumPy (vectorised over samples) or mpmath (high precision)."""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from deriv.functions import MPMATH_IMPLEMENTATIONS, NUMPY_IMPLEMENTATIONS

_NUMPY = None
_MPMATH = None


def _modules(kind: str):
    global _NUMPY, _MPMATH
    if kind == "numpy":
        if _NUMPY is None:
            _NUMPY = [NUMPY_IMPLEMENTATIONS(), "numpy"]
        return _NUMPY
    if _MPMATH is None:
        _MPMATH = [MPMATH_IMPLEMENTATIONS(), "mpmath"]
    return _MPMATH


_COMPILED: dict[tuple, Callable] = {}
_MAX_COMPILED = 4096


def compile_expr(expr: sp.Expr, symbols: Sequence[sp.Symbol], kind: str = "numpy"
                 ) -> Callable[..., np.ndarray]:
    """A function of arrays (one per symbol, in order) that evaluates `expr` elementwise.

    Compiled once per (expression, symbols, backend): lambdify costs milliseconds.
    """
    key = (expr, tuple(symbols), kind)
    if key not in _COMPILED:
        if len(_COMPILED) > _MAX_COMPILED:
            _COMPILED.clear()
        _COMPILED[key] = _compile(expr, symbols, kind)
    return _COMPILED[key]


def _printable(expr: sp.Expr, kind: str) -> sp.Expr:
    """No backend prints ∞̃ (zoo): it is undefined, NaN. NumPy computes in floats: an exact
    number beyond 2⁵³ (10**600, 1/3**400) becomes a float (inf or 0 if it must), not a Python
    int that overflows NumPy or makes an object array."""
    reps = {sp.zoo: sp.nan} if expr.has(sp.zoo) else {}
    if kind == "numpy":
        reps.update({a: sp.Float(a, 17) for a in expr.atoms(sp.Rational)
                     if abs(a.p) > 2**53 or a.q > 2**53})
    return expr.xreplace(reps) if reps else expr


def _compile(expr, symbols, kind):
    # dummify=False: lambdify still renames any symbol that is not a safe identifier, and
    # skipping the blanket renaming avoids rebuilding (and re-evaluating) the whole expression
    expr = _printable(expr, kind)
    fn = sp.lambdify(list(symbols), expr, modules=_modules(kind), dummify=False)
    if kind != "numpy":
        return fn

    def vectorised(*arrays):
        with np.errstate(all="ignore"):
            out = fn(*arrays)
            if np.iscomplexobj(out):   # never keep the real part of a complex value: undefined
                out = np.where(np.imag(out) == 0, np.real(out), np.nan)
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays)) if arrays else ()
        return np.broadcast_to(np.asarray(out, dtype=float), shape).copy() \
            if np.ndim(out) == 0 or np.shape(out) != shape else np.asarray(out, dtype=float)
    return vectorised


def evaluate(expr: sp.Expr, env: Mapping[sp.Symbol, np.ndarray], n: int | None = None
             ) -> np.ndarray:
    """`expr` at every sample of `env` (symbol → array). Missing symbols are an error."""
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    missing = [s for s in free if s not in env]
    if missing:
        raise KeyError(", ".join(s.name for s in missing))
    fn = compile_expr(expr, free)
    out = fn(*(env[s] for s in free))
    if n is not None and np.shape(out) != (n,):
        out = np.broadcast_to(out, (n,)).copy()
    return out


def evaluate_mp(expr: sp.Expr, env: Mapping[sp.Symbol, object], dps: int = 50):
    """`expr` at one point with mpmath at `dps` digits (round-off can't fake a disagreement)."""
    import mpmath as mp
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    with mp.workdps(dps):
        fn = compile_expr(expr, free, "mpmath")
        try:
            return mp.mpf(fn(*(mp.mpf(env[s]) if not isinstance(env[s], mp.mpf) else env[s]
                               for s in free)))
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return mp.nan
