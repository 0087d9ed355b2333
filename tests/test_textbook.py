"""Results in textbook form (deriv.textbook): `deriv solve` writes each step in the problem's
own nodes where that has fewer operations — p₁ − y₁ for softmax + cross-entropy, (h₃ − y)(1 − h₃²)
for an RNN step — and every form it shows equals the derivative."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

import deriv
from deriv.catalog import load_catalog
from deriv.cli import main
from deriv.parse import DRef
from deriv.solution import TIDY_MAX_OPS, _values
from deriv.textbook import Rewriter, _fold, operations

SCALAR = [p for p in load_catalog() if not p.sizes]


def test_softmax_cross_entropy_is_p_minus_y():
    solution = deriv.solve("classic-softmax-ce")
    shown = {str(r.target): str(r.expr) for r in solution.results}
    assert shown == {"D(L, z1)": "p1 - y1", "D(L, z2)": "p2 - y2", "D(L, z3)": "p3 - y3"}
    out = CliRunner().invoke(main, ["solve", "classic-softmax-ce"]).output
    assert "∂L/∂z₁ = ∂L/∂e₁·∂e₁/∂z₁ = p₁ - y₁ =" in out
    assert "∂L/∂s = ∂L/∂p₁·∂p₁/∂s + ∂L/∂p₂·∂p₂/∂s + ∂L/∂p₃·∂p₃/∂s = 1/s =" in out


def test_an_rnn_step_reads_as_a_sheet_writes_it():
    solution = deriv.solve("classic-rnn")
    h2, h3, y, w = (deriv.load("classic-rnn").graph.symbols[n] for n in ("h2", "h3", "y", "w"))
    a3 = solution.shown[("reverse", DRef("L", "a3"))]
    assert a3 == (h3 - y) * (1 - h3**2)            # not -(-h₃ + y)(h₃ − 1)(h₃ + 1)
    assert solution.shown[("reverse", DRef("L", "h1"))] == \
        w**2 * (h3 - y) * (1 - h3**2) * (1 - h2**2)
    out = CliRunner().invoke(main, ["solve", "classic-rnn"]).output
    assert "∂L/∂a₃ = ∂L/∂h₃·∂h₃/∂a₃ = (1 - h₃²)·(h₃ - y) =" in out


def test_operations_count_what_a_person_writes():
    h, y, x, s = sp.symbols("h y x s")
    assert operations((h - y) * (1 - h**2)) == 4
    assert operations(sp.factor((h - y) * (1 - h**2))) == 5      # (−h + y)(h − 1)(h + 1)
    assert operations(-x) == 1 and operations(x - y) == 1 and operations(x / 2) == 1
    assert operations(x / s) == 1 and operations(x / s**2) == 2 and operations(sp.exp(x)) == 1
    assert operations(sp.exp(x)) < sp.count_ops(sp.exp(x) + sp.exp(x) * 0 + 1) + 1


def test_folding_uses_whole_definitions_only():
    e1, s, p1, y1, e2, a, w, h, u, x, b = sp.symbols("e1 s p1 y1 e2 a w h u x b")
    fold = [(p1, e1 / s)]
    assert _fold(e1 * y1 / s**2, fold) == p1 * y1 / s
    assert _fold(e1 * y1 * s, fold) == e1 * y1 * s                # s in the numerator: no
    assert _fold(e2 / s, fold) == e2 / s
    weighted = [(a, w * h + u * x + b)]
    assert _fold(2 * w * h + 2 * u * x + 2 * b + y1, weighted) == 2 * a + y1
    assert _fold(w * h + 2 * u * x + b, weighted) == w * h + 2 * u * x + b
    assert _fold(sp.tanh(w * h + u * x + b), weighted) == sp.tanh(a)


@pytest.mark.parametrize("problem", SCALAR, ids=lambda p: p.id)
def test_every_shown_form_equals_the_derivative_and_is_never_longer(problem):
    solution = deriv.solve(problem, mode="both")
    values = _values(problem, solution.point, solution.sizes)
    for sweep in solution.sweeps:
        derived = sweep.closed_forms(TIDY_MAX_OPS)
        for step in sweep.steps:
            shown = solution.shown[(sweep.mode, step.target)]
            if not shown.free_symbols <= set(problem.graph.symbols.values()):
                continue                    # a step left in the earlier steps' symbols
            want = solution.values[(sweep.mode, step.target)]
            got = float(np.asarray(values.value(shown)).ravel()[0])
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (step.target, shown)
            if derived[step.target].free_symbols <= set(problem.graph.symbols.values()):
                assert operations(shown) <= operations(derived[step.target]), step.target


def test_the_search_is_bounded_by_counts():
    problem = deriv.load("classic-softmax-ce")
    rewriter = Rewriter(problem.graph, moves=0)       # nothing to spend: shown as derived
    expr = problem.graph.nodes["p1"].expr * sp.Symbol("s")
    assert rewriter.best(expr) is expr
    first = deriv.solve(problem).shown
    assert deriv.solve(problem).shown == first        # the same forms every run


def test_an_array_steps_divisions_are_cancelled_as_a_scalars_are(tmp_path):
    """The batch BCE gradient: −(1 − p) ⊙ (y/p − (1 − y)/(1 − p)) ⊙ p/N is shown (p − y)/N,
    as its scalar twin shows p − y; a step without a division keeps its form."""
    from click.testing import CliRunner

    from deriv.cli import main
    path = tmp_path / "bce.toml"
    path.write_text('[[problem]]\nid = "bce"\ninputs = { X = "matrix(N, D)", w = "vector(D)", '
                    'y = "interval(0, 1) vector(N)" }\ngraph = """\nz = X @ w\np = sigmoid(z)\n'
                    'L = -sum(hadamard(y, log(p)) + hadamard(1 - y, log(1 - p))) / N\n"""\n')
    result = CliRunner().invoke(main, ["solve", str(path)])
    assert result.exit_code == 0, result.output
    step = next(line for line in result.output.splitlines() if "∂L/∂z = ∂L/∂p" in line)
    shown = step.split("=")[2]
    assert "1/p" not in shown and "1/(1 - p)" not in shown and "p" in shown and "y" in shown, step
