"""One rule per operation: the forward rule (NumPy) beside the adjoint rule (symbolic).

An adjoint rule takes the node Z (an MExpr) and its adjoint Z̄ (gradient layout: the shape of
Z) and returns each argument's contribution, or None where it is zero:

    Z = X + Y          X̄ = Z̄,  Ȳ = Z̄
    Z = −X             X̄ = −Z̄
    Z = s·X            X̄ = s·Z̄,  s̄ = sum(Z̄ ⊙ X)        (s a scalar)
    Z = X/s            X̄ = Z̄/s,  s̄ = −sum(Z̄ ⊙ X)/s²
    Z = XY             X̄ = Z̄Yᵀ,  Ȳ = XᵀZ̄
    Z = Xᵀ             X̄ = Z̄ᵀ
    Z = X ⊙ Y          X̄ = Z̄ ⊙ Y,  Ȳ = Z̄ ⊙ X
    Z = f(X) (elementwise)   X̄ = Z̄ ⊙ f′(X)
    z = sum(X)         X̄ = z̄·𝟏
    z = ‖X‖²           X̄ = 2z̄·X
    z = ‖X‖            X̄ = z̄·X/‖X‖
    z = tr(X)          X̄ = z̄·I
    z = det(X)         X̄ = z̄·det(X)·X⁻ᵀ
    z = log det(X)     X̄ = z̄·X⁻ᵀ
    Z = X⁻¹            X̄ = −ZᵀZ̄Zᵀ = −X⁻ᵀZ̄X⁻ᵀ
    Z = diag(v)        v̄ = diag(Z̄)          (and back: M̄ = diag(z̄) for z = diag(M))
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from deriv.matrix import expr as E
from deriv.matrix.expr import MExpr


class Singular(Exception):
    """A draw where inv/det/logdet meets a (nearly) singular matrix: redraw, don't report."""


COND_LIMIT = 1e8


def _one(shape) -> MExpr:
    return E.const(1) if E.is_scalar(shape) else E.ones(shape)


def _times(bar: MExpr, factor: MExpr) -> MExpr:
    """bar ⊙ factor (a scalar product when either is a scalar)."""
    if bar.scalar or factor.scalar:
        return E.scale(bar, factor) if bar.scalar else E.scale(factor, bar)
    return E.had(bar, factor)


def _sum_times(bar: MExpr, x: MExpr) -> MExpr:
    """sum(bar ⊙ x): the adjoint of a scalar that multiplied x."""
    if bar.scalar and x.scalar:
        return E.scale(bar, x)
    return E.reduce("sum", E.had(bar, x))


# --- elementwise functions: forward and derivative side by side -------------------------------
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


FORWARD_FN = {
    "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
    "sqrt": np.sqrt, "abs": np.abs, "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": _sigmoid, "indicator": lambda x: (x > 0).astype(float),
    "sign": np.sign, "recip": lambda x: 1.0 / x,
    "leaky_relu": lambda x, a: np.where(x > 0, x, a * x),
}


def fprime(name: str, a: MExpr, extra: tuple) -> MExpr | None:
    """f′(A), elementwise; None where the derivative is zero (indicator, sign)."""
    if name == "exp":
        return E.fn("exp", a)
    if name == "log":
        return E.fn("recip", a)
    if name == "sin":
        return E.fn("cos", a)
    if name == "cos":
        return E.neg(E.fn("sin", a))
    if name == "tanh":
        t = E.fn("tanh", a)
        return E.add(_one(a.shape), E.neg(_times(t, t)))
    if name == "sqrt":
        return E.scale(E.const(Fraction(1, 2)), E.fn("recip", E.fn("sqrt", a)))
    if name == "abs":
        return E.fn("sign", a)
    if name == "relu":
        return E.fn("indicator", a)
    if name == "sigmoid":
        s = E.fn("sigmoid", a)
        return _times(s, E.add(_one(a.shape), E.neg(s)))
    if name == "recip":
        r = E.fn("recip", a)
        return E.neg(_times(r, r))
    if name == "leaky_relu":
        (alpha,) = extra
        return E.add(E.fn("indicator", a), E.scale(alpha, E.fn("indicator", E.neg(a))))
    if name in ("indicator", "sign"):
        return None
    raise ValueError(f"no derivative rule for {name}")


def adjoint(z: MExpr, bar: MExpr) -> tuple[MExpr | None, ...]:
    """The contribution of Z̄ to each argument of Z (None: zero)."""
    op, a = z.op, z.args
    if op == "add":
        return bar, bar
    if op == "neg":
        return (E.neg(bar),)
    if op == "scale":
        s, x = a
        return _sum_times(bar, x), E.scale(s, bar)
    if op == "div":
        x, s = a
        return E.div(bar, s), E.neg(E.div(_sum_times(bar, x), E.power(s, 2)))
    if op == "matmul":
        x, y = a
        return E.matmul(bar, E.T(y)), E.matmul(E.T(x), bar)
    if op == "T":
        return (E.T(bar),)
    if op == "had":
        x, y = a
        return E.had(bar, y), E.had(bar, x)
    if op == "fn":
        x, extra = a[0], a[1:]
        d = fprime(z.data, x, extra)
        out = [None if d is None else _times(bar, d)]
        if z.data == "leaky_relu":      # ∂/∂α = x·𝕀[x < 0]
            out.append(_sum_times(bar, _times(x, E.fn("indicator", E.neg(x)))))
        return tuple(out)
    if op == "pow":
        k = z.data
        x = a[0]
        factor = E.const(k) if k == 1 else E.scale(E.const(k), E.power(x, k - 1) if k != 2 else x)
        return (E.scale(bar, factor),)
    if op == "sum":
        return (E.scale(bar, _one(a[0].shape)),)
    if op == "norm2":
        return (E.scale(bar, E.scale(E.const(2), a[0])),)
    if op == "norm":
        return (E.scale(bar, E.div(a[0], z)),)
    if op == "trace":
        return (E.scale(bar, E.eye(a[0].shape[0])),)
    if op == "det":
        return (E.scale(bar, E.scale(z, E.T(E.inv(a[0])))),)
    if op == "logdet":
        return (E.scale(bar, E.T(E.inv(a[0]))),)
    if op == "inv":
        zt = E.T(z)
        return (E.neg(E.matmul(E.matmul(zt, bar), zt)),)
    if op == "diag":
        return (E.diag(bar),)
    if op == "diagv":
        return (E.diag(bar),)
    return ()


# --- forward rules (NumPy) --------------------------------------------------------------------
class Evaluator:
    """Evaluates MExprs on concrete arrays; `leaf(e)` supplies var/adj/dref values."""

    def __init__(self, leaf, sizes: dict):
        self.leaf = leaf
        self.sizes = sizes
        self.memo: dict[MExpr, np.ndarray] = {}
        self.min_kink = np.inf

    def size(self, s) -> int:
        return int(s) if isinstance(s, int) else int(self.sizes[s])

    def __call__(self, e: MExpr) -> np.ndarray:
        if e in self.memo:
            return self.memo[e]
        v = self._eval(e)
        self.memo[e] = v
        return v

    def _eval(self, e: MExpr) -> np.ndarray:
        op = e.op
        if op in ("var", "adj", "dref"):
            return self.leaf(e)
        if op == "const":
            return np.array([[float(e.data)]])
        if op == "eye":
            return np.eye(self.size(e.shape[0]))
        if op == "ones":
            return np.ones((self.size(e.shape[0]), self.size(e.shape[1])))
        v = [self(x) for x in e.args]
        if op == "add":
            return v[0] + v[1]
        if op == "neg":
            return -v[0]
        if op == "scale":
            return v[0] * v[1]
        if op == "div":
            return v[0] / v[1]
        if op == "matmul":
            return v[0] @ v[1]
        if op == "T":
            return v[0].T
        if op == "had":
            return v[0] * v[1]
        if op == "fn":
            if e.data in E.KINKS:       # an exact 0 is structural (relu's output), not a kink
                off = np.abs(v[0][v[0] != 0])
                self.min_kink = min(self.min_kink, float(np.min(off)) if off.size else np.inf)
            if e.data == "leaky_relu":
                return FORWARD_FN["leaky_relu"](v[0], v[1][0, 0])
            return FORWARD_FN[e.data](v[0])
        if op == "pow":
            return v[0] ** float(e.data)
        if op == "sum":
            return np.array([[np.sum(v[0])]])
        if op == "norm2":
            return np.array([[np.sum(v[0] ** 2)]])
        if op == "norm":
            return np.array([[np.sqrt(np.sum(v[0] ** 2))]])
        if op == "trace":
            return np.array([[np.trace(v[0])]])
        if op in ("inv", "det", "logdet"):
            m = v[0]
            if not np.all(np.isfinite(m)) or np.linalg.cond(m) > COND_LIMIT:
                raise Singular()
            if op == "inv":
                return np.linalg.inv(m)
            if op == "det":
                return np.array([[np.linalg.det(m)]])
            return np.array([[np.linalg.slogdet(m)[1]]])
        if op == "diag":
            return np.diag(v[0][:, 0])
        if op == "diagv":
            return np.diag(v[0]).reshape(-1, 1).copy()
        raise ValueError(f"cannot evaluate {op}")
