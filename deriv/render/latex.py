"""LaTeX in the documents' notation: one `_print_<Class>` method per deriv primitive.

    psi02 → \\psi_{02},  relu(z) → a\\left[z\\right],  indicator(z) → \\mathbb{I}\\left[z > 0\\right],
    sigmoid(z) → \\sigma\\left(z\\right),  D(y, f3) → \\frac{\\partial y}{\\partial f_{3}}

`solution` renders a whole derivation as a compilable fragment (needs amsmath and amssymb):
the forward pass, then one `align*` line per chain-rule step,
`\\frac{\\partial y}{\\partial f_3} &= <chain> = <expression> = <value>` (a step too long for the
page continues on `&= …` lines), then the results. Names follow the problem's `display` table
(W⁽¹⁾₁ → W^{(1)}_{1}), else deriv.names.latex. No computation happens here.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter as SympyLatexPrinter

from deriv import algebra as A
from deriv import primitives as P
from deriv.names import GREEK, latex as latex_name
from deriv.parse import dref_of
from deriv.render.notation import hadamard_power
from sympy.printing.precedence import PRECEDENCE
from deriv.render.notation import ArrayNotation, Memo, decimal, number as plain_number

PREAMBLE = r"\usepackage{amsmath,amssymb}"


class LatexPrinter(Memo, ArrayNotation, SympyLatexPrinter):
    """SymPy's LaTeX printer taught deriv's primitives and the documents' names.

    `relu_style` is "bracket" (the documents' a[z]) or "name" (\\mathrm{ReLU}(z)).
    """

    PARENS, ODOT, TIMES, FRACTION = r"\left(%s\right)", r" \odot ", " ", r"\frac{%s}{%s}"

    def __init__(self, display: dict[str, str] | None = None, relu_style: str = "bracket",
                 **settings):
        super().__init__(settings)
        self.display = display or {}
        self.relu_style = relu_style

    # --- names ---------------------------------------------------------------------------
    def name(self, name: str) -> str:
        for suffix, accent in (("_bar", r"\bar"), ("_dot", r"\dot")):
            if name.endswith(suffix) and len(name) > len(suffix):
                return r"%s{%s}" % (accent, self.name(name[: -len(suffix)]))
        shown = self.display.get(name)
        if shown is not None and "\\" not in shown:
            converted = from_unicode(shown)
            if converted is not None:
                return converted
        return latex_name(name, self.display)

    def partial(self, of: str, wrt: str) -> str:
        return r"\frac{\partial %s}{\partial %s}" % (self.name(of), self.name(wrt))

    def _print_Symbol(self, expr, style="plain"):
        if isinstance(expr, A.SizeConstant):
            if expr.constant.startswith("onehot"):
                return r"\mathbf{e}_{%s}" % expr.constant[len("onehot"):]
            return {"eye": "I", "ones": r"\mathbf{1}", "zeros": r"\mathbf{0}"}[expr.constant]
        if isinstance(expr, A.ArrayLiteral):
            return r"\begin{bmatrix}%s\end{bmatrix}" % r" \\ ".join(
                " & ".join(self._print(v) for v in row) for row in expr.rows)
        ref = dref_of(expr)
        if ref is not None:
            return self.partial(ref.of, ref.wrt)
        return self.name(expr.name)

    def _print_Pow(self, expr):
        base, exponent = expr.args
        if isinstance(base, sp.Symbol) and dref_of(base) is not None:
            return r"\left(%s\right)^{%s}" % (self._print(base), self._print(exponent))
        if exponent.is_Integer and exponent > 1 and hadamard_power(base):   # R ⊙ R
            return r"{%s}^{\circ %s}" % (self.parenthesize(base, PRECEDENCE["Pow"]), exponent)
        return super()._print_Pow(expr)

    # --- numbers -------------------------------------------------------------------------
    def _print_Float(self, expr):
        return number(float(expr))

    # --- registry operations: one method for all, from each entry's LaTeX template ------
    def _print_PrimitiveBase(self, expr, exp=None):
        entry = P.entry_of(expr)
        if entry.name == "relu" and self.relu_style == "name":
            return self._power(r"\mathrm{ReLU}\left(%s\right)" % self._print(expr.args[0]), exp)
        if entry.name == "indicator":
            arg = expr.args[0]
            if arg.could_extract_minus_sign() and not arg.is_Add:
                return self._power(r"\mathbb{I}\left[%s < 0\right]" % self._print(-arg), exp)
        if entry.name == "transpose" and P.entry_of(expr.args[0]) is P.REGISTRY["inv"]:
            return self._power("{" + self._operand(expr.args[0].args[0], True) + "}^{-\\top}", exp)
        if entry.name == "matpow":
            return self._power(self._power_text(expr.args[0], expr.args[1],
                                                "^{%d}" % int(expr.args[1]), "^{\\top}",
                                                "^{-1}", "^{-\\top}"), exp)
        return self._power(entry.latex.format(*self._operands(expr)), exp)

    @staticmethod
    def _power(text: str, exp) -> str:
        return r"{%s}^{%s}" % (text, exp) if exp is not None else text

    def _print_Mul(self, expr):
        return self._decimal_product(expr) or self._hadamard(expr) or super()._print_Mul(expr)

    def _print_Rational(self, expr):
        return decimal(expr) or super()._print_Rational(expr)

    def _print_exp(self, expr, exp=None):
        # The documents write \exp[f_3] like \sin[f_3]; e^{...} nests badly for exp(exp(x)).
        return self._power(r"\exp{\left(%s \right)}" % self._print(expr.args[0]), exp)


_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢᵣᵤᵥⱼ", "0123456789+-=()aeoxhklmnpstiruvj")
_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ", "0123456789+-=()niT")
_GREEK_LATEX = {v: "\\" + k for k, v in GREEK.items() if k not in ("eps", "lam", "phi")}
_GREEK_LATEX.update({"ϕ": r"\phi", "φ": r"\varphi", "ℓ": r"\ell", "ε": r"\epsilon"})
_ACCENTS = {"\u0302": r"\hat", "\u0305": r"\bar", "\u0304": r"\bar", "\u0307": r"\dot",
            "\u0303": r"\tilde"}


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def from_unicode(text: str) -> str | None:
    """A display name in LaTeX: W⁽¹⁾₁ → W^{(1)}_{1}, ŷ → \\hat{y}, 𝓛_reg →
    \\mathcal{L}_{\\mathrm{reg}}; a run of letters is one upright word. None if a character
    has no LaTeX form here."""
    text = unicodedata.normalize("NFD", text)
    atoms: list[str] = []
    i = 0

    def run(chars: str, start: int) -> int:
        end = start
        while end < len(text) and text[end] in chars:
            end += 1
        return end

    while i < len(text):
        ch = text[i]
        if ch.isascii() and ch.isalpha():
            end = run(_LETTERS, i)
            word = text[i:end]
            if len(word) == 1:
                atoms.append(word)
            else:
                atoms.append(r"\mathrm{%s}" % word)
        elif ch.isascii() and (ch.isdigit() or ch in "[](),+-=' "):
            end = i + 1
            atoms.append(ch)
        elif ch == "_" and i + 1 < len(text) and text[i + 1].isalnum():
            end = run(_LETTERS + "0123456789", i + 1)
            atoms.append("_{%s}" % from_unicode(text[i + 1:end]))
        elif ch in _SUB_CHARS:
            end = run(_SUB_CHARS, i)
            atoms.append("_{%s}" % text[i:end].translate(_SUB))
        elif ch in _SUP_CHARS:
            end = run(_SUP_CHARS, i)
            atoms.append("^{%s}" % text[i:end].translate(_SUP))
        elif ch in _ACCENTS and atoms:
            end = i + 1
            atoms[-1] = r"%s{%s}" % (_ACCENTS[ch], atoms[-1].strip())
        elif ch in _GREEK_LATEX:
            end = i + 1
            atoms.append(_GREEK_LATEX[ch] + " ")
        else:
            label = unicodedata.name(ch, "")
            if "SCRIPT CAPITAL" in label:
                atoms.append(r"\mathcal{%s}" % label[-1])
                end = i + 1
            else:
                return None
        i = end
    joined = "".join(atoms).replace(" _", "_").replace(" ^", "^").strip()
    return joined or None


_SUB_CHARS = "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢᵣᵤᵥⱼ"
_SUP_CHARS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ"


def number(value) -> str:
    """A value in LaTeX: 78.47, -12, 1.2 \\cdot 10^{-7}, \\infty; an array as a bmatrix."""
    if isinstance(value, np.ndarray):
        if value.size > 12:
            return r"[%d \times %d]" % value.shape
        return r"\begin{bmatrix}%s\end{bmatrix}" % r" \\ ".join(
            " & ".join(number(float(v)) for v in row) for row in value)
    text = plain_number(value)
    if text == "nan":
        return r"\mathrm{NaN}"
    if text in ("∞", "−∞"):
        return r"\infty" if value > 0 else r"-\infty"
    if "e" in text and text.replace("e", "").replace("-", "").replace("+", "") \
            .replace(".", "").isdigit():
        mantissa, _, exponent = text.partition("e")
        return r"%s \cdot 10^{%d}" % (mantissa, int(exponent))
    return text


_PRINTER: list = [None, None]          # (display, printer): its memo serves a whole solution


def printer(display: dict[str, str] | None = None) -> LatexPrinter:
    """The LaTeX printer of a problem's names (one a problem, so its memo is shared)."""
    if _PRINTER[0] is not display or _PRINTER[1] is None:
        _PRINTER[:] = [display, LatexPrinter(display)]
    return _PRINTER[1]


def math(expr, display: dict[str, str] | None = None, **settings) -> str:
    """One expression in LaTeX (math mode, no delimiters)."""
    return (LatexPrinter(display, **settings) if settings else printer(display)).doprint(expr)


def partial(of: str, wrt: str, display: dict[str, str] | None = None) -> str:
    return printer(display).partial(of, wrt)


def name(symbol: str, display: dict[str, str] | None = None) -> str:
    return printer(display).name(symbol)


def escape(text: str) -> str:
    """Plain text for a LaTeX comment or \\text{}: specials escaped, one line."""
    out = []
    for ch in " ".join(str(text).split()):
        if ch in "\\":
            out.append(r"\textbackslash{}")
        elif ch in "{}$&#_%":
            out.append("\\" + ch)
        elif ch == "^":
            out.append(r"\^{}")
        elif ch == "~":
            out.append(r"\~{}")
        else:
            out.append(ch)
    return "".join(out)


class LatexMath:
    """Math for deriv.render.words in LaTeX (findings in Markdown and LaTeX output)."""

    def __init__(self, display=None):
        self.printer = LatexPrinter(display)

    def name(self, n: str) -> str:
        return "$%s$" % self.printer.name(n)

    def partial(self, ref) -> str:
        return "$%s$" % self.printer.partial(ref.of, ref.wrt)

    def expr(self, expr) -> str:
        return "$%s$" % self.printer.doprint(expr)

    def shape(self, shape) -> str:
        return "scalar" if not shape else "$%s$" % r" \times ".join(
            self.printer.name(s) if isinstance(s, str) else str(s) for s in shape)

    def path(self, path) -> str:
        from deriv.render.words import shortened
        return "$%s$" % r" \to ".join(self.printer.name(n) if n is not None else r"\dots"
                                       for n in shortened(path))

    def transpose(self, text: str) -> str:
        return "${" + text[1:-1] + r"}^{\top}$" if text.endswith("$") else text + "ᵀ"

    def number(self, value) -> str:
        return "$%s$" % number(value)


def point(values: dict[str, float], display=None) -> str:
    """x = -2,\\ y = 5 (math mode)."""
    return r",\ ".join(f"{name(k, display)} = {number(v)}" for k, v in values.items())


# --- a Solution, line by line ------------------------------------------------------------------
def forward_rows(sol) -> list[str]:
    d = sol.problem.display
    return [f"{name(f.name, d)} &= {math(f.expr, d)}" +
            ("" if isinstance(f.expr, sp.Basic) and f.expr.is_Number
             else f" = {number(f.value)}") for f in sol.forward_pass]


WRAP = 80                           # visible characters before a row breaks at its = signs


def visible(tex: str) -> int:
    """A rough count of the characters a formula shows (\\exp counts 3, \\partial 1)."""
    tex = re.sub(r"\\(left|right|quad|mathrm|mathcal|mathbb|hat|bar|dot)\b", "", tex)
    tex = re.sub(r"\\(exp|log|sin|cos|tan|tanh|max|min|sqrt|ln)\b", "fff", tex)
    tex = re.sub(r"\\frac\{\\partial ([^{}]*)\}\{\\partial ([^{}]*)\}", r"dd\1", tex)
    return len(re.sub(r"\\[a-zA-Z]+", "x", tex).translate(str.maketrans("", "", "{}^_ ")))


def row(lhs: str, parts: list[str], wrap: int = WRAP) -> str:
    """`lhs &= a = b = c`, or one `&= …` line per part when that would run off the page."""
    if len(parts) < 2 or visible(lhs + "".join(parts)) <= wrap:
        return lhs + " &= " + " = ".join(parts)
    return lhs + " &= " + " \\\\\n  &= ".join(parts)


def step_parts(step, value, display, shown) -> tuple[str, list[str]]:
    """∂y/∂f_3, [chain, expression, value]"""
    tex = printer(display)
    lhs = tex.partial(step.target.of, step.target.wrt)
    parts = []
    terms = step.terms
    if terms and not (len(terms) == 1 and terms[0].factors == (step.target,)):
        parts.append(" + ".join(" ".join(tex.partial(f.of, f.wrt) for f in t.factors)
                                for t in terms))
    parts.append(tex.doprint(shown))
    if not shown.is_Number and value is not None:
        parts.append(number(value))
    return lhs, parts


def sweep_parts(sol, sweep) -> list[tuple[str, list[str]]]:
    d = sol.problem.display
    return [step_parts(s, sol.value(sweep.mode, s), d, sol.shown.get((sweep.mode, s.target)))
            for s in sweep.steps if not s.seed]


def sweep_rows(sol, sweep) -> list[str]:
    return [row(lhs, parts) for lhs, parts in sweep_parts(sol, sweep)]


def result_parts(sol) -> list[tuple[str, list[str]]]:
    d = sol.problem.display
    out = []
    for r in sol.results:
        parts = [math(r.expr, d)]
        if not r.expr.is_Number and r.value is not None:
            parts.append(number(r.value))
        out.append((partial(r.target.of, r.target.wrt, d), parts))
    return out


def result_rows(sol) -> list[str]:
    return [row(lhs, parts) for lhs, parts in result_parts(sol)]


def align(rows: list[str], env: str = "align*") -> str:
    if not rows:
        return ""
    return f"\\begin{{{env}}}\n" + " \\\\\n".join(rows) + f"\n\\end{{{env}}}"


def sweep_title(sweep, display) -> str:
    if sweep.mode == "reverse":
        return (r"Reverse mode: adjoints $\frac{\partial %s}{\partial \cdot}$, output to inputs"
                % name(sweep.origin, display))
    return (r"Forward mode: tangents $\frac{\partial \cdot}{\partial %s}$, input to output"
            % name(sweep.origin, display))


def solution(sol) -> str:
    """A compilable fragment: comments naming the problem, then one `align*` per part."""
    p = sol.problem
    d = p.display
    out = [f"% deriv solve {p.id}: {' '.join(p.title.split())}"]
    if p.source_title or p.section:
        out.append(f"% source: {' '.join(p.source_title.split())}"
                   + (f" · {' '.join(p.section.split())}" if p.section else ""))
    out.append(f"% needs {PREAMBLE}")
    out.append(r"\noindent\textbf{Forward pass} at $%s$ (%s)"
               % (point(sol.point, d), escape(sol.point_source)))
    out.append(align(forward_rows(sol)))
    for sweep in sol.sweeps:
        rows = sweep_rows(sol, sweep)
        if rows:
            out.append(r"\noindent\textbf{%s}" % sweep_title(sweep, d))
            out.append(align(rows))
    if sol.omitted:
        from deriv.render.words import omitted_tangents
        out.append(r"\noindent\textit{%s}" % escape(omitted_tangents(sol, str)))
    if sol.results:
        out.append(r"\noindent\textbf{Result}")
        out.append(align(result_rows(sol)))
    return "\n".join(out) + "\n"


def solution_math(sol) -> str:
    """The derivation as one display-math block, for Jupyter's `_repr_latex_` (MathJax)."""
    rows = forward_rows(sol)
    for sweep in sol.sweeps:
        rows += sweep_rows(sol, sweep)
    return "$$\n" + align(rows + result_rows(sol), "aligned") + "\n$$"


def problem_math(problem) -> str:
    """A problem's graph as one display-math block (Jupyter's `_repr_latex_`)."""
    d = problem.display
    rows = [f"{name(n, d)} &= {math(problem.graph.nodes[n].expr, d)}" for n in problem.graph.order]
    return "$$\n" + align(rows, "aligned") + "\n$$"


def document(body: str, title: str | None = None) -> str:
    """A whole article around fragments (for compiling them, and for users who want a PDF)."""
    head = "\\documentclass{article}\n" + PREAMBLE + "\n\\begin{document}\n"
    if title:
        head += "\\section*{%s}\n" % escape(title)
    return head + body + "\n\\end{document}\n"
