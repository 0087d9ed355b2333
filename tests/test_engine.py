"""The engine against the oracle: every derivative of every catalog problem, forward and
reverse sweep, equals SymPy's diff of the inlined expression."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from deriv.catalog import load_catalog
from deriv.functions import indicator, relu
from deriv.numeric import evaluate
from deriv.sampling import draw_all
from deriv.sweep import Derivatives, forward, reverse

CATALOG = [p for p in load_catalog() if not getattr(p, "is_matrix", False)]


def oracle(graph, of: str, wrt: str) -> sp.Expr:
    """d(of)/d(wrt) by SymPy on the flat expression; wrt may be a node (held as a symbol)."""
    if wrt in graph.inputs:
        return sp.diff(graph.inline(graph.symbols[of]), graph.symbols[wrt])
    # a node as the variable: inline everything above it, keep it as a free symbol
    cut = {}
    for name in graph.order:
        if name == wrt:
            continue
        cut[graph.symbols[name]] = graph.nodes[name].expr.xreplace(cut)
    return sp.diff(graph.symbols[of].xreplace(cut), graph.symbols[wrt])


def values(problem, n=64):
    graph = problem.graph
    env = {graph.symbols[k]: v for k, v in draw_all(problem.inputs, n, seed=7).items()}
    for name in graph.order:
        env[graph.symbols[name]] = evaluate(graph.nodes[name].expr, env, n)
    return env


@pytest.mark.parametrize("problem", CATALOG, ids=lambda p: p.id)
def test_sweeps_equal_the_oracle(problem):
    graph = problem.graph
    env = values(problem)
    truth = Derivatives(graph)
    compared = 0
    for of in [problem.output] + [c.of for c in problem.claims]:
        rev = reverse(graph, of)
        for step in rev.steps:
            wrt = step.target.wrt
            if wrt == of:
                continue
            expected = evaluate(oracle(graph, of, wrt), env, 64)
            got = evaluate(step.expr, env, 64)
            ok = np.isfinite(expected)
            assert np.allclose(got[ok], expected[ok], rtol=1e-9, atol=1e-12), (of, wrt)
            assert sp.simplify(truth.total(of, wrt) - step.expr) == 0
            compared += 1
        for wrt in graph.inputs:
            fwd = forward(graph, wrt).step(of, wrt)
            if fwd is None:
                continue
            assert np.allclose(evaluate(fwd.expr, env, 64), evaluate(rev.step(of, wrt).expr,
                                                                      env, 64), equal_nan=True)
    assert compared > 0


def test_reverse_order_is_the_documents_order():
    (p,) = [p for p in CATALOG if p.id == "problem-7.12"]
    order = [s.target.wrt for s in reverse(p.graph, "y").steps[1:]]
    assert order == ["f5", "f4", "f3", "f2", "f1", "x"]


def test_forward_order_and_agreement_for_7_13():
    (p,) = [p for p in CATALOG if p.id == "problem-7.13"]
    fwd = forward(p.graph, "x")
    assert [s.target.of for s in fwd.steps] == ["f1", "f2", "f3", "f4", "f5", "y"]
    rev = reverse(p.graph, "y")
    env = values(p)
    assert np.allclose(evaluate(fwd.step("y", "x").expr, env), evaluate(rev.step("y", "x").expr,
                                                                         env))


def test_relu_derivative_is_the_indicator():
    z = sp.Symbol("z", real=True)
    assert sp.diff(relu(z), z) == indicator(z)
    assert sp.diff(indicator(z), z) == 0


def test_program_form_is_linear_in_depth():
    from deriv.problem import load_text
    lines = ["h0 = x"] + [f"h{i} = sin(h{i - 1}) * h{i - 1}" for i in range(1, 201)]
    (p,) = load_text('[[problem]]\nid = "deep"\ninputs = { x = "real" }\ngraph = """\n' +
                     "\n".join(lines) + '\n"""\n')
    sweep = reverse(p.graph, "h200")
    ops = sum(sp.count_ops(step.program) for step in sweep.steps)
    assert ops < 20 * 200
