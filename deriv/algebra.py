"""The algebra the sweep calls: shapes, and the derivative of one node's expression.

This is the one place that knows which kind a node is. A scalar is a SymPy Symbol (shape ());
a vector or matrix is an `ShapedSymbol` carrying its shape, (n, 1) for a column vector. The
elementwise part of any expression is ordinary SymPy algebra (on arrays, `*` is the Hadamard
product and every function applies elementwise), so its partials are SymPy's `diff`; a
structural operation (matrix product, transpose, inverse, ...) contributes through the VJP and
JVP of its registry entry.

    vjp(expr, bar, p):   p's share of expr's adjoint        x̄ = Σ ȳ ⊙ ∂y/∂x, summed to x's shape
    jvp(expr, dots):     the tangent of expr                 ẏ = Σ ∂y/∂x ⊙ ẋ
"""

from __future__ import annotations

import sys
from functools import lru_cache

import sympy as sp
from sympy import S

from deriv import matrix_functions as _matrix_functions  # noqa: F401  (registers its entries)
from deriv import primitives as P
from deriv.errors import DerivError
from deriv import reductions  # noqa: F401  (registers the entries over an axis)
from deriv import slopes  # noqa: F401  (registers the slopes programs compute tanh′, σ′ by)

SCALAR: tuple = ()
_THIS = sys.modules[__name__]      # handed to the registry's rules, which build with it


class ShapeError(Exception):
    pass


class ShapedSymbol(sp.Symbol):
    """A vector or matrix name; its shape is part of its identity."""

    def __new__(cls, name: str, dims: tuple):
        obj = sp.Symbol.__xnew__(cls, name, real=True)
        obj.dims = tuple(dims)
        return obj

    def _hashable_content(self):
        return super()._hashable_content() + (self.dims,)

    def __getnewargs_ex__(self):
        return (self.name, self.dims), {}

    def __getstate__(self):
        return {"dims": self.dims, "symmetric": getattr(self, "symmetric", False)}

    def __setstate__(self, state):
        self.dims = state["dims"]
        if state.get("symmetric"):
            self.symmetric = True


class SizeConstant(ShapedSymbol):
    """eye(n) and the all-ones array: values that depend only on the sizes."""

    def __new__(cls, kind: str, dims: tuple):
        obj = ShapedSymbol.__new__(cls, f"{kind}[{','.join(map(str, dims))}]", dims)
        obj.constant = kind
        return obj

    def __getnewargs_ex__(self):
        return (self.constant, self.dims), {}

    def __getstate__(self):
        return {"dims": self.dims, "constant": self.constant}

    def __setstate__(self, state):
        self.dims, self.constant = state["dims"], state["constant"]


class ArrayLiteral(ShapedSymbol):
    """A vector or matrix of numbers written in a formula: [1, 2, 3], [[1, 0], [0, 1]]."""

    def __new__(cls, rows: tuple):
        text = "[" + "; ".join(", ".join(str(v) for v in r) for r in rows) + "]"
        obj = ShapedSymbol.__new__(cls, text, (len(rows), len(rows[0])))
        obj.rows = rows
        return obj

    def __getnewargs_ex__(self):
        return (self.rows,), {}

    def __getstate__(self):
        return {"dims": self.dims, "rows": self.rows}

    def __setstate__(self, state):
        self.dims, self.rows = state["dims"], state["rows"]


class SizeValue(sp.Symbol):
    """A size name used as a number in a formula (1/n, √d): its value is the run's size."""

    def __new__(cls, name: str):
        return sp.Symbol.__xnew__(cls, name, positive=True, integer=True)

    def __getnewargs_ex__(self):
        return (self.name,), {}


def size_value(name: str) -> SizeValue:
    return SizeValue(name)


def seed(symbol: sp.Symbol) -> sp.Expr:
    """What a sweep starts from: 1 for a scalar (ȳ = 1, u̇ = 1); an array keeps its symbol
    (its seed is a direction)."""
    return symbol if shape_of(symbol) else S.One


def symbol(name: str, shape: tuple = SCALAR) -> sp.Symbol:
    shape = normal(shape)
    return ShapedSymbol(name, shape) if shape else sp.Symbol(name, real=True)


def normal(shape) -> tuple:
    """A literal 1×1 is a scalar."""
    shape = tuple(shape)
    return SCALAR if shape == (1, 1) else shape


def shape_text(shape) -> str:
    from deriv.names import pretty
    if not shape:
        return "scalar"
    return "[" + "×".join("·".join(pretty(f) for f in s.split("*")) if isinstance(s, str)
                          else str(s) for s in shape) + "]"


def _size_factors(size) -> list:
    return [size] if isinstance(size, int) else \
        [int(f) if f.isdigit() else f for f in size.split("*")]


def _size_of(factors: list):
    number = 1
    for f in factors:
        number *= f if isinstance(f, int) else 1
    names = sorted(f for f in factors if not isinstance(f, int))
    if not names:
        return number
    return "*".join(([str(number)] if number != 1 else []) + names)


def size_product(a, b):
    """The size a·b (a Kronecker product's rows): a number, or the sizes' names joined by *
    in one canonical order ("m*p"), which sampling.concrete multiplies out."""
    return _size_of(_size_factors(a) + _size_factors(b))


def size_quotient(a, b):
    """The size a/b where b divides a as written (m·p / p = m), else None."""
    rest = _size_factors(a)
    number = 1
    for f in rest:
        number *= f if isinstance(f, int) else 1
    rest = [f for f in rest if not isinstance(f, int)]
    for f in _size_factors(b):
        if isinstance(f, int):
            if number % f:
                return None
            number //= f
        elif f in rest:
            rest.remove(f)
        else:
            return None
    return _size_of(rest + [number])


def eye(n) -> SizeConstant:
    return SizeConstant("eye", (n, n))


def ones(shape) -> sp.Expr:
    return SizeConstant("ones", shape) if shape else S.One


def zeros(shape) -> sp.Expr:
    """The zero array: what A − A or 0·A is (SymPy folds them to the number 0)."""
    return SizeConstant("zeros", shape) if shape else S.Zero


def shaped(result: sp.Expr, shape: tuple) -> sp.Expr:
    """`result` with the shape its operands gave it: SymPy folds A − A to the scalar 0."""
    if shape and not shape_of(result) and result == 0:
        return zeros(shape)
    if shape and not shape_of(result) and result.is_number:     # X / X: ones
        return result * ones(shape)
    return result


# --- shapes ------------------------------------------------------------------------------------

@lru_cache(maxsize=10_000)
def free(expr: sp.Expr) -> frozenset:
    """expr.free_symbols, once per expression (SymPy walks the tree on every call: a claim's
    were walked three times as it was checked)."""
    return frozenset(expr.free_symbols)


@lru_cache(maxsize=100_000)
def shape_of(expr: sp.Expr) -> tuple:
    if isinstance(expr, ShapedSymbol):
        return expr.dims
    if not expr.args or expr.is_Number:
        return SCALAR
    entry = P.entry_of(expr)
    if entry is not None and not entry.elementwise:
        return _structural_shape(entry, [shape_of(a) for a in expr.args])
    return broadcast([shape_of(a) for a in expr.args], _symbol_of(expr))


def _symbol_of(expr) -> str:
    return {sp.Add: "+", sp.Mul: "⊙"}.get(type(expr), type(expr).__name__)


def broadcast(shapes, what: str = "+") -> tuple:
    """NumPy's rule on (rows, cols): sizes equal, or one of them 1 (a 1×n row against an m×n
    matrix, an m×1 column, a scalar against anything)."""
    arrays = list(dict.fromkeys(s for s in shapes if s))
    if not arrays:
        return SCALAR
    out = list(arrays[0])
    for s in arrays[1:]:
        for axis in (0, 1):
            if s[axis] == out[axis] or s[axis] == 1:
                continue
            if out[axis] == 1:
                out[axis] = s[axis]
                continue
            a, b = sorted(arrays, key=str)[:2] if len(arrays) == 2 else (tuple(out), s)
            raise ShapeError(f"shape mismatch for {what}: {shape_text(a)} and {shape_text(b)}")
    return normal(out)


def _as_matrix(shape):
    return shape if shape else (1, 1)


def product_shape(a: tuple, b: tuple) -> tuple:
    """The shape of the matrix product of shapes a and b (a scalar counts as 1×1)."""
    a, b = _as_matrix(a), _as_matrix(b)
    if a[1] != b[0]:
        raise ShapeError(f"shape mismatch for @: {shape_text(a)} and {shape_text(b)}")
    return normal((a[0], b[1]))


def _structural_shape(entry: P.Primitive, shapes: list[tuple]) -> tuple:
    if entry.shape_rule is not None:
        return entry.shape_rule(_THIS, shapes)
    kind = entry.shape
    if kind == "matmul":
        return product_shape(*shapes)
    (a,) = shapes
    if kind == "transpose":
        return (a[1], a[0]) if a else SCALAR
    if kind in ("square", "square-reduce"):
        if a and a[0] != a[1]:
            raise ShapeError(f"{entry.names[0]} needs a square matrix, not {shape_text(a)}")
        return a if kind == "square" else SCALAR
    if kind == "reduce":
        return SCALAR
    if kind in ("reduce0", "reduce1"):          # keeps the reduced axis, with size 1
        return normal((1, a[1]) if kind == "reduce0" else (a[0], 1)) if a else SCALAR
    if kind == "same":
        return a
    if kind == "diag":
        if not a:
            return SCALAR
        if a[1] == 1:
            return (a[0], a[0])
        if a[0] != a[1]:
            raise ShapeError(f"diag needs a vector or a square matrix, not {shape_text(a)}")
        return (a[0], 1)
    raise ShapeError(f"no shape rule for {entry.name}")


def derivative_shape(of: tuple, wrt: tuple, layout: str = "gradient") -> tuple:
    """The shape of ∂of/∂wrt: of a scalar, wrt's shape; of vectors (or a scalar and a vector),
    len(wrt) × len(of) — transposed in the derivative layout; of a matrix by a scalar, the
    matrix's shape in both layouts (entry by entry ∂Yᵢⱼ/∂x, as the Matrix Cookbook writes it)."""
    if not of:
        shape = wrt
    elif not wrt and _length(of) is None:
        return of
    else:
        n_of, n_wrt = _length(of), _length(wrt) if wrt else 1
        if n_of is None or n_wrt is None:
            raise ShapeError(f"of a {shape_text(of)} by a {shape_text(wrt)} is a tensor of order "
                             "3 or 4; deriv handles D(a, b) with a or b a scalar, or with a "
                             "and b vectors")
        shape = normal((n_wrt, n_of))
    if layout == "derivative" and shape:
        shape = normal((shape[1], shape[0]))
    return shape


def _length(shape: tuple):
    if shape[1] == 1:
        return shape[0]
    return shape[1] if shape[0] == 1 else None


# --- builders that know shapes (the registry's VJPs and JVPs call these) ----------------------

def split_scalar(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """c·A → (c, A) where c is the product of the scalar factors."""
    if isinstance(expr, sp.Mul):
        scalars = [a for a in expr.args if not shape_of(a)]
        arrays = [a for a in expr.args if shape_of(a)]
        if scalars and len(arrays) == 1:
            return sp.Mul(*scalars), arrays[0]
    return S.One, expr


def T(expr: sp.Expr) -> sp.Expr:
    if not shape_of(expr):
        return expr
    if (isinstance(expr, SizeConstant) and expr.constant == "eye") or \
            getattr(expr, "symmetric", False):          # a node defined symmetric: Sᵀ = S
        return expr
    if isinstance(expr, SizeConstant):
        return SizeConstant(expr.constant, (expr.dims[1], expr.dims[0]))
    if isinstance(expr, ArrayLiteral):
        return ArrayLiteral(tuple(zip(*expr.rows)))
    if isinstance(expr, P.REGISTRY["transpose"].cls):
        return expr.args[0]
    if isinstance(expr, P.REGISTRY["matpow"].cls):       # (Xᵏ)ᵀ = (Xᵀ)ᵏ
        return matpow(T(expr.args[0]), int(expr.args[1]))
    c, a = split_scalar(expr)
    if c != 1:
        return c * T(a)
    if isinstance(expr, sp.Add):
        return sp.Add(*(T(t) for t in expr.args))
    if isinstance(expr, P.REGISTRY["matmul"].cls):
        return matmul(T(expr.args[1]), T(expr.args[0]))
    return P.call("transpose", expr)


def scaled(number: sp.Expr, atom: sp.Expr) -> sp.Expr:
    """number·atom as SymPy's canonical Mul, built without its general flattening (a long
    weighted sum spends most of its reading time there); anything else is multiplied."""
    if atom.is_Symbol or atom.is_Function or (atom.is_Pow and atom.base.is_Symbol):
        if number is sp.S.One:            # (SymPy's 0 and 1 are singletons)
            return atom
        # (a Rational is finite: asking a new one SymPy's is_finite copies and deduces all
        # of its class's assumptions, most of the time reading 5,000 claims k·x took)
        if number is not sp.S.Zero and (isinstance(number, sp.Rational) or number.is_finite):
            return sp.Mul._from_args((number, atom), True)
    return number * atom


def matmul(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    if not shape_of(a) or not shape_of(b):
        return a * b
    ca, a = split_scalar(a)
    cb, b = split_scalar(b)
    if isinstance(a, SizeConstant) and a.constant == "eye":
        product = b
    elif isinstance(b, SizeConstant) and b.constant == "eye":
        product = a
    else:
        product = P.call("matmul", a, b)
        shape_of(product)            # a mismatch here is a bug in a rule: fail loudly
    return scaled(ca * cb, product)


def matpow(a, k: int):
    """aᵏ for an integer k ≥ 0: I, a, or the power (of a transpose: the transpose's base)."""
    if k == 0:
        return eye_like(a)
    if k == 1 or not shape_of(a):
        return a ** k
    return P.call("matpow", a, sp.Integer(k))


def frechet(name: str, x, e):
    """L_f(X, E), the Fréchet derivative of the matrix function `name` at X in direction E:
    c·f′(X) where E = cI (f′ commutes with X), f′(x)·e for a scalar."""
    from deriv.matrix_functions import DERIVATIVE
    if e == 0:
        return S.Zero
    c, m = split_scalar(e)
    g, sign = DERIVATIVE[name]
    if not shape_of(x) or (isinstance(m, SizeConstant) and m.constant == "eye"):
        return sign * c * P.call(g, x) * (m if not shape_of(x) else 1)
    return c * P.call(name + "_frechet", x, m)


def eigvec(x, k):
    return P.call("eigvec", x, k)


def is_symmetric(expr: sp.Expr) -> bool:
    """Is expr a symmetric matrix by its construction: S + Sᵀ, XᵀX, XᵀSX, cI, diag(v), f(S)
    and S⁻¹, Sᵏ of a symmetric S, or a node whose definition is (marked `symmetric`)?"""
    shape = shape_of(expr)
    if not shape or getattr(expr, "symmetric", False):
        return True
    if shape[0] != shape[1]:
        return False
    if isinstance(expr, SizeConstant):
        return True
    if _unmarked(expr) or isinstance(expr, sp.Add) and all(_unmarked(a) for a in expr.args):
        return False     # X, or X + Y + …: what the general test below finds, in no time
    entry = P.entry_of(expr)
    if entry is not None and entry.name in ("inv", "matpow", "expm", "sinm", "cosm"):
        return is_symmetric(expr.args[0])
    if entry is not None and entry.name == "diag":
        return True
    if isinstance(expr, (sp.Add, sp.Mul)) and all(is_symmetric(a) for a in expr.args):
        return True
    marked = {s: s for s in expr.free_symbols if getattr(s, "symmetric", False)}
    same = {P.call("transpose", s): s for s in marked}
    return _associated(T(expr).xreplace(same)) == _associated(expr.xreplace(same))


def _unmarked(expr: sp.Expr) -> bool:
    """A plain array name not marked symmetric: Xᵀ is another expression (so is a sum of
    such names' transposes, Xᵀ + Yᵀ, from X + Y)."""
    return type(expr) is ShapedSymbol and not getattr(expr, "symmetric", False)


def _associated(expr: sp.Expr) -> sp.Expr:
    """Matrix products regrouped from the left, (AB)C, so that A(BC) compares equal."""
    if not expr.args or isinstance(expr, ShapedSymbol):
        return expr
    entry = P.entry_of(expr)
    if entry is not None and entry.name == "matmul":
        factors: list = []

        def flatten(e):
            if P.entry_of(e) is not None and P.entry_of(e).name == "matmul":
                flatten(e.args[0])
                flatten(e.args[1])
            else:
                factors.append(_associated(e))
        flatten(expr)
        out = factors[0]
        for f in factors[1:]:
            out = P.call("matmul", out, f)
        return out
    return expr.func(*(_associated(a) for a in expr.args))


def kron(a, b):
    return S.Zero if a == 0 or b == 0 else P.call("kron", a, b)


def kron_left(z, b):
    """tr₂[Z(I ⊗ Bᵀ)]: of Z = P ⊗ Q, the number ⟨Q, B⟩ = tr(QᵀB) times P."""
    if z == 0 or b == 0:
        return S.Zero
    c, z = split_scalar(z)
    if isinstance(z, P.REGISTRY["kron"].cls) and shape_of(z.args[1]) == shape_of(b):
        return c * trace(matmul(T(z.args[1]), b)) * z.args[0]
    return c * P.call("kron_left", z, b)


def kron_right(z, a):
    """tr₁[(Aᵀ ⊗ I)Z]: of Z = P ⊗ Q, the number tr(PᵀA) times Q."""
    if z == 0 or a == 0:
        return S.Zero
    c, z = split_scalar(z)
    if isinstance(z, P.REGISTRY["kron"].cls) and shape_of(z.args[0]) == shape_of(a):
        return c * trace(matmul(T(z.args[0]), a)) * z.args[1]
    return c * P.call("kron_right", z, a)


def inv(a):
    return P.call("inv", a) if shape_of(a) else 1 / a


def trace(a):
    return P.call("trace", a) if shape_of(a) else a


def total(a, axis=None):
    """The sum of a's entries, or over one axis (keeping it, with size 1)."""
    shape = shape_of(a)
    if not shape or (axis is not None and shape[axis] == 1):
        return a
    if axis is not None and shape[1 - axis] == 1:       # a vector summed along its length
        axis = None
    return P.call("total" if axis is None else f"total{axis}", a)


def diag(a):
    return P.call("diag", a) if shape_of(a) else a


def eye_like(a):
    s = shape_of(a)
    return eye(s[0]) if s else S.One


def ones_like(a):
    return ones(shape_of(a))


def unbroadcast(expr: sp.Expr, shape: tuple) -> sp.Expr:
    """Sum an adjoint over the axes its variable was broadcast along (a scalar times a matrix
    gets Σ of the elementwise products)."""
    have = shape_of(expr)
    if have == tuple(shape):
        return expr
    if not shape:
        return total(expr)
    if not have:
        return expr * ones(shape)
    for axis in (0, 1):              # a row or a column broadcast along the other axis
        if shape[axis] == 1 and have[axis] != 1:
            expr = total(expr, axis)
    have = shape_of(expr)
    if have == tuple(shape):
        return expr
    if broadcast([have, shape]) == tuple(shape):
        return expr * ones(shape)
    raise ShapeError(f"cannot reduce {shape_text(have)} to {shape_text(shape)}")


# --- derivatives of one expression -------------------------------------------------------------

@lru_cache(maxsize=4096)
def structural(expr: sp.Expr) -> bool:
    """Does expr hold a structural operation (a matrix product, a sum over entries, ...)?
    (Memoised: each edge of a node asks it of the node's expression — a loss summed over a
    thousand terms was walked once per term.)"""
    return any(P.entry_of(e) is not None and not P.entry_of(e).elementwise
               for e in sp.preorder_traversal(expr))


WIDE = 16                      # terms from which a sum's partials are read from that index


def _structural_parts(expr: sp.Expr, wrt: sp.Symbol | None) -> dict[sp.Expr, sp.Symbol]:
    """The outermost structural sub-expressions (those containing `wrt`, if given), each
    replaced by a stand-in of its shape so the rest is elementwise algebra."""
    found: dict[sp.Expr, sp.Symbol] = {}

    def walk(e):
        entry = P.entry_of(e)
        if entry is not None and not entry.elementwise:
            if wrt is None or e.has(wrt):
                found.setdefault(e, ShapedSymbol(f"_u{len(found)}", shape_of(e))
                                 if shape_of(e) else sp.Dummy(f"u{len(found)}", real=True))
            return
        for a in e.args:
            walk(a)
    walk(expr)
    return found


def vjp(expr: sp.Expr, bar: sp.Expr, wrt: sp.Symbol, out: sp.Expr | None = None) -> sp.Expr:
    """The contribution of `bar` (the adjoint of expr) to wrt's adjoint; 0 if none.
    `out` is the symbol expr is stored in (so rules may say Z instead of X⁻¹)."""
    if isinstance(expr, sp.Add) and wrt in expr.args and all(a.is_Symbol for a in expr.args):
        return unbroadcast(bar, shape_of(wrt))   # B + A: the general way costs 10× on each edge
    if isinstance(expr, sp.Add) and len(expr.args) >= WIDE and wrt.is_Symbol:
        # a wide sum (Σ sum(Yₖ) of a thousand nodes): only the terms holding wrt, each with
        # its share of bar — walking the whole sum for each of its edges was quadratic
        return sp.Add(*(vjp(t, unbroadcast(bar, shape_of(t)), wrt)
                        for t in _terms_holding(expr).get(wrt, ())))
    if not expr.has(wrt):
        return S.Zero
    parts = _structural_parts(expr, wrt)
    flat = expr.xreplace(parts) if parts else expr
    back = {u: sub for sub, u in parts.items()}
    total_ = S.Zero
    d = diff(flat, wrt).xreplace(back)
    if d != 0:
        total_ += unbroadcast(bar * d, shape_of(wrt))
    for sub, u in parts.items():
        du = diff(flat, u).xreplace(back)
        if du == 0:
            continue
        u_bar = unbroadcast(bar * du, shape_of(sub))
        entry = P.entry_of(sub)
        result = out if (out is not None and sub == expr) else sub
        for i, arg in enumerate(sub.args):
            if arg.has(wrt):
                total_ += vjp(arg, entry.vjp(_THIS, sub.args, result, u_bar, i), wrt)
    return total_


def jvp(expr: sp.Expr, dots: dict[sp.Symbol, sp.Expr], out: sp.Expr | None = None) -> sp.Expr:
    """The tangent of expr given the tangents of the symbols in `dots`."""
    parts = _structural_parts(expr, None)
    flat = expr.xreplace(parts) if parts else expr
    back = {u: sub for sub, u in parts.items()}
    total_ = S.Zero
    for s, s_dot in dots.items():
        if s_dot != 0 and flat.has(s):
            total_ += diff(flat, s).xreplace(back) * s_dot
    for sub, u in parts.items():
        if not any(sub.has(s) for s in dots):
            continue
        du = diff(flat, u).xreplace(back)
        arg_dots = [jvp(a, dots) for a in sub.args]
        entry = P.entry_of(sub)
        result = out if (out is not None and sub == expr) else sub
        total_ += du * entry.jvp(_THIS, sub.args, result, arg_dots)
    return total_


def edge_vjp(expr: sp.Expr, bar: sp.Expr, wrt: sp.Symbol, out: sp.Symbol) -> sp.Expr:
    """wrt's share of the adjoint `bar` of a node `out = expr`, in the node's own symbol where
    it reappears (1 − h² for h = tanh(z)): bar·∂out/∂wrt between scalars, the VJP otherwise."""
    if not shape_of(expr) and not shape_of(wrt) and not structural(expr):
        return bar * local(expr, wrt, out)
    share = vjp(expr, bar, wrt, out=out)
    return share.xreplace({expr: out}) if expr.args else share


def edge_jvp(expr: sp.Expr, dot: sp.Expr, wrt: sp.Symbol, out: sp.Symbol) -> sp.Expr:
    """The node's tangent from wrt's tangent `dot` (∂out/∂wrt·dot between scalars)."""
    if not shape_of(expr) and not shape_of(wrt) and not structural(expr):
        return local(expr, wrt, out) * dot
    share = jvp(expr, {wrt: dot}, out=out)
    return share.xreplace({expr: out}) if expr.args else share


def local(expr: sp.Expr, wrt: sp.Symbol, out: sp.Symbol) -> sp.Expr:
    """∂expr/∂wrt for scalars (an edge's partial), written in the node's own symbol where
    the node reappears inside it: ∂s/∂z = s(1 − s) for s = σ(z)."""
    entry = P.entry_of(expr)
    if entry is not None and entry.partials and len(expr.args) == 1 and \
            all(_plain_real(s) for s in expr.free_symbols):
        # f(g): f′ with the node's symbol put in at once (an f(g) built only to be replaced
        # cost most of a thousand-node sweep), times g′
        partial, inner = _partial_template(expr.func, entry), diff(expr.args[0], wrt)
        if partial == _PLACE[1] and inner == 1:      # exp(x): the node's formula itself
            return expr
        return _filled(partial, expr.args[0], out) * inner
    d = diff(expr, wrt)
    return d if d == expr else d.xreplace({expr: out})


_PLACE = (sp.Dummy("z", real=True), sp.Dummy("f", real=True))
MAX_PRODUCT_RULE = 20_000    # factors a product rule may write (a product of 1,000 factors
                             # of x: a million, 2 GB and minutes)
_PARTIALS: dict = {}     # f → f′(z) with f(z) itself as a placeholder


def _filled(template: sp.Expr, arg: sp.Expr, out: sp.Expr) -> sp.Expr:
    """A partial template with the node's argument and symbol put in; a function of an
    argument SymPy's own rules could not simplify (k·x, a sum of names) is built as it is:
    cos(1000·x) asked SymPy's trigonometric rules for multiples of π on each of a thousand
    edges, most of a wide graph's solve."""
    z, itself = _PLACE
    plain = bool(arg.free_symbols) and not arg.is_Function and not arg.has(sp.pi) and \
        not arg.could_extract_minus_sign()

    def fill(t):
        if t == z:
            return arg
        if t == itself:
            return out
        if not t.args:
            return t
        args = [fill(a) for a in t.args]
        if plain and isinstance(t, sp.Function) and t.args == (z,):
            return t.func(*args, evaluate=False)
        return t.func(*args)
    return fill(template)


def _plain_real(s: sp.Expr) -> bool:
    """A scalar symbol assumed real and nothing more, as the placeholder z is."""
    return type(s) is sp.Symbol and s.assumptions0 == _PLACE[0].assumptions0


def _partial_at(expr: sp.Expr, entry) -> sp.Expr:
    """f′(g) for expr = f(g), from f′ built once on placeholders, with expr itself where f′
    holds f(g) (1 − tanh(g)²): building tanh(g) anew on each edge of a thousand-node chain
    cost more than the rest of the sweep (SymPy checks g's sign and imaginary part)."""
    z, itself = _PLACE
    return _partial_template(expr.func, entry).xreplace({z: expr.args[0], itself: expr})


def _partial_template(func, entry) -> sp.Expr:
    """f′(z) on the placeholders, f(z) itself a placeholder too; built once per function."""
    z, itself = _PLACE
    if func not in _PARTIALS:
        _PARTIALS[func] = entry.partials[0](z).xreplace({func(z): itself})
    return _PARTIALS[func]


def diff(expr: sp.Expr, wrt: sp.Symbol, _has: dict | None = None) -> sp.Expr:
    """The elementwise partial ∂expr/∂wrt: the chain rule over Add, Mul and Pow, and each
    function's partials from its registry entry. (SymPy's `diff` gives the same, at 20 ms an
    edge where this takes a fraction of one: a graph of a thousand nodes is checked in
    seconds.)"""
    if _has is None:
        _has = {}
    if not _contains(expr, wrt, _has):
        return S.Zero
    if expr == wrt:
        return S.One
    if isinstance(expr, sp.Add):
        if len(expr.args) >= WIDE and wrt.is_Symbol:    # only the terms holding wrt
            return sp.Add(*(diff(a, wrt, _has) for a in _terms_holding(expr).get(wrt, ())))
        return sp.Add(*(diff(a, wrt, _has) for a in expr.args))
    if isinstance(expr, sp.Mul):
        args = expr.args
        holding = sum(1 for a in args if _contains(a, wrt, _has))
        if holding * len(args) > MAX_PRODUCT_RULE:
            raise DerivError(f"the product rule over a product of {len(args)} factors, "
                             f"{holding} of them holding {wrt}, writes {holding} terms of "
                             f"{len(args) - 1} factors: more than the {MAX_PRODUCT_RULE} "
                             "factors deriv writes out (deriv check evaluates it unwritten)")
        terms = []
        for i, a in enumerate(args):
            d = diff(a, wrt, _has)
            if d is not S.Zero:
                terms.append(sp.Mul(*(args[:i] + (d,) + args[i + 1:])))
        return sp.Add(*terms)
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        db, de = diff(base, wrt, _has), diff(exponent, wrt, _has)
        if de == 0:
            return exponent * base ** (exponent - 1) * db
        return expr * (de * sp.log(base) + (exponent * db / base if db != 0 else 0))
    entry = P.entry_of(expr)
    if entry is not None and entry.partials and len(expr.args) == 1 and \
            all(_plain_real(s) for s in expr.free_symbols):
        return _partial_at(expr, entry) * diff(expr.args[0], wrt, _has)
    if entry is not None and entry.partials:
        return sp.Add(*(entry.partials[i](*expr.args) * diff(a, wrt, _has)
                        for i, a in enumerate(expr.args) if _contains(a, wrt, _has)))
    if isinstance(expr, sp.Function) and entry is None:     # a SymPy function not registered
        return sp.Add(*(expr.fdiff(i + 1) * diff(a, wrt, _has)
                        for i, a in enumerate(expr.args) if _contains(a, wrt, _has)))
    return sp.diff(expr, wrt)


@lru_cache(maxsize=4096)
def _terms_holding(total: sp.Add) -> dict:
    """Each symbol of a wide sum → the terms that hold it, indexed once: a node's thousand
    edges each read their own term, not the thousand."""
    index: dict = {}
    for term in total.args:
        for s in term.free_symbols:
            index.setdefault(s, []).append(term)
    return index


def _contains(expr: sp.Expr, wrt: sp.Symbol, memo: dict) -> bool:
    """Does expr contain wrt? (memoised: free_symbols at every level of the chain rule would
    cost an expression's size times its depth)"""
    known = memo.get(expr)
    if known is None:
        if isinstance(expr, sp.Add) and len(expr.args) >= WIDE and wrt.is_Symbol:
            known = memo[expr] = wrt in _terms_holding(expr)   # indexed once, not walked
        else:                                                  # for each of its edges
            known = memo[expr] = (expr.is_Symbol and expr == wrt) or \
                any(_contains(a, wrt, memo) for a in expr.args)
    return known


REBUILT = ("matmul", "kron_left", "kron_right")   # and each f_frechet   # operations whose builder simplifies


def rebuild(expr: sp.Expr) -> sp.Expr:
    """Apply the builders bottom-up after a substitution: scalar factors out of products,
    transposes pushed inward, identities dropped."""
    if not expr.args or isinstance(expr, ShapedSymbol):
        return expr
    args = [rebuild(a) for a in expr.args]
    entry = P.entry_of(expr)
    if entry is not None and entry.name in REBUILT:
        return getattr(_THIS, entry.name)(*args)
    if entry is not None and entry.name.endswith("_frechet"):
        return frechet(entry.name[: -len("_frechet")], *args)
    if entry is not None and entry.name == "transpose":
        return T(args[0])
    return expr.func(*args)


def within(expr: sp.Expr, limit: int) -> bool:
    """At most `limit` operations, counted with an early stop (SymPy's count_ops would walk
    shared subtrees once per use, and a large formula in full)."""
    count = 0
    for node in sp.preorder_traversal(expr):
        count += bool(node.args)
        if count > limit:
            return False
    return True


def high_power(expr: sp.Expr) -> bool:
    """A power that expanding would multiply out into many terms ((x + 1)¹⁰⁰⁰ is short)."""
    return any(p.is_Pow and p.exp.is_Integer and abs(p.exp) > 6 for p in sp.preorder_traversal(expr))


_SIZES: dict = {}             # expression → size: a solution's steps share most subexpressions


def size(expr: sp.Expr) -> int:
    """The operations of an expression: its non-leaf nodes, each occurrence counted (a cheap
    sp.count_ops). Memoised (bounded), without recursion: an expression may be deep."""
    if not expr.args:
        return 0
    known = _SIZES.get(expr)
    if known is not None:
        return known
    if len(_SIZES) > 100_000:
        _SIZES.clear()
    stack = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if ready:
            _SIZES[e] = 1 + sum(_SIZES[a] for a in e.args if a.args)
        elif e not in _SIZES:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a.args and a not in _SIZES)
    return _SIZES[expr]


def jacobian(share: sp.Expr, bar: sp.Symbol, size) -> sp.Expr | None:
    """A vector node's VJP c̄ ↦ share, with c̄ = I: the Jacobian in the gradient layout (Ωᵀ for
    Ωh; diag(g) for an elementwise c̄ ⊙ g). None where that is no matrix expression."""
    identity = eye(size)
    # c̄ = I is the Jacobian only where c̄ enters through products: inside a reduction
    # (softmax's sum(p ⊙ c̄), which is pᵀc̄) it would be summed over as a matrix
    for e in sp.preorder_traversal(share):
        entry = P.entry_of(e)
        if entry is not None and not entry.elementwise and \
                entry.name not in ("matmul", "transpose") and e.has(bar):
            return None

    def diagonals(e):
        if not e.args or isinstance(e, ShapedSymbol):
            return e
        e = e.func(*(diagonals(a) for a in e.args))
        if isinstance(e, sp.Mul):      # v ⊙ M with M's columns along v: diag(v)·M
            shapes = [shape_of_safe(a) for a in e.args]
            matrices = [(a, s) for a, s in zip(e.args, shapes) if s and s[1] != 1]
            rows = matrices[0][1][0] if len(matrices) == 1 else None
            vectors = [a for a, s in zip(e.args, shapes) if s == (rows, 1)]
            scalars = [a for a, s in zip(e.args, shapes) if s == ()]
            matrices = [a for a, _ in matrices]
            if vectors and len(matrices) == 1 and \
                    len(vectors) + len(scalars) + 1 == len(e.args):
                d = diag(sp.Mul(*vectors))
                return sp.Mul(*scalars) * (d if matrices[0] == identity else
                                           P.call("matmul", d, matrices[0]))
        return e
    try:
        out = rebuild(diagonals(share.xreplace({bar: identity})))
        shape_of(out)
        return out
    except ShapeError:
        return None


def shape_of_safe(expr: sp.Expr):
    try:
        return shape_of(expr)
    except ShapeError:
        return None


CONSTANT_SYMBOLS = (SizeConstant, SizeValue, ArrayLiteral)    # symbols no input gives a value
