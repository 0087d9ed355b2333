"""One engine: each case where the scalar and matrix engines of round 1 drifted apart, run on a
scalar problem and on a matrix problem, with the same behaviour expected of both."""

import numpy as np
import pytest
from click.testing import CliRunner

from deriv.checker import Options, check_problem
from deriv.cli import main
from deriv.errors import DerivError
from deriv.problem import MAX_NODES, load_text
from deriv.program import Values
from deriv.sampling import draw_all

SCALAR = 'x = "real", w = "real"'
MATRIX = 'x = "vector(n)", W = "matrix(n, n)"'


def problem(inputs: str, graph: str, claims: str = "", output: str | None = None):
    out = f'output = "{output}"\n' if output else ""
    text = (f'[[problem]]\nid = "p"\ninputs = {{ {inputs} }}\n{out}graph = """\n{graph}\n"""\n'
            + claims)
    (p,) = load_text(text, "drift.toml")
    return p


def verdicts(p):
    return {v.claim.id: v for v in check_problem(p, Options(samples=400))[0]}


# --- the same limits, names and messages ------------------------------------------------------
@pytest.mark.parametrize("inputs, line", [(SCALAR, "f{k} = w * x"), (MATRIX, "f{k} = W @ x")])
def test_the_same_node_limit(inputs, line):
    graph = "\n".join(line.format(k=k) for k in range(MAX_NODES + 1))
    with pytest.raises(DerivError, match=f"more than {MAX_NODES} nodes"):
        problem(inputs, graph)


@pytest.mark.parametrize("inputs, expr", [(SCALAR, "w * x"), (MATRIX, "W @ x")])
@pytest.mark.parametrize("name", ["lambda", "sum", "eye", "D"])
def test_the_same_names_are_refused(inputs, expr, name):
    with pytest.raises(DerivError, match=f"'{name}' cannot be a node name") as err:
        problem(inputs, f"{name} = {expr}")
    assert err.value.line is not None


@pytest.mark.parametrize("inputs, graph, out", [
    (SCALAR, "y = 2 * h\nh = w * x", "y"),
    (MATRIX, "y = norm2(h)\nh = W @ x", "y"),
])
def test_forward_references_load_in_both(inputs, graph, out):
    p = problem(inputs, graph, output=out)
    assert p.graph.order.index("h") < p.graph.order.index("y")


@pytest.mark.parametrize("inputs, graph", [(SCALAR, "y = a\na = b\nb = y + x"),
                                           (MATRIX, "y = a\na = W @ b\nb = y + x")])
def test_cycles_are_refused_alike(inputs, graph):
    with pytest.raises(DerivError, match="cycle"):
        problem(inputs, graph)


# --- one registry: the same primitives, computed the same way --------------------------------
@pytest.mark.parametrize("inputs, graph", [(SCALAR, "y = sigmoid(w * x)"),
                                           (MATRIX, "y = sum(sigmoid(W @ x))")])
def test_sigmoid_is_stable_in_both(inputs, graph):
    p = problem(inputs, graph)
    sizes = {s: 3 for s in p.sizes}
    ins = draw_all(p.inputs, 4, 0, sizes)
    ins = {k: v * 1e3 for k, v in ins.items()}          # arguments in the thousands
    values = Values(p, ins, sizes)
    y = values.env[p.graph.symbols["y"]]
    assert np.all(np.isfinite(y))
    grads = [values.derivative("y", name) for name in p.inputs]
    assert all(np.all(np.isfinite(g)) for g in grads)


ELEMENTWISE = ["tan(0.3 * {a})", "max({a}, 0.5 * {a})", "min({a}, 0.5 * {a})", "rect({a})",
               "softplus({a})", "abs({a})", "leaky_relu({a}, 0.1)"]


@pytest.mark.parametrize("f", ELEMENTWISE)
def test_every_primitive_works_on_scalars_and_elementwise_on_arrays(f):
    """The derivative of sum(f(W x)) by finite differences, on a scalar and a matrix problem."""
    for inputs, arg, wrap in ((SCALAR, "w * x", "{}"), (MATRIX, "W @ x", "sum({})")):
        p = problem(inputs, "y = " + wrap.format(f.format(a=arg)))
        sizes = {s: 3 for s in p.sizes}
        ins = draw_all(p.inputs, 6, 1, sizes)
        values = Values(p, ins, sizes)
        name = "w" if "w" in p.inputs else "W"
        got = values.derivative("y", name)
        fd = np.zeros_like(got)
        h = 1e-6
        for idx in np.ndindex(*ins[name].shape[:-1]):
            up = {k: v.copy() for k, v in ins.items()}
            down = {k: v.copy() for k, v in ins.items()}
            up[name][idx] += h
            down[name][idx] -= h
            fd[idx] = (Values(p, up, sizes).env[p.graph.symbols["y"]] -
                       Values(p, down, sizes).env[p.graph.symbols["y"]]) / (2 * h)
        ok = np.isfinite(fd) & (np.abs(fd) < 1e4)
        np.testing.assert_allclose(got[ok], fd[ok], rtol=1e-4, atol=1e-4, err_msg=f)


# --- one set of diagnoses ----------------------------------------------------------------------
def claim(cid, of, wrt, expr, expect="fail"):
    note = '\nnote = "wrong on purpose"' if expect == "fail" else ""
    return (f'\n[[problem.claim]]\nid = "{cid}"\nof = "{of}"\nwrt = "{wrt}"\nexpr = "{expr}"\n'
            f'expect = "{expect}"{note}\n')


def kinds(v):
    return [f.kind for f in v.diagnosis]


def test_missing_factor_on_both():
    scalar = problem('x = "real", s = "positive"', "y = s * sin(x)",
                     claim("c", "y", "x", "cos(x)"))
    matrix = problem('x = "vector(n)", W = "matrix(n, n)", s = "positive"',
                     "h = W @ x\ny = s * sum(tanh(h))",
                     claim("c", "y", "W", "(D(y, h) / s) @ x.T"))
    for p in (scalar, matrix):
        (v,) = verdicts(p).values()
        assert v.verdict == "fail"
        found = {f.kind: f for f in v.diagnosis}
        assert "missing-factor" in found, kinds(v)
        assert str(found["missing-factor"].expr) == "s"


def test_wrong_factor_on_both():
    """A printed product with one factor that is not the partial it stands for."""
    scalar = problem('x = "real"', "h = x**3\ny = sin(h)",
                     claim("c", "y", "x", "cos(h) * (2 * x)"))
    matrix = problem('x = "vector(n)", W = "matrix(n, n)"', "h = W @ x\ny = norm2(h)",
                     claim("c", "y", "x", "W @ (2 * h)"))       # Wᵀ printed as W
    for p, wrong in ((scalar, "2*x"), (matrix, "W")):
        (v,) = verdicts(p).values()
        assert v.verdict == "fail"
        found = {f.kind: f for f in v.diagnosis}
        assert "wrong-factor" in found, kinds(v)
        assert str(found["wrong-factor"].printed) == wrong
        assert str(found["wrong-factor"].derivative) == "D(h, x)"


def test_swapped_symbols_on_both():
    scalar = problem('x = "real", w1 = "real", w2 = "real"', "y = w1 * x + w2 * x**2",
                     claim("c", "y", "x", "w2 + 2 * w1 * x"))
    matrix = problem('x = "vector(n)", W1 = "matrix(n, n)", W2 = "matrix(n, n)"',
                     "y = norm2(W1 @ x) + 3 * norm2(W2 @ x)",
                     claim("c", "y", "x", "6 * W1.T @ W1 @ x + 2 * W2.T @ W2 @ x"))
    for p, pair in ((scalar, {"w1", "w2"}), (matrix, {"W1", "W2"})):
        (v,) = verdicts(p).values()
        found = {f.kind: f for f in v.diagnosis}
        assert "swapped" in found, kinds(v)
        assert set(found["swapped"].symbols) == pair


def test_mislabelled_tries_other_numerators_on_both():
    """The claim is right, but for another node's derivative (another numerator)."""
    scalar = problem('x = "real"', "h = sin(x)\ny = h**2", claim("c", "y", "x", "cos(x)"))
    matrix = problem('x = "vector(n)", W = "matrix(n, n)"',
                     "h = tanh(W @ x)\ng = sum(h)\ny = norm2(h) + g",
                     claim("c", "g", "x", "D(y, x)"), output="y")
    for p, other in ((scalar, "D(h, x)"), (matrix, "D(y, x)")):
        (v,) = verdicts(p).values()
        found = {f.kind: f for f in v.diagnosis}
        assert "mislabelled" in found, kinds(v)
        assert str(found["mislabelled"].derivative) == other


# --- solve: every mode, vector outputs -----------------------------------------------------------
@pytest.mark.parametrize("target", ["problem-7.12", "problem-7.6", "dis-backprop-2e"])
@pytest.mark.parametrize("mode", ["forward", "reverse", "both"])
def test_solve_works_in_every_mode_for_scalar_and_matrix_problems(target, mode):
    result = CliRunner().invoke(main, ["solve", target, "--mode", mode])
    assert result.exit_code == 0, result.output
    if target == "problem-7.6" and mode != "forward":
        assert "∂z/∂h = Ωᵀ" in result.output
