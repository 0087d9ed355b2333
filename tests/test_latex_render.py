"""The LaTeX (and so the Markdown) solve output keeps every elementwise negative power: 1/x of
a vector is never printed as -x, nor x⁻² inside a ⊙-product as -2 x."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

from deriv import algebra as A
from deriv.catalog import load_catalog
from deriv.cli import main
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


@pytest.mark.parametrize("problem", load_catalog(), ids=lambda p: p.id)
def test_every_catalog_solution_keeps_its_negative_powers(problem):
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
