"""Evaluating the programs a sweep builds, node by node, on batches of sampled points.

The truth `check` compares against is the adjoint program — each node's VJP evaluated on the
arrays of its parents and its own adjoint — never one inlined expression, whose size grows with
the number of paths. Every intermediate is shared, so a sweep costs a small constant times the
forward pass (the cheap-gradient bound). Each expression is compiled once (lambdify) and the
operations evaluated are counted, so benchmarks report what the commands really do.

Two back-ends: NumPy on batches (a scalar is (S,), an array (rows, cols, S)) and mpmath at one
point (a scalar is an mpf, an array a 2-D object array of mpf) for the high-precision recheck.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import sympy as sp

from deriv import algebra as A
from deriv import primitives as P
from deriv.sampling import concrete

_COMPILED: dict[tuple, Callable] = {}
_MAX_COMPILED = 20_000
_OPS: dict[sp.Expr, int] = {}


def _modules(backend: str):
    if backend == "numpy":
        return [P.numpy_namespace(), "numpy"]
    return [P.mpmath_namespace(), "mpmath"]


def _printable(expr: sp.Expr, backend: str) -> sp.Expr:
    """No backend prints ∞̃ (zoo): it is undefined, NaN. NumPy computes in floats: an exact
    number beyond 2⁵³ becomes a float, not a Python int that overflows NumPy."""
    reps = {sp.zoo: sp.nan} if expr.has(sp.zoo) else {}
    if backend == "numpy":
        reps.update({a: sp.Float(a, 17) for a in expr.atoms(sp.Rational)
                     if abs(a.p) > 2**53 or a.q > 2**53})
    return expr.xreplace(reps) if reps else expr


def compiled(expr: sp.Expr, symbols: tuple, backend: str = "numpy") -> Callable:
    key = (expr, symbols, backend)
    fn = _COMPILED.get(key)
    if fn is None:
        if len(_COMPILED) > _MAX_COMPILED:
            _COMPILED.clear()
        # dummify=False: lambdify still renames symbols that are not identifiers (D(y,x)),
        # and skips rebuilding the whole expression
        fn = sp.lambdify(list(symbols), _printable(expr, backend), modules=_modules(backend),
                         dummify=False)
        _COMPILED[key] = fn
    return fn


def operations(expr: sp.Expr) -> int:
    """Operations one evaluation of `expr` costs (SymPy's count, at least 1 for a leaf)."""
    n = _OPS.get(expr)
    if n is None:
        n = _OPS[expr] = max(1, int(sp.count_ops(expr)))
    return n


class Values:
    """The forward pass of one problem at a batch of points (one size assignment), and every
    derivative asked of it, computed by evaluating adjoint programs."""

    def __init__(self, problem, inputs: dict[str, object], sizes: dict | None = None,
                 backend: str = "numpy", n: int | None = None):
        self.problem = problem
        self.graph = problem.graph
        self.sizes = dict(sizes or {})
        self.backend = backend
        self.n = n if n is not None else _count(inputs)
        self.ops = 0
        self.env: dict[sp.Symbol, object] = {self.graph.symbols[k]: v for k, v in inputs.items()}
        self._sweeps: dict[tuple, dict[str, object]] = {}
        for name in self.graph.order:
            node = self.graph.nodes[name]
            self.env[node.symbol] = self.value(node.expr)

    # --- one expression ---------------------------------------------------------------------
    def shape(self, expr: sp.Expr) -> tuple:
        return concrete(A.shape_of(expr), self.sizes)

    def value(self, expr: sp.Expr, extra: dict | None = None):
        """`expr` at every point, with the shape of its value (samples last)."""
        env = self.env if not extra else {**self.env, **extra}
        free = tuple(sorted(expr.free_symbols, key=lambda s: s.name))
        for s in free:
            if s not in env and isinstance(s, A.SizeConstant):
                env[s] = self._constant(s)
        fn = compiled(expr, free, self.backend)
        self.ops += operations(expr)
        if self.backend != "numpy":
            return _mp_value(fn, [env[s] for s in free], self.shape(expr))
        with np.errstate(all="ignore"):
            out = fn(*(env[s] for s in free))
            if np.iscomplexobj(out):   # never keep the real part of a complex value
                out = np.where(np.imag(out) == 0, np.real(out), np.nan)
        out = np.asarray(out, dtype=float)
        shape = self.shape(expr) + (self.n,)
        return out if out.shape == shape else np.broadcast_to(out, shape).copy()

    def _constant(self, c: A.SizeConstant):
        dims = concrete(c.dims, self.sizes)
        if self.backend == "numpy":
            base = np.eye(dims[0]) if c.constant == "eye" else np.ones(dims)
            return base[..., None]
        import mpmath as mp
        out = np.full(dims, mp.mpf(0), dtype=object)
        for i in range(dims[0]):
            for j in range(dims[1]):
                out[i, j] = mp.mpf(1 if (c.constant == "ones" or i == j) else 0)
        return out

    # --- the adjoint program ------------------------------------------------------------------
    def zeros(self, shape: tuple):
        shape = concrete(shape, self.sizes)
        if self.backend == "numpy":
            return np.zeros(shape + (self.n,))
        import mpmath as mp
        return np.full(shape, mp.mpf(0), dtype=object) if shape else mp.mpf(0)

    def adjoints(self, of: str, seed=None, only: str | None = None) -> dict[str, object]:
        """Every adjoint ∂(seed·of)/∂name by one reverse sweep from `of` (seed: 1 for a scalar).
        `only`: the edge partial to that parent alone (the sweep stops after `of`)."""
        key = (of, None if seed is None else id(seed), only)
        if key in self._sweeps:
            return self._sweeps[key]
        graph = self.graph
        if seed is None:
            seed = self.zeros(()) + 1
        bars: dict[str, object] = {of: seed}
        relevant = graph.ancestors[of] | {of}
        for child in reversed(graph.order):
            if child not in bars or child not in graph.nodes:
                continue
            bar_symbol = A.symbol(child + "_bar", graph.shape(child))
            for parent in graph.parents(child):
                if parent not in relevant or (only is not None and parent != only):
                    continue
                share = graph.adjoint_share(child, parent, bar_symbol)
                if share == 0:
                    continue
                v = self.value(share, {bar_symbol: bars[child]})
                bars[parent] = bars[parent] + v if parent in bars else v
            if only is not None:
                break
        self._sweeps[key] = bars
        return bars

    def derivative(self, of: str, wrt: str, layout: str = "gradient", local: bool = False):
        """D(of, wrt) at every point, in the claim's layout: of a scalar, wrt's shape; of
        vectors, len(wrt) × len(of) (one sweep per component of `of`)."""
        graph = self.graph
        only = wrt if local else None
        if of in graph.inputs:
            return self._identity_or_zero(of, wrt, layout)
        so, sw = graph.shape(of), graph.shape(wrt)
        if not so:
            if of == wrt:
                return self.zeros(()) + 1
            out = self.adjoints(of, None, only).get(wrt)
            out = out if out is not None else self.zeros(sw)
            return out if layout == "gradient" else _transpose(out, self.backend)
        # a vector `of`: one column per component, seeded with eᵢ
        dims = concrete(so, self.sizes)
        columns = []
        for i in range(int(np.prod(dims))):
            seed = self._unit(dims, i)
            if of == wrt:
                columns.append(_flat(seed, self.backend))
                continue
            bars = self.adjoints(of, seed, only)
            self._sweeps.pop((of, id(seed), only), None)     # seeds are not reused
            v = bars.get(wrt)
            columns.append(_flat(v if v is not None else self.zeros(sw), self.backend))
        g = _stack(columns, self.backend)
        return g if layout == "gradient" else _transpose(g, self.backend)

    def _identity_or_zero(self, of: str, wrt: str, layout: str):
        from deriv.problem import derivative_shape
        shape = concrete(derivative_shape(self.graph, of, wrt, layout), self.sizes)
        z = self.zeros(shape)
        if of == wrt:
            if not shape:
                return z + 1
            for i in range(min(shape[:2])):
                z[i, i] = z[i, i] + 1
        return z

    def _unit(self, dims: tuple, i: int):
        if self.backend == "numpy":
            seed = np.zeros(dims + (self.n,))
            seed.reshape(-1, self.n)[i] = 1.0
            return seed
        import mpmath as mp
        seed = np.full(dims, mp.mpf(0), dtype=object)
        seed.reshape(-1)[i] = mp.mpf(1)
        return seed


def _count(inputs: dict) -> int:
    for v in inputs.values():
        return int(np.shape(v)[-1]) if np.ndim(v) else 1
    return 1


def _flat(v, backend):
    if backend == "numpy":
        return v.reshape(-1, v.shape[-1]) if v.ndim > 1 else v[None, :]
    return np.asarray(v, dtype=object).reshape(-1) if isinstance(v, np.ndarray) else \
        np.array([v], dtype=object)


def _stack(columns, backend):
    if backend == "numpy":
        g = np.stack(columns, axis=1)          # (len wrt, len of, S)
        return g[0, 0] if g.shape[:2] == (1, 1) else g
    g = np.stack(columns, axis=1)
    return g[0, 0] if g.shape == (1, 1) else g


def _transpose(g, backend):
    if backend == "numpy":
        return np.swapaxes(g, 0, 1) if g.ndim == 3 else g
    return g.T if isinstance(g, np.ndarray) else g


def _mp_value(fn, args, shape):
    import mpmath as mp
    try:
        out = fn(*args)
    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
        return mp.nan
    if isinstance(out, np.ndarray):
        return out
    if shape and not isinstance(out, np.ndarray):       # a scalar broadcast to an array
        return np.full(shape, out, dtype=object)
    if isinstance(out, mp.mpc):
        return mp.nan if out.imag != 0 else out.real
    return mp.mpf(out)


RTOL = 1e-6
ATOL = 1e-9


def close(a, b, rtol: float = RTOL, atol: float = ATOL):
    with np.errstate(all="ignore"):
        return np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b))


def per_point(mask: np.ndarray) -> np.ndarray:
    """An elementwise mask (…, S) → one flag per point (S,): every element must hold."""
    return mask.reshape(-1, mask.shape[-1]).all(axis=0) if mask.ndim > 1 else mask


def forward_operations(problem) -> int:
    """Operations of one forward pass (per point)."""
    return sum(operations(problem.graph.nodes[n].expr) for n in problem.graph.order)
