"""LaTeX in the documents' notation: one `_print_<Class>` method per deriv primitive.

    psi02 → \\psi_{02},  relu(z) → a\\left[z\\right],  indicator(z) → \\mathbb{I}\\left[z > 0\\right],
    sigmoid(z) → \\sigma\\left(z\\right),  D(y, f3) → \\frac{\\partial y}{\\partial f_{3}}

`solution` renders a whole derivation as a compilable fragment (needs amsmath and amssymb):
the forward pass, then one `align*` line per chain-rule step,
`\\frac{\\partial y}{\\partial f_3} &= <chain> = <expression> = <value>`, then the results.
No computation happens here: everything comes from the Solution.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter as SympyLatexPrinter
from sympy.printing.precedence import PRECEDENCE

from deriv.names import latex as latex_name
from deriv.parse import dref_of
from deriv.render.notation import number as plain_number

PREAMBLE = r"\usepackage{amsmath,amssymb}"


class LatexPrinter(SympyLatexPrinter):
    """SymPy's LaTeX printer taught deriv's primitives and the documents' names.

    `relu_style` is "bracket" (the documents' a[z]) or "name" (\\mathrm{ReLU}(z)).
    """

    def __init__(self, display: dict[str, str] | None = None, relu_style: str = "bracket",
                 **settings):
        super().__init__(settings)
        self.display = display or {}
        self.relu_style = relu_style

    # --- names ---------------------------------------------------------------------------
    def name(self, name: str) -> str:
        for suffix, accent in (("_bar", r"\bar"), ("_dot", r"\dot")):
            if name.endswith(suffix) and len(name) > len(suffix):
                return r"%s{%s}" % (accent, latex_name(name[: -len(suffix)], self.display))
        return latex_name(name, self.display)

    def partial(self, of: str, wrt: str) -> str:
        return r"\frac{\partial %s}{\partial %s}" % (self.name(of), self.name(wrt))

    def _print_Symbol(self, expr, style="plain"):
        ref = dref_of(expr)
        if ref is not None:
            return self.partial(ref.of, ref.wrt)
        return self.name(expr.name)

    def _print_Pow(self, expr):
        base, exponent = expr.args
        if isinstance(base, sp.Symbol) and dref_of(base) is not None:
            return r"\left(%s\right)^{%s}" % (self._print(base), self._print(exponent))
        return super()._print_Pow(expr)

    # --- numbers -------------------------------------------------------------------------
    def _print_Float(self, expr):
        return number(float(expr))

    # --- deriv's primitives --------------------------------------------------------------
    @staticmethod
    def _power(text: str, exp) -> str:
        return r"{%s}^{%s}" % (text, exp) if exp is not None else text

    def _args(self, expr) -> str:
        return ", ".join(self._print(a) for a in expr.args)

    def _print_relu(self, expr, exp=None):
        if self.relu_style == "name":
            text = r"\mathrm{ReLU}\left(%s\right)" % self._args(expr)
        else:
            text = r"a\left[%s\right]" % self._args(expr)
        return self._power(text, exp)

    def _print_indicator(self, expr, exp=None):
        arg = expr.args[0]
        if arg.could_extract_minus_sign() and not arg.is_Add:
            text = r"\mathbb{I}\left[%s < 0\right]" % self._print(-arg)
        else:
            text = r"\mathbb{I}\left[%s > 0\right]" % self._print(arg)
        return self._power(text, exp)

    def _print_sigmoid(self, expr, exp=None):
        return self._power(r"\sigma\left(%s\right)" % self._args(expr), exp)

    def _print_leaky_relu(self, expr, exp=None):
        z, alpha = expr.args
        return self._power(r"\mathrm{LReLU}_{%s}\left(%s\right)" % (self._print(alpha),
                                                                    self._print(z)), exp)

    def _print_maximum(self, expr, exp=None):
        return self._power(r"\max\left(%s\right)" % self._args(expr), exp)

    def _print_minimum(self, expr, exp=None):
        return self._power(r"\min\left(%s\right)" % self._args(expr), exp)

    def _print_rect(self, expr, exp=None):
        return self._power(r"\mathrm{rect}\left[%s\right]" % self._args(expr), exp)

    def _print_exp(self, expr, exp=None):
        # The documents write \exp[f_3] like \sin[f_3]; e^{...} nests badly for exp(exp(x)).
        return self._power(r"\exp{\left(%s \right)}" % self._print(expr.args[0]), exp)


def number(value: float) -> str:
    """A value in LaTeX: 78.47, -12, 1.2 \\cdot 10^{-7}, \\infty."""
    text = plain_number(value)
    if text == "nan":
        return r"\mathrm{NaN}"
    if text in ("∞", "−∞"):
        return r"\infty" if value > 0 else r"-\infty"
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        return r"%s \cdot 10^{%d}" % (mantissa, int(exponent))
    return text


def math(expr, display: dict[str, str] | None = None, **settings) -> str:
    """One expression in LaTeX (math mode, no delimiters)."""
    return LatexPrinter(display, **settings).doprint(expr)


def partial(of: str, wrt: str, display: dict[str, str] | None = None) -> str:
    return LatexPrinter(display).partial(of, wrt)


def name(symbol: str, display: dict[str, str] | None = None) -> str:
    return LatexPrinter(display).name(symbol)


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


def point(values: dict[str, float], display=None) -> str:
    """x = -2,\\ y = 5 (math mode)."""
    return r",\ ".join(f"{name(k, display)} = {number(v)}" for k, v in values.items())


# --- a Solution, line by line ------------------------------------------------------------------
def forward_rows(sol) -> list[str]:
    d = sol.problem.display
    return [f"{name(f.name, d)} &= {math(f.expr, d)}" +
            ("" if f.expr.is_Number else f" = {number(f.value)}") for f in sol.forward_pass]


def step_row(step, value: float, display, shown=None) -> str:
    """\\frac{∂y}{∂f_3} &= chain = expression = value"""
    printer = LatexPrinter(display)
    parts = [printer.partial(step.target.of, step.target.wrt)]
    terms = step.terms
    if terms and not (len(terms) == 1 and terms[0].factors == (step.target,)):
        parts.append(" + ".join(" ".join(printer.partial(f.of, f.wrt) for f in t.factors)
                                for t in terms))
    parts.append(printer.doprint(shown if shown is not None else step.expr))
    if not step.expr.is_Number:
        parts.append(number(value))
    return parts[0] + " &= " + " = ".join(parts[1:])


def sweep_rows(sol, sweep) -> list[str]:
    d = sol.problem.display
    return [step_row(s, sol.value(sweep.mode, s), d, sol.shown.get((sweep.mode, s.target)))
            for s in sweep.steps if not s.seed]


def result_rows(sol) -> list[str]:
    d = sol.problem.display
    rows = []
    for r in sol.results:
        parts = [math(r.expr, d)]
        if r.in_inputs != r.expr:
            parts.append(math(r.in_inputs, d))
        if not r.expr.is_Number:
            parts.append(number(r.value))
        rows.append(partial(r.target.of, r.target.wrt, d) + " &= " + " = ".join(parts))
    return rows


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
                   + (f" · {p.section}" if p.section else ""))
    out.append(f"% needs {PREAMBLE}")
    out.append(r"\noindent\textbf{Forward pass} at $%s$ (%s point)"
               % (point(sol.point, d), escape(sol.point_source)))
    out.append(align(forward_rows(sol)))
    for sweep in sol.sweeps:
        rows = sweep_rows(sol, sweep)
        if rows:
            out.append(r"\noindent\textbf{%s}" % sweep_title(sweep, d))
            out.append(align(rows))
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
