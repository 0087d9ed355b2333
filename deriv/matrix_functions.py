"""The registry's matrix vocabulary beyond products and inverses: the Kronecker product, integer
matrix powers, analytic matrix functions (expm, sinm, cosm) with their Fréchet derivatives, and
eigenvalues of symmetric matrices — each an entry of deriv.primitives with its VJP and JVP side
by side, as the README's "Adding a primitive" describes.

Batched NumPy arrays keep the sample axis last, (rows, cols, S); the mpmath forwards take one
point (2-D object arrays of mpf). A rule gets the algebra module `A` to build with.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from deriv.primitives import Primitive, _mp, register

# --- Kronecker product -------------------------------------------------------------------------
# Z = A ⊗ B, A m×n, B p×q: Z[(i,k), (j,l)] = A[i,j]·B[k,l]. Its VJP contracts Z̄ with the other
# factor, a partial trace: Ā = tr₂[Z̄(I ⊗ Bᵀ)], B̄ = tr₁[(Aᵀ ⊗ I)Z̄]; both are entries too, so
# that the rules of a rule (a Hessian's) are in the registry as well.


def _kron_shape(A, shapes):
    a, b = shapes
    if not a or not b:
        raise A.ShapeError("kron needs two arrays (a scalar times an array is written with *)")
    return A.normal((A.size_product(a[0], b[0]), A.size_product(a[1], b[1])))


def _contraction_shape(side: int):
    """The shape of the factor a Kronecker adjoint gives back: Z's shape divided by the other
    factor's."""
    def rule(A, shapes):
        z, other = (A._as_matrix(s) for s in shapes)
        dims = tuple(A.size_quotient(zd, od) for zd, od in zip(z, other))
        if None in dims:
            raise A.ShapeError(f"shape mismatch for a Kronecker adjoint: {A.shape_text(z)} is "
                               f"not a multiple of {A.shape_text(other)}")
        return A.normal(dims)
    del side
    return rule


def _np_kron(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    m, n, s = a.shape
    p, q, _ = b.shape
    return np.einsum("ijs,kls->ikjls", a, b).reshape(m * p, n * q, s)


def _np_kron_left(z, b):
    """Ā[i,j] = Σ_kl Z̄[(i,k),(j,l)]·B[k,l]."""
    z, b = np.asarray(z, dtype=float), np.asarray(b, dtype=float)
    p, q, s = b.shape
    m, n = z.shape[0] // p, z.shape[1] // q
    return np.einsum("ikjls,kls->ijs", z.reshape(m, p, n, q, s), b)


def _np_kron_right(z, a):
    """B̄[k,l] = Σ_ij Z̄[(i,k),(j,l)]·A[i,j]."""
    z, a = np.asarray(z, dtype=float), np.asarray(a, dtype=float)
    m, n, s = a.shape
    p, q = z.shape[0] // m, z.shape[1] // n
    return np.einsum("ikjls,ijs->kls", z.reshape(m, p, n, q, s), a)


def _mp_kron(a, b):
    return np.kron(a, b)


def _mp_kron_left(z, b):
    p, q = b.shape
    m, n = z.shape[0] // p, z.shape[1] // q
    return np.array([[sum(z[i * p + k, j * q + l] * b[k, l] for k in range(p) for l in range(q))
                      for j in range(n)] for i in range(m)], dtype=object)


def _mp_kron_right(z, a):
    m, n = a.shape
    p, q = z.shape[0] // m, z.shape[1] // n
    return np.array([[sum(z[i * p + k, j * q + l] * a[i, j] for i in range(m) for j in range(n))
                      for l in range(q)] for k in range(p)], dtype=object)


register(Primitive(
    "kron", ("kron",), 2, _np_kron, _mp_kron, shape="kron", shape_rule=_kron_shape,
    vjp=lambda A, args, out, bar, i: (A.kron_left(bar, args[1]) if i == 0
                                   else A.kron_right(bar, args[0])),
    jvp=lambda A, args, out, dots: A.kron(dots[0], args[1]) + A.kron(args[0], dots[1]),
    unicode="{0} ⊗ {1}", latex=r"{0} \otimes {1}"))
register(Primitive(
    "kron_left", ("_kron_left",), 2, _np_kron_left, _mp_kron_left, shape="kron-adjoint",
    shape_rule=_contraction_shape(0),
    vjp=lambda A, args, out, bar, i: (A.kron(bar, args[1]) if i == 0
                                   else A.kron_right(args[0], bar)),
    jvp=lambda A, args, out, dots: A.kron_left(dots[0], args[1]) + A.kron_left(args[0], dots[1]),
    unicode="tr₂[{0}(I ⊗ {1}ᵀ)]",
    latex=r"\operatorname{{tr}}_2\left[{0}\left(I \otimes {{{1}}}^{{\top}}\right)\right]"))
register(Primitive(
    "kron_right", ("_kron_right",), 2, _np_kron_right, _mp_kron_right, shape="kron-adjoint",
    shape_rule=_contraction_shape(1),
    vjp=lambda A, args, out, bar, i: (A.kron(args[1], bar) if i == 0
                                   else A.kron_left(args[0], bar)),
    jvp=lambda A, args, out, dots: A.kron_right(dots[0], args[1]) + A.kron_right(args[0], dots[1]),
    unicode="tr₁[({1}ᵀ ⊗ I){0}]",
    latex=r"\operatorname{{tr}}_1\left[\left({{{1}}}^{{\top}} \otimes I\right){0}\right]"))



# --- integer matrix powers ---------------------------------------------------------------------
# Z = Xᵏ (k ≥ 2 an integer; the parser makes X⁰ = I, X¹ = X and X⁻ᵏ = (X⁻¹)ᵏ):
# Ż = Σᵣ XʳẊXᵏ⁻¹⁻ʳ and X̄ = Σᵣ (Xʳ)ᵀZ̄(Xᵏ⁻¹⁻ʳ)ᵀ, r = 0 … k−1 (k terms: k is bounded by the
# parser). With Z̄ = cI the terms are one power: Tr Xᵏ has the gradient k(Xᵏ⁻¹)ᵀ.

MAX_MATRIX_POWER = 32


def _square(name: str):
    def rule(A, shapes):
        a = shapes[0]
        if a and a[0] != a[1]:
            raise A.ShapeError(f"{name} needs a square matrix, not {A.shape_text(a)}")
        return a
    return rule


def _np_matpow(x, k):
    x = np.asarray(x, dtype=float)
    if x.ndim < 3:
        return x ** int(k)
    return np.moveaxis(np.linalg.matrix_power(np.moveaxis(x, -1, 0), int(k)), 0, -1)


def _mp_matpow(x, k):
    k = int(k)
    if not isinstance(x, np.ndarray):
        return x ** k
    out = x
    for _ in range(k - 1):
        out = out @ x
    return out


def _power_sum(A, base, k: int, middle, transposed: bool):
    """Σᵣ Bʳ·M·Bᵏ⁻¹⁻ʳ with B = base (or its transpose): one power k·c·Bᵏ⁻¹ where M = cI."""
    b = A.T(base) if transposed else base
    c, m = A.split_scalar(middle)
    if isinstance(m, A.SizeConstant) and m.constant == "eye":
        return k * c * A.matpow(b, k - 1)
    return sum((A.matmul(A.matmul(A.matpow(b, r), middle), A.matpow(b, k - 1 - r))
                for r in range(k)), sp.S.Zero)


register(Primitive(
    "matpow", ("_matpow",), 2, _np_matpow, _mp_matpow, shape="square",
    shape_rule=_square("a matrix power"),
    vjp=lambda A, args, out, bar, i: _power_sum(A, args[0], int(args[1]), bar, True),
    jvp=lambda A, args, out, dots: _power_sum(A, args[0], int(args[1]), dots[0], False)
    if dots[0] != 0 else sp.S.Zero,
    unicode="{0}^{1}", latex="{{{0}}}^{{{1}}}"))
