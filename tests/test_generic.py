"""The generic smooth f (deriv.generic): its forwards agree, each order is the slope of the one
before, and a rule written for any f passes with it where a rule that only holds for ReLU
(f′(x) = 𝕀[f(x) > 0]) or for the sigmoid (f′ = f(1 − f)) fails."""

from __future__ import annotations

import textwrap

import mpmath
import numpy as np
import pytest

from deriv import generic
from deriv import primitives as P
from deriv.checker import check
from deriv.problem import load_text


@pytest.mark.parametrize("order", range(generic.ORDERS))
def test_forwards_agree_and_each_order_is_the_slope_of_the_last(order):
    z = np.linspace(-5, 5, 41)
    fast = P.REGISTRY[f"anyf{order or ''}"].numpy(z)
    with mpmath.workdps(30):
        slow = [float(P.REGISTRY[f"anyf{order or ''}"].mpmath(mpmath.mpf(float(t)))) for t in z]
    assert np.allclose(fast, slow, rtol=1e-12, atol=1e-12)
    h = 1e-6
    slope = (generic.numpy_forward(order)(z + h) - generic.numpy_forward(order)(z - h)) / (2 * h)
    assert np.allclose(slope, generic.numpy_forward(order + 1)(z), atol=1e-6)


def test_no_relation_of_relu_or_sigmoid_holds():
    z = np.linspace(-4, 4, 81)
    f, d = generic.numpy_forward(0)(z), generic.numpy_forward(1)(z)
    assert not np.allclose(d, f * (1 - f), atol=1e-2)
    assert not np.allclose(d, (f > 0).astype(float), atol=1e-2)


FILE = textwrap.dedent("""
    [[problem]]
    id = "rule"
    inputs = { x = "vector(n)" }
    notation = { functions = { f = "FUNCTION" } }
    graph = '''
    y = FUNCTION(x)
    L = sum(sin(y)) + norm2(y)
    '''

    [[problem.claim]]
    id = "eq3"
    of = "y"
    wrt = "x"
    layout = "derivative"
    printed = '''PRINTED'''
""")


@pytest.mark.parametrize("function, printed, verdict", [
    ("anyf", r"\frac{\partial}{\partial x} f(x) = \operatorname{diag}(f'(x))", "pass"),
    ("anyf", r"\frac{\partial}{\partial x} f(x) = \operatorname{diag}(f'(y))", "fail"),
    ("anyf", r"\frac{\partial}{\partial x} f(x) = f'(x)", "fail"),
    # the ReLU rule dy/dx = u(y) holds for ReLU and is caught for a general f
    ("relu", r"\frac{\partial}{\partial x} f(x) = \operatorname{diag}(u(y))", "pass"),
    ("anyf", r"\frac{\partial}{\partial x} f(x) = \operatorname{diag}(u(y))", "fail"),
])
def test_a_rule_for_any_f(function, printed, verdict):
    text = FILE.replace("FUNCTION", function).replace("PRINTED", printed)
    text = text.replace('functions = { f', 'functions = { u = "heaviside", f')
    (problem,) = load_text(text)
    (v,) = check([problem]).verdicts
    assert v.verdict == verdict, [f.kind for f in v.diagnosis]
