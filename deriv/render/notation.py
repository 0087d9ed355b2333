"""Expressions in the documents' notation: one `_print_<Class>` method per node kind.

    psi02 → ψ₀₂,  relu(z) → a[z],  indicator(z) → 𝕀[z > 0],  x*y → x·y,  x**2 → x²
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.str import StrPrinter

from deriv.names import partial, pretty
from deriv.parse import dref_of

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class TextPrinter(StrPrinter):
    """One-line Unicode math for the terminal."""

    def __init__(self, display: dict[str, str] | None = None, **settings):
        super().__init__(settings)
        self.display = display or {}

    def _print_Symbol(self, expr):
        ref = dref_of(expr)
        if ref is not None:
            return partial(ref.of, ref.wrt, self.display)
        name = expr.name
        for suffix, mark in (("_bar", "\u0305"), ("_dot", "\u0307")):
            if name.endswith(suffix):
                return pretty(name[: -len(suffix)], self.display) + mark
        return pretty(name, self.display)

    def _print_Mul(self, expr):
        return super()._print_Mul(expr).replace("*", "·")

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.args
        if exp.is_Integer and 1 < int(exp) < 10:
            return self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"]) + \
                str(int(exp)).translate(SUPERSCRIPT)
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _call(self, name, expr):
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_relu(self, expr):
        return self._call("relu", expr)

    def _print_indicator(self, expr):
        arg = expr.args[0]
        if arg.could_extract_minus_sign() and not arg.is_Add:
            return f"𝕀[{self._print(-arg)} < 0]"
        return f"𝕀[{self._print(arg)} > 0]"

    def _print_sigmoid(self, expr):
        return self._call("σ", expr)

    def _print_leaky_relu(self, expr):
        return self._call("leaky_relu", expr)

    def _print_maximum(self, expr):
        return self._call("max", expr)

    def _print_minimum(self, expr):
        return self._call("min", expr)

    def _print_rect(self, expr):
        return self._call("rect", expr)

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Float(self, expr):
        return number(float(expr))


def number(value: float) -> str:
    """A value as a reader wants it: 78.47, −12, 1.2e-07."""
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


def text(expr, display: dict[str, str] | None = None) -> str:
    return TextPrinter(display).doprint(expr)
