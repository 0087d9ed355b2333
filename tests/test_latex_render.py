"""The LaTeX (and so the Markdown) solve output keeps every elementwise negative power: 1/x of
a vector is never printed as -x, nor x⁻² inside a ⊙-product as -2 x."""

from __future__ import annotations

import re
import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from deriv import algebra as A
from deriv.catalog import load_catalog
from deriv.checker import Options, ProblemCheck
from deriv.cli import main
from deriv.latex_reader import claim_sides, context
from deriv.parse import parse_expression
from deriv.problem import load_text
from deriv.render import latex, markdown
from deriv.solution import solve

DIVISION = '''
[[problem]]
id = "division"
inputs = { x = "positive vector(n)", g = "vector(n)" }
graph = """
y = g / x
L = sum(y)
"""
'''


def test_negative_powers_of_arrays_are_printed_as_powers():
    (p,) = load_text(DIVISION)
    x, g = p.graph.symbols["x"], p.graph.symbols["g"]
    X = A.symbol("X", ("m", "n"))          # an elementwise power of a matrix: X∘⁻³
    assert latex.math(1 / x) == r"\frac{1}{x}"
    assert latex.math(-g * x**-2) in (r"-\frac{1}{x^{2}} \odot g", r"-g \odot \frac{1}{x^{2}}")
    assert latex.math(g / x) in (r"\frac{1}{x} \odot g", r"g \odot \frac{1}{x}")
    assert latex.math(X**-3) == r"\frac{1}{{X}^{\circ 3}}"


def test_solve_in_latex_and_markdown_shows_the_powers(tmp_path):
    path = tmp_path / "division.toml"
    path.write_text(DIVISION)
    for fmt in ("latex", "markdown"):
        out = CliRunner().invoke(main, ["solve", str(path), "--format", fmt])
        assert out.exit_code == 0, out.output
        assert r"\frac{1}{x} \odot g" in out.output, out.output
        assert r"-\frac{1}{x^{2}} \odot g" in out.output
        assert not re.search(r"-\s*-", _math(out.output))


def _math(text: str) -> str:
    return re.sub(r"(?m)^\|[:\-| ]+\|$", "", text)       # a Markdown table's |:--| row


def _shown(sol) -> list:
    """Every expression a solution prints."""
    out = [f.expr for f in sol.forward_pass] + [r.expr for r in sol.results]
    return out + [e for e in sol.shown.values() if isinstance(e, sp.Basic)]


def _negative_array_powers(expr) -> list:
    return [e for e in sp.preorder_traversal(expr) if e.is_Pow and e.exp.is_negative
            and A.shape_of_safe(e.base)]


# a display that reads back as another formula: σ² is the variance var, σ = √(var + ε)
AMBIGUOUS = {"classic-layernorm"}


@pytest.mark.parametrize("problem", load_catalog(), ids=lambda p: p.id)
def test_every_catalog_solution_keeps_its_negative_powers_and_reads_back(problem):
    """The LaTeX of each formula a solution shows has no `--` and keeps each negative power of
    an array; read back by the LaTeX reader (where it can), it is the same formula."""
    sol = solve(problem, mode="both")
    for text in (latex.solution(sol), markdown.solution(sol)):
        assert not re.search(r"-\s*-", _math(text)), problem.id
    printer = latex.printer(problem.display)
    for expr in _shown(sol):
        whole = printer.doprint(expr)
        for power in _negative_array_powers(expr):
            alone = printer.doprint(power)
            assert r"\frac{1}{" in alone or "^{-" in alone, (problem.id, power, alone)
            assert alone in whole, (problem.id, power, alone, whole)
    if problem.id in AMBIGUOUS:
        return
    check = None
    for target, expr in _targets(sol):
        tex = latex.math(expr, problem.display)
        printed = latex.partial(target.of, target.wrt, problem.display) + " = " + tex
        found, why = claim_sides(printed, problem, target.of, target.wrt, target.layout)
        if why or found[0][1] is None:
            continue                    # \dot{x}, \textstyle\sum, …: not read back here
        ctx = context(problem, target.layout)
        again = parse_expression(found[0][1], ctx.symbols, derivative=ctx.derivative,
                                 sizes=ctx.sizes)
        if again == expr:
            continue
        check = check or ProblemCheck(problem, Options(samples=50, seed=0))
        values = check.batches[0].values
        want, got = (np.asarray(check.evaluate(values, e), dtype=float) for e in (expr, again))
        assert want.shape == got.shape and np.allclose(want, got, rtol=1e-6, atol=1e-9,
                                                       equal_nan=True), (target, tex, again)


def _targets(sol) -> list:
    return [(r.target, r.expr) for r in sol.results] + \
        [(key[1], e) for key, e in sol.shown.items() if isinstance(e, sp.Basic)]


def test_a_tiny_or_huge_decimal_literal_prints_in_scientific_form():
    """1e-300 in a file is shown 1e-300, not a decimal point and 299 zeros."""
    import sympy as sp

    from deriv.render.latex import math
    from deriv.render.notation import text
    x = sp.Symbol("x", real=True)
    for shown in (text(sp.Rational(1, 10 ** 300) * x), math(sp.Rational(1, 10 ** 300) * x)):
        assert "1e-300" in shown and "000000" not in shown
    assert text(sp.Rational(8943, 200000) * x).startswith("0.044715")


def test_a_decimal_literal_prints_as_written_in_every_format():
    """GELU's 0.044715 and √(2/π) ≈ 0.7978845608028654 are kept exact, and shown as the file
    wrote them, not as 3989422804014327/5000000000000000; a fraction such as 1/2 stays one."""
    import deriv
    from deriv.render import latex, markdown, text
    solution = deriv.solve("classic-gelu")
    for shown in (text.solution(solution).plain, latex.solution(solution),
                  markdown.solution(solution)):
        assert "0.7978845608028654" in shown and "5000000000000000" not in shown
        assert "0.035677408136300126361" in shown


def test_a_sum_times_an_elementwise_product_keeps_its_parentheses():
    """(y − t)·(v ⊙ w) had printed as "-t - y·v ⊙ w" in solve's text and LaTeX (its values
    were right): the scalar factor of a product of arrays is parenthesised as any factor."""
    from deriv.parse import parse_expression
    from deriv.problem import load_text
    from deriv.render.latex import LatexPrinter
    from deriv.render.notation import TextPrinter
    (p,) = load_text('[[problem]]\nid = "p"\ninputs = { v = "vector(n)", w = "vector(n)", '
                     'y = "real", t = "real" }\ngraph = """\nL = (y - t) * sum(hadamard(v, w))\n'
                     '"""\n')
    expr = parse_expression("(t - y) * hadamard(v, w)", p.graph.symbols)
    assert TextPrinter().doprint(expr) in ("(t - y)·v ⊙ w", "(-y + t)·v ⊙ w")
    assert TextPrinter().doprint(-expr) == "-(t - y)·v ⊙ w"
    assert r"\left(t - y\right)" in LatexPrinter().doprint(-expr)


def test_a_sum_of_arrays_is_led_by_a_positive_term():
    """p − y and h₃ − y, not SymPy's −y + p; a scalar sum keeps SymPy's order."""
    import sympy as sp

    from deriv import algebra as A
    from deriv.render.latex import math
    from deriv.render.notation import text
    p, y = A.symbol("p", ("n", 1)), A.symbol("y", ("n", 1))
    assert text(-y + p) == "p - y" and math(-y + p) == "p - y"
    assert text((p - y) / sp.Symbol("N", positive=True)) == "(p - y)/N"
    a, b = sp.symbols("a b", real=True)
    assert text(-b + a) == "a - b"
