"""A matrix result in the form a reference prints it, for display only (values always come
from the programs): products regrouped and like terms collected (Aᵀ(AXB + C)Bᵀ twice is
2Aᵀ(AXB + C)Bᵀ), powers and inverses of square factors merged and cancelled
(Xᵀ(X²)⁻ᵀ = X⁻ᵀ, so d det(X²)/dX is 2·det(X²)·X⁻ᵀ), a common right or left factor and a common
scalar taken out of a sum, and the all-ones array of a sum's adjoint dropped from a Hadamard
product (𝟏 ⊙ Xb is Xb). Every step is an identity of square, invertible factors; a size bound
keeps it cheap.
"""

from __future__ import annotations

import sympy as sp
from sympy import S

from deriv import algebra as A
from deriv import primitives as P

MAX_OPS = 300            # larger results are shown as the rules built them
MAX_TERMS = 24           # terms after distributing products over sums


def reference_form(expr: sp.Expr) -> sp.Expr:
    """expr rewritten as above, or unchanged where it is not an array or too large."""
    try:
        if not A.shape_of(expr) or A.size(expr) > MAX_OPS:
            return expr
        out = _form(expr)
        return out if A.shape_of(out) == A.shape_of(expr) else expr
    except (A.ShapeError, TypeError, ValueError, RecursionError):
        return expr


def _name(e) -> str | None:
    entry = P.entry_of(e)
    return entry.name if entry is not None else None


def _square(e) -> bool:
    shape = A.shape_of(e)
    return len(shape) == 2 and shape[0] == shape[1]


# --- a product as a chain of (base, exponent) factors --------------------------------------

def _chain(e) -> tuple[sp.Expr, list[tuple[sp.Expr, int]]]:
    """e = c·F₁^k₁ F₂^k₂ …: the scalar c and the factors, inverses and powers as exponents."""
    c, e = A.split_scalar(e)
    name = _name(e)
    if isinstance(e, A.SizeConstant) and e.constant == "eye":
        return c, []
    if name == "matmul":
        c1, left = _chain(e.args[0])
        c2, right = _chain(e.args[1])
        return c * c1 * c2, _merged(left + right)
    if name == "matpow":
        c1, inner = _chain(e.args[0])
        k = int(e.args[1])
        if len(inner) == 1:
            return c * c1 ** k, [(inner[0][0], inner[0][1] * k)]
    if name == "inv":
        c1, inner = _chain(e.args[0])
        if inner and all(_square(b) for b, _ in inner):
            return c / c1, [(b, -k) for b, k in reversed(inner)]
    if name == "transpose":
        c1, inner = _chain(e.args[0])
        if inner:
            return c * c1, [(_transposed(b), k) for b, k in reversed(inner)]
    return c, [(e, 1)]


def _transposed(base: sp.Expr) -> sp.Expr:
    return base.args[0] if _name(base) == "transpose" else A.T(base)


def _merged(factors: list) -> list:
    """Adjacent powers of one square base: exponents added, X·X⁻¹ dropped."""
    out: list = []
    for base, k in factors:
        if out and out[-1][0] == base and _square(base):
            k += out.pop()[1]
            if k == 0:
                continue
        out.append((base, k))
    return out


def _power(base: sp.Expr, k: int) -> sp.Expr:
    if k == 1:
        return base
    if k < 0:
        inverse = P.call("transpose", P.call("inv", base.args[0])) \
            if _name(base) == "transpose" else P.call("inv", base)
        return inverse if k == -1 else P.call("matpow", inverse, sp.Integer(-k))
    return P.call("matpow", base, sp.Integer(k))


def _product(factors: list, shape: tuple) -> sp.Expr:
    if not factors:
        return A.eye(shape[0])
    out = _power(*factors[0])
    for f in factors[1:]:
        out = P.call("matmul", out, _power(*f))
    return out


# --- sums: terms distributed, like terms collected, common factors out ----------------------

def _terms(e) -> list[tuple[sp.Expr, list]]:
    """e as a sum of c·chain terms, products distributed over sums (bounded)."""
    if isinstance(e, sp.Add):
        return [t for a in e.args for t in _terms(a)]
    c, e2 = A.split_scalar(e)
    if c != 1:
        return [(c * k, f) for k, f in _terms(e2)]
    if _name(e) == "matmul":
        left, right = _terms(e.args[0]), _terms(e.args[1])
        if len(left) * len(right) <= MAX_TERMS:
            return [(c1 * c2, _merged(f1 + f2)) for c1, f1 in left for c2, f2 in right]
    if _name(e) == "transpose" and isinstance(e.args[0], sp.Add):
        return _terms(sp.Add(*(A.T(a) for a in e.args[0].args)))
    c, factors = _chain(e)
    return [(c, factors)]


def _collected(terms: list, shape: tuple) -> sp.Expr:
    """Σ cᵢ·chainᵢ with a common last (or first) factor taken out: (Σ cᵢ·restᵢ)F; then a
    common scalar: c·(…)."""
    groups: dict[tuple, sp.Expr] = {}
    for c, f in terms:
        key = tuple(f)
        groups[key] = groups.get(key, S.Zero) + c
    terms = [(c, list(f)) for f, c in groups.items() if c != 0]
    if not terms:
        return A.zeros(shape)
    if len(terms) == 1:
        c, f = terms[0]
        return c * _product(f, shape)
    for side in (-1, 0):
        ends = {tuple(f[side]) if f else None for _, f in terms}
        if len(ends) == 1 and None not in ends and all(len(f) > 1 for _, f in terms):
            base, k = terms[0][1][side]
            rest = [(c, f[:-1] if side == -1 else f[1:]) for c, f in terms]
            inner_shape = A.shape_of(_product(rest[0][1], shape))
            inner = _collected(rest, inner_shape)
            end = _power(base, k)
            return A.matmul(inner, end) if side == -1 else A.matmul(end, inner)
    common = _common_scalar([c for c, _ in terms])
    total = sp.Add(*((c / common) * _product(f, shape) for c, f in terms))
    # a number times a sum stays a product: 2·(C + AXB), not 2·C + 2·AXB
    return total if common == 1 else sp.Mul(common, total, evaluate=False)


def _common_scalar(coefficients: list) -> sp.Expr:
    """The factors every coefficient has (det(Y) of det(Y)·A + det(Y)·tr(AY)·Y⁻¹), and the
    numbers' common sign and divisor."""
    shared = {f for f in sp.Mul.make_args(coefficients[0]) if not f.is_Number}
    for c in coefficients[1:]:
        shared &= set(sp.Mul.make_args(c))
    numbers = [c.as_coeff_Mul()[0] for c in coefficients]
    number = S.One
    if all(n.is_Rational for n in numbers):
        number = sp.gcd([abs(n) for n in numbers]) or S.One
        if all(n < 0 for n in numbers):
            number = -number
    return number * sp.Mul(*shared)


# --- the walk -----------------------------------------------------------------------------

def _form(e: sp.Expr) -> sp.Expr:
    if not e.args or isinstance(e, A.ShapedSymbol):
        return e
    args = [_form(a) for a in e.args]
    e = e.func(*args) if _name(e) is None else P.REGISTRY[_name(e)].cls(*args)
    shape = A.shape_of(e)
    if isinstance(e, sp.Mul) and shape:
        arrays = [a for a in e.args if A.shape_of(a)]
        ones = [a for a in arrays if isinstance(a, A.SizeConstant) and a.constant == "ones"]
        if ones and len(arrays) > len(ones):          # 𝟏 ⊙ Xb = Xb
            e = sp.Mul(*(a for a in e.args if a not in ones))
    if not shape or not (isinstance(e, sp.Add) or _name(e) in
                         ("matmul", "inv", "transpose", "matpow") or isinstance(e, sp.Mul)):
        return e
    collected = _collected(_terms(e), shape)
    return collected if A.size(collected) < A.size(e) else e     # only where it is shorter
