"""Checking large problems in bounded work: programs run as shared shapes of code
(deriv.templates), the high-precision matrix kernels (deriv.precise_linalg), and a recheck and a
diagnosis whose work is weighed by the size of what they evaluate."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from deriv import precise_linalg, templates
from deriv import recheck as R
from deriv.checker import DIAGNOSIS_NUMBERS, Options, ProblemCheck, check_problem
from deriv.problem import load_text
from deriv.program import AdjointProgram, Values, forward_program
from deriv.sampling import draw_all


def problem(inputs: str, graph: str, claims=()) -> str:
    text = f'[[problem]]\nid = "p"\ninputs = {{ {inputs} }}\ngraph = """\n{graph}\n"""\n'
    for cid, of, wrt, expr in claims:
        text += f'[[problem.claim]]\nid = "{cid}"\nof = "{of}"\nwrt = "{wrt}"\nexpr = "{expr}"\n'
    return text


def test_a_long_chain_runs_a_few_shapes_of_code_with_the_values_of_its_definition():
    """A 300-node chain's forward pass and sweep are 600 steps of a handful of shapes; the
    values are those of the chain computed directly in NumPy."""
    graph = "h0 = x\n" + "\n".join(f"h{i} = tanh(1.5*h{i - 1} + 0.25)" for i in range(1, 300))
    (p,) = load_text(problem('x = "real"', graph), "chain.toml")
    inputs = draw_all(p.inputs, 50, 0, {})
    values = Values(p, inputs, {})
    forward = forward_program(p.graph)
    adjoint = AdjointProgram(p.graph)
    shapes = {shape for _, shape, _, _ in forward._steps + adjoint._steps}
    assert len(forward._steps) >= 299 and len(adjoint._steps) == 300
    assert len(shapes) <= 6, len(shapes)
    h, grad = inputs["x"].copy(), np.ones_like(inputs["x"])
    for _ in range(299):
        h = np.tanh(1.5 * h + 0.25)
        grad = grad * (1 - h ** 2) * 1.5
    assert np.array_equal(values.env[p.graph.symbols["h299"]], h)
    assert np.allclose(values.derivative("h299", "h0"), grad, rtol=1e-12)
    # no name of the file in the code, and tanh′ reads the stored tanh, never computes it
    # (its argument too: where the value is near ±1, tanh′ is computed from e^(−2|z|))
    assert "h299" not in adjoint.source() and "F_tanh(" not in adjoint.source()


def test_a_step_names_only_what_the_store_holds():
    """Names become parameters; a temporary and a size's quoted name stay as written."""
    slots = {"v1": 0, "b3": 1, "C[0]": 2}
    guard, shape, reads, writes = templates.step(
        ["t0 = v1*C[0]", "b3 = ACC(b3, t0*K('eye', ('v1',)))"], slots.get, ["b3"], 7)
    assert guard == 7 and reads == (0, 2, 1) and writes == (1,)
    assert "t0 = p0*p1" in shape and "K('eye', ('v1',))" in shape and "v1*" not in shape


@pytest.mark.parametrize("digits", [30, 60])
def test_the_precise_inverse_and_determinant_are_right_to_the_working_precision(digits):
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, (12, 12))
    with mp.workdps(digits):
        a = np.vectorize(mp.mpf, otypes=[object])(x)
        inverse, det = precise_linalg.inverse(a), precise_linalg.det(a)
        m = mp.matrix(x.tolist())
        reference = m ** -1
        worst = max(abs(inverse[i, j] - reference[i, j]) for i in range(12) for j in range(12))
        assert worst < mp.mpf(10) ** (5 - digits)
        assert abs(det - mp.det(m)) < abs(det) * mp.mpf(10) ** (5 - digits)
        # and not merely close to float64
        assert abs(det - mp.mpf(float(np.linalg.det(x)))) > 0


def test_a_singular_matrix_has_no_precise_inverse():
    with mp.workdps(30):
        a = np.array([[mp.mpf(1), mp.mpf(2)], [mp.mpf(2), mp.mpf(4)]], dtype=object)
        assert precise_linalg.det(a) == 0
        with pytest.raises(ZeroDivisionError):
            precise_linalg.inverse(a)
        b = np.array([[mp.mpf(-3), mp.mpf(1)], [mp.mpf(2), mp.mpf("0.5")]], dtype=object)
        assert precise_linalg.det(b) == mp.mpf("-3.5")
        assert precise_linalg.inverse(b)[0, 1] == mp.mpf(1) / mp.mpf("3.5")


def test_a_recheck_weighs_a_matrix_operation_by_its_size():
    (small,) = load_text(problem('x = "real"', "y = sin(x) * x"), "s.toml")
    (big,) = load_text(problem('X = "matrix(64, 64)"', "L = logdet(X)"), "b.toml")
    assert R.work(small.graph, 3, {}) == 3
    assert R.work(big.graph, 1, {}) >= 64 ** 3
    # a cheap evaluation: many points before the budget is spent; a 64×64 one: one point
    assert not R.enough(2 * R.FEWEST_POINTS - 1, 12) and R.enough(R.BUDGET, 12)
    assert not R.enough(0, 4 * 64 ** 3) and R.enough(1, 4 * 64 ** 3)


def test_a_wrong_claim_on_a_64_by_64_matrix_is_confirmed_and_explained_on_fewer_points():
    (p,) = load_text(problem('X = "matrix(64, 64)"', "L = logdet(X)",
                             [("w", "L", "X", "X"), ("t", "L", "X", "inv(X)")]), "m.toml")
    pc = ProblemCheck(p, Options())
    assert pc.numbers * pc.per_batch > DIAGNOSIS_NUMBERS
    (wrong, transposed), _ = check_problem(p, Options())
    assert wrong.verdict == "fail" and wrong.diagnosis[0].kind == "no-explanation"
    assert transposed.verdict == "fail" and transposed.diagnosis[0].kind == "transposed"


def test_heavy_matrix_work_draws_fewer_points_and_still_decides(monkeypatch):
    """A 64×64 expm a point (and 64×64 eigenvectors, where one 50-digit evaluation would take
    minutes): the points drawn follow the matrix work (never under MIN_PER_BATCH); the right
    claim passes, and a wrong one fails on float64 alone, far outside round-off, with no
    mpmath evaluation."""
    from deriv.checker import MIN_PER_BATCH
    (p,) = load_text(problem('A = "matrix(64, 64)"', "E = expm(A/64)\nL = trace(E)",
                             [("right", "L", "A", "expm(A/64).T/64"),
                              ("wrong", "L", "A", "expm(A/64)/64")]), "expm.toml")
    pc = ProblemCheck(p, Options())
    assert MIN_PER_BATCH <= pc.per_batch < 200
    v = {r.claim.id: r for r in check_problem(p)[0]}
    assert v["right"].verdict == "pass" and v["wrong"].verdict == "fail"

    (q,) = load_text(problem('X = "matrix(64, 64)"', "S = X + X.T\nl = eig(S, -1)",
                             [("right", "l", "S", "eigvec(S, -1) @ eigvec(S, -1).T"),
                              ("wrong", "l", "S", "eigvec(S, 1) @ eigvec(S, 1).T")]), "eig.toml")
    monkeypatch.setattr(ProblemCheck, "at_point", lambda *a: pytest.fail("a 50-digit eig"))
    v = {r.claim.id: r for r in check_problem(q)[0]}
    assert v["right"].verdict == "pass" and v["wrong"].verdict == "fail"


def test_deriv_runs_blas_on_one_thread():
    """deriv's matrices are small and batched: BLAS threads only fight for the cores (a batch
    of 64×64 eigh ran 100× slower on two threads of a loaded machine)."""
    import subprocess
    import sys
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", "import os, deriv; "
                          "print(os.environ['OPENBLAS_NUM_THREADS'])"],
                         capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "1"


def test_past_the_rechecked_wrong_claims_one_size_setting_settles_a_gross_one():
    """5,000 wrong matrix claims: once MAX_RECHECKED were confirmed, a claim far off at the
    first size setting is not evaluated at the others. A claim right there and wrong at
    other sizes is still evaluated at all of them, and fails; a right one passes."""
    from deriv.checker import MAX_RECHECKED
    wrong = [(f"w{k}", f"{k + 3}*r @ x.T") for k in range(MAX_RECHECKED + 10)]
    claims = wrong + [("right", "2*r @ x.T"), ("square-only", "2*(n/m)*r @ x.T")]
    text = problem('W = "matrix(n, m)", x = "vector(m)", y = "vector(n)"',
                   "z = W @ x\nr = z - y\nL = r.T @ r",
                   [(cid, "L", "W", expr) for cid, expr in claims])
    (p,) = load_text(text, "many.toml")
    found = {v.claim.id: v for v in check_problem(p, Options(samples=2000))[0]}
    assert len(ProblemCheck(p, Options(samples=2000)).batches) > 1
    assert all(found[cid].outcome == "failed" for cid, _ in wrong)
    assert found["right"].outcome == "passed"
    assert found["square-only"].outcome == "failed"
    late, early = found[f"w{MAX_RECHECKED + 5}"], found["w0"]
    assert late.samples < early.samples == found["right"].samples


def test_a_long_recurrence_is_checked_in_bounds_and_its_lost_paths_named():
    """A 150-step RNN (450 nodes, past the subsets of paths a diagnosis tries): the states'
    Jacobians tried as other numerators stop at a budget of sweeps, and the last-step-only
    gradient is still named by its shortest path."""
    import time
    steps = 150
    graph = "a[t] = W @ h[t-1] + U @ x[t]\nh[t] = tanh(a[t])\nL = norm2(h[%d] - y) / 2" % steps
    text = ('[[problem]]\nid = "rnn"\nindex = { t = %d }\n' % steps +
            'inputs = { W = "matrix(n, n)", U = "matrix(n, m)", "x[t]" = "vector(m)", '
            'h0 = "vector(n)", y = "vector(n)" }\n' + f'graph = """\n{graph}\n"""\n' +
            '[[problem.claim]]\nid = "last"\nof = "L"\nwrt = "W"\n'
            f'expr = "D(L, a[{steps}]) @ h[{steps - 1}].T"\n')
    (p,) = load_text(text, "rnn.toml")
    start = time.process_time()
    (v,), _ = check_problem(p, Options())
    assert v.outcome == "failed"
    assert v.diagnosis[0].kind == "lost-path" and v.diagnosis[0].count == steps
    assert time.process_time() - start < 30          # (a hang, not a benchmark)


def test_plot_of_a_thousand_node_chain_is_fast_and_finds_its_kink():
    """plot built a large graph's derivative as one SymPy closed form (quadratic: 10 s at
    1,000 nodes, a RecursionError inlining it, over 60 s at 5,000). Past 100 nodes its values
    come from the adjoint program, and its kinks from the output's ancestors."""
    import time
    from deriv.plot import derivative_curve
    from deriv.problem import load_text
    graph = "\n".join(["c1 = relu(x - 0.2)"] + [f"c{i} = tanh(c{i - 1}) + 0.01 * x"
                                                for i in range(2, 1001)])
    (p,) = load_text(f'[[problem]]\nid = "p"\ninputs = {{ x = "real" }}\ngraph = """\n{graph}\n"""\n')
    start = time.perf_counter()
    curve = derivative_curve(p, "x", "x", -1.0, 1.0)
    assert time.perf_counter() - start < 10
    assert any(abs(k.x - 0.2) < 1e-6 for k in curve.kinks), [k.x for k in curve.kinks]


def test_a_tower_of_matrix_exponentials_is_checked_in_bounded_work():
    """expm(expm(expm(X))) overflows every float and grew mpmath's squarings without bound
    (minutes, gigabytes): past a norm the matrix function is not evaluated in mpmath, and no
    evaluation runs at a precision whose cost is past the bound (a tower beside y¹⁰⁰⁰)."""
    import time
    (tower,) = load_text(problem('X = "matrix(n, n)"', "E = expm(expm(expm(X)))\nL = trace(E)",
                                 [("wrong", "L", "X", "E.T")]), "t.toml")
    (mixed,) = load_text(problem(
        'X = "interval(-0.1, 0.1) matrix(n, n)", y = "interval(0.5, 1) vector(n)"',
        "P = X**32 @ X**-32 @ X**32\nE = expm(expm(expm(X)))\nQ = y ** 1000\n"
        "L = trace(P) + trace(E) + sum(Q)",
        [("right", "L", "y", "1000 * y ** 999"), ("wrong", "L", "y", "999 * y ** 999")]),
        "m.toml")
    start = time.process_time()
    (v,), _ = check_problem(tower, Options())
    assert v.verdict in ("fail", "error")          # never a pass: it is not the gradient
    right, wrong = check_problem(mixed, Options())[0]
    assert (right.verdict, wrong.verdict) == ("pass", "fail")
    assert time.process_time() - start < 20         # (minutes before; about 1 s now)
    assert R.digit_weight(50) == 1 and R.digit_weight(1000) > 100


def test_the_sweeps_a_batch_keeps_are_bounded_in_memory(monkeypatch):
    """Claims at many depths of one chain each sweep from their own node; the oldest sweeps
    are let go past SWEEP_MEMORY (99 of them on a 1,000-node chain had held 2.4 GB)."""
    from deriv import program
    monkeypatch.setattr(program, "SWEEP_MEMORY", 200_000)
    graph = "n0 = tanh(x)\n" + "\n".join(f"n{i} = tanh(n{i - 1} + x/10)" for i in range(1, 60))
    (p,) = load_text(problem('x = "real"', graph), "c.toml")
    (batch,) = ProblemCheck(p, Options()).batches
    values = batch.values
    first = values.derivative("n50", "x")
    for k in range(10, 60):
        values.derivative(f"n{k}", "x")
    held = sum(getattr(v, "nbytes", 8) for bars in values._sweeps.values() for v in bars.values())
    assert held <= 200_000 + 60 * values.n * 8 and len(values._sweeps) < 50
    assert np.allclose(values.derivative("n50", "x"), first)     # computed again when asked
