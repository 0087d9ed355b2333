"""Registry entries for reductions and normalisations over an axis: sum, max, min, logsumexp
and softmax over all entries or one axis, keeping it with size 1 as NumPy's keepdims does (over
axis 0 an m×n matrix gives the 1×n row, over axis 1 the m×1 column, which broadcast back
against the matrix: X − max(X, axis=1)). One entry per axis, each with its NumPy and mpmath
forwards and its VJP and JVP, registered in deriv.primitives' one registry (deriv.algebra
imports this module, so every user of the registry sees them).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy import S

from deriv.primitives import REGISTRY, Primitive, _mp, call, register


_AXES = {None: (0, 1), 0: 0, 1: 1}
_SHAPE = {None: "reduce", 0: "reduce0", 1: "reduce1"}


def _keep(out):
    """A (1, 1, S) result is the scalar (S,); a 1×1 mpmath array the number."""
    if isinstance(out, np.ndarray) and out.ndim >= 2 and out.shape[:2] == (1, 1):
        return out[0, 0]
    return out


def _np_reduce(fn, axis):
    def run(x):
        return _keep(fn(x, axis=_AXES[axis], keepdims=True)) if np.ndim(x) == 3 else x
    return run


def _np_lse(axis):
    def run(x):
        if np.ndim(x) < 3:
            return x
        with np.errstate(all="ignore"):
            m = np.max(x, axis=_AXES[axis], keepdims=True)
            m = np.where(np.isfinite(m), m, 0.0)     # never inf − inf
            out = m + np.log(np.sum(np.exp(x - m), axis=_AXES[axis], keepdims=True))
        return _keep(out)
    return run


def _np_softmax(axis):
    def run(x):
        if np.ndim(x) < 3:
            return np.ones_like(np.asarray(x, dtype=float))
        with np.errstate(all="ignore"):
            e = np.exp(x - np.max(x, axis=_AXES[axis], keepdims=True))   # every exponent ≤ 0
            return e / np.sum(e, axis=_AXES[axis], keepdims=True)
    return run


def _mp_along(fn, axis, spread: bool = False):
    """fn(list of mpf) → mpf (or, with spread, → list) along the axis of an object array."""
    def run(x):
        if not isinstance(x, np.ndarray):
            out = fn([x])
            return out[0] if spread else out
        if axis is None:
            return fn(list(x.flat))
        lines = x.T if axis == 0 else x            # each line: one column, or one row
        results = [fn(list(line)) for line in lines]
        if spread:
            out = np.array(results, dtype=object)
            return _keep(out.T if axis == 0 else out)
        out = np.array(results, dtype=object).reshape((1, -1) if axis == 0 else (-1, 1))
        return _keep(out)
    return run


def _mp_lse(values):
    mp = _mp()
    m = max(values)
    return m + mp.log(sum(mp.exp(v - m) for v in values))


def _mp_softmax(values):
    mp = _mp()
    m = max(values)
    e = [mp.exp(v - m) for v in values]
    s = sum(e)
    return [v / s for v in e]


def _axis_text(axis) -> str:
    return "" if axis is None else f", axis={axis}"


def _axis_latex(axis) -> str:
    return "" if axis is None else "_{{" + str(axis) + "}}"    # (a template: braces doubled)


register(Primitive(
    "ismax", (), 2, lambda x, m: np.where(np.asarray(x) == m, 1.0, 0.0),
    lambda x, m: _mp().mpf(1 if x == m else 0), partials=(lambda x, m: S.Zero,) * 2,
    unicode="𝕀[{0} = {1}]", latex=r"\mathbb{{I}}\left[{0} = {1}\right]"))


for _axis in (0, 1):
    register(Primitive(
        f"total{_axis}", (), 1, _np_reduce(np.sum, _axis),
        _mp_along(lambda v: sum(v[1:], v[0]), _axis), shape=_SHAPE[_axis],
        vjp=lambda A, args, out, bar, i: bar * A.ones_like(args[0]),
        jvp=lambda A, args, out, dots, _a=_axis: A.total(dots[0], _a),
        unicode="sum({0}" + _axis_text(_axis) + ")",
        latex=r"\textstyle\sum" + _axis_latex(_axis) + r"\left({0}\right)"))
    register(Primitive(
        f"softmax{_axis}", (), 1, _np_softmax(_axis), _mp_along(_mp_softmax, _axis, spread=True),
        shape="same",
        vjp=lambda A, args, out, bar, i, _a=_axis: out * (bar - A.total(bar * out, _a)),
        jvp=lambda A, args, out, dots, _a=_axis: out * (dots[0] - A.total(out * dots[0], _a)),
        unicode="softmax({0}" + _axis_text(_axis) + ")",
        latex=r"\operatorname{{softmax}}" + _axis_latex(_axis) + r"\left({0}\right)"))

for _axis in (None, 0, 1):
    _tail = "" if _axis is None else str(_axis)
    register(Primitive(
        f"logsumexp{_tail}", (), 1, _np_lse(_axis), _mp_along(_mp_lse, _axis),
        shape=_SHAPE[_axis],
        vjp=lambda A, args, out, bar, i: bar * sp.exp(args[0] - out),   # softmax: exponents ≤ 0
        jvp=lambda A, args, out, dots, _a=_axis: A.total(sp.exp(args[0] - out) * dots[0], _a),
        unicode="logsumexp({0}" + _axis_text(_axis) + ")",
        latex=r"\operatorname{{logsumexp}}" + _axis_latex(_axis) + r"\left({0}\right)"))
    for _kind, _np_fn, _pick in (("max", np.max, max), ("min", np.min, min)):
        # ties share the derivative evenly, as max(a, b) does
        register(Primitive(
            f"{_kind}all{_tail}", (), 1, _np_reduce(_np_fn, _axis),
            _mp_along(_pick, _axis), shape=_SHAPE[_axis],
            vjp=lambda A, args, out, bar, i, _a=_axis: (
                bar * call("ismax", args[0], out) / A.total(call("ismax", args[0], out), _a)),
            jvp=lambda A, args, out, dots, _a=_axis: (
                A.total(call("ismax", args[0], out) * dots[0], _a)
                / A.total(call("ismax", args[0], out), _a)),
            unicode=f"{_kind}({{0}}" + _axis_text(_axis) + ")",
            latex=rf"\{_kind}" + _axis_latex(_axis) + r"\left({0}\right)"))


def axis_entry(kind: str, axis) -> Primitive:
    """The registry's entry for a reduction or softmax over `axis` (None: every entry)."""
    if kind == "sum":
        return REGISTRY["total" if axis is None else f"total{axis}"]
    if kind in ("max", "min"):
        return REGISTRY[f"{kind}all{'' if axis is None else axis}"]
    return REGISTRY[f"{kind}{'' if axis is None else axis}"]
