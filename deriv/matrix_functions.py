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

from deriv.errors import DerivError
from deriv.primitives import Primitive, _mp, register

# --- Kronecker product -------------------------------------------------------------------------
# Z = A ⊗ B, A m×n, B p×q: Z[(i,k), (j,l)] = A[i,j]·B[k,l]. Its VJP contracts Z̄ with the other
# factor, a partial trace: Ā = tr₂[Z̄(I ⊗ Bᵀ)], B̄ = tr₁[(Aᵀ ⊗ I)Z̄]; both are entries too, so
# that the rules of a rule (a Hessian's) are in the registry as well.


MAX_KRON_ENTRIES = 64 * 64      # as many as the largest matrix a file may declare
LARGEST_DRAWN = 5               # a size name is drawn from 2 to 5 (deriv.sampling)


def _kron_shape(A, shapes):
    a, b = shapes
    if not a or not b:
        raise A.ShapeError("kron needs two arrays (a scalar times an array is written with *)")
    shape = A.normal((A.size_product(a[0], b[0]), A.size_product(a[1], b[1])))
    entries = 1
    for size in shape or (1,):
        for f in str(size).split("*"):
            entries *= int(f) if f.isdigit() else LARGEST_DRAWN
    if entries > MAX_KRON_ENTRIES:
        raise A.ShapeError(f"kron of {A.shape_text(a)} and {A.shape_text(b)} would have up to "
                           f"{entries} entries a point (at most {MAX_KRON_ENTRIES})")
    return shape


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
    m, n, _ = a.shape
    p, q, _ = b.shape
    out = np.einsum("ijs,kls->ikjls", a, b)       # (a constant's one point broadcasts)
    return out.reshape(m * p, n * q, out.shape[-1])


def _np_kron_left(z, b):
    """Ā[i,j] = Σ_kl Z̄[(i,k),(j,l)]·B[k,l]."""
    z, b = np.asarray(z, dtype=float), np.asarray(b, dtype=float)
    p, q, _ = b.shape
    m, n = z.shape[0] // p, z.shape[1] // q
    return np.einsum("ikjls,kls->ijs", z.reshape(m, p, n, q, z.shape[-1]), b)


def _np_kron_right(z, a):
    """B̄[k,l] = Σ_ij Z̄[(i,k),(j,l)]·A[i,j]."""
    z, a = np.asarray(z, dtype=float), np.asarray(a, dtype=float)
    m, n, _ = a.shape
    p, q = z.shape[0] // m, z.shape[1] // n
    return np.einsum("ikjls,ijs->kls", z.reshape(m, p, n, q, z.shape[-1]), a)


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


# --- analytic matrix functions: expm, sinm, cosm -----------------------------------------------
# Z = f(X) for f with a real power series. Its derivative is the Fréchet derivative L_f(X, E),
# the top-right block of f([[X, E], [0, X]]): Ż = L_f(X, Ẋ), and since L_f(X, ·)'s adjoint is
# L_f(Xᵀ, ·) = L_f(X, (·)ᵀ)ᵀ, X̄ = L_f(X, Z̄ᵀ)ᵀ. Where E = cI, L_f(X, cI) = c·f′(X): Tr f(X) has
# the gradient f′(X)ᵀ. NumPy computes exp by scaling and squaring with the [13/13] Padé
# approximant (Higham 2005), sin and cos as the imaginary and real parts of exp(iX); mpmath
# has expm, sinm and cosm of its own.

DERIVATIVE = {"expm": ("expm", 1), "sinm": ("cosm", 1), "cosm": ("sinm", -1)}   # f′ = ±g
SCALAR = {"expm": np.exp, "sinm": np.sin, "cosm": np.cos}

_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def _expm_stack(a: np.ndarray) -> np.ndarray:
    """exp of each (n, n) matrix of a (S, n, n) stack, real or complex; NaN where not finite."""
    n = a.shape[-1]
    finite = np.all(np.isfinite(a), axis=(1, 2))
    a = np.where(finite[:, None, None], a, 0)
    norm = np.max(np.sum(np.abs(a), axis=1), axis=-1) if a.size else np.zeros(0)
    # each matrix its own scaling: one huge matrix of the batch squared every other one
    # sixty times over, and their values to noise (the truth of a tower came out 0)
    with np.errstate(divide="ignore"):
        s = np.maximum(0, np.ceil(np.log2(np.maximum(norm, 1e-300) / _THETA13))).astype(int)
    a = a / (2.0 ** s)[:, None, None]
    b = _PADE13
    eye = np.broadcast_to(np.eye(n), a.shape)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * eye
    with np.errstate(all="ignore"):
        try:
            r = np.linalg.solve(v - u, v + u)
        except np.linalg.LinAlgError:
            return np.full(a.shape, np.nan)
        for k in range(int(s.max(initial=0))):
            squared = r @ r
            r = np.where((k < s)[:, None, None], squared, r)
    return np.where(finite[:, None, None], r, np.nan)


def _np_function(name: str, x: np.ndarray) -> np.ndarray:
    """f of each matrix of a batch-last stack (rows, cols, S)."""
    stack = np.moveaxis(x, -1, 0)
    if name == "expm":
        out = _expm_stack(stack)
    else:
        e = _expm_stack(1j * stack)
        out = e.imag if name == "sinm" else e.real
    return np.moveaxis(out, 0, -1)


def _np_matrix_function(name: str):
    def run(x):
        x = np.asarray(x, dtype=float)
        return SCALAR[name](x) if x.ndim < 3 else _np_function(name, x)
    return run


def _block(x, e, zero):
    n = x.shape[0]
    top = np.concatenate([x, e], axis=1)
    bottom = np.concatenate([np.full(x.shape, zero, dtype=x.dtype), x], axis=1)
    return np.concatenate([top, bottom], axis=0), n


def _np_frechet(name: str):
    def run(x, e):
        x, e = np.asarray(x, dtype=float), np.asarray(e, dtype=float)
        if x.ndim < 3:                       # a scalar: f′(x)·e
            return DERIVATIVE[name][1] * SCALAR[DERIVATIVE[name][0]](x) * e
        e = np.broadcast_to(e, x.shape)
        # linear in e: computed for e scaled to 1 at each point, so that a huge direction
        # (an adjoint of 10¹⁷) does not make the block's norm, and its scaling, its own
        with np.errstate(all="ignore"):
            size = np.max(np.abs(e), axis=(0, 1))
            size = np.where(np.isfinite(size) & (size > 0), size, 1.0)
        block, n = _block(x, e / size, 0.0)
        return _np_function(name, block)[:n, n:] * size
    return run


MAX_MP_NORM = 1e4      # a matrix function's argument beyond this is not evaluated in mpmath:
                       # e^(10⁴) is past any float, and mpmath's squarings and digits grow with
                       # the norm (expm(expm(expm(X))) ran for minutes in gigabytes)


def _beyond(mp, x) -> bool:
    entries = list(np.ravel(x))
    norm = max((abs(v) for v in entries), default=0) * (x.shape[0] if np.ndim(x) else 1)
    return not mp.isfinite(norm) or norm > MAX_MP_NORM


def _mp_matrix_function(name: str):
    def run(x):
        mp = _mp()
        if _beyond(mp, x):          # undefined at this precision: the point is not used
            return np.full(np.shape(x), mp.nan, dtype=object) if np.ndim(x) else mp.nan
        if not isinstance(x, np.ndarray):
            return {"expm": mp.exp, "sinm": mp.sin, "cosm": mp.cos}[name](x)
        out = getattr(mp, name)(mp.matrix(x.tolist()))
        return np.array(out.tolist(), dtype=object)
    return run


def _mp_frechet(name: str):
    def run(x, e):
        mp = _mp()
        if _beyond(mp, x):
            return np.full(np.shape(x), mp.nan, dtype=object) if np.ndim(x) else mp.nan
        if not isinstance(x, np.ndarray):
            g, sign = DERIVATIVE[name]
            return sign * {"expm": mp.exp, "sinm": mp.sin, "cosm": mp.cos}[g](x) * e
        block, n = _block(x, np.asarray(e, dtype=object), mp.mpf(0))
        out = getattr(mp, name)(mp.matrix(block.tolist()))
        return np.array(out.tolist(), dtype=object)[:n, n:]
    return run


def _frechet_vjp(name: str):
    def rule(A, args, out, bar, i):
        if i == 0:
            raise DerivError(f"deriv has no second derivative of {name}: a Hessian through "
                             f"{name}(X) with respect to X cannot be checked")
        return A.T(A.frechet(name, args[0], A.T(bar)))
    return rule


for _name, _words in (("expm", "the matrix exponential"), ("sinm", "the matrix sine"),
                      ("cosm", "the matrix cosine")):
    register(Primitive(
        _name, (_name,), 1, _np_matrix_function(_name), _mp_matrix_function(_name),
        shape="square", shape_rule=_square(_name),
        vjp=lambda A, args, out, bar, i, f=_name: A.T(A.frechet(f, args[0], A.T(bar))),
        jvp=lambda A, args, out, dots, f=_name: A.frechet(f, args[0], dots[0]),
        unicode=_name + "({0})", latex=r"\operatorname{{" + _name + r"}}\left({0}\right)"))
    register(Primitive(
        _name + "_frechet", ("_" + _name + "_frechet",), 2, _np_frechet(_name),
        _mp_frechet(_name), shape="frechet", shape_rule=_square(_words),
        vjp=_frechet_vjp(_name),
        jvp=lambda A, args, out, dots, f=_name: A.frechet(f, args[0], dots[1]),
        unicode="L_" + _name[:3] + "({0}, {1})",
        latex=r"L_{{\operatorname{{" + _name[:3] + r"}}}}\left({0}, {1}\right)"))


# --- eigenvalues and eigenvectors of symmetric matrices ---------------------------------------
# eig(X, k): the k-th eigenvalue of a symmetric X in ascending order (k = 1 the smallest, k = −1
# the largest, as Python counts from the end); eigvec(X, k) its unit eigenvector, signed so that
# its largest entry (in magnitude) is positive. For a simple eigenvalue λ with eigenvector v:
# λ̇ = vᵀẊv, X̄ = λ̄vvᵀ; v̇ = (λI − X)⁺Ẋv, X̄ = (λI − X)⁺v̄vᵀ. The argument must be symmetric by
# its construction (S + Sᵀ, XᵀX, a node so defined: the parser asks algebra.is_symmetric); a
# draw where λ is (nearly) repeated is undefined there, as a nearly singular inverse is.

GAP = 1e-8         # relative gap below which an eigenvalue counts as repeated


def _eigen_check(A, args):
    x, k = args
    shape = A.shape_of(x)
    if not shape or shape[0] != shape[1]:
        return f"needs a square symmetric matrix, not {A.shape_text(shape)}"
    if not (k.is_Integer and k != 0):
        return "takes an eigenvalue's place k as a whole number: 1 the smallest, -1 the largest"
    n = shape[0]
    most = n if isinstance(n, int) else 2          # symbolic sizes are drawn from 2
    if abs(int(k)) > most:
        return (f"asks for eigenvalue {int(k)} of a {A.shape_text(shape)} matrix (|k| ≤ {most}"
                + ("; sizes are drawn from 2)" if not isinstance(n, int) else ")"))
    if not A.is_symmetric(x):
        return ("needs a symmetric matrix; its argument is not symmetric by construction "
                "(write it as S + S.T, X.T @ X, or a node so defined)")
    return None


def _np_eigh(x, k):
    """(λ, v, all eigenvalues, all vectors) of each matrix of a batch-last stack; NaN where
    λ is nearly repeated or the matrix not finite."""
    stack = np.moveaxis(np.asarray(x, dtype=float), -1, 0)
    finite = np.all(np.isfinite(stack), axis=(1, 2))
    stack = np.where(finite[:, None, None], stack, 0.0)
    w, vectors = np.linalg.eigh(stack)
    n = w.shape[-1]
    i = int(k) - 1 if int(k) > 0 else n + int(k)
    scale = np.max(np.abs(w), axis=-1) + 1e-300
    gaps = np.abs(w - w[:, [i]])
    gaps[:, i] = np.inf
    ok = finite & (np.min(gaps, axis=-1) > GAP * scale)
    v = vectors[:, :, i]
    v = v * np.where(v[np.arange(len(v)), np.argmax(np.abs(v), axis=-1)] < 0, -1.0, 1.0)[:, None]
    lam = np.where(ok, w[:, i], np.nan)
    return lam, np.where(ok[:, None], v, np.nan), w, vectors, i, ok


def _np_eig(x, k):
    return _np_eigh(x, k)[0]


def _np_eigvec(x, k):
    return np.moveaxis(_np_eigh(x, k)[1], 0, -1)[:, None, :]


def _np_resolvent(x, k):
    """(λₖI − X)⁺ = Σ_{j≠k} vⱼvⱼᵀ/(λₖ − λⱼ)."""
    lam, _, w, vectors, i, ok = _np_eigh(x, k)
    with np.errstate(all="ignore"):
        d = 1.0 / (lam[:, None] - w)
    d[:, i] = 0.0
    out = np.einsum("sij,sj,skj->sik", vectors, d, vectors)
    return np.moveaxis(np.where(ok[:, None, None], out, np.nan), 0, -1)


def _mp_eigh(x, k):
    mp = _mp()
    w, q = mp.eigsy(mp.matrix(x.tolist()))
    n = len(w)
    order = sorted(range(n), key=lambda j: w[j])
    i = order[int(k) - 1 if int(k) > 0 else n + int(k)]
    scale = max(abs(e) for e in w) + mp.mpf(1e-300)
    if any(j != i and abs(w[j] - w[i]) <= GAP * scale for j in range(n)):
        # (nearly) repeated, as in float64: undefined there at any precision — else a draw
        # float64 drops would be decided by mpmath's own arbitrary eigenvector
        w = [mp.nan] * n
        return w, q, i, np.array([[mp.nan] for _ in range(n)], dtype=object)
    v = [q[r, i] for r in range(n)]
    big = max(range(n), key=lambda r: abs(v[r]))
    v = [-e for e in v] if v[big] < 0 else v
    return w, q, i, np.array([[e] for e in v], dtype=object)


def _mp_eig(x, k):
    w, _, i, _ = _mp_eigh(x, k)
    return w[i]


def _mp_eigvec(x, k):
    return _mp_eigh(x, k)[3]


def _mp_resolvent(x, k):
    mp = _mp()
    w, q, i, _ = _mp_eigh(x, k)
    n = len(w)
    out = np.full((n, n), mp.mpf(0), dtype=object)
    for j in range(n):
        if j != i:
            for a in range(n):
                for b in range(n):
                    out[a, b] += q[a, j] * q[b, j] / (w[i] - w[j])
    return out


def _eigvec_of(A, args):
    return A.eigvec(args[0], args[1])


register(Primitive(
    "eig", ("eig",), 2, _np_eig, _mp_eig, shape="eigen", check=_eigen_check,
    shape_rule=lambda A, shapes: A.SCALAR,
    vjp=lambda A, args, out, bar, i: bar * A.matmul(_eigvec_of(A, args),
                                                    A.T(_eigvec_of(A, args))),
    jvp=lambda A, args, out, dots: A.matmul(A.matmul(A.T(_eigvec_of(A, args)), dots[0]),
                                            _eigvec_of(A, args)) if dots[0] != 0 else sp.S.Zero,
    unicode="λ({0}, {1})", latex=r"\lambda_{{{1}}}\left({0}\right)"))
register(Primitive(
    "eigvec", ("eigvec",), 2, _np_eigvec, _mp_eigvec, shape="eigen", check=_eigen_check,
    shape_rule=lambda A, shapes: (shapes[0][0], 1),
    vjp=lambda A, args, out, bar, i: A.matmul(A.matmul(P_resolvent(A, args), bar), A.T(out)),
    jvp=lambda A, args, out, dots: A.matmul(A.matmul(P_resolvent(A, args), dots[0]), out)
    if dots[0] != 0 else sp.S.Zero,
    unicode="v({0}, {1})", latex=r"v_{{{1}}}\left({0}\right)"))
register(Primitive(
    "eig_resolvent", ("_eig_resolvent",), 2, _np_resolvent, _mp_resolvent, shape="eigen",
    shape_rule=lambda A, shapes: shapes[0],
    unicode="(λ({0}, {1})I − {0})⁺",
    latex=r"\left(\lambda_{{{1}}}\left({0}\right) I - {0}\right)^{{+}}"))


def P_resolvent(A, args):
    from deriv.primitives import call
    return call("eig_resolvent", *args)
