"""The primitive registry: one entry per operation, everything about it in one place.

An entry holds its names in the file syntax, its arity, its shape rule, a numerically stable
NumPy forward (batched: a scalar is an array of samples (S,), a matrix (rows, cols, S)), an
mpmath forward (one point, high precision), its derivative rules side by side, its kinks and
its display forms. Elementwise primitives give one scalar partial per argument; arrays get
x̄ = ȳ ⊙ f′(x) from it (the sweep sums over broadcast axes). Structural operations (matrix
product, transpose, inverse, ...) give a VJP and a JVP instead.

Adding a primitive is one entry here (and its test). The SymPy class each entry needs is
made from the entry, so SymPy's `diff` uses the same partials as everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp
from sympy import S
from sympy.core.function import Application, DefinedFunction, Function
from sympy.core.parameters import global_parameters

from deriv import generic as _generic

# --- the entry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Primitive:
    name: str                                   # canonical name, also the SymPy class's name
    names: tuple[str, ...]                      # spellings in the file syntax
    arity: int
    numpy: Callable                             # batched forward
    mpmath: Callable                            # forward at one point (elementwise ones: scalar)
    shape: str = "elementwise"                  # or structural: matmul, transpose, square, ...
    partials: tuple[Callable, ...] = ()         # elementwise: ∂f/∂argᵢ as SymPy, per argument
    vjp: Callable | None = None                 # structural: (A, args, out, bar, i) → x̄ᵢ
    jvp: Callable | None = None                 # structural: (A, args, out, dots) → ż
    kinks: Callable | None = None               # args → expressions whose sign switches a branch
    exact: Callable | None = None               # numbers → exact SymPy value (relu(3) = 3)
    unicode: str = ""                           # template: {0}, {1} are the printed arguments
    latex: str = ""
    sympy: Callable | None = None               # SymPy's own constructor (exp, sin); else a
                                                # class is made from the entry
    comparison: bool = False                    # I(a > b) reads as I[a − b > 0]
    gate: bool = False      # 0 or 1, and 0 on a flat branch: a path through a 0 carries 0 (∞·0)
    shape_rule: Callable | None = None          # (A, argument shapes) → shape, for a kind
                                                # the algebra has no rule of its own for
    check: Callable | None = None               # (A, arguments) → what is wrong with them
                                                # (eig of a non-symmetric matrix), or None
    exp_form: Callable | None = None            # args → the value in exp and log: σ's 1/(1 + e⁻ᶻ)
    code_partials: tuple[Callable, ...] = ()    # the partials as programs compute them, where
                                                # the ones above lose every digit: σ(1 − σ) is 0
                                                # in float64 from z ≈ 37, 1 − tanh² from z ≈ 19
    cls: type = field(default=None, compare=False)   # set by register

    @property
    def elementwise(self) -> bool:
        return self.shape == "elementwise"


REGISTRY: dict[str, Primitive] = {}      # canonical name → entry
BY_NAME: dict[str, Primitive] = {}       # every file spelling → entry
BY_CLASS: dict[type, Primitive] = {}     # SymPy class → entry


class PrimitiveBase(sp.Function):
    """The SymPy class of a registered primitive: derivative and numbers from its entry."""

    entry: Primitive

    @classmethod
    def eval(cls, *args):
        exact = cls.entry.exact
        if any(a is S.NaN for a in args):    # undefined stays undefined (NaN > 0 is an error)
            return S.NaN
        if exact is not None and all(a.is_Number for a in args):
            return exact(*args)

    def fdiff(self, argindex=1):
        entry = self.entry
        if not entry.partials:
            raise TypeError(f"{entry.name} is not elementwise; the sweep uses its VJP")
        return entry.partials[argindex - 1](*self.args)

    def _eval_evalf(self, prec):
        args = [a.evalf(prec) for a in self.args]
        if all(a.is_Number for a in args) and self.entry.exact is not None:
            return self.entry.exact(*args).evalf(prec)
        return None


def register(entry: Primitive) -> Primitive:
    cls = entry.sympy
    if cls is None:
        cls = type(entry.name, (PrimitiveBase,), {"entry": entry, "nargs": entry.arity,
                                        "__module__": __name__})
        globals()[entry.name] = cls          # so that pickle finds deriv.primitives.<name>
    object.__setattr__(entry, "cls", cls)
    REGISTRY[entry.name] = entry
    if isinstance(cls, type):          # sqrt is SymPy's Pow(z, 1/2): no class of its own
        BY_CLASS[cls] = entry
    for n in entry.names:
        BY_NAME[n] = entry
    return entry


def entry_of(expr) -> Primitive | None:
    return BY_CLASS.get(type(expr))


def call(name: str, *args):
    return REGISTRY[name].cls(*args)


_NARGS: dict = {}      # (class, number of arguments) → its instances' nargs, or None: no fast path


def applied(cls, args: tuple, evaluate: bool | None = None):
    """cls(*args, evaluate=evaluate) of a SymPy function class: the same object (class,
    arguments, nargs, evaluation), built without SymPy's per-call cache, sympify of each
    argument and new set of nargs, which cost ~0.1 ms a call (a 5,000-node graph loads in
    half the time). Anything this does not reproduce exactly goes to the class itself."""
    key = (cls, len(args))
    nargs = _NARGS.get(key, False)
    if nargs is False:
        nargs = _NARGS[key] = _nargs_of(cls, len(args))
    if nargs is None or not all(isinstance(a, sp.Basic) for a in args):
        return cls(*args) if evaluate is None else cls(*args, evaluate=evaluate)
    if evaluate is None:
        evaluate = global_parameters.evaluate
    if evaluate:
        if cls.eval(*args) is not None or min(cls._should_evalf(a) for a in args) > 0:
            return cls(*args, evaluate=True)
    obj = sp.Basic.__new__(cls, *args)
    obj.nargs = nargs
    return obj


def _nargs_of(cls, n: int):
    """The nargs SymPy sets on cls's instances of n arguments (it depends on the class
    alone), if cls is built by SymPy's Function.__new__ and Application.__new__ as they are;
    else None."""
    if not (isinstance(cls, type) and issubclass(cls, Function) and n > 0):
        return None
    mro = cls.__mro__
    if cls.__new__ not in (Function.__new__, DefinedFunction.__new__) or \
            cls._new_.__func__ is not Function._new_.__func__ or \
            mro[mro.index(Function) + 1] is not Application or \
            any("__new__" in k.__dict__ for k in mro[mro.index(Application) + 1:
                                                     mro.index(sp.Basic)]):
        return None
    try:
        return cls(*sp.symbols(f"_x:{n}", cls=sp.Dummy), evaluate=False).nargs
    except TypeError:           # not a valid number of arguments: SymPy says so, every time
        return None


# --- helpers for the forwards ------------------------------------------------------------------


def _stable_sigmoid(z):
    z = np.asarray(z, dtype=float)
    ez = np.exp(-np.abs(z))              # never exp of a large positive number
    return np.where(z >= 0, 1 / (1 + ez), ez / (1 + ez))


def _mp():
    import mpmath
    return mpmath


MP_EXP_LIMIT = 1e30       # exp beyond ±this is ∞ or 0 at any precision that matters: mpmath
                          # would work out ln 2 to as many bits as the exponent has digits
                          # (exp(exp(exp(exp(exp(2))))) ran out of memory, or time)


def _mp_exp(z):
    mp = _mp()
    if mp.isfinite(z) and abs(z) > MP_EXP_LIMIT:
        return mp.inf if z > 0 else mp.mpf(0)
    return mp.exp(z)


def mp_power(base, exponent):
    """base ** exponent in mpmath, ∞ or 0 at once where its logarithm passes MP_EXP_LIMIT
    (a tower x**x**x**x**x at x = 3 has trillions of digits)."""
    mp = _mp()
    if isinstance(base, mp.mpf) and isinstance(exponent, mp.mpf) and mp.isfinite(base) and \
            mp.isfinite(exponent) and base != 0:
        size = exponent * mp.log(abs(base))
        if abs(size) > MP_EXP_LIMIT:
            return mp.inf if size > 0 else mp.mpf(0)
    return base ** exponent


def _mp_sigmoid(z):
    return 1 / (1 + _mp_exp(-z)) if z >= 0 else _mp_exp(z) / (1 + _mp_exp(z))


def _mp_softplus(z):
    mp = _mp()
    return z + mp.log1p(_mp_exp(-z)) if z > 0 else mp.log1p(_mp_exp(z))


def _I(z):
    return call("indicator", z)


def _tie_split(z):
    """∂max(a, b)/∂a with z = a − b: 1 where a wins, 0 where b wins, and ½ at a tie — the one
    convention for ties (as torch.maximum's): where a ≡ b identically, max(a, b) = a and its
    derivative a′ = ½a′ + ½b′ is right; 𝕀[z > 0] alone would give 0."""
    if z == 0:
        return S.Half
    return (1 + sp.sign(z)) / 2


def _one_or_zero(cond) -> sp.Expr:
    return S.One if cond else S.Zero


def _kink0(z, *rest):
    return (z,)


# --- elementwise primitives --------------------------------------------------------------------
# SymPy's own functions keep SymPy's class (so its algebra knows them); their partials here say
# the same as SymPy's fdiff and a test holds them to it.

register(Primitive("exp", ("exp",), 1, np.exp, _mp_exp, sympy=sp.exp,
                   partials=(lambda z: sp.exp(z),), unicode="exp({0})", latex=r"\exp\left({0}\right)"))
register(Primitive("log", ("log",), 1, np.log, lambda z: _mp().log(z) if z > 0 else _mp().nan,
                   sympy=sp.log, partials=(lambda z: 1 / z,), unicode="log({0})",
                   latex=r"\log\left({0}\right)"))
register(Primitive("sin", ("sin",), 1, np.sin, lambda z: _mp().sin(z), sympy=sp.sin,
                   partials=(lambda z: sp.cos(z),), unicode="sin({0})", latex=r"\sin\left({0}\right)"))
register(Primitive("cos", ("cos",), 1, np.cos, lambda z: _mp().cos(z), sympy=sp.cos,
                   partials=(lambda z: -sp.sin(z),), unicode="cos({0})", latex=r"\cos\left({0}\right)"))
register(Primitive("tan", ("tan",), 1, np.tan, lambda z: _mp().tan(z), sympy=sp.tan,
                   partials=(lambda z: 1 + sp.tan(z) ** 2,), unicode="tan({0})",
                   latex=r"\tan\left({0}\right)"))
register(Primitive("tanh", ("tanh",), 1, np.tanh, lambda z: _mp().tanh(z), sympy=sp.tanh,
                   partials=(lambda z: 1 - sp.tanh(z) ** 2,), unicode="tanh({0})",
                   latex=r"\tanh\left({0}\right)",
                   code_partials=(lambda z: call("tanh_slope", z, sp.tanh(z)),)))
register(Primitive("sqrt", ("sqrt",), 1, np.sqrt,
                   lambda z: _mp().sqrt(z) if z >= 0 else _mp().nan, sympy=sp.sqrt,
                   partials=(lambda z: 1 / (2 * sp.sqrt(z)),), unicode="√({0})",
                   latex=r"\sqrt{{{0}}}"))   # SymPy writes it as the power z**(1/2)
register(Primitive("Abs", ("abs",), 1, np.abs, lambda z: abs(z), sympy=sp.Abs,
                   partials=(lambda z: sp.sign(z),), kinks=_kink0, unicode="|{0}|",
                   latex=r"\left|{0}\right|"))
register(Primitive("sign", ("sign",), 1, np.sign, lambda z: _mp().sign(z), sympy=sp.sign,
                   partials=(lambda z: S.Zero,), kinks=_kink0, unicode="sign({0})",
                   latex=r"\operatorname{{sign}}\left({0}\right)"))
register(Primitive(
    "relu", ("relu",), 1, lambda z: np.maximum(z, 0.0), lambda z: z if z > 0 else 0 * z,
    partials=(lambda z: _I(z),), kinks=_kink0, exact=lambda z: z if z > 0 else S.Zero,
    unicode="a[{0}]", latex=r"\mathrm{{a}}\left[{0}\right]"))
register(Primitive(
    "indicator", ("I", "indicator", "heaviside"), 1,
    lambda z: np.where(np.asarray(z) > 0, 1.0, 0.0), lambda z: _mp().mpf(1 if z > 0 else 0),
    partials=(lambda z: S.Zero,), kinks=_kink0, exact=lambda z: _one_or_zero(z > 0),
    comparison=True, gate=True, unicode="𝕀[{0} > 0]", latex=r"\mathbb{{I}}\left[{0} > 0\right]"))
register(Primitive(
    "sigmoid", ("sigmoid", "sig"), 1, _stable_sigmoid, _mp_sigmoid,
    partials=(lambda z: call("sigmoid", z) * (1 - call("sigmoid", z)),),
    exp_form=lambda z: 1 / (1 + sp.exp(-z)), code_partials=(
        lambda z: call("sigmoid_slope", z, call("sigmoid", z)),),
    unicode="σ({0})", latex=r"\sigma\left({0}\right)"))

register(Primitive(
    "softplus", ("softplus",), 1, lambda z: np.logaddexp(0.0, z), _mp_softplus,
    partials=(lambda z: call("sigmoid", z),), exp_form=lambda z: sp.log(1 + sp.exp(z)),
    unicode="softplus({0})", latex=r"\operatorname{{softplus}}\left({0}\right)"))
register(Primitive(
    "leaky_relu", ("leaky_relu",), 2,
    lambda z, a: np.where(np.asarray(z) > 0, z, a * np.asarray(z)),
    lambda z, a: z if z > 0 else a * z,
    partials=(lambda z, a: _I(z) + a * _I(-z), lambda z, a: z * _I(-z)),
    # evaluated: at z = 0 the negative slope a, as torch's backward takes it (the partial as
    # shown is 0 there, which is no slope of it)
    code_partials=(lambda z, a: _I(z) + a * (1 - _I(z)), lambda z, a: z * (1 - _I(z))),
    kinks=_kink0, exact=lambda z, a: z if z > 0 else a * z,
    unicode="leaky_relu({0}, {1})", latex=r"\operatorname{{leaky}}\left[{0}; {1}\right]"))
register(Primitive(
    "maximum", ("max",), 2, np.maximum, lambda a, b: a if a >= b else b,
    partials=(lambda a, b: _tie_split(a - b), lambda a, b: _tie_split(b - a)),
    kinks=lambda a, b: (a - b,), exact=lambda a, b: sp.Max(a, b),
    unicode="max({0}, {1})", latex=r"\max\left({0}, {1}\right)"))
register(Primitive(
    "minimum", ("min",), 2, np.minimum, lambda a, b: a if a <= b else b,
    partials=(lambda a, b: _tie_split(b - a), lambda a, b: _tie_split(a - b)),
    kinks=lambda a, b: (a - b,), exact=lambda a, b: sp.Min(a, b),
    unicode="min({0}, {1})", latex=r"\min\left({0}, {1}\right)"))
register(Primitive(
    "rect", ("rect",), 1,
    lambda z: np.where((np.asarray(z) >= 0) & (np.asarray(z) <= 1), 1.0, 0.0),
    lambda z: _mp().mpf(1 if 0 <= z <= 1 else 0),
    partials=(lambda z: S.Zero,), kinks=lambda z: (z, z - 1),
    exact=lambda z: _one_or_zero(0 <= z <= 1),
    unicode="rect({0})", latex=r"\operatorname{{rect}}\left[{0}\right]"))

# a generic smooth f and its derivatives (deriv.generic): rules written for any f
for _order in range(_generic.ORDERS):
    register(Primitive(
        f"anyf{_order or ''}", (f"anyf{_order or ''}",), 1, _generic.numpy_forward(_order),
        _generic.mpmath_forward(_order),
        partials=((lambda z, k=_order + 1: call(f"anyf{k}", z)) if _order + 1 < _generic.ORDERS
                  else (lambda z, k=_order + 1: _generic.sympy_form(k, z)),),
        unicode="f" + "′" * _order + "({0})", latex="f" + "'" * _order + r"\left({0}\right)"))


# --- structural operations: VJP and JVP side by side -------------------------------------------
# Batched arrays keep the sample axis last: (rows, cols, S); a scalar is (S,). A rule gets the
# algebra module `A` (deriv.algebra, which knows shapes) to build its SymPy side.

def _batch(f):
    """Apply a (S, r, c) → (S, ...) linear-algebra routine to batch-last arrays (a scalar, a
    1×1 product, as a 1×1 matrix)."""
    def run(x):
        x = np.asarray(x, dtype=float)
        if x.ndim < 3:
            x = x.reshape((1, 1) + (x.shape or (1,)))
            out = f(np.moveaxis(x, -1, 0))
            return out.reshape(out.shape[0]) if np.ndim(out) > 1 else out
        out = f(np.moveaxis(x, -1, 0))
        return np.moveaxis(out, 0, -1) if np.ndim(out) > 1 else out
    return run


def _np_matmul(a, b):
    a2 = a if np.ndim(a) == 3 else np.asarray(a)[None, None, ...]
    b2 = b if np.ndim(b) == 3 else np.asarray(b)[None, None, ...]
    if a2.shape[1] >= MATMUL_BLAS:      # BLAS a point at a time: 64×64 products 2.6× faster
        out = np.matmul(a2.transpose(2, 0, 1), b2.transpose(2, 0, 1)).transpose(1, 2, 0)
    else:
        out = np.einsum("iks,kjs->ijs", a2, b2)
    return out[0, 0] if out.shape[:2] == (1, 1) else out


def _np_transpose(a):
    return np.swapaxes(a, 0, 1) if np.ndim(a) == 3 else a


MATMUL_BLAS = 8                   # inner sizes from which a product is np.matmul's, not einsum's
COND_LIMIT = 1e8                  # a nearly singular draw is undefined there, not a finding


def _well_conditioned(x):
    """Which of the (S, n, n) matrices are safely invertible, the batch with every other one
    replaced by I (so NumPy never meets a singular matrix; those points become NaN), and its
    inverse."""
    # a batch's det and its sweep's inverse, on views of one array: one inverse (the view is
    # kept, so its memory is not reused while remembered)
    key = (x.__array_interface__["data"][0], x.shape, x.strides)
    for known, _, found in _CONDITIONED:
        if known == key:
            return found
    eye = np.eye(x.shape[1])
    with np.errstate(all="ignore"):
        finite = np.all(np.isfinite(x), axis=(1, 2))
        safe = np.where(finite[:, None, None], x, eye)
        try:
            # the 1-norm condition number ‖A‖₁‖A⁻¹‖₁ from the inverse the sweep needs anyway:
            # an SVD a matrix (np.linalg.cond) cost more than the rest of a 64×64 check
            inverse = np.linalg.inv(safe)
            cond = _norm1(safe) * _norm1(inverse)
        except np.linalg.LinAlgError:               # an exactly singular one in the batch
            inverse, cond = None, np.linalg.cond(safe)
        ok = finite & (cond < COND_LIMIT)
        safe = np.where(ok[:, None, None], safe, eye)
        inverse = np.linalg.inv(safe) if inverse is None else \
            np.where(ok[:, None, None], inverse, eye)
    found = ok, safe, inverse
    _CONDITIONED[:] = [(key, x, found)] + _CONDITIONED[:1]
    return found


def _norm1(x):
    """The 1-norm (largest column sum) of each of the (S, n, n) matrices."""
    return np.abs(x).sum(axis=1).max(axis=1)


_CONDITIONED: list = []       # the last two batches of matrices tested: where, them, what found


def _np_inv(x):
    ok, _, inverse = _well_conditioned(x)
    return np.where(ok[:, None, None], inverse, np.nan)


def _np_det(x):
    ok, safe, _ = _well_conditioned(x)
    return np.where(ok, np.linalg.det(safe), np.nan)


def _np_logdet(x):
    ok, safe, _ = _well_conditioned(x)
    return np.where(ok, np.linalg.slogdet(safe)[1], np.nan)


def _np_diag(x):
    if np.ndim(x) < 3:
        return x
    if x.shape[1] == 1:                      # vector → diagonal matrix
        n = x.shape[0]
        out = np.zeros((n, n) + x.shape[2:])
        out[np.arange(n), np.arange(n)] = x[:, 0]
        return out
    n = x.shape[0]
    return x[np.arange(n), np.arange(n)][:, None, ...]


def _mp_matmul(a, b):
    a2, b2 = (v if isinstance(v, np.ndarray) else np.array([[v]], dtype=object) for v in (a, b))
    out = a2 @ b2
    return out[0, 0] if out.shape == (1, 1) else out


def _mp_linalg(kind):
    def run(x):
        mp = _mp()
        if not isinstance(x, np.ndarray):          # a scalar (a 1×1 product) is its own matrix
            if kind == "inv":
                return 1 / x if x != 0 else mp.nan
            return x if kind == "det" else (mp.log(abs(x)) if x != 0 else mp.nan)
        from deriv import precise_linalg
        try:
            if kind == "inv":
                return precise_linalg.inverse(x)
            d = precise_linalg.det(x)
        except ZeroDivisionError:
            return mp.nan
        return d if kind == "det" else (mp.log(abs(d)) if d != 0 else mp.nan)
    return run


def _mp_diag(x):
    if not isinstance(x, np.ndarray):
        return x
    n = x.shape[0]
    if x.shape[1] == 1:
        out = np.full((n, n), _mp().mpf(0), dtype=object)
        for i in range(n):
            out[i, i] = x[i, 0]
        return out
    return np.array([[x[i, i]] for i in range(n)], dtype=object)


register(Primitive(
    "matmul", ("@",), 2, _np_matmul, _mp_matmul, shape="matmul",
    vjp=lambda A, args, out, bar, i: (A.matmul(bar, A.T(args[1])) if i == 0
                                   else A.matmul(A.T(args[0]), bar)),
    jvp=lambda A, args, out, dots: A.matmul(dots[0], args[1]) + A.matmul(args[0], dots[1]),
    unicode="{0}{1}", latex="{0}{1}"))
register(Primitive(
    "transpose", (".T",), 1, _np_transpose, lambda a: a.T if isinstance(a, np.ndarray) else a,
    shape="transpose", vjp=lambda A, args, out, bar, i: A.T(bar),
    jvp=lambda A, args, out, dots: A.T(dots[0]), unicode="{0}ᵀ", latex="{{{0}}}^{{\\top}}"))
register(Primitive(
    "inv", ("inv",), 1, _batch(lambda x: _np_inv(x)), _mp_linalg("inv"), shape="square",
    vjp=lambda A, args, out, bar, i: -A.matmul(A.matmul(A.T(out), bar), A.T(out)),
    jvp=lambda A, args, out, dots: -A.matmul(A.matmul(out, dots[0]), out),
    unicode="{0}⁻¹", latex="{{{0}}}^{{-1}}"))
register(Primitive(
    "det", ("det",), 1, _batch(_np_det), _mp_linalg("det"), shape="square-reduce",
    vjp=lambda A, args, out, bar, i: bar * out * A.T(A.inv(args[0])),
    jvp=lambda A, args, out, dots: out * A.trace(A.matmul(A.inv(args[0]), dots[0])),
    unicode="det({0})", latex=r"\det\left({0}\right)"))
register(Primitive(
    "logdet", ("logdet",), 1, _batch(_np_logdet), _mp_linalg("logdet"), shape="square-reduce",
    vjp=lambda A, args, out, bar, i: bar * A.T(A.inv(args[0])),
    jvp=lambda A, args, out, dots: A.trace(A.matmul(A.inv(args[0]), dots[0])),
    unicode="log det({0})", latex=r"\log\det\left({0}\right)"))
register(Primitive(
    "trace", ("trace", "tr"), 1,
    lambda x: np.trace(x, axis1=0, axis2=1) if np.ndim(x) == 3 else x,
    lambda x: sum(x[i, i] for i in range(x.shape[0])) if isinstance(x, np.ndarray) else x,
    shape="square-reduce",
    vjp=lambda A, args, out, bar, i: bar * A.eye_like(args[0]),
    jvp=lambda A, args, out, dots: A.trace(dots[0]),
    unicode="tr({0})", latex=r"\operatorname{{tr}}\left({0}\right)"))
register(Primitive(
    "total", ("sum",), 1, lambda x: np.sum(x, axis=(0, 1)) if np.ndim(x) == 3 else x,
    lambda x: sum(x.flat) if isinstance(x, np.ndarray) else x, shape="reduce",
    vjp=lambda A, args, out, bar, i: bar * A.ones_like(args[0]),
    jvp=lambda A, args, out, dots: A.total(dots[0]),
    unicode="sum({0})", latex=r"\textstyle\sum\left({0}\right)"))
register(Primitive(
    "norm2", ("norm2",), 1, lambda x: np.sum(np.square(x), axis=(0, 1)) if np.ndim(x) == 3 else
    np.square(x), lambda x: sum(v * v for v in x.flat) if isinstance(x, np.ndarray) else x * x,
    shape="reduce", vjp=lambda A, args, out, bar, i: 2 * bar * args[0],
    jvp=lambda A, args, out, dots: 2 * A.total(args[0] * dots[0]),
    unicode="‖{0}‖²", latex=r"\left\|{0}\right\|^2"))
register(Primitive(
    "norm", ("norm",), 1, lambda x: np.sqrt(np.sum(np.square(x), axis=(0, 1))) if np.ndim(x) == 3
    else np.abs(x), lambda x: _mp().sqrt(sum(v * v for v in x.flat)) if isinstance(x, np.ndarray)
    else abs(x), shape="reduce", vjp=lambda A, args, out, bar, i: bar * args[0] / out,
    jvp=lambda A, args, out, dots: A.total(args[0] * dots[0]) / out,
    unicode="‖{0}‖", latex=r"\left\|{0}\right\|"))
register(Primitive(
    "diag", ("diag",), 1, _np_diag, _mp_diag, shape="diag",
    vjp=lambda A, args, out, bar, i: A.diag(bar),
    jvp=lambda A, args, out, dots: A.diag(dots[0]),
    unicode="diag({0})", latex=r"\operatorname{{diag}}\left({0}\right)"))



# --- what the rest of deriv asks of the registry -----------------------------------------------

def function_names() -> list[str]:
    """Every callable name of the file syntax (not operators)."""
    return sorted(n for n in BY_NAME if n[0].isalpha())


def kink_arguments(expr: sp.Expr) -> list[sp.Expr]:
    """Every expression whose sign switches a branch somewhere in `expr` (relu, I, abs, max...).
    z and −z are the same kink: one sign is kept so that lookups match."""
    found: list[sp.Expr] = []
    for sub in sp.preorder_traversal(expr):
        entry = BY_CLASS.get(type(sub))
        if entry is not None and entry.kinks is not None:
            found.extend(entry.kinks(*sub.args))
        elif isinstance(sub, sp.Heaviside):
            found.append(sub.args[0])
    if len(found) == 1 and found[0] != 0:      # (a relu's sum of a thousand weights: no keys)
        k = found[0]
        return [-k if not k.is_Add and k.as_coeff_Mul()[0] < 0 else k]
    unique: dict[frozenset, sp.Expr] = {}
    for k in found:
        if k == 0:          # max(2x, x + x): a tie that holds identically switches nothing
            continue
        terms = [a.as_coeff_Mul() for a in sp.Add.make_args(k)]
        key = frozenset(terms)
        if key in unique or frozenset((-c, t) for c, t in terms) in unique:
            continue        # z and −z are one kink (found without building −z: for a long sum
        unique[key] = -k if not k.is_Add and terms[0][0] < 0 else k   # that costs seconds)
    return list(unique.values())


def numpy_namespace() -> dict:
    """Names a lambdified expression calls, for batched NumPy arrays."""
    ns = {e.cls.__name__: e.numpy for e in REGISTRY.values() if e.sympy is None}
    ns.update({"sqrt": np.sqrt, "Abs": np.abs, "sign": np.sign})
    return ns


def _elementwise_mp(f):
    vec = np.vectorize(f, otypes=[object])

    def run(*args):
        if any(isinstance(a, np.ndarray) for a in args):
            return vec(*args)
        return f(*args)
    return run


def mpmath_namespace() -> dict:
    """Names for one point at high precision: scalars are mpf, matrices object arrays of mpf."""
    ns = {}
    for e in REGISTRY.values():
        f = _elementwise_mp(e.mpmath) if e.elementwise else e.mpmath
        ns[e.name] = f
    ns["Abs"] = ns["abs"] = _elementwise_mp(abs)
    return ns
