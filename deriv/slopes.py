"""Registry entries that programs call and files cannot: tanh′ and σ′ from the stored value
where that keeps its digits, and from e^(−|z|) where it would not — 1 − tanh² and σ(1 − σ) are
0 in float64 from z ≈ 19 and 37, where tanh′(100) = 5.5e-87 and σ′(150) = 7e-66 are still
floats. The tanh and sigmoid entries name them as their `code_partials`; what is shown stays
1 − h² and σ(1 − σ).
"""

from __future__ import annotations

import numpy as np

from deriv.primitives import Primitive, _mp_exp, register


NEAR_ONE = 0.5      # above this |value|, 1 − value has begun to cancel


def _slope(scale: float, backend: str):
    """slope(z, value): 1 − value² (tanh) or value·(1 − value) (σ) where |value| ≤ NEAR_ONE;
    above it, where 1 − value cancels, 4e/(1 + e)² or e/(1 + e)² with e = e^(−scale·|z|)."""
    k = 4 if scale == 2 else 1

    def quick(v):
        return 1 - v * v if scale == 2 else v * (1 - v)

    def stable(z):
        e = np.exp(-scale * np.abs(z)) if backend == "numpy" else _mp_exp(-scale * abs(z))
        return k * e / (1 + e) ** 2
    if backend != "numpy":
        return lambda z, v: quick(v) if abs(v) <= NEAR_ONE else stable(z)

    def slope(z, v):
        z, v = np.broadcast_arrays(np.asarray(z, dtype=float), np.asarray(v, dtype=float))
        out = quick(v)
        lost = np.abs(v) > NEAR_ONE
        if lost.any():
            out = np.array(out, dtype=float)
            out[lost] = stable(z[lost])
        return out
    return slope


register(Primitive("tanh_slope", (), 2, _slope(2, "numpy"), _slope(2, "mpmath"),
                   unicode="sech²({0})", latex=r"\operatorname{{sech}}^2\left({0}\right)"))
register(Primitive("sigmoid_slope", (), 2, _slope(1, "numpy"), _slope(1, "mpmath"),
                   unicode="σ′({0})", latex=r"\sigma'\left({0}\right)"))
