"""Matrix expressions: a small immutable tree whose every node knows its shape.

A shape is (rows, cols); each size is an int or a size name ("n", "D1"). A scalar is (1, 1),
a vector (n, 1). Constructors check shapes and raise ShapeError naming both shapes; the parser
turns that into a DerivError with the line.

Printing is the documents' notation (Wx, Xᵀ, X⁻¹, A ⊙ B, tr(X), ‖x‖²); an MExpr prints itself
through deriv's TextPrinter (it has `_sympystr`), so the shared renderers show it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from deriv.names import partial, pretty

Size = "int | str"
SCALAR = (1, 1)

ELEMENTWISE = {"exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "relu", "sigmoid",
               "indicator", "leaky_relu", "sign"}
KINKS = {"relu", "indicator", "abs", "leaky_relu", "sign"}


class ShapeError(Exception):
    pass


def size_text(s) -> str:
    return pretty(s) if isinstance(s, str) else str(s)


def shape_text(shape) -> str:
    return f"[{size_text(shape[0])}×{size_text(shape[1])}]"


def is_scalar(shape) -> bool:
    return tuple(shape) == SCALAR


@dataclass(frozen=True)
class MExpr:
    op: str
    args: tuple = ()
    shape: tuple = SCALAR
    data: object = None

    # --- rendering through deriv's printers ---------------------------------------------------
    def _sympystr(self, printer, **_):
        return show(self, getattr(printer, "display", None))

    def __str__(self):
        return show(self)

    @property
    def is_Number(self) -> bool:     # the shared renderers ask; a matrix shows no single value
        return True

    @property
    def scalar(self) -> bool:
        return is_scalar(self.shape)

    def walk(self):
        yield self
        for a in self.args:
            yield from a.walk()


# --- constructors, with shape checks ----------------------------------------------------------
def var(name: str, shape) -> MExpr:
    return MExpr("var", (), tuple(shape), name)


def adj(of: str, node: str, shape) -> MExpr:
    """The adjoint ∂of/∂node (gradient layout: the shape of node) as a placeholder."""
    return MExpr("adj", (), tuple(shape), (of, node))


def dref(of: str, wrt: str, layout: str, shape) -> MExpr:
    return MExpr("dref", (), tuple(shape), (of, wrt, layout))


def const(value) -> MExpr:
    v = Fraction(value).limit_denominator(10**6) if isinstance(value, (int, Fraction)) else value
    if isinstance(value, float) and float(Fraction(value).limit_denominator(1000)) == value:
        v = Fraction(value).limit_denominator(1000)
    return MExpr("const", (), SCALAR, v)


def eye(n) -> MExpr:
    return MExpr("eye", (), (n, n))


def ones(shape) -> MExpr:
    return MExpr("ones", (), tuple(shape))


def _mismatch(what: str, a: MExpr, b: MExpr) -> ShapeError:
    return ShapeError(f"shape mismatch for {what}: {shape_text(a.shape)} and "
                      f"{shape_text(b.shape)}")


def add(a: MExpr, b: MExpr) -> MExpr:
    if a.shape != b.shape:
        raise _mismatch("+", a, b)
    return MExpr("add", (a, b), a.shape)


def sub(a: MExpr, b: MExpr) -> MExpr:
    if a.shape != b.shape:
        raise _mismatch("−", a, b)
    return MExpr("add", (a, neg(b)), a.shape)


def neg(a: MExpr) -> MExpr:
    return MExpr("neg", (a,), a.shape)


def scale(s: MExpr, a: MExpr) -> MExpr:
    """s·A with s a scalar (1×1)."""
    if not s.scalar:
        if a.scalar:
            s, a = a, s
        else:
            raise ShapeError(f"shape mismatch for *: {shape_text(s.shape)} and "
                             f"{shape_text(a.shape)} (use @ for the matrix product, "
                             "hadamard(a, b) for the elementwise one)")
    return MExpr("scale", (s, a), a.shape)


def div(a: MExpr, s: MExpr) -> MExpr:
    if not s.scalar:
        raise ShapeError(f"division by a non-scalar {shape_text(s.shape)}")
    return MExpr("div", (a, s), a.shape)


def matmul(a: MExpr, b: MExpr) -> MExpr:
    if a.shape[1] != b.shape[0]:
        raise _mismatch("@", a, b)
    return MExpr("matmul", (a, b), (a.shape[0], b.shape[1]))


def T(a: MExpr) -> MExpr:
    return MExpr("T", (a,), (a.shape[1], a.shape[0]))


def had(a: MExpr, b: MExpr) -> MExpr:
    if a.shape != b.shape:
        raise _mismatch("⊙ (hadamard)", a, b)
    return MExpr("had", (a, b), a.shape)


def fn(name: str, a: MExpr, *extra: MExpr) -> MExpr:
    for e in extra:
        if not e.scalar:
            raise ShapeError(f"the parameter of {name} must be a scalar, not "
                             f"{shape_text(e.shape)}")
    return MExpr("fn", (a, *extra), a.shape, name)


def power(a: MExpr, k) -> MExpr:
    if not a.scalar:
        raise ShapeError(f"** needs a scalar base, not {shape_text(a.shape)} "
                         "(use hadamard(a, a) or a.T @ a)")
    return MExpr("pow", (a,), SCALAR, Fraction(k))


def _square(a: MExpr, what: str):
    if a.shape[0] != a.shape[1]:
        raise ShapeError(f"{what} needs a square matrix, not {shape_text(a.shape)}")


def reduce(op: str, a: MExpr) -> MExpr:
    """sum, norm2 (‖a‖²), norm (‖a‖), trace, det, logdet (log |det|): scalar results."""
    if op in ("trace", "det", "logdet"):
        _square(a, op)
    return MExpr(op, (a,), SCALAR)


def inv(a: MExpr) -> MExpr:
    _square(a, "inv")
    return MExpr("inv", (a,), a.shape)


def diag(a: MExpr) -> MExpr:
    """diag(v): vector → diagonal matrix; diag(M): square matrix → its diagonal (a vector)."""
    if a.shape[1] == 1:
        return MExpr("diag", (a,), (a.shape[0], a.shape[0]))
    _square(a, "diag")
    return MExpr("diagv", (a,), (a.shape[0], 1))


# --- printing ---------------------------------------------------------------------------------
SUP = {"T": "ᵀ", "inv": "⁻¹", "invT": "⁻ᵀ"}
SUPERSCRIPT = str.maketrans("0123456789-/", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᐟ")
FN_NAMES = {"sigmoid": "σ", "relu": "relu", "leaky_relu": "leaky_relu"}
ADD, MUL, NEG, POST, ATOM = 10, 20, 15, 30, 40


def number_text(v) -> str:
    if isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    f = float(v)
    return str(int(f)) if f == int(f) else f"{f:.6g}"


def prec(e: MExpr) -> int:
    op = e.op
    if op == "add":
        return ADD
    if op in ("matmul", "scale", "had", "div"):
        return MUL
    if op == "neg":
        return NEG
    if op == "const":
        return ATOM if e.data >= 0 and (not isinstance(e.data, Fraction)
                                        or e.data.denominator == 1) else NEG
    if op in ("T", "inv", "pow"):
        return POST
    if op == "adj" or op == "dref":
        return MUL
    return ATOM


def show(e: MExpr, display=None) -> str:
    d = display

    def p(x: MExpr, level: int) -> str:
        s = show(x, d)
        return f"({s})" if prec(x) < level else s

    op = e.op
    if op == "var":
        return pretty(e.data, d)
    if op == "adj":
        return partial(e.data[0], e.data[1], d)
    if op == "dref":
        of, wrt, layout = e.data
        return partial(of, wrt, d)
    if op == "const":
        return number_text(e.data)
    if op == "eye":
        return "I"
    if op == "ones":
        return "𝟏"
    if op == "add":
        a, b = e.args
        if b.op == "neg":
            return f"{show(a, d)} − {p(b.args[0], MUL)}"
        if b.op == "const" and b.data < 0:
            return f"{show(a, d)} − {number_text(-b.data)}"
        return f"{show(a, d)} + {show(b, d)}"
    if op == "neg":
        return "−" + p(e.args[0], MUL)
    if op == "scale":
        s, a = e.args
        right = p(a, MUL + 1) if a.op in ("had", "div") else p(a, MUL)
        if a.op in ("adj", "dref"):
            right = f"({right})"
        if s.op == "const":
            v = s.data
            if isinstance(v, Fraction) and v.denominator != 1:
                return f"({number_text(v)})" + right
            return number_text(v) + right
        left = f"({show(s, d)})" if s.op in ("adj", "dref") else p(s, MUL)
        return f"{left}·{right}"
    if op == "div":
        return f"{p(e.args[0], MUL)}/{p(e.args[1], POST)}"
    if op == "matmul":
        a, b = e.args
        left = f"({show(a, d)})" if a.op in ("adj", "dref") else \
            p(a, MUL + 1) if a.op in ("had", "div") else p(a, MUL)
        right = f"({show(b, d)})" if b.op in ("adj", "dref") else \
            p(b, MUL + 1) if b.op in ("had", "div", "scale") else p(b, MUL)
        return left + right
    if op == "had":
        return f"{p(e.args[0], MUL + 1)} ⊙ {p(e.args[1], MUL + 1)}"
    if op == "T":
        a = e.args[0]
        if a.op == "inv":
            return p(a.args[0], ATOM) + SUP["invT"]
        return p(a, ATOM) + SUP["T"]
    if op == "inv":
        a = e.args[0]
        if a.op == "T":
            return p(a.args[0], ATOM) + SUP["invT"]
        return p(a, ATOM) + SUP["inv"]
    if op == "pow":
        k = e.data
        return p(e.args[0], ATOM) + number_text(k).translate(SUPERSCRIPT)
    if op == "fn":
        name = e.data
        a = e.args[0]
        if name == "indicator":
            return f"𝕀[{show(a, d)} > 0]"
        if name == "recip":
            return "1/" + p(a, ATOM)
        if name == "sign":
            return f"sign({show(a, d)})"
        if name == "abs":
            return f"|{show(a, d)}|"
        extra = "".join(", " + show(x, d) for x in e.args[1:])
        return f"{FN_NAMES.get(name, name)}({show(a, d)}{extra})"
    if op == "sum":
        return f"sum({show(e.args[0], d)})"
    if op == "norm2":
        return f"‖{show(e.args[0], d)}‖²"
    if op == "norm":
        return f"‖{show(e.args[0], d)}‖"
    if op == "trace":
        return f"tr({show(e.args[0], d)})"
    if op == "det":
        return f"det({show(e.args[0], d)})"
    if op == "logdet":
        return f"log det({show(e.args[0], d)})"
    if op in ("diag", "diagv"):
        return f"diag({show(e.args[0], d)})"
    return f"{op}({', '.join(show(a, d) for a in e.args)})"


# --- structure --------------------------------------------------------------------------------
def rebuild(e: MExpr, args: tuple) -> MExpr:
    return MExpr(e.op, tuple(args), e.shape, e.data)


def substitute(e: MExpr, mapping) -> MExpr:
    """Replace leaves: mapping(leaf) → MExpr or None (keep)."""
    if not e.args:
        r = mapping(e)
        return e if r is None else r
    return rebuild(e, tuple(substitute(a, mapping) for a in e.args))


def names(e: MExpr) -> set[str]:
    return {x.data for x in e.walk() if x.op == "var"}


def drefs(e: MExpr) -> list[MExpr]:
    return [x for x in e.walk() if x.op == "dref"]


def kink_args(e: MExpr) -> list[MExpr]:
    return [x.args[0] for x in e.walk() if x.op == "fn" and x.data in KINKS]


def is_const(e: MExpr, value=None) -> bool:
    return e.op == "const" and (value is None or e.data == value)


def simplify(e: MExpr) -> MExpr:
    """Bottom-up tidying for display: 1·A, I·A, (Aᵀ)ᵀ, −−A, constants gathered, (AB)ᵀ = BᵀAᵀ."""
    if e.args:
        e = rebuild(e, tuple(simplify(a) for a in e.args))
    return _rule(e)


def _rule(e: MExpr) -> MExpr:
    op, a = e.op, e.args
    if op == "neg":
        x = a[0]
        if x.op == "neg":
            return x.args[0]
        if x.op == "const":
            return const(-x.data)
        if x.op == "scale" and is_const(x.args[0]) and x.args[0].data < 0:
            return _rule(MExpr("scale", (const(-x.args[0].data), x.args[1]), e.shape))
        return e
    if op == "scale":
        s, x = a
        if is_const(s, 1):
            return x
        if is_const(s, -1):
            return _rule(neg(x))
        if s.op == "const" and s.data < 0:
            return _rule(neg(_rule(MExpr("scale", (const(-s.data), x), e.shape))))
        if s.op == "neg":
            return _rule(neg(_rule(MExpr("scale", (s.args[0], x), e.shape))))
        if x.op == "neg":
            return _rule(neg(_rule(MExpr("scale", (s, x.args[0]), e.shape))))
        if s.op == "const" and x.op == "const":
            return const(s.data * x.data)
        if x.op == "const" and s.op != "const":
            return _rule(MExpr("scale", (x, s), e.shape))
        if s.op == "const" and x.op == "scale" and x.args[0].op == "const":
            return _rule(MExpr("scale", (const(s.data * x.args[0].data), x.args[1]), e.shape))
        if x.op == "scale" and x.args[0].op == "const":   # s·(c·A) → c·(s·A)
            return _rule(MExpr("scale", (x.args[0], _rule(MExpr("scale", (s, x.args[1]),
                                                                 e.shape))), e.shape))
        if s.op == "scale" and s.args[0].op == "const":   # (c·s)·A → c·(s·A)
            return _rule(MExpr("scale", (s.args[0], _rule(MExpr("scale", (s.args[1], x),
                                                                 e.shape))), e.shape))
        return e
    if op == "div":
        x, s = a
        if is_const(s, 1):
            return x
        if s.op == "const" and s.data != 0 and isinstance(s.data, Fraction):
            return _rule(MExpr("scale", (const(1 / s.data), x), e.shape))
        return e
    if op == "matmul":
        x, y = a
        if x.op == "eye":
            return y
        if y.op == "eye":
            return x
        for i, z in enumerate((x, y)):
            if z.op == "neg":
                other = (z.args[0], y) if i == 0 else (x, z.args[0])
                return _rule(neg(_rule(MExpr("matmul", other, e.shape))))
            if z.op == "scale" and z.args[0].op == "const":
                other = (z.args[1], y) if i == 0 else (x, z.args[1])
                return _rule(MExpr("scale", (z.args[0], _rule(MExpr("matmul", other, e.shape))),
                                   e.shape))
        if x.scalar and x.op == "const":
            return _rule(MExpr("scale", (x, y), e.shape))
        return e
    if op == "T":
        x = a[0]
        if x.scalar:
            return x
        if x.op == "T":
            return x.args[0]
        if x.op in ("eye", "diag"):
            return x
        if x.op == "ones":
            return ones(e.shape)
        if x.op == "matmul":
            return _rule(MExpr("matmul", (_rule(T(x.args[1])), _rule(T(x.args[0]))), e.shape))
        if x.op == "neg":
            return _rule(neg(_rule(T(x.args[0]))))
        if x.op == "scale":
            return _rule(MExpr("scale", (x.args[0], _rule(T(x.args[1]))), e.shape))
        if x.op == "div":
            return _rule(MExpr("div", (_rule(T(x.args[0])), x.args[1]), e.shape))
        return e
    if op == "had":
        x, y = a
        if x.op == "ones":
            return y
        if y.op == "ones":
            return x
        if x.scalar:
            return _rule(MExpr("scale", (x, y), e.shape))
        return e
    if op == "add":
        x, y = a
        if x.op == "neg" and y.op != "neg":
            return MExpr("add", (y, x), e.shape)
        return e
    return e
