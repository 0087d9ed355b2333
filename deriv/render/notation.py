"""Expressions in the documents' notation: one `_print_<Class>` method per node kind.

    psi02 → ψ₀₂,  relu(z) → a[z],  indicator(z) → 𝕀[z > 0],  x*y → x·y,  x**2 → x²
"""

from __future__ import annotations

import re

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from deriv import algebra as A
from deriv import primitives as P
from deriv.names import partial, pretty
from deriv.parse import dref_of

_WORD = re.compile(r"[A-Za-z]{2,}\(|L_")    # a function's name (det, tr, expm, L_exp) begins it
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


INFIX = {"kron"}                  # A ⊗ B: an operand of a product needs its parentheses


HUGE_BITS = 3000              # an integer of more than ~900 digits is shown as 1.00000e+1000


class Memo:
    """Each compound expression printed once per printer: a solution prints a chain's factor
    (1 − h₇²) in every later step of its run, and SymPy's printers cost more than deriving it.
    A printed form depends on the expression alone (a call with options is not memoised);
    atoms are not memoised (StrPrinter prints a Float by its depth). Bounded by MEMO_SIZE."""

    MEMO_SIZE = 20_000

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Integer) and abs(expr.p).bit_length() > HUGE_BITS:
            import mpmath                                          # (Python refuses to write
            return mpmath.nstr(mpmath.mpf(expr.p), 6)
        if kwargs or not isinstance(expr, sp.Basic) or not expr.args:   # it in digits)
            return super()._print(expr, **kwargs)
        memo = self.__dict__.setdefault("_memo", {})
        text = memo.get(expr)
        if text is None:
            if len(memo) >= self.MEMO_SIZE:
                memo.clear()
            text = memo[expr] = super()._print(expr)
        return text


class ArrayNotation:
    """What the Unicode and LaTeX printers share about arrays: a product of arrays is the
    Hadamard product, and which operands of AB, Aᵀ, A⁻¹ need parentheses. A printer gives
    `PARENS` (its parentheses) and `ODOT`, `TIMES` (its ⊙ and scalar product)."""

    def _operand(self, expr, postfix: bool = False) -> str:
        text = self._print(expr)
        # a product is a factor of a product as it stands, but (AB)ᵀ needs its parentheses
        entry = P.entry_of(expr)
        atomic = (expr.is_Symbol and dref_of(expr) is None) or (
            entry is not None and entry.name not in INFIX and
            not (postfix and entry.name in ("matmul", "matpow")))
        return text if atomic and not expr.is_Add else self.PARENS % text

    def _as_ordered_terms(self, expr, order=None):
        """A sum of arrays led by a positive term where it has one: p − y, h₃ − y, not SymPy's
        −y + p (a scalar sum keeps SymPy's order, which the references' forms follow)."""
        terms = super()._as_ordered_terms(expr, order=order)
        if terms and terms[0].could_extract_minus_sign() and A.shape_of(expr):
            first = next((k for k, t in enumerate(terms) if not t.could_extract_minus_sign()),
                         None)
            if first is not None:
                terms = [terms[first]] + terms[:first] + terms[first + 1:]
        return terms

    def _decimal_product(self, expr) -> str | None:
        """0.10703·x², a decimal coefficient as the file wrote it, not 10703…·x²/10⁵…"""
        c, rest = expr.as_coeff_Mul()
        if not c.is_Rational or c.is_Integer or rest == 1 or decimal(c) is None:
            return None
        from sympy.printing.precedence import precedence
        return ("-" if c < 0 else "") + decimal(abs(c)) + self.TIMES + \
            self.parenthesize(rest, precedence(expr))

    def _operands(self, expr) -> list[str]:
        """The printed arguments of a registry operation."""
        name = P.entry_of(expr).name
        if name in ("matmul", "transpose", "inv", "kron", "kron_left", "kron_right", "matpow"):
            return [self._operand(a, name != "matmul") for a in expr.args]
        return [self._print(a) for a in expr.args]

    def _power_text(self, base, k, power: str, transposed: str, inverse: str,
                    inverse_transposed: str) -> str:
        """Xᵏ; of a transpose (Xᵀ)ᵏ as the references write it, (Xᵏ)ᵀ; of an inverse (X⁻¹)ᵏ,
        of its transpose (X⁻ᵀ)ᵏ."""
        entry = P.entry_of(base)
        if entry is not None and entry.name == "transpose" and \
                P.entry_of(base.args[0]) is P.REGISTRY["inv"]:
            return self.PARENS % (self._operand(base.args[0].args[0], True) +
                                  inverse_transposed) + power
        if entry is not None and entry.name == "transpose":
            return self.PARENS % (self._operand(base.args[0], True) + power) + transposed
        if entry is not None and entry.name == "inv":
            return self.PARENS % (self._operand(base.args[0], True) + inverse) + power
        return self._operand(base, True) + power

    def _hadamard(self, expr) -> str | None:
        """A product with arrays: A ⊙ B, and c·A with the scalars in front (2·det(X)·X⁻ᵀ, as
        the references write it; SymPy's order would put the matrix first). SymPy's LaTeX
        printer hands 1/x (a Pow) to _print_Mul too: a power's args are no factors."""
        if not expr.is_Mul:
            return None
        arrays = [a for a in expr.args if A.shape_of(a)]
        if len(arrays) == 1:
            scalars = sp.Mul(*(a for a in expr.args if not A.shape_of(a)))
            sign = "-" if scalars.could_extract_minus_sign() else ""
            scalars = -scalars if sign else scalars
            numerator, denominator = scalars.as_numer_denom()     # I/β, γ·K⁻¹/2
            level = sp.printing.precedence.PRECEDENCE["Mul"]
            head = "" if numerator == 1 else \
                self.parenthesize(numerator, level, strict=True) + self.TIMES
            body = head + self.parenthesize(arrays[0], level, strict=True)
            if denominator == 1:
                return sign + body
            if self.FRACTION:
                return sign + self.FRACTION % (body, self._print(denominator))
            return sign + body + "/" + self.parenthesize(denominator, level, strict=False)
        if len(arrays) < 2:
            return None
        scalars = [a for a in expr.args if not A.shape_of(a)]
        parts = [self.parenthesize(a, sp.printing.precedence.PRECEDENCE["Mul"]) for a in arrays]
        coefficient = sp.Mul(*scalars)
        sign = "-" if coefficient.could_extract_minus_sign() else ""
        coefficient = -coefficient if sign else coefficient
        level = sp.printing.precedence.PRECEDENCE["Mul"]      # (y − t)·s ⊙ v, never 1·
        head = self.parenthesize(coefficient, level, strict=True) + self.TIMES \
            if coefficient != 1 else ""
        return sign + head + self.ODOT.join(parts)


class TextPrinter(Memo, ArrayNotation, StrPrinter):
    """One-line Unicode math for the terminal."""

    PARENS, ODOT, TIMES, FRACTION = "(%s)", " ⊙ ", "·", None

    def __init__(self, display: dict[str, str] | None = None, **settings):
        # order "none": terms in SymPy's canonical order, without sorting them again for each
        # print (which cost more than deriving a thousand-node chain)
        super().__init__({"order": "none", **settings})
        self.display = display or {}

    def _print_Symbol(self, expr):
        ref = dref_of(expr)
        if ref is not None:
            return partial(ref.of, ref.wrt, self.display)
        if isinstance(expr, A.SizeConstant):
            if expr.constant.startswith("onehot"):
                return "e" + expr.constant[len("onehot"):].translate(_SUBSCRIPTS)
            return {"eye": "I", "ones": "𝟏", "zeros": "𝟎"}[expr.constant]
        if isinstance(expr, A.ArrayLiteral):
            return expr.name
        name = expr.name
        for suffix, mark in (("_bar", "\u0305"), ("_dot", "\u0307")):
            if name.endswith(suffix):
                return pretty(name[: -len(suffix)], self.display) + mark
        return pretty(name, self.display)

    def _print_Pi(self, expr):
        return "π"

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp.is_Integer and 1 < int(exp) < 10:
            return self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"]) + \
                "∘" * hadamard_power(base) + str(int(exp)).translate(SUPERSCRIPT)
        if exp.is_Integer and -10 < int(exp) < 0:     # 1/s², not s^(-2)
            return "1/" + self.parenthesize(base ** -exp if exp != -1 else base,
                                            sp.printing.precedence.PRECEDENCE["Mul"],
                                            strict=True)
        return super()._print_Pow(expr, rational).replace("**", "^")

    # --- registry operations: one method for all, from each entry's Unicode template -----
    def _print_PrimitiveBase(self, expr):
        entry = P.entry_of(expr)
        if entry.name == "indicator":
            arg = expr.args[0]
            if arg.could_extract_minus_sign() and not arg.is_Add:
                return f"𝕀[{self._print(-arg)} < 0]"
        if entry.name == "transpose" and P.entry_of(expr.args[0]) is P.REGISTRY["inv"]:
            return self._operand(expr.args[0].args[0], True) + "⁻ᵀ"
        if entry.name == "matpow":
            return self._power_text(*expr.args, str(int(expr.args[1])).translate(SUPERSCRIPT),
                                    "ᵀ", "⁻¹", "⁻ᵀ")
        if entry.name == "matmul":       # X·det(Y), A·L_sin(X, Ẋ): a word after a name
            left, right = self._operands(expr)
            first = expr.args[1]
            while P.entry_of(first) is P.REGISTRY["matmul"]:
                first = first.args[0]
            named = P.entry_of(first) is not None and _WORD.match(P.entry_of(first).unicode)
            return left + ("·" if named and _WORD.match(right) else "") + right
        return entry.unicode.format(*self._operands(expr))

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Mul(self, expr):
        return self._decimal_product(expr) or self._hadamard(expr) or \
            super()._print_Mul(expr).replace("*", "·")

    def _print_Float(self, expr):
        return number(float(expr))

    def _print_Rational(self, expr):
        return decimal(expr) or super()._print_Rational(expr)


def decimal(q: sp.Rational) -> str | None:
    """A literal the file wrote as a decimal, as it wrote it: 0.044715, not 8943/200000 (the
    parser keeps it exact); a fraction whose decimals end, past hundredths. None otherwise."""
    p, d = int(q.p), int(q.q)
    if d <= 100:
        return None
    rest = d
    for f in (2, 5):
        while rest % f == 0:
            rest //= f
    if rest != 1:
        return None
    from decimal import Decimal, localcontext
    with localcontext() as ctx:
        ctx.prec = len(str(abs(p))) + len(str(d)) + 2
        value = Decimal(p) / Decimal(d)
        text = format(value, "f")
        # (1e-300 as the file wrote it, not 0.000… with 299 zeros)
        if value and not Decimal("1e-6") <= abs(value) < Decimal("1e15"):
            return format(value.normalize(), "e")
        return text


def number(value) -> str:
    """A value as a reader wants it: 78.47, −12, 1.2e-07; an array as nested brackets."""
    if isinstance(value, np.ndarray):
        return array_text(value)
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "∞" if value > 0 else "−∞"
    if value == int(value) and abs(value) < 1e12:
        return str(int(value))
    magnitude = abs(value)
    if 1e-4 <= magnitude < 1e6:
        text = f"{value:.6g}"
    else:
        text = f"{value:.4g}"
    return text


def array_text(value: np.ndarray, limit: int = 12) -> str:
    """[[0.5, −1.2], [2, 0]]; a column vector as [0.5, −1.2]ᵀ; a large one by its shape."""
    if value.size > limit:
        return f"[{value.shape[0]}×{value.shape[1]} array]"
    if value.ndim == 2 and value.shape[1] == 1:
        return "[" + ", ".join(number(float(v)) for v in value[:, 0]) + "]ᵀ"
    return "[" + ", ".join("[" + ", ".join(number(float(v)) for v in row) + "]"
                           for row in value) + "]"


_PRINTER: list = [None, None]          # (display, printer): one printer per problem's names


def text(expr, display: dict[str, str] | None = None) -> str:
    if _PRINTER[0] is not display or _PRINTER[1] is None:
        _PRINTER[:] = [display, TextPrinter(display)]
    return _PRINTER[1].doprint(expr)


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def hadamard_power(base) -> bool:
    """A matrix to a power is elementwise (R**2 = R ⊙ R): written R∘², never R²."""
    shape = A.shape_of_safe(base)
    return bool(shape) and shape[0] != 1 and shape[1] != 1


_MUL = sp.printing.precedence.PRECEDENCE["Mul"]


class SourcePrinter(Memo, StrPrinter):
    """Expressions in deriv's own file syntax (what JSON carries, for every kind):
    W.T @ x, hadamard(a, b), sum(X), eye(n), D(l, f)."""

    def _print_Symbol(self, expr):
        if isinstance(expr, A.SizeConstant):
            if expr.constant.startswith("onehot"):
                return f"onehot({expr.constant[len('onehot'):]}, {max(expr.dims, key=str)})"
            return f"eye({expr.dims[0]})" if expr.constant == "eye" else \
                f"{expr.constant}({', '.join(map(str, expr.dims))})"
        if isinstance(expr, A.ArrayLiteral):
            return "[" + ", ".join("[" + ", ".join(map(str, r)) + "]" for r in expr.rows) + "]"
        ref = dref_of(expr)
        return str(ref) if ref is not None else expr.name

    def _print_PrimitiveBase(self, expr):
        entry = P.entry_of(expr)
        if entry.name == "matmul":       # (@ binds as * does, left to right: A @ (2*B))
            return (f"({self.parenthesize(expr.args[0], _MUL)} @ "
                    f"{self.parenthesize(expr.args[1], _MUL, strict=True)})")
        args = [self._print(a) for a in expr.args]
        if entry.name == "transpose":
            return f"({args[0]}).T"
        if entry.name == "matpow":
            return f"({args[0]})**{args[1]}"
        if not entry.names:                  # sum(X, axis=0), softmax(Z, axis=1), ...
            return entry.unicode.format(*args)
        return f"{entry.names[0]}({', '.join(args)})"

    def _print_Mul(self, expr):
        arrays = [a for a in expr.args if A.shape_of(a)]
        if len(arrays) > 1:
            scalars = [a for a in expr.args if not A.shape_of(a)]
            out = self._print(arrays[0])
            for a in arrays[1:]:
                out = f"hadamard({out}, {self._print(a)})"
            return (self.parenthesize(sp.Mul(*scalars), _MUL) + "*"
                    if scalars else "") + out
        return super()._print_Mul(expr)

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        """A matrix's elementwise power in the file's words (X**k there is the matrix power):
        R ⊙ R as hadamard(R, R), its inverse as a division."""
        base, exp = expr.args
        if not (hadamard_power(base) and exp.is_Integer and 0 < abs(int(exp)) <= 8):
            return super()._print_Pow(expr, rational)
        out = self._print(base)
        for _ in range(abs(int(exp)) - 1):
            out = f"hadamard({out}, {self._print(base)})"
        return out if exp > 0 else f"1/{out if abs(int(exp)) > 1 else '(' + out + ')'}"


_SOURCE: list = []                     # one printer: its memo serves a whole solution


def source(expr) -> str:
    if not _SOURCE:
        _SOURCE.append(SourcePrinter())
    return _SOURCE[0].doprint(expr)
