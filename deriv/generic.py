"""A generic smooth function f, for rules a document writes for any f (∂f(x)/∂x = diag(f′(x))).

Checking such a rule with ReLU or the sigmoid checks it only for that function: relu′ = 𝕀[relu > 0]
and σ′ = σ(1 − σ) are relations between f and f′ that a wrong rule can lean on (f′(y) for
f′(x) passes for ReLU). f here is a fixed sum of four sinusoids with seeded, incommensurate
frequencies and phases: smooth, defined everywhere, and with no algebraic relation between f,
f′, f″ and f‴, so a rule that passes with it holds for smooth functions in general, unless it
relies on a coincidence at thousands of sampled points. The registry (deriv.primitives) holds
f, f′, f″ and f‴ as primitives `anyf`, `anyf1`, `anyf2`, `anyf3`, each the next one's
antiderivative; a sheet's f′ is read as `anyf1` where its notation says f = "anyf".
"""

from __future__ import annotations

import math

import numpy as np

ORDERS = 4                     # f, f′, f″, f‴ are primitives; f⁗ is written out in SymPy
# f(z) = Σₖ aₖ sin(bₖz + cₖ): drawn once (numpy's default_rng(2026)) and written down, so
# that the function never changes with a NumPy version
AMPLITUDES = (1.13, -0.71, 0.89, -0.52)
FREQUENCIES = (0.61, 1.37, 0.93, 1.91)
PHASES = (0.37, 2.11, 4.03, 5.29)


def numpy_forward(order: int):
    """The order-th derivative of f, batched."""
    def run(z):
        z = np.asarray(z, dtype=float)
        return sum(a * b ** order * np.sin(b * z + c + order * math.pi / 2)
                   for a, b, c in zip(AMPLITUDES, FREQUENCIES, PHASES))
    return run


def mpmath_forward(order: int):
    """The order-th derivative of f at one point, at mpmath's working precision (the
    coefficients are the same binary floats as NumPy's)."""
    def run(z):
        import mpmath as mp
        return mp.fsum(mp.mpf(a) * mp.mpf(b) ** order *
                       mp.sin(mp.mpf(b) * z + mp.mpf(c) + order * mp.pi / 2)
                       for a, b, c in zip(AMPLITUDES, FREQUENCIES, PHASES))
    return run


def sympy_form(order: int, z):
    """The order-th derivative written out in SymPy (for the last primitive's partial)."""
    import sympy as sp
    return sp.Add(*(sp.Float(a) * sp.Float(b) ** order *
                    sp.sin(sp.Float(b) * z + sp.Float(c) + order * sp.pi / 2)
                    for a, b, c in zip(AMPLITUDES, FREQUENCIES, PHASES)))
