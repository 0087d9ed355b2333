"""Generated straight-line code run as steps, each shape of step compiled once.

A program of thousands of nodes repeats a few shapes of code: `v7 = F_tanh(v6)`, a tanh
node's adjoint block, a layer's weighted sum. Each step's code, with the names a program keeps
(its values, adjoints, constants) replaced by parameters p0, p1, … in order of first use, is
a shape; a shape is compiled once and shared by every program of a run. A program is then a
list of steps over one list, the store: each reads its parameters from the store and writes
its outputs back. Compiling a 5,000-node chain's programs as whole functions cost more than
running them (CPython compiles about 2 MB of source a second).

The back-ends: NumPy on batches and mpmath at one point, each a namespace of the registry's
primitives that the compiled shapes call, and the program's table of numbers in its type.
"""

from __future__ import annotations

import operator
import re
from typing import Callable

import numpy as np
import sympy as sp

from deriv import algebra as A
from deriv import primitives as P

# a quoted string (a size's name: kept as written), a name, a constant, an edge's number
_TOKEN = re.compile(r"('[^']*'|\"[^\"]*\"|\b[a-z]\d+\b|C\[\d+\]|\b\d+(?= not in D\b))")

_CODE: dict[str, object] = {}       # a shape's text → its code object, for every back-end
_STEP_FUNCTIONS: dict[str, dict] = {}   # back-end → its functions by shape


def step(lines: list[str], slot: Callable[[str], int | None], outputs: list[str],
         guard: int | None = None) -> tuple:
    """One step: `lines` run when the store's place `guard` is not None (always without one),
    writing the names `outputs`. `slot(token)` is the store's place of a name, a constant
    C[k] or an edge number, or None for a name local to the step (a temporary t0).
    Returns (guard, shape, places read, places written)."""
    parts = _TOKEN.split("\n".join(lines))       # text, token, text, token, …, text
    params: dict[str, str] = {}
    places: list[int] = []
    for k in range(1, len(parts), 2):
        token = parts[k]
        if token[0] in "'\"":
            continue
        name = params.get(token)
        if name is None:
            place = slot(token)
            if place is None:
                continue
            name = params[token] = f"p{len(places)}"
            places.append(place)
        parts[k] = name
    body = "".join(parts).split("\n")
    shape = "\n".join([f"def step(K, D, {''.join(p + ', ' for p in params.values())}):"] +
                      ["    " + line for line in body] +
                      [f"    return ({''.join(params[o] + ', ' for o in outputs)})"])
    return guard, shape, tuple(places), tuple(slot(o) for o in outputs)


def bind(steps: list[tuple], backend: str) -> list[tuple]:
    """The steps with their shapes as functions of the back-end's primitives (each shape
    compiled once a run, defined once a back-end)."""
    namespace = _namespace(backend)
    compiled = _STEP_FUNCTIONS.setdefault(backend, {})
    out = []
    for guard, shape, reads, writes in steps:
        fn = compiled.get(shape)
        if fn is None:
            code = _CODE.get(shape)
            if code is None:
                # generated from SymPy trees that the safe parser built; no text from a file
                code = _CODE[shape] = compile(shape, "<deriv step>", "exec")
            defined: dict = {}
            exec(code, namespace, defined)  # noqa: S102
            fn = compiled[shape] = defined["step"]
        out.append((guard, fn, reads, writes))
    return out


def run(bound: list[tuple], store: list, K, D=()) -> None:
    """Each step in turn, on the store (its outputs written back in place)."""
    for guard, fn, reads, writes in bound:
        if guard is not None and store[guard] is None:
            continue
        values = fn(K, D, *[store[r] for r in reads])
        for place, value in zip(writes, values):
            store[place] = value


def table(constants: dict, backend: str) -> list:
    """A program's numbers (its table C) for a back-end: floats for NumPy, exact for mpmath
    — so one generated code serves both."""
    if backend == "numpy":
        def convert(e):
            if isinstance(e, A.ArrayLiteral):
                return np.array([[float(v) for v in r] for r in e.rows])[..., None]
            if e.is_Integer and abs(int(e)) < 2**53:
                return int(e)
            if e.is_Rational and abs(e.p) < 2**53 and e.q < 2**53:
                return float(e.p) / float(e.q)     # exact operands: rounded once, as float(e)
            try:
                return float(e) if e not in (sp.zoo,) else float("nan")   # beyond: ±inf, 0
            except OverflowError:
                return float("inf") if e > 0 else float("-inf")
    else:
        import mpmath as mp

        def convert(e):
            if isinstance(e, A.ArrayLiteral):
                return np.array([[convert(v) for v in r] for r in e.rows], dtype=object)
            if e is sp.nan or e is sp.zoo:
                return mp.nan
            if e is sp.oo or e is sp.S.NegativeInfinity:
                return mp.inf if e is sp.oo else -mp.inf
            if e.is_Rational:
                return mp.mpf(int(e.p)) / mp.mpf(int(e.q))
            if e.is_Float:
                return mp.mpf(e._mpf_)        # a Float's own digits, exactly
            return mp.mpf(str(e.evalf(mp.mp.dps + 10)))    # π, E at the working precision
    known = _NUMBERS.setdefault(key(backend), {})   # a layer's weights recur in every program

    def number(e):
        memo = (e.p, e.q) if e.is_Rational else e      # (a Rational's hash is slow)
        value = known.get(memo)
        if value is None:
            value = known[memo] = convert(e)
        return value
    return [tuple(number(c) for c in e[1]) if isinstance(e, tuple) else number(e)
            for e in constants]


_NUMBERS: dict = {}           # back-end (and precision) → number → its value there


def _linear(coefficients, *values):
    """c₀ + c₁·x₁ + … in the order written (the same rounding as the sum spelled out)."""
    total = coefficients[0]
    for c, x in zip(coefficients[1:], values):
        total = total + c * x
    return total


def _scatter(bar, coefficients, *adjoints):
    """Each xᵢ's share cᵢ·x̄ of a weighted sum's adjoint x̄, accumulated."""
    return tuple(_accumulate(b, bar * c) for b, c in zip(adjoints, coefficients[1:]))


def _gate(gate, value):
    """gate·value, and 0 where the gate is 0 whatever the value (∞, NaN): a flat branch."""
    if np.ndim(gate) == 0 and np.ndim(value) == 0:
        return 0.0 if gate == 0 else gate * value
    return np.where(np.asarray(gate) == 0, 0.0, gate * value)


def _mp_gate(gate, value):
    product = gate * value
    if isinstance(product, np.ndarray):            # (an array of mpf: elementwise)
        g = np.broadcast_to(np.asarray(gate, dtype=object), product.shape)
        return np.where(g == 0, 0 * g, product)
    return 0 * gate if gate == 0 else product


def _accumulate(adjoint, share):
    """An adjoint's first share is assigned, each later one added."""
    return share if adjoint is None else adjoint + share


_NAMESPACES: dict[str, dict] = {}


def _namespace(backend: str) -> dict:
    """The back-end's primitives (built once), the globals of its compiled code."""
    if backend not in _NAMESPACES:
        _NAMESPACES[backend] = _build_namespace(backend)
    return _NAMESPACES[backend]


def _build_namespace(backend: str) -> dict:
    if backend == "numpy":
        ns = {f"F_{e.name}": e.numpy for e in P.REGISTRY.values()}
        ns.update(F_sumall=lambda x: np.sum(x, axis=(0, 1)) if np.ndim(x) == 3 else x)
    else:
        ns = {f"F_{k}": v for k, v in P.mpmath_namespace().items()}
        ns.update(F_sumall=lambda x: sum(x.flat) if isinstance(x, np.ndarray) else x)
    ns["GATE"] = _gate if backend == "numpy" else _mp_gate
    ns["POW"] = operator.pow if backend == "numpy" else P.mp_power
    ns["ACC"] = _accumulate
    ns["LIN"] = _linear
    ns["SCATTER"] = _scatter
    return ns


def key(backend: str):
    """Numbers are rounded into the table once per back-end, and for mpmath once per working
    precision (a constant read at 30 digits would cap a recheck at 400 digits to 30)."""
    if backend == "numpy":
        return backend
    import mpmath as mp
    return backend, mp.mp.prec
