"""The matrix vocabulary: a matrix by a scalar (∂Y⁻¹/∂x), Kronecker products, integer matrix
powers, analytic matrix functions (expm, sinm, cosm: Fréchet derivatives) and eigenvalues of
symmetric matrices — each checked (a right claim passes, its wrong twin fails), solved, held to
finite differences, and refused with file:line:col where the input is bad."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from deriv.checker import Options, check_problem
from deriv.cli import main
from deriv.errors import DerivError
from deriv.parse import DRef
from deriv.problem import load_text
from deriv.program import Values
from deriv.sampling import draw_all
from deriv.solution import solve
from deriv.render.notation import text


def problem_text(inputs: str, graph: str, claims: str = "") -> str:
    return f'''[source]
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


def problem(inputs: str, graph: str, claims: str = ""):
    (p,) = load_text(problem_text(inputs, graph, claims), "test")
    return p


def claim(cid: str, of: str, wrt: str, expr: str) -> str:
    return f'''
[[problem.claim]]
id = "{cid}"
of = "{of}"
wrt = "{wrt}"
expr = "{expr}"
'''


def verdicts(inputs, graph, claims, seed=0):
    p = problem(inputs, graph, claims)
    vs, _ = check_problem(p, Options(samples=400, seed=seed))
    return {v.claim.id: v for v in vs}


def finite_difference(p, sizes, name, of=None, n=6, seed=1, h=1e-6):
    """∂of/∂name entry by entry by central differences (of a scalar output), and the engine's
    gradient, at n drawn points."""
    of = of or p.output
    ins = draw_all(p.inputs, n, seed=seed, sizes=sizes)
    out = p.graph.symbols[of]
    engine = Values(p, ins, sizes).derivative(of, name)
    x = ins[name]
    fd = np.zeros_like(x)
    for idx in np.ndindex(*x.shape[:-1]):
        up = {k: v.copy() for k, v in ins.items()}
        down = {k: v.copy() for k, v in ins.items()}
        up[name][idx] += h
        down[name][idx] -= h
        fd[idx] = (Values(p, up, sizes).env[out] - Values(p, down, sizes).env[out]) / (2 * h)
    return engine, fd


def bad(inputs, graph, claims="") -> DerivError:
    with pytest.raises(DerivError) as err:
        problem(inputs, graph, claims)
    return err.value


def cli_bad(tmp_path, inputs, graph, claims=""):
    path = tmp_path / "bad.toml"
    path.write_text(problem_text(inputs, graph, claims))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


# --- a matrix by a scalar --------------------------------------------------------------------

INV_X = ('A = "matrix(n, n)", B = "matrix(n, n)", x = "real"', "Y = A + x * B\nZ = inv(Y)")


def test_inverse_by_a_scalar_checks():
    v = verdicts(*INV_X, claim("right", "Z", "x", "-Z @ D(Y, x) @ Z")
                 + claim("order", "Z", "x", "-Z @ Z @ D(Y, x)")
                 + claim("sign", "Z", "x", "Z @ D(Y, x) @ Z")
                 + claim("dY", "Y", "x", "B"))
    assert v["right"].verdict == "pass" and v["dY"].verdict == "pass"
    assert v["order"].verdict == "fail"
    assert v["sign"].verdict == "fail" and v["sign"].diagnosis[0].kind == "negated"


def test_inverse_by_a_scalar_has_the_matrix_shape_and_solves():
    p = problem(*INV_X)
    sizes = {"n": 3}
    ins = draw_all(p.inputs, 5, seed=2, sizes=sizes)
    values = Values(p, ins, sizes)
    got = values.derivative("Z", "x")
    assert got.shape == (3, 3, 5)
    Z, B = values.env[p.graph.symbols["Z"]], ins["B"]
    want = -np.einsum("ijs,jks,kls->ils", Z, B, Z)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(values.derivative("Z", "x", "derivative"), want, rtol=1e-9)
    for mode in ("reverse", "forward"):
        s = solve(p, mode=mode, wrt=["x"])
        (result,) = s.results
        assert text(result.expr) == "-ZBZ"
        assert result.value.shape == (3, 3)


# --- Kronecker product -----------------------------------------------------------------------

KRON = ('A = "matrix(m, n)", B = "matrix(p, q)", C = "matrix(m, n)", G = "matrix(p, q)"',
        "Z = kron(A, B)\nL = trace(kron(C, G).T @ Z)")


def test_kron_checks_and_solves():
    v = verdicts(*KRON, claim("A", "L", "A", "trace(G.T @ B) * C")
                 + claim("B", "L", "B", "trace(C.T @ A) * G")
                 + claim("A-transposed", "L", "A", "trace(G @ B.T) * C.T"))
    assert v["A"].verdict == "pass" and v["B"].verdict == "pass"
    assert v["A-transposed"].verdict == "fail"
    s = solve(problem(*KRON), mode="reverse", wrt=["A", "B"])
    shown = {r.target.wrt: text(r.expr) for r in s.results}
    assert shown == {"A": "tr(GᵀB)·C", "B": "tr(CᵀA)·G"}


@pytest.mark.parametrize("inputs, graph", [
    ('C = "matrix(6, 6)"', "L = sum(hadamard(C, kron(A, B)))"),
    ('C = "matrix(12, 18)"', "Z = kron(A, B)\nL = sum(hadamard(C, kron(Z, A)))")])
def test_kron_rules_against_finite_differences(inputs, graph):
    """The partial traces of a general Z̄ (not a Kronecker product), at non-square sizes."""
    p = problem('A = "matrix(2, 3)", B = "matrix(3, 2)", ' + inputs, graph)
    for name in ("A", "B"):
        engine, fd = finite_difference(p, {}, name)
        np.testing.assert_allclose(engine, fd, rtol=1e-5, atol=1e-6, err_msg=name)


def test_kron_shapes_are_products_of_sizes(tmp_path):
    p = problem('A = "matrix(m, n)", B = "matrix(p, q)"', "Z = kron(A, B)\nL = sum(Z)")
    assert p.graph.shape("Z") == ("m*p", "n*q")
    out = cli_bad(tmp_path, 'A = "matrix(m, n)", B = "matrix(p, q)", C = "matrix(m, n)"',
                  "Z = kron(A, B)\nL = trace(Z @ C)")
    assert "bad.toml:10:" in out and "shape mismatch for @" in out and "[m·p×n·q]" in out
    out = cli_bad(tmp_path, 'A = "matrix(m, n)", x = "real"', "L = sum(kron(A, x))")
    assert "bad.toml:9:9:" in out and "kron needs two arrays" in out


# --- integer matrix powers -------------------------------------------------------------------

def test_trace_of_a_power_checks_and_solves():
    v = verdicts('X = "matrix(n, n)"', "L = trace(X**3)",
                 claim("right", "L", "X", "3 * (X**2).T") + claim("wrong", "L", "X", "3 * X**2"))
    assert v["right"].verdict == "pass"
    assert v["wrong"].verdict == "fail" and v["wrong"].diagnosis[0].kind == "transposed"
    s = solve(problem('X = "matrix(n, n)"', "L = trace(X**3)"), mode="both")
    assert {text(r.expr) for r in s.results} == {"3·(X²)ᵀ"}
    X = s.point["X"]
    np.testing.assert_allclose(s.results[0].value, 3 * (X @ X).T, rtol=1e-12)


def test_linear_form_of_a_power_and_det_of_a_power_check():
    v = verdicts('X = "matrix(n, n)", a = "vector(n)", b = "vector(n)"', "L = a.T @ X**3 @ b",
                 claim("right", "L", "X", "a @ b.T @ (X.T)**2 + X.T @ a @ b.T @ X.T"
                                          " + (X.T)**2 @ a @ b.T")
                 + claim("wrong", "L", "X", "3 * (X.T)**2 @ a @ b.T"))
    assert v["right"].verdict == "pass" and v["wrong"].verdict == "fail"
    v = verdicts('X = "matrix(n, n)"', "L = det(X**2)",
                 claim("right", "L", "X", "2 * L * inv(X).T")
                 + claim("wrong", "L", "X", "L * inv(X).T"))
    assert v["right"].verdict == "pass"
    assert v["wrong"].verdict == "fail"
    assert v["wrong"].diagnosis[0].kind in ("constant-multiple", "lost-path")


@pytest.mark.parametrize("graph", ["L = sum(hadamard(C, X**4))", "L = sum(hadamard(C, X**-2))",
                                   "L = trace(C @ X**0 @ X)"])
def test_power_rules_against_finite_differences(graph):
    p = problem('X = "matrix(n, n)", C = "matrix(n, n)"', graph)
    engine, fd = finite_difference(p, {"n": 3}, "X")
    np.testing.assert_allclose(engine, fd, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("inputs, graph, where, words", [
    ('X = "matrix(m, n)"', "L = trace(X**2)", "9:11", "needs a square matrix, not [m×n]"),
    ('x = "vector(n)", X = "matrix(n, n)"', "L = sum(x**X)", "9:9",   # (x**2: elementwise)
     "** needs scalars, not [n×n]"),
    ('X = "matrix(n, n)"', "L = trace(X**0.5)", "9:11", "needs an integer k"),
    ('X = "matrix(n, n)"', "L = trace(X**33)", "9:11", "from -32 to 32"),
    ('X = "matrix(n, n)", k = "real"', "L = trace(X**k)", "9:11", "needs an integer k"),
    ('X = "matrix(n, n)"', "L = 2**X", "9:5", "** needs scalars"),
])
def test_bad_powers_are_refused_at_their_place(tmp_path, inputs, graph, where, words):
    out = cli_bad(tmp_path, inputs, graph)
    assert f"bad.toml:{where}:" in out and words in out, out


# --- analytic matrix functions ---------------------------------------------------------------

def test_expm_forward_agrees_with_mpmath():
    """The batched Padé exponential, and sin and cos through exp(iX), against mpmath's."""
    import mpmath as mp

    from deriv.primitives import REGISTRY
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (4, 4, 5)) * np.array([1, 0.01, 3, 10, 0])    # norms 0 … ~60
    for name in ("expm", "sinm", "cosm"):
        got = REGISTRY[name].numpy(x)
        for s in range(x.shape[-1]):
            want = np.array(getattr(mp, name)(mp.matrix(x[..., s].tolist())).tolist(),
                            dtype=float)
            np.testing.assert_allclose(got[..., s], want, rtol=1e-10, atol=1e-10 *
                                       np.abs(want).max(), err_msg=f"{name} at draw {s}")


def test_trace_of_expm_checks_and_solves():
    v = verdicts('X = "matrix(n, n)", A = "matrix(n, n)"',
                 "L = trace(expm(X)) + trace(A @ sinm(X)) - trace(cosm(X))",
                 claim("trace-only", "L", "X", "expm(X).T + sinm(X).T")
                 + claim("wrong", "L", "X", "expm(X) + sinm(X) + A.T @ cosm(X).T"))
    assert v["trace-only"].verdict == "fail" and v["wrong"].verdict == "fail"
    v = verdicts('X = "matrix(n, n)"', "L = trace(expm(X)) - trace(cosm(X))",
                 claim("right", "L", "X", "expm(X).T + sinm(X).T")
                 + claim("transposed", "L", "X", "expm(X) + sinm(X)"))
    assert v["right"].verdict == "pass"
    assert v["transposed"].verdict == "fail"
    assert v["transposed"].diagnosis[0].kind == "transposed"
    s = solve(problem('X = "matrix(n, n)"', "L = trace(expm(X)) - trace(cosm(X))"))
    assert text(s.results[0].expr) in ("expm(X)ᵀ + sinm(X)ᵀ", "sinm(X)ᵀ + expm(X)ᵀ")


@pytest.mark.parametrize("graph", ["L = sum(hadamard(C, expm(X)))",
                                   "L = sum(hadamard(C, sinm(X @ C)))",
                                   "L = trace(C @ cosm(2 * X))"])
def test_frechet_rules_against_finite_differences(graph):
    p = problem('X = "matrix(n, n)", C = "matrix(n, n)"', graph)
    for name in ("X", "C"):
        engine, fd = finite_difference(p, {"n": 3}, name)
        np.testing.assert_allclose(engine, fd, rtol=1e-5, atol=1e-6, err_msg=name)


def test_frechet_derivative_is_checked_at_high_precision():
    """A claim of the Fréchet derivative's value (by a scalar) goes through the mpmath
    recheck: the block-matrix forward in mpmath agrees with NumPy's."""
    v = verdicts('X = "matrix(n, n)", E = "matrix(n, n)", t = "real"',
                 "Y = X + t * E\nZ = expm(Y)\nV = expm(X + t * eye(n))",
                 claim("commuted", "Z", "t", "Z @ E") + claim("right", "V", "t", "V")
                 + claim("wrong", "V", "t", "V @ X"))
    assert v["commuted"].verdict == "fail" and v["wrong"].verdict == "fail"
    assert v["right"].verdict == "pass"


@pytest.mark.parametrize("graph, where, words", [
    ("L = trace(expm(W))", "9:11", "expm needs a square matrix, not [m×n]"),
    ("L = trace(sinm(W.T @ W) @ W)", "9:11", "shape mismatch for @"),
])
def test_bad_matrix_functions_are_refused_at_their_place(tmp_path, graph, where, words):
    out = cli_bad(tmp_path, 'W = "matrix(m, n)"', graph)
    assert f"bad.toml:{where}:" in out and words in out, out


def test_a_function_after_a_matrix_is_separated():
    """AL_sin(X, Ẋ) would read as one symbol: a name before a function gets its ·."""
    p = problem('X = "matrix(n, n)", A = "matrix(n, n)"', "L = trace(A @ sinm(X))")
    s = solve(p, mode="forward", wrt=["X"])
    assert text(p.graph.nodes["L"].expr) == "tr(A·sinm(X))"
    assert text(s.results[0].expr) == "tr(A·L_sin(X, X\u0307))"


# --- eigenvalues of symmetric matrices -------------------------------------------------------

EIG = ('X = "matrix(n, n)", A = "matrix(n, m)"',
       "S = X + X.T\nl = eig(S, -1)\nL = l + eig(A.T @ S @ A, 1)")


def test_eigenvalue_derivative_is_v_vT():
    v = verdicts(*EIG, claim("right", "l", "S", "eigvec(S, -1) @ eigvec(S, -1).T")
                 + claim("smallest", "l", "S", "eigvec(S, 1) @ eigvec(S, 1).T")
                 + claim("through-X", "l", "X", "2 * eigvec(S, -1) @ eigvec(S, -1).T")
                 + claim("half", "l", "X", "eigvec(S, -1) @ eigvec(S, -1).T"))
    assert v["right"].verdict == "pass" and v["through-X"].verdict == "pass"
    assert v["smallest"].verdict == "fail" and v["half"].verdict == "fail"


def test_eigen_rules_against_finite_differences_and_numpy():
    p = problem(EIG[0], EIG[1] + "\nu = eigvec(A.T @ S @ A, -1)\nM = sum(hadamard(u, A.T @ X @ A @ u))")
    sizes = {"n": 4, "m": 3}
    for of in ("L", "M"):
        for name in ("X", "A"):
            engine, fd = finite_difference(p, sizes, name, of=of)
            np.testing.assert_allclose(engine, fd, rtol=1e-4, atol=1e-6, err_msg=(of, name))
    ins = draw_all(p.inputs, 3, seed=0, sizes=sizes)
    values = Values(p, ins, sizes)
    S = values.env[p.graph.symbols["S"]]
    for s in range(3):
        np.testing.assert_allclose(values.env[p.graph.symbols["l"]][s],
                                   np.linalg.eigvalsh(S[..., s])[-1], rtol=1e-12)


@pytest.mark.parametrize("inputs, graph, where, words", [
    ('X = "matrix(n, n)"', "L = eig(X, 1)", "9:5", "not symmetric by construction"),
    ('X = "matrix(n, n)", A = "matrix(n, n)"', "S = X + X.T\nL = eig(S @ A, 1)", "10:5",
     "not symmetric"),
    ('X = "matrix(m, n)"', "L = eig(X.T @ X + X, 1)", "9:19", "shape mismatch for +"),
    ('X = "matrix(m, n)"', "L = eig(X, 1)", "9:5", "needs a square symmetric matrix"),
    ('X = "matrix(n, n)"', "L = eig(X + X.T, 0)", "9:5", "as a whole number"),
    ('X = "matrix(n, n)"', "L = eig(X + X.T, 3)", "9:5", "sizes are drawn from 2"),
    ('X = "matrix(3, 3)"', "L = eig(X + X.T, -4)", "9:5", "|k| ≤ 3"),
    ('X = "matrix(n, n)"', "L = sum(eigvec(X @ X, 1))", "9:9", "not symmetric"),
])
def test_bad_eigen_inputs_are_refused_at_their_place(tmp_path, inputs, graph, where, words):
    out = cli_bad(tmp_path, inputs, graph)
    assert f"bad.toml:{where}:" in out and words in out, out


def test_symmetric_by_construction():
    from deriv import algebra as A
    p = problem('X = "matrix(m, n)", B = "matrix(m, m)", v = "vector(m)"',
                "S = B + B.T\nQ = X.T @ S @ X\nR = inv(Q) + 2 * eye(n)\nE = expm(S) @ B"
                "\nD1 = diag(v)\nL = trace(R) + trace(E) + trace(D1)")
    marked = {n for n in p.graph.nodes if getattr(p.graph.symbols[n], "symmetric", False)}
    assert marked == {"S", "Q", "R", "D1"}
    assert not A.is_symmetric(p.graph.nodes["E"].expr)


# --- results in the reference's form ----------------------------------------------------------

@pytest.mark.parametrize("inputs, graph, wrt, shown", [
    ('X = "matrix(m, n)", b = "vector(n)", c = "vector(n)"', "L = b.T @ X.T @ X @ c", "X",
     "X(bcᵀ + cbᵀ)"),
    ('X = "matrix(m, n)", A = "matrix(k, m)", B = "matrix(n, l)", C = "matrix(k, l)"',
     "L = trace((A @ X @ B + C) @ (A @ X @ B + C).T)", "X", "2·Aᵀ(C + AXB)Bᵀ"),
    ('X = "matrix(m, n)", A = "matrix(k, m)", B = "matrix(n, l)", C = "matrix(k, l)"',
     "L = trace((A @ X @ B + C) @ (A @ X @ B + C).T)", "C", "2·(C + AXB)"),
    ('X = "matrix(n, n)"', "L = det(X @ X)", "X", "2·L·X⁻ᵀ"),
    ('X = "matrix(n, n)"', "L = det(X**3)", "X", "3·L·X⁻ᵀ"),
    ('X = "matrix(n, n)"', "L = trace(X**-2)", "X", "-2·(X⁻ᵀ)³"),
    ('X = "matrix(m, n)", b = "vector(n)", c = "vector(n)"', "L = sum(hadamard(X @ b, X @ c))",
     "b", "XᵀXc"),
    ('X = "matrix(m, n)", A = "matrix(m, m)"', "Y = X @ X.T\nL = det(Y) * trace(A @ Y)", "X",
     "det(Y)·(2·tr(AY)·Y⁻¹ + A + Aᵀ)X"),
])
def test_results_in_the_references_form(inputs, graph, wrt, shown):
    p = problem(inputs, graph)
    s = solve(p, mode="reverse", wrt=[wrt])
    (result,) = s.results
    assert text(result.expr) == shown
    # the form shown is the value computed
    from deriv.program import Values as V
    sizes = s.sizes
    ins = {k: np.asarray(v, dtype=float)[..., None] for k, v in s.point.items()}
    shown_value = V(p, ins, sizes).value(result.expr)[..., 0]
    np.testing.assert_allclose(shown_value, result.value, rtol=1e-9, atol=1e-12)


def test_the_right_formula_of_a_diagnosis_is_in_the_references_form():
    v = verdicts('X = "matrix(m, n)", b = "vector(n)", c = "vector(n)"', "L = b.T @ X.T @ X @ c",
                 claim("odd", "L", "X", "X @ (b + c) @ c.T"))
    (f,) = v["odd"].diagnosis
    assert f.kind == "no-explanation" and text(f.expr) == "X(bcᵀ + cbᵀ)"


# --- README's examples ------------------------------------------------------------------------

def readme_examples():
    from pathlib import Path
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = readme[readme.index('[[problem]]\nid = "kron"'):]
    return load_text('[source]\ntitle = "README"\nfile = "README.md"\n\n' +
                     block[:block.index("```")], "README.md")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_readme_examples_pass_and_their_twins_fail(seed):
    problems = readme_examples()
    assert [p.id for p in problems] == ["kron", "power", "expm", "eigenvalue",
                                        "inverse-by-a-scalar"]
    for p in problems:
        vs, _ = check_problem(p, Options(samples=400, seed=seed))
        for v in vs:
            want = "fail" if v.claim.id.endswith("-wrong") else "pass"
            assert v.verdict == want, (p.id, v.claim.id, seed, v.diagnosis)


def test_readme_examples_solve_as_it_says():
    shown = {p.id: {text(r.expr) for r in solve(p, mode="both").results}
             for p in readme_examples()}
    assert "tr(GᵀB)·C" in shown["kron"]
    assert shown["power"] == {"2·D₂·X⁻ᵀ"}
    assert shown["expm"] == {"cosm(X)ᵀ + expm(X)ᵀ"}
    assert shown["eigenvalue"] == {"2·v(S, -1)v(S, -1)ᵀ"}
    assert shown["inverse-by-a-scalar"] == {"-ZBZ"}


def test_a_kron_too_large_is_refused(tmp_path):
    out = cli_bad(tmp_path, 'A = "matrix(64, 64)"', "L = sum(kron(A, A))")
    assert "bad.toml:9:9:" in out and "at most 4096" in out
    out = cli_bad(tmp_path, 'A = "matrix(n, n)"', "L = sum(kron(kron(A, A), kron(A, A)))")
    assert "at most 4096" in out


def test_an_eigenvalue_repeated_at_every_draw_is_undefined_at_any_precision():
    """eig(eye(n), 1) is repeated at every draw: float64 drops each point, and mpmath must not
    then decide the claim alone on its own arbitrary basis — an error, not a pass."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { X = "matrix(n, n)", a = "real" }\n'
            'graph = """\nM = eig(eye(n), 1)\nL = M * a + sum(hadamard(X, X))\n"""\n'
            '[[problem.claim]]\nid = "c"\nof = "L"\nwrt = "a"\nexpr = "M"\n')
    (v,) = check(load_text(text), Options(samples=200, seed=0)).verdicts
    assert v.verdict == "error" and v.precise == 0


def test_a_batch_of_matrix_exponentials_scales_each_matrix_by_its_own_norm():
    """One huge matrix in a batch had every other one squared sixty times over (the truth of
    expm(expm(X)) came out 0 at every point); a Fréchet derivative along a huge direction is
    computed along it scaled to 1 (it is linear in the direction)."""
    from deriv.matrix_functions import _np_frechet, _np_function
    rng = np.random.default_rng(0)
    small = rng.uniform(-2, 2, (3, 3, 4))
    huge = np.concatenate([small, 40 * np.eye(3)[..., None]], axis=2)
    alone = _np_function("expm", small)
    together = _np_function("expm", huge)[..., :4]
    assert np.allclose(together, alone, rtol=1e-10)
    direction = 1e17 * rng.uniform(-1, 1, (3, 3, 4))
    scaled = _np_frechet("expm")(small, direction)
    unit = _np_frechet("expm")(small, direction / 1e17) * 1e17
    assert np.allclose(scaled, unit, rtol=1e-9) and np.abs(scaled).max() > 1e16
