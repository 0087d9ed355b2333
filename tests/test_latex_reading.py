"""The LaTeX reader reads TeX as TeX: one-token arguments, function arguments, powers of
functions, e^{…}, the all-ones 𝟏, and values printed at the document's point. Each right
reading passes and a wrong formula written the same way fails."""

from __future__ import annotations

import pytest

from deriv.checker import Options, check
from deriv.latex_reader import claim_sides
from deriv.problem import load_text

OPTIONS = Options(samples=300, seed=0)


def problem(inputs: str, graph: str, at: str = "") -> str:
    return f'[[problem]]\nid = "p"\ninputs = {{ {inputs} }}\n{at}\ngraph = """\n{graph}\n"""\n'


def claim(cid: str, of: str, wrt: str, printed: str) -> str:
    return f"[[problem.claim]]\nid = \"{cid}\"\nof = \"{of}\"\nwrt = \"{wrt}\"\nprinted = '{printed}'\n"


def verdicts(text: str) -> dict[str, str]:
    (p,) = load_text(text)
    return {v.claim.id: v.verdict for v in check([p], OPTIONS).verdicts}


def read(text: str, printed: str, of: str, wrt: str) -> list:
    (p,) = load_text(text)
    found, why = claim_sides(printed, p, of, wrt)
    assert not why, why
    return found


SCALAR = problem('x = "positive", w = "real", z = "real"', "y = x**2 / 4")


@pytest.mark.parametrize("printed, want", [
    (r"\frac12 x", "1 / 2 * x"),
    (r"\tfrac12 x", "1 / 2 * x"),
    (r"\dfrac 1 2 x", "1 / 2 * x"),
    (r"\frac123", "1 / 2 * 3"),
    (r"\frac1x", "1 / x"),
    (r"\frac{12}{x}", "12 / x"),
    (r"\frac{\frac12}3", "1 / 2 / 3"),
    (r"\sqrt 2x", "sqrt(2) * x"),
])
def test_a_bare_digit_argument_is_one_digit(printed, want):
    found = read(SCALAR, r"\frac{\partial y}{\partial x} = " + printed, "y", "x")
    assert found == [(None, want, None)]


def test_frac12_x_passes_where_it_is_right_and_fails_where_it_is_not():
    printed = r"\frac{\partial y}{\partial x} = \frac12 x"
    right = problem('x = "positive"', "y = x**2 / 4") + claim("c", "y", "x", printed)
    wrong = problem('x = "positive"', "y = 12*log(x)") + claim("c", "y", "x", printed)
    assert verdicts(right) == {"c": "pass"}
    assert verdicts(wrong) == {"c": "fail"}
