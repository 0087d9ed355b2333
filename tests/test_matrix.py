"""Vectors and matrices: every adjoint rule against the component-wise SymPy oracle at random
sizes; layouts and the "transposed" diagnosis; formulas right only for symmetric matrices."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from deriv.checker import Options, check_problem
from deriv.checker import per_point
from deriv.errors import DerivError
from deriv.parse import DRef
from deriv.problem import load_text
from deriv.program import Values
from deriv.render.words import UnicodeMath, sentence
from deriv.sampling import draw_all, size_assignments

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
    (p,) = load_text(text, "test")
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
                    # leaky_relu in its own node: see test_scalar_inside_array_primitive
                    "E = leaky_relu(A, al)\n"
                    "L = sum(hadamard(C, exp(A) + sin(A) + cos(A) + tanh(A) + sigmoid(A)"
                    " + relu(A) + E + abs(A) + log(sigmoid(A))"
                    " + sqrt(sigmoid(A))))"),
    "diag": ('v = "vector(n)", A = "matrix(n, n)", C = "matrix(n, n)"',
             "L = sum(hadamard(C, diag(v))) + sum(hadamard(v, diag(A)))"),
    "vector-chain": ('W = "matrix(m, n)", x = "vector(n)", b = "vector(m)", y = "vector(m)"',
                     "z = W @ x + b\nh = relu(z)\nL = norm2(h - y) + x.T @ x"),
}


def _finite_difference(p, values_of, inputs, sizes, name, h=1e-6):
    """∂L/∂name entry by entry by central differences, at every drawn point at once."""
    x = inputs[name]
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape[:-1]):
        up = {k: v.copy() for k, v in inputs.items()}
        down = {k: v.copy() for k, v in inputs.items()}
        up[name][idx] += h
        down[name][idx] -= h
        grad[idx] = (values_of(up) - values_of(down)) / (2 * h)
    return grad


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_against_finite_differences(rule):
    inputs, graph = RULES[rule]
    p = problem(inputs, graph)
    out = p.graph.symbols[p.output]

    def output(ins, sizes):
        return Values(p, ins, sizes).env[out]

    rng = np.random.default_rng(7)
    assignments = [{s: 2 for s in p.sizes},                               # square
                   {s: int(v) for s, v in zip(p.sizes, rng.permutation([1, 2, 3]))},
                   {s: int(rng.integers(1, 4)) for s in p.sizes}]        # random
    for k, sizes in enumerate(assignments):
        ins = draw_all(p.inputs, 12, seed=k, sizes=sizes)
        values = Values(p, ins, sizes)
        # keep points away from kinks and singular matrices: the value must be finite and
        # the finite difference stable
        for name in p.graph.inputs:
            engine = values.derivative(p.output, name)
            assert engine.shape == ins[name].shape, (rule, name, sizes)
            fd = _finite_difference(p, lambda i: output(i, sizes), ins, sizes, name)
            ok = np.isfinite(values.env[out]) & per_point(np.isfinite(fd)) & \
                per_point(np.abs(fd) < 1e6)
            assert ok.sum() >= 3, (rule, sizes)
            np.testing.assert_allclose(engine[..., ok], fd[..., ok], rtol=1e-4, atol=1e-5,
                                       err_msg=f"{rule}: ∂L/∂{name} at sizes {sizes}")


@pytest.mark.parametrize("graph", ["L = sum(a * A)", "L = sum(leaky_relu(A, a))",
                                   "L = sum(A)**2 * a", "L = sum(A) * sum(hadamard(A, A)) * a"])
def test_scalar_inside_array_primitive(graph):
    p = problem('A = "matrix(m, n)", a = "positive"', graph)
    sizes = {"m": 2, "n": 3}
    ins = draw_all(p.inputs, 5, seed=0, sizes=sizes)
    got = Values(p, ins, sizes).derivative("L", "a")
    out = p.graph.symbols["L"]
    fd = _finite_difference(p, lambda i: Values(p, i, sizes).env[out], ins, sizes, "a")
    np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-6)


def test_trace_of_one_by_one_product():
    """A 1×1 product is a scalar: trace, det and inv of it are the scalar's."""
    p = problem(*RULES["trace"])
    sizes = {"m": 2, "n": 1}
    ins = draw_all(p.inputs, 4, seed=0, sizes=sizes)
    values = Values(p, ins, sizes)
    A, B = ins["A"], ins["B"]
    np.testing.assert_allclose(values.derivative("L", "A"), np.swapaxes(B, 0, 1))


def test_engine_against_sympy_componentwise():
    """∂L/∂W and ∂L/∂x of L = ‖relu(Wx + b) − y‖² + xᵀx, entry by entry with SymPy on a
    concrete 2×3 W."""
    import sympy as sp
    inputs, graph = RULES["vector-chain"]
    p = problem(inputs, graph)
    sizes = {"m": 2, "n": 3}
    rng = np.random.default_rng(3)
    W, x = rng.normal(size=(2, 3)), rng.normal(size=3)
    b, y = rng.normal(size=2), rng.normal(size=2)
    values = Values(p, {"W": W[..., None], "x": x[:, None, None], "b": b[:, None, None],
                        "y": y[:, None, None]}, sizes)
    Ws = sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"W{i}{j}"))
    xs = sp.Matrix(3, 1, lambda i, j: sp.Symbol(f"x{i}"))
    z = Ws * xs + sp.Matrix(b)
    h = z.applyfunc(lambda e: sp.Max(e, 0))
    L = sum((h[i] - y[i]) ** 2 for i in range(2)) + (xs.T * xs)[0]
    at = {**{Ws[i, j]: W[i, j] for i in range(2) for j in range(3)},
          **{xs[i]: x[i] for i in range(3)}}
    dW = np.array([[float(sp.diff(L, Ws[i, j]).subs(at)) for j in range(3)] for i in range(2)])
    dx = np.array([float(sp.diff(L, xs[i]).subs(at)) for i in range(3)])
    np.testing.assert_allclose(values.derivative("L", "W")[..., 0], dW, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(values.derivative("L", "x")[:, 0, 0], dx, rtol=1e-10, atol=1e-12)
    # the derivative layout is the transpose
    np.testing.assert_allclose(values.derivative("L", "W", "derivative")[..., 0], dW.T)
    # a vector of: the Jacobian ∂z/∂x is n × m in the gradient layout (Wᵀ)
    np.testing.assert_allclose(values.derivative("z", "x")[..., 0], W.T, rtol=1e-12)
    np.testing.assert_allclose(values.derivative("z", "x", "derivative")[..., 0], W,
                               rtol=1e-12)


def test_sizes_include_square_and_non_square():
    sizes = size_assignments(["m", "n"], 0)
    assert {"m": 3, "n": 3} in sizes
    assert any(s["m"] != s["n"] for s in sizes)


def test_graph_shapes_are_symbolic_sizes():
    p = problem(*NOTES)
    assert p.graph.shape("L") == ()
    assert [str(d) for d in p.graph.shape("W")] == ["m", "n"]
    assert [str(d) for d in p.graph.shape("x")] == ["n", "1"]
    assert [str(d) for d in p.graph.shape("g")] == ["m", "1"]
    assert set(p.sizes) == {"m", "n"}


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
    (f,) = [f for f in v["wrong-sizes"].diagnosis if f.kind == "shape-printed"]
    assert f.derivative == DRef("z", "x")
    words = sentence(f, UnicodeMath())
    assert "m × n" in words and "∂z/∂x" in words, words


def test_wrong_shape_names_both_shapes():
    v = verdicts(*NOTES, '''
[[problem.claim]]
id = "shape"
of = "L"
wrt = "x"
expr = "W @ x"

[[problem.claim]]
id = "right"
of = "L"
wrt = "x"
expr = "2 * W.T @ r"
''')
    assert v["right"].verdict == "pass"
    assert v["shape"].verdict == "fail"
    (f,) = v["shape"].diagnosis
    assert f.kind == "shape"
    assert [tuple(map(str, s)) for s in f.shapes] == [("m", "1"), ("n", "1")]
    assert sentence(f, UnicodeMath()).startswith("has shape")


def test_negated_mislabelled_lost_path_and_missing_term():
    v = verdicts('W = "matrix(m, n)", x = "vector(n)", y = "vector(m)"',
                 "g = W @ x\nh = W @ x\nr = g + h - y\nL = norm2(r) + sum(hadamard(x, x))", '''
[[problem.claim]]
id = "right"
of = "L"
wrt = "x"
expr = "4 * W.T @ r + 2 * x"

[[problem.claim]]
id = "right-W"
of = "L"
wrt = "W"
expr = "4 * r @ x.T"

[[problem.claim]]
id = "negated"
of = "L"
wrt = "W"
expr = "-4 * r @ x.T"

[[problem.claim]]
id = "mislabelled"
of = "L"
wrt = "y"
expr = "2 * r"

[[problem.claim]]
id = "lost"
of = "L"
wrt = "W"
expr = "2 * r @ x.T"

[[problem.claim]]
id = "missing-term"
of = "L"
wrt = "x"
expr = "4 * W.T @ r + x"
''')
    assert v["right"].verdict == "pass" and v["right-W"].verdict == "pass"
    for cid in ("negated", "mislabelled", "lost", "missing-term"):
        assert v[cid].verdict == "fail", cid
    first = {cid: v[cid].diagnosis[0] for cid in v if v[cid].verdict == "fail"}
    assert first["negated"].kind == "negated"
    # 2r is both the negative of ∂L/∂y and ∂L/∂r itself: both explanations are reported
    found = {f.kind: f for f in v["mislabelled"].diagnosis}
    assert found["mislabelled"].derivative.wrt in ("g", "h", "r")
    lost = first["lost"]          # half the derivative: one explanation, the lost factor,
    assert lost.kind == "constant-multiple" and lost.number == 0.5    # with its lost path
    assert set(lost.symbols) <= {"g", "h"} and len(lost.symbols) == 1
    assert all(p[0] == "W" and p[-1] == "L" for p in lost.paths)
    assert first["missing-term"].kind == "missing-term"
    assert str(first["missing-term"].expr) == "x"
    for f in first.values():                       # every finding reads as a sentence
        assert sentence(f, UnicodeMath()) != f.kind


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


def test_solve_matrix_problem_in_both_modes():
    from rich.console import Console

    from deriv.render.text import solution
    from deriv.solution import solve
    p = problem(*NOTES)
    reverse = solve(p, mode="reverse", wrt=["W", "x"])
    W, x, y = (np.asarray(reverse.point[k], dtype=float) for k in ("W", "x", "y"))
    r = W @ x - y
    np.testing.assert_allclose(reverse.values[("reverse", DRef("L", "W"))], 2 * r @ x.T)
    np.testing.assert_allclose(reverse.values[("reverse", DRef("L", "x"))], 2 * W.T @ r)
    np.testing.assert_allclose(reverse.values[("reverse", DRef("L", "y"))], -2 * r)
    assert str(reverse.shown[("reverse", DRef("L", "W"))]) == "2*matmul(r, transpose(x))"
    assert str(reverse.shown[("reverse", DRef("L", "x"))]) == "2*matmul(transpose(W), r)"
    forward = solve(p, mode="forward", wrt=["W", "x"])
    assert str(forward.shown[("forward", DRef("g", "x"))]) == "matmul(W, x_dot)"
    assert str(forward.shown[("forward", DRef("g", "W"))]) == "matmul(W_dot, x)"
    for a, b in zip(forward.results, reverse.results):
        assert a.target == b.target
        np.testing.assert_allclose(a.value, b.value, rtol=1e-12)
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(solution(reverse))
    text = console.export_text()
    assert "Reverse mode" in text and "∂L/∂W" in text
