"""Vector and matrix functions (softmax, logsumexp, sum / mean / max over an axis, norms, outer,
elementwise powers, broadcasting) and constants (ones, onehot, literals, sizes as numbers):
each against finite differences in reverse mode, forward mode against reverse in `solve`, the
mpmath forward against NumPy's, `check` on right and wrong claims, and bad input refused."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from click.testing import CliRunner

import deriv
from deriv.cli import main
from deriv.errors import DerivError
from deriv.program import Values, per_point
from deriv.sampling import draw_all

from test_matrix import _finite_difference, problem

RULES = {   # construct → (inputs, graph): every input is differentiated, entry by entry
    "softmax-rows": ('Z = "matrix(m, n)", C = "matrix(m, n)"',
                     "P = softmax(Z, axis=1)\nL = sum(hadamard(C, P))"),
    "softmax-cols": ('Z = "matrix(m, n)", C = "matrix(m, n)"',
                     "P = softmax(Z, axis=0)\nL = sum(hadamard(C, P))"),
    "softmax-vector": ('z = "vector(n)", c = "vector(n)"', "L = c.T @ softmax(z)"),
    "logsumexp": ('Z = "matrix(m, n)", c = "vector(m)", r = "vector(n)"',
                  "L = c.T @ logsumexp(Z, axis=1) + logsumexp(Z, axis=0) @ r + logsumexp(Z)"),
    "sum-mean-axis": ('X = "matrix(m, n)", C = "matrix(m, n)"',
                      "M = X - mean(X, axis=0)\n"
                      "L = sum(hadamard(C, M)) + sum(sum(X, axis=1)**3) + mean(X)**2"),
    "max-min-axis": ('X = "matrix(m, n)", c = "vector(m)"',
                     "L = c.T @ max(X, axis=1) + sum(min(X, axis=0)) + max(X) * min(X)"),
    "norms": ('X = "matrix(m, n)", x = "vector(n)"',
              "L = sum(norm(X, axis=1)) + sum(norm2(X, axis=0)) + norm1(x) + norm(x)"),
    "outer-dot": ('a = "vector(m)", b = "vector(n)", C = "matrix(m, n)"',
                  "L = sum(hadamard(C, outer(a, b))) + dot(a, a) * dot(b, b)"),
    "power": ('x = "vector(n)", s = "positive", X = "matrix(m, n)"',
              "R = x ** 2 + 1\nL = sum(R ** s) + sum(2 ** x) + sum(x ** 3 / R) "
              "+ sum(hadamard(X, X) / (1 + hadamard(X, X)))"),
    "broadcast": ('X = "matrix(m, n)", W = "matrix(n, k)", b = "vector(k)", c = "vector(m)", '
                  'a = "real"',
                  "H = tanh(X @ W + b)\nG = X @ W + 1 + a\n"
                  "L = sum(hadamard(H, G)) + sum(hadamard(X, c)) + sum(X / (2 + c ** 2))"),
    "constants": ('x = "vector(n)", A = "matrix(2, 2)"',
                  "L = sum(hadamard(x, ones(n))) * (onehot(1, n).T @ x) "
                  "+ [[1, 2]] @ A @ [3, -0.5] + sum(hadamard(A, [[1, 0], [2, 1]])) + x.T @ x / n"),
}


def _sizes(p, values):
    return {s: v for s, v in zip(p.sizes, values)}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_against_finite_differences(rule):
    p = problem(*RULES[rule])
    out = p.graph.symbols[p.output]
    for k, sizes in enumerate([_sizes(p, [3, 3, 3]), _sizes(p, [2, 4, 3]),
                               _sizes(p, [4, 1, 2]), _sizes(p, [1, 3, 2])]):
        ins = draw_all(p.inputs, 8, seed=k, sizes=sizes)
        values = Values(p, ins, sizes)
        for name in p.graph.inputs:
            engine = values.derivative(p.output, name)
            assert engine.shape == ins[name].shape, (rule, name, sizes)
            fd = _finite_difference(p, lambda i: Values(p, i, sizes).env[out], ins, sizes, name)
            ok = np.isfinite(values.env[out]) & per_point(np.isfinite(fd))
            assert ok.sum() >= 4, (rule, sizes)
            np.testing.assert_allclose(engine[..., ok], fd[..., ok], rtol=1e-4, atol=1e-5,
                                       err_msg=f"{rule}: ∂L/∂{name} at sizes {sizes}")


@pytest.mark.parametrize("rule", sorted(RULES))
def test_forward_mode_agrees_with_reverse_and_mpmath_with_numpy(rule):
    p = problem(*RULES[rule])
    solution = deriv.solve(p, mode="both")
    for ref in p.requested():      # (an array's tangent depends on a direction: no value)
        forward = solution.values[("forward", ref)]
        if forward is not None:
            np.testing.assert_allclose(forward, solution.values[("reverse", ref)], rtol=1e-9)
    assert solution.shown[("forward", p.requested()[0])] is not None
    sizes = {s: 3 for s in p.sizes}
    ins = draw_all(p.inputs, 1, seed=5, sizes=sizes)
    batched = Values(p, ins, sizes)
    point = {k: (np.vectorize(mp.mpf, otypes=[object])(v[..., 0]) if v.ndim > 1 else
                 mp.mpf(float(v[0]))) for k, v in ins.items()}
    precise = Values(p, point, sizes, backend="mpmath", n=1)
    for name in p.graph.order:
        s = p.graph.symbols[name]
        np.testing.assert_allclose(np.asarray(precise.env[s], dtype=float),
                                   np.asarray(batched.env[s])[..., 0], rtol=1e-12)


def test_softmax_and_logsumexp_are_stable():
    p = problem('Z = "matrix(m, n)"', "P = softmax(Z * 1000, axis=1)\nL = logsumexp(Z * 1000)")
    sizes = {"m": 2, "n": 3}
    ins = draw_all(p.inputs, 50, seed=0, sizes=sizes)
    values = Values(p, ins, sizes)
    P = values.env[p.graph.symbols["P"]]
    assert np.all(np.isfinite(P)) and np.allclose(P.sum(axis=1), 1)
    L = values.env[p.graph.symbols["L"]]
    top = 1000 * ins["Z"].max(axis=(0, 1))
    assert np.all(np.isfinite(L)) and np.all((L >= top) & (L <= top + np.log(6)))


BATCH_CE = '''[source]
title = "t"

[[problem]]
id = "batch-ce"
inputs = { X = "matrix(N, D)", W = "matrix(D, K)", b = "vector(K)", Y = "matrix(N, K)" }
output = "L"
graph = """
Z = X @ W + b
P = softmax(Z, axis=1)
L = -sum(hadamard(Y, log(P))) / N
"""

[[problem.claim]]
id = "dL/dZ"
of = "L"
wrt = "Z"
expr = "(hadamard(P, sum(Y, axis=1)) - Y) / N"

[[problem.claim]]
id = "dL/dW"
of = "L"
wrt = "W"
expr = "X.T @ D(L, Z)"

[[problem.claim]]
id = "dL/db"
of = "L"
wrt = "b"
expr = "D(L, Z).T @ ones(N)"

[[problem.claim]]
id = "dL/db-wrong"
of = "L"
wrt = "b"
expr = "2 * D(L, Z).T @ ones(N)"
'''


def test_a_bias_broadcast_over_a_batch_checks_and_a_wrong_claim_is_diagnosed():
    (p,) = deriv.load_all(BATCH_CE)
    assert str(p.graph.nodes["Z"].expr).count("transpose") == 1    # b is added to every row
    report = deriv.check(p, samples=400, seed=0)
    verdicts = {v.claim.id: v for v in report.verdicts}
    assert [verdicts[c].verdict for c in ("dL/dZ", "dL/dW", "dL/db")] == ["pass"] * 3
    wrong = verdicts["dL/db-wrong"]
    assert wrong.verdict == "fail" and wrong.diagnosis
    assert "constant-multiple" in {f.kind for f in wrong.diagnosis}


def test_sizes_are_numbers_in_formulas():
    p = problem('x = "vector(n)"', "m = sum(x) / n\nL = (m - mean(x)) ** 2 + sqrt(n)")
    for n in (2, 5):
        ins = draw_all(p.inputs, 3, seed=0, sizes={"n": n})
        values = Values(p, ins, {"n": n})
        np.testing.assert_allclose(values.env[p.graph.symbols["L"]], np.sqrt(n))


BAD = [   # graph → the message, and where (line in the graph, column)
    ("L = sum(X, axis=2)", "unknown axis '2'", (1, 17)),
    ("L = sum(X, axis=x)", "unknown axis 'x'", (1, 17)),
    ("L = sum(X, 1)", "sum takes 1 argument, got 2 (an axis is given as axis=0 or axis=1)",
     (1, 5)),
    ("L = sum(softmax(X))", "softmax of a matrix needs an axis", (1, 9)),
    ("L = softmax(s, axis=0)", "softmax over an axis needs a vector or a matrix", (1, 5)),
    ("L = exp(X, axis=0)", "exp(...) takes plain positional arguments only", (1, 5)),
    ("L = onehot(1, n, axis=0)", "onehot takes no axis", (1, 23)),
    ("L = sum(X, keepdims=1)", "takes plain positional arguments only and axis=", (1, 5)),
    ("L = sum(X + v)", "shape mismatch for +: [k×1] and [m×n]", (1, 13)),
    ("L = sum(hadamard(X, v) )", "shape mismatch for ⊙ (hadamard)", (1, 9)),
    ("L = sum(X / v)", "shape mismatch for /", (1, 9)),
    ("L = outer(X, x)", "outer takes two column vectors", (1, 5)),
    ("L = dot(x, v)", "shape mismatch for dot", (1, 5)),
    ("L = sum(onehot(0, n))", "onehot(k, n): k is a number from 1 to n", (1, 16)),
    ("L = sum(onehot(4, 3))", "onehot(k, n): k is a number from 1 to n", (1, 16)),
    ("L = sum(ones(q))", "ones takes sizes", (1, 14)),
    ("L = sum([[1, 2], [3]])", "the rows of a matrix literal have one length (2)", (1, 18)),
    ("L = sum([s, 2])", "the entries of a literal are numbers", (1, 10)),
    ("L = sum([[1, 2], 3])", "a literal is [a, b, …]", (1, 9)),
]


@pytest.mark.parametrize("graph, message, place", BAD, ids=[b[1][:30] for b in BAD])
def test_bad_input_is_placed(graph, message, place):
    text = f'''[source]
title = "t"

[[problem]]
id = "bad"
inputs = {{ X = "matrix(m, n)", x = "vector(n)", v = "vector(k)", s = "real" }}
graph = """
{graph}
"""
'''
    with pytest.raises(DerivError) as err:
        deriv.load_all(text)
    assert message in err.value.message
    assert (err.value.line, err.value.col) == (8 + place[0] - 1, place[1])


def test_bad_input_from_the_command_line_exits_2_without_a_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[source]\ntitle = "t"\n\n[[problem]]\nid = "bad"\n'
                    'inputs = { X = "matrix(m, n)" }\ngraph = "L = sum(softmax(X, axis=3))"\n')
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert f"{path}:7:34: error: unknown axis '3'" in result.output
    assert "Traceback" not in result.output


def test_a_matrix_power_is_shown_as_the_elementwise_power():
    from deriv.render import latex
    p = problem('X = "matrix(m, n)", x = "vector(n)"', "R = hadamard(X, X)\nL = sum(R) + sum(x ** 2)")
    s = deriv.solve(p)
    from deriv.render.notation import TextPrinter
    shown = [TextPrinter().doprint(f.expr) for f in s.forward_pass]
    assert shown[0] == "X∘²" and "x²" in shown[1]
    assert r"{X}^{\circ 2}" in latex.solution(s)
