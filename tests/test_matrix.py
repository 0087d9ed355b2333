"""Vectors and matrices: every adjoint rule against the component-wise SymPy oracle at random
sizes; layouts and the "transposed" diagnosis; formulas right only for symmetric matrices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deriv.check import Options, check_problem
from deriv.errors import DerivError
from deriv.matrix.check import MatrixCheck, size_assignments
from deriv.matrix.oracle import gradient
from deriv.problem import load_text

PROBLEMS = Path(__file__).resolve().parent.parent / "problems"


def problem(inputs: str, graph: str, claims: str = "") -> object:
    text = f'''[source]
title = "test"
file = "test"

[[problem]]
id = "t"
inputs = {{ {inputs} }}
graph = """
{graph}
"""
{claims}
'''
    (p,) = load_text(text)
    return p


RULES = {  # rule → (inputs, graph); every input is differentiated, entry by entry
    "matmul": ('A = "matrix(m, k)", B = "matrix(k, n)", C = "matrix(m, n)"',
               "L = sum(hadamard(C, A @ B))"),
    "transpose": ('A = "matrix(m, n)", C = "matrix(n, m)"', "L = sum(hadamard(C, A.T))"),
    "add-sub-neg": ('A = "matrix(m, n)", B = "matrix(m, n)", C = "matrix(m, n)"',
                    "L = sum(hadamard(C, A - B + -A @ eye(n)))"),
    "hadamard": ('A = "matrix(m, n)", B = "matrix(m, n)"', "L = sum(hadamard(A, hadamard(A, B)))"),
    "scale-div-pow": ('A = "matrix(m, n)", a = "positive", b = "positive"',
                      "s = a * sum(A) / b + a**2 * b**3\nL = s * norm2(A) / (1 + a)"),
    "sum": ('A = "matrix(m, n)", C = "matrix(m, n)"', "L = sum(A) * sum(hadamard(C, A))"),
    "norm2-norm": ('A = "matrix(m, n)", x = "vector(n)"', "L = norm2(A @ x) + norm(x)"),
    "trace": ('A = "matrix(n, m)", B = "matrix(m, n)"', "L = trace(A @ B)"),
    "inv": ('A = "matrix(n, n)", C = "matrix(n, n)"', "L = sum(hadamard(C, inv(A)))"),
    "det": ('A = "matrix(n, n)"', "L = det(A)"),
    "logdet": ('A = "matrix(n, n)"', "L = logdet(A + 3 * eye(n))"),
    "elementwise": ('A = "matrix(m, n)", C = "matrix(m, n)", al = "positive"',
                    "L = sum(hadamard(C, exp(A) + sin(A) + cos(A) + tanh(A) + sigmoid(A)"
                    " + relu(A) + leaky_relu(A, al) + abs(A) + log(sigmoid(A))"
                    " + sqrt(sigmoid(A))))"),
    "diag": ('v = "vector(n)", A = "matrix(n, n)", C = "matrix(n, n)"',
             "L = sum(hadamard(C, diag(v))) + sum(hadamard(v, diag(A)))"),
    "vector-chain": ('W = "matrix(m, n)", x = "vector(n)", b = "vector(m)", y = "vector(m)"',
                     "z = W @ x + b\nh = relu(z)\nL = norm2(h - y) + x.T @ x"),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_against_componentwise_oracle(rule):
    inputs, graph = RULES[rule]
    p = problem(inputs, graph)
    mc = MatrixCheck(p, Options(samples=300, seed=1))
    rng = np.random.default_rng(7)
    assignments = [{s: 2 for s in p.sizes},                               # square
                   {s: v for s, v in zip(p.sizes, rng.permutation([1, 2, 3]))},  # all distinct
                   {s: int(rng.integers(1, 4)) for s in p.sizes}]        # random
    for sizes in assignments:
        pt = None
        while pt is None:
            pt = mc.draw_point(sizes, rng, symmetric=False)
        for name in p.graph.inputs:
            engine = mc.engine.derivative(pt.values, pt.sizes, p.output, name)
            oracle = gradient(p.graph, p.output, name, pt.values, pt.sizes)
            assert engine.shape == pt.values[name].shape
            np.testing.assert_allclose(engine, oracle, rtol=1e-7, atol=1e-9,
                                       err_msg=f"{rule}: ∂L/∂{name} at sizes {pt.sizes}")


def test_sizes_include_square_and_non_square():
    sizes = size_assignments(["m", "n"], 0)
    assert {"m": 3, "n": 3} in sizes
    assert any(s["m"] != s["n"] for s in sizes)


def verdicts(inputs, graph, claims):
    p = problem(inputs, graph, claims)
    vs, _ = check_problem(p, Options(samples=500))
    return {v.claim.id: v for v in vs}


NOTES = ('W = "matrix(m, n)", x = "vector(n)", y = "vector(m)"', "g = W @ x\nr = g - y\nL = norm2(r)")


def test_layouts_and_transposed_diagnosis():
    claims = '''
[[problem.claim]]
id = "gradient"
of = "L"
wrt = "W"
expr = "D(L, g) @ x.T"

[[problem.claim]]
id = "derivative"
of = "L"
wrt = "W"
layout = "derivative"
expr = "x @ D(L, g)"

[[problem.claim]]
id = "transposed"
of = "L"
wrt = "W"
expr = "x @ D(L, g).T"

[[problem.claim]]
id = "jacobian"
of = "g"
wrt = "x"
expr = "W.T"

[[problem.claim]]
id = "jacobian-T"
of = "g"
wrt = "x"
layout = "derivative"
expr = "W.T"
'''
    v = verdicts(*NOTES, claims)
    assert v["gradient"].verdict == "pass"
    assert v["derivative"].verdict == "pass"
    assert v["jacobian"].verdict == "pass"
    for cid in ("transposed", "jacobian-T"):
        assert v[cid].verdict == "fail"
        assert v[cid].diagnosis[0].kind == "transposed", v[cid].diagnosis


def test_transposed_square_matrix_is_caught_by_values():
    v = verdicts('A = "matrix(n, n)"', "L = logdet(A)", '''
[[problem.claim]]
id = "inv"
of = "L"
wrt = "A"
expr = "inv(A)"

[[problem.claim]]
id = "inv-T"
of = "L"
wrt = "A"
expr = "inv(A).T"
''')
    assert v["inv-T"].verdict == "pass"
    assert v["inv"].verdict == "fail"
    assert v["inv"].diagnosis[0].kind == "transposed"


def test_formula_right_only_for_symmetric_matrices_fails():
    v = verdicts('A = "matrix(n, n)", x = "vector(n)"', "L = x.T @ A @ x", '''
[[problem.claim]]
id = "symmetric-only"
of = "L"
wrt = "x"
expr = "2 * A @ x"

[[problem.claim]]
id = "right"
of = "L"
wrt = "x"
expr = "(A + A.T) @ x"
''')
    assert v["right"].verdict == "pass"
    assert v["symmetric-only"].verdict == "fail"
    assert v["symmetric-only"].diagnosis[0].kind == "symmetric-only"


def test_constant_multiple_and_update_rule():
    v = verdicts(NOTES[0] + ', eps = "positive"', NOTES[1], '''
[[problem.claim]]
id = "half"
of = "L"
wrt = "W"
expr = "(W @ x - y) @ x.T"

[[problem.claim]]
id = "update"
of = "L"
wrt = "W"
update = "eps"
expr = "W - 2 * eps * (W @ x - y) @ x.T"
''')
    assert v["update"].verdict == "pass"
    assert v["half"].verdict == "fail"
    assert v["half"].diagnosis[0].kind == "constant-multiple"


def test_shape_mismatch_names_line_and_both_shapes():
    with pytest.raises(DerivError) as err:
        problem('W = "matrix(m, n)", x = "vector(m)"', "g = W @ x\nL = norm2(g)")
    e = err.value
    assert e.line == 9 and "[m×n]" in e.message and "[m×1]" in e.message


def test_printed_sizes_checked_by_shape_inference():
    v = verdicts('W = "matrix(m, n)", x = "vector(n)"', "z = W @ x\nL = norm2(z)", '''
[[problem.claim]]
id = "sizes"
of = "L"
wrt = "x"
chain = "D(z, x) @ D(L, z)"
shapes = ["n x 1", "n x m", "m x 1"]

[[problem.claim]]
id = "wrong-sizes"
of = "L"
wrt = "x"
chain = "D(z, x) @ D(L, z)"
shapes = ["n x 1", "m x n", "m x 1"]
''')
    assert v["sizes"].verdict == "pass"
    assert v["wrong-sizes"].verdict == "fail"
    assert v["wrong-sizes"].diagnosis[0].kind == "shape"


def test_never_evaluates_text():
    with pytest.raises(DerivError):
        problem('A = "matrix(n, n)"', "L = sum(A.__class__)")
    with pytest.raises(DerivError):
        problem('A = "matrix(n, n)"', "L = __import__('os')")


@pytest.mark.parametrize("name", sorted(p.name for p in PROBLEMS.glob("*-matrix.toml")))
def test_matrix_catalog_outcomes_as_expected(name):
    from deriv.problem import load_file
    for p in load_file(PROBLEMS / name):
        vs, _ = check_problem(p, Options())
        bad = [(v.claim.id, v.outcome, v.diagnosis) for v in vs if v.unexpected]
        assert not bad, (p.id, bad)


def test_wrong_update_and_broken_chain_fail():
    v = verdicts(NOTES[0] + ', eps = "positive"', NOTES[1], '''
[[problem.claim]]
id = "ascent"
of = "L"
wrt = "W"
update = "eps"
expr = "W + 2 * eps * (W @ x - y) @ x.T"

[[problem.claim]]
id = "broken"
of = "L"
wrt = "x"
layout = "derivative"
chain = "D(L, r) @ D(g, x)"

[[problem.claim]]
id = "linked"
of = "L"
wrt = "x"
layout = "derivative"
chain = "D(L, r) @ D(r, g) @ D(g, x)"
''')
    assert v["ascent"].verdict == "fail"
    assert v["linked"].verdict == "pass"
    assert v["broken"].verdict == "fail"
    assert "broken-link" in {f.kind for f in v["broken"].diagnosis}
