"""The primitives deriv adds to SymPy, each with its derivative rule in one place (`fdiff`).

Kinks (where a primitive is not differentiable) are declared with the primitive too, so the
checker can keep samples away from them and report which side of each it has seen.
exp, log, sin, cos, tan, tanh, sqrt and abs are SymPy's own.
"""

from __future__ import annotations

import sympy as sp
from sympy import Function, S


class indicator(Function):
    """I[z > 0]: 1 where z > 0, else 0. Its derivative is 0 wherever it exists."""

    kinks = (0,)

    @classmethod
    def eval(cls, z):
        # numbers only: asking the assumption system about a symbolic argument is slow
        if z is S.NaN:   # undefined stays undefined (NaN > 0 is an error)
            return S.NaN
        if z.is_Number:
            return S.One if z > 0 else S.Zero

    def fdiff(self, argindex=1):
        return S.Zero  # almost everywhere: the jump at 0 is a kink the sampler avoids


class relu(Function):
    """a[z] = max(0, z); a'(z) = I[z > 0]."""

    kinks = (0,)

    @classmethod
    def eval(cls, z):
        if z is S.NaN:   # undefined stays undefined (NaN > 0 is an error)
            return S.NaN
        if z.is_Number:
            return z if z > 0 else S.Zero

    def fdiff(self, argindex=1):
        return indicator(self.args[0])


class sigmoid(Function):
    """σ(z) = 1 / (1 + exp(−z)); σ'(z) = σ(z)(1 − σ(z))."""

    kinks = ()

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, z, **kwargs):
        return 1 / (1 + sp.exp(-z))


class leaky_relu(Function):
    """leaky_relu(z, α) = z for z > 0, αz otherwise; ∂/∂z = I[z>0] + α I[−z>0], ∂/∂α = z I[−z>0]."""

    nargs = 2
    kinks = (0,)  # of the first argument only

    @classmethod
    def eval(cls, z, alpha):
        if S.NaN in (z, alpha):
            return S.NaN
        if z.is_Number and alpha.is_Number:
            return z if z > 0 else alpha * z

    def fdiff(self, argindex=1):
        z, alpha = self.args
        if argindex == 1:
            return indicator(z) + alpha * indicator(-z)
        return z * indicator(-z)


class maximum(Function):
    """max(a, b); ∂/∂a = I[a − b > 0], ∂/∂b = I[b − a > 0]."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if a.is_number and b.is_number and a.is_comparable and b.is_comparable:
            return sp.Max(a, b)

    def fdiff(self, argindex=1):
        a, b = self.args
        return indicator(a - b) if argindex == 1 else indicator(b - a)

    def kink_args(self):
        return (self.args[0] - self.args[1],)


class minimum(Function):
    """min(a, b); ∂/∂a = I[b − a > 0], ∂/∂b = I[a − b > 0]."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if a.is_number and b.is_number and a.is_comparable and b.is_comparable:
            return sp.Min(a, b)

    def fdiff(self, argindex=1):
        a, b = self.args
        return indicator(b - a) if argindex == 1 else indicator(a - b)

    def kink_args(self):
        return (self.args[0] - self.args[1],)


class rect(Function):
    """rect(z) = 1 for 0 ≤ z ≤ 1, else 0 (problem 7.8). Derivative 0 wherever it exists."""

    @classmethod
    def eval(cls, z):
        if z is S.NaN:   # undefined stays undefined (NaN > 0 is an error)
            return S.NaN
        if z.is_Number:
            return S.One if 0 <= z <= 1 else S.Zero

    def _eval_evalf(self, prec):
        # not SymPy's default, which would call mpmath.rect (polar to rectangular, two args)
        z = self.args[0].evalf(prec)
        if z is S.NaN:   # undefined stays undefined (NaN > 0 is an error)
            return S.NaN
        if z.is_Number:
            return S.One if 0 <= z <= 1 else S.Zero
        return None

    def fdiff(self, argindex=1):
        return S.Zero

    def kink_args(self):
        return (self.args[0], self.args[0] - 1)


def kink_arguments(expr: sp.Expr) -> list[sp.Expr]:
    """Every expression whose sign switches a branch somewhere in `expr` (relu, I, abs, max...)."""
    found: list[sp.Expr] = []
    for sub in sp.preorder_traversal(expr):
        if isinstance(sub, (indicator, relu, leaky_relu, sp.Abs, sp.sign, sp.Heaviside)):
            found.append(sub.args[0])
        elif isinstance(sub, (maximum, minimum, rect)):
            found.extend(sub.kink_args())
    # z and −z are the same kink: keep one sign so that lookups match
    return [-k if k.could_extract_minus_sign() else k for k in found]


# NumPy implementations, for lambdify. Kept beside the SymPy classes so a new primitive is
# added in this one module.
def _np():
    import numpy as np

    def _sigmoid(z):
        z = np.asarray(z, dtype=float)
        ez = np.exp(-np.abs(z))  # stable on both tails
        return np.where(z >= 0, 1 / (1 + ez), ez / (1 + ez))

    return {
        "indicator": lambda z: np.where(np.asarray(z) > 0, 1.0, 0.0),
        "relu": lambda z: np.maximum(z, 0.0),
        "sigmoid": _sigmoid,
        "leaky_relu": lambda z, a: np.where(np.asarray(z) > 0, z, a * np.asarray(z)),
        "maximum": np.maximum,
        "minimum": np.minimum,
        "rect": lambda z: np.where((np.asarray(z) >= 0) & (np.asarray(z) <= 1), 1.0, 0.0),
    }


def _mp():
    import mpmath as mp

    return {
        "indicator": lambda z: mp.mpf(1) if z > 0 else mp.mpf(0),
        "relu": lambda z: z if z > 0 else mp.mpf(0),
        "sigmoid": lambda z: 1 / (1 + mp.exp(-z)),
        "leaky_relu": lambda z, a: z if z > 0 else a * z,
        "maximum": lambda a, b: a if a >= b else b,
        "minimum": lambda a, b: a if a <= b else b,
        "rect": lambda z: mp.mpf(1) if 0 <= z <= 1 else mp.mpf(0),
    }


NUMPY_IMPLEMENTATIONS = _np
MPMATH_IMPLEMENTATIONS = _mp
