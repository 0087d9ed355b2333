"""Issue 11's cases: each wrong claim gets the right explanation (and a right claim passes),
the explanation is never a tautology, an unexplained claim gets a counterexample, and a
printed intermediate that no asked derivative can see is a warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import deriv
from deriv.checker import Options, check

HERE = Path(__file__).parent / "fixtures" / "explanations"


def verdicts(name: str, **options):
    report = check(deriv.load_all(str(HERE / name)), Options(**options))
    return {v.claim.id: v for v in report.verdicts}, report


def test_bptt_that_keeps_only_the_last_step_loses_two_paths():
    v, _ = verdicts("paths.toml")
    f = v["last-step-only"].diagnosis[0]
    assert (f.kind, f.kept, set(f.symbols)) == ("lost-path", ("h3",), {"h1", "h2"})


def test_batch_norm_without_its_statistics_loses_the_mean_and_variance_paths():
    v, _ = verdicts("paths.toml")
    f = v["drops-stats"].diagnosis[0]
    assert (f.kind, f.kept, set(f.symbols)) == ("lost-path", ("y1",), {"mu", "v"})
    f = v["drops-var"].diagnosis[0]
    assert (f.kind, set(f.kept), f.symbols) == ("lost-path", {"mu", "y1"}, ("v",))


def test_a_path_lost_between_wrt_and_of_is_found_by_a_sweep_without_it():
    v, _ = verdicts("paths.toml")
    f = v["drops-c"].diagnosis[0]
    assert (f.kind, f.kept, f.symbols) == ("lost-path", ("b",), ("c",))
    assert f.paths == (("x", "a", "c", "y"),)


def test_a_wrong_variable_inside_a_factor_that_is_a_product():
    v, _ = verdicts("factor.toml")
    assert v["dL/dw-ok"].verdict == "pass"
    f = v["dL/dw"].diagnosis[0]
    assert f.kind == "wrong-factor"
    assert (f.derivative.of, f.derivative.wrt) == ("q", "z")
    assert str(f.printed) == "z*(1 - q)" and str(f.expr) == "q*(1 - q)"


def test_no_wrong_factor_is_a_tautology():
    from deriv.render.words import UnicodeMath, sentence
    for name in ("factor.toml", "paths.toml", "mislabel.toml"):
        v, _ = verdicts(name)
        for verdict in v.values():
            for f in verdict.diagnosis:
                if f.kind == "wrong-factor":
                    assert f.expr is None or f.expr != f.printed, sentence(f, UnicodeMath())
                    # a factor "should be" the claim's own derivative: circular
                    assert f.derivative is None or (f.derivative.of, f.derivative.wrt) != \
                        (verdict.claim.of, verdict.claim.wrt), sentence(f, UnicodeMath())


def test_a_rectangular_mislabel_is_named_not_called_a_shape_error():
    v, _ = verdicts("mislabel.toml")
    assert v["dC/dX"].verdict == "pass"
    f = v["dC/dA-printed-as-dC/dX"].diagnosis[0]
    assert f.kind == "mislabelled" and (f.derivative.of, f.derivative.wrt) == ("C", "A")


def test_an_unexplained_claim_gets_a_counterexample_and_the_right_formula():
    v, _ = verdicts("paths.toml")
    f = v["unexplained"].diagnosis[0]
    assert f.kind == "no-explanation"
    point = dict(f.point)
    assert set(point) == {"w", "u", "x1", "x2", "x3", "h0", "y"}
    claim_value, true_value = f.values
    assert abs(claim_value - true_value) > 1e-3
    # the right formula, in the problem's own nodes, evaluated at that point is the true value
    assert {s.name for s in f.expr.free_symbols} <= {"w", "h2", "h3", "y"}
    import math
    h1 = math.tanh(point["w"] * point["h0"] + point["u"] * point["x1"])
    h2v = math.tanh(point["w"] * h1 + point["u"] * point["x2"])
    h3v = math.tanh(point["w"] * h2v + point["u"] * point["x3"])
    subs = {s: {"w": point["w"], "h2": h2v, "h3": h3v, "y": point["y"]}[s.name]
            for s in f.expr.free_symbols}
    assert abs(float(f.expr.subs(subs)) - true_value) < 1e-9


def test_an_intermediate_no_asked_derivative_sees_is_a_warning():
    v, report = verdicts("severity.toml")
    assert v["dz/dh"].outcome == "passed"
    assert v["z"].outcome == "warning"           # drops β; ∂z/∂h = Ωᵀ is unaffected
    assert v["z-bad"].outcome == "failed"        # 2Ωh: ∂z/∂h would change
    assert report.summary()["warnings"] == 1 and report.exit_code == 1
    v, report = verdicts("severity.toml", strict=True)
    assert v["z"].outcome == "failed"


def test_the_check_says_the_same_on_every_run_under_load(tmp_path):
    """Five runs in parallel with a CPU-heavy job, each with its own hash seed: the same
    bytes of JSON (nothing depends on the clock or on a set's order)."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        files = [str(HERE / n) for n in ("paths.toml", "factor.toml", "severity.toml")]
        runs = [subprocess.Popen([sys.executable, "-m", "deriv", "check", *files, "problem-7.1",
                                  "notes-backprop-4.2a", "--format", "json"],
                                 stdout=subprocess.PIPE, env={**os.environ,
                                                              "PYTHONHASHSEED": str(k)})
                for k in range(5)]
        outputs = [r.communicate(timeout=300)[0] for r in runs]
    finally:
        burner.kill()
    assert len(set(outputs)) == 1
    assert json.loads(outputs[0])["summary"]["failed"] >= 5


def test_overflow_is_not_undefined():
    """log(exp(a) + exp(b)) at a, b ∈ [700, 720]: float64 overflows at most points, the
    function does not; those points are checked at 50 digits, not dropped as undefined —
    and a missing domain is still called undefined."""
    for samples in (200, 2000):
        v, _ = verdicts("overflow.toml", samples=samples)
        assert v["dy/da"].verdict == "pass" and v["dy/da"].undefined == 0
        assert v["dy/da"].overflow > samples / 2 and v["dy/da"].precise >= 64
        assert v["dy/da-wrong"].verdict == "fail"
    by_problem = {(r.problem, r.claim.id): r for r in verdicts("overflow.toml")[1].verdicts}
    everywhere = by_problem[("all-over", "dy/da-wrong")]
    assert everywhere.verdict == "fail" and everywhere.samples == 0
    assert by_problem[("all-over", "dy/da")].verdict == "pass"
    domain = by_problem[("domain", "dy/dx")]
    assert domain.undefined > 500 and domain.overflow == 0


def test_a_formula_right_only_at_some_sizes_fails_on_every_seed():
    """det(XᵀAX) for X of m × n: for m < n, XᵀAX is singular and nothing can be compared
    there; the sizes are drawn both ways (m < n and m > n), so the symmetric-A formula applied
    to a general A fails whatever the seed, and the dropped setting is said."""
    problems = deriv.load_all(str(HERE / "det.toml"))
    for seed in range(8):
        report = check(problems, Options(seed=seed, samples=200))
        v = {r.claim.id: r for r in report.verdicts}
        assert v["general"].verdict == "pass", seed
        assert v["symmetric-A-twin"].verdict == "fail", seed
        assert all(d["m"] < d["n"] for d in v["general"].dropped), seed


def test_sizes_are_drawn_both_ways():
    from deriv.sampling import size_assignments
    for seed in range(10):
        settings = size_assignments(["m", "n"], seed)
        assert {"m": 3, "n": 3} in settings
        assert any(s["m"] < s["n"] for s in settings) and any(s["m"] > s["n"] for s in settings)


def test_every_failed_claim_shows_an_explanation_or_a_counterexample():
    for name in ("paths.toml", "overflow.toml", "factor.toml", "severity.toml", "det.toml"):
        for v in verdicts(name)[1].verdicts:
            if v.verdict != "fail":
                continue
            assert v.diagnosis, v.claim.id
            for f in v.diagnosis:
                if f.kind == "no-explanation":
                    assert f.point and len(f.values) == 2, v.claim.id


def test_symmetric_only_names_the_matrix():
    v, _ = verdicts("det.toml")
    f = next(f for f in v["symmetric-A-twin"].diagnosis if f.kind == "symmetric-only")
    assert f.symbols == ("A",)


def test_a_wrong_factor_inside_one_term_of_a_sum():
    v, _ = verdicts("paths.toml")
    f = v["x2-for-x1"].diagnosis[0]
    if f.derivative is None:        # the wrong part inside ∂h₁/∂u's factor, named alone
        assert f.kind == "wrong-factor" and (str(f.printed), str(f.expr)) == ("x2", "x1")
        return
    assert f.kind == "wrong-factor" and (f.derivative.of, f.derivative.wrt) == ("h1", "u")
    assert {s.name for s in f.printed.free_symbols} == {"x2", "h1"}


PRINTED_TERMS = '''
[[problem]]
id = "scalar-terms"
inputs = { x = "real", w = "real", t = "real" }
graph = """
a = w * x
h = tanh(a)
L = (h - t)**2 / 2
"""

[[problem.claim]]
id = "right"
of = "L"
wrt = "w"
expr = "(h - t) * (1 - h**2) * x"

[[problem.claim]]
id = "extra-run"
of = "L"
wrt = "x"
expr = "(h - t) * (1 - h**2) * w + (h - t)"

[[problem]]
id = "two-paths"
inputs = { x = "real", w = "real" }
graph = """
y = x * w + sin(x)
"""

[[problem.claim]]
id = "sign-of-one"
of = "y"
wrt = "x"
expr = "w - cos(x)"

[[problem]]
id = "matrix-terms"
inputs = { W = "matrix(m, n)", x = "vector(n)", b = "vector(m)" }
graph = """
z = W @ x + b
L = sum(hadamard(z, z)) / 2
"""

[[problem.claim]]
id = "extra-matrix-term"
of = "L"
wrt = "W"
expr = "z @ x.T + W"

[[problem.claim]]
id = "sign-of-matrix-term"
of = "L"
wrt = "b"
expr = "W @ x - b"
'''


def test_a_superfluous_printed_term_or_run_of_terms_is_named_for_scalars_and_matrices(tmp_path):
    path = tmp_path / "terms.toml"
    path.write_text(PRINTED_TERMS)
    report = check(deriv.load_all(str(path)), Options())
    v = {r.claim.id: r for r in report.verdicts}
    assert v["right"].verdict == "pass"
    first = {k: (r.diagnosis[0].kind, str(r.diagnosis[0].expr)) for k, r in v.items()
             if r.verdict == "fail"}
    assert first["extra-run"] == ("extra-term", "h - t")
    assert first["extra-matrix-term"] == ("extra-term", "W")
    assert first["sign-of-matrix-term"][0] == "term-sign"
    assert "b" in first["sign-of-matrix-term"][1]
    assert first["sign-of-one"] == ("term-sign", "-cos(x)")


OTHER_NODES = '''
[[problem]]
id = "family"
inputs = { x1 = "real", x2 = "real", g = "real", b = "real", c1 = "real", c2 = "real" }
graph = """
n1 = tanh(x1)
n2 = tanh(x2)
y1 = g * n1 + b
y2 = g * n2 + b
L = c1 * y1 + c2 * y2
"""

[[problem.claim]]
id = "right"
of = "L"
wrt = "g"
expr = "c1 * n1 + c2 * n2"

[[problem.claim]]
id = "outputs-for-normalised"
of = "L"
wrt = "g"
expr = "c1 * y1 + c2 * y2"

[[problem]]
id = "layer"
inputs = { W = "matrix(m, n)", x = "vector(n)", c = "vector(m)" }
graph = """
a = W @ x
h = tanh(a)
L = sum(hadamard(c, h))
"""

[[problem.claim]]
id = "pre-for-post"
of = "h"
wrt = "a"
expr = "diag(1 - hadamard(a, a))"

[[problem]]
id = "symbolic"
inputs = { x = "real", v = "positive" }
graph = """
y = x * exp(x)
s = (v + 1)**(-0.5)
"""

[[problem.claim]]
id = "product-rule-half"
of = "y"
wrt = "x"
expr = "x * exp(x)"

[[problem.claim]]
id = "power-rule-unlowered"
of = "s"
wrt = "v"
expr = "-0.5 * (v + 1)**(-0.5)"

[[problem.claim]]
id = "power-rule"
of = "s"
wrt = "v"
expr = "-0.5 * (v + 1)**(-1.5)"
'''


def test_a_symbol_written_for_another_node_and_a_small_symbolic_gap_are_named(tmp_path):
    path = tmp_path / "nodes.toml"
    path.write_text(OTHER_NODES)
    report = check(deriv.load_all(str(path)), Options())
    v = {r.claim.id: r for r in report.verdicts}
    assert v["right"].verdict == "pass" and v["power-rule"].verdict == "pass"
    f = v["outputs-for-normalised"].diagnosis[0]
    assert (f.kind, str(f.printed), str(f.expr)) == ("wrong-factor", "(y1, y2)", "(n1, n2)")
    f = v["pre-for-post"].diagnosis[0]
    assert (f.kind, str(f.printed), str(f.expr)) == ("wrong-symbol", "a", "h")
    f = v["product-rule-half"].diagnosis[0]
    assert (f.kind, str(f.expr)) == ("missing-term", "exp(x)")
    f = v["power-rule-unlowered"].diagnosis[0]
    assert f.kind == "missing-factor" and str(f.expr).replace(" ", "") in ("1/(v+1)",)


DEEP_PATHS = '''
[[problem]]
id = "deep"
inputs = { x = "real" }
graph = """
a = sin(x)
b = exp(a)
c = a * a
y = b + c
"""

[[problem.claim]]
id = "right"
of = "y"
wrt = "x"
expr = "(exp(a) + 2*a) * cos(x)"

[[problem.claim]]
id = "b-twice"
of = "y"
wrt = "x"
expr = "(2*exp(a) + 2*a) * cos(x)"

[[problem]]
id = "deep-matrix"
inputs = { W = "matrix(m, n)", x = "vector(n)" }
graph = """
a = W @ x
b = exp(a)
c = hadamard(a, a)
y = sum(b) + sum(c)
"""

[[problem.claim]]
id = "right"
of = "y"
wrt = "W"
expr = "(exp(a) + 2*a) @ x.T"

[[problem.claim]]
id = "c-twice"
of = "y"
wrt = "W"
expr = "(exp(a) + 4*a) @ x.T"

[[problem]]
id = "one-path"
inputs = { x = "real" }
graph = """
a = sin(x)
y = exp(a)
"""

[[problem.claim]]
id = "doubled"
of = "y"
wrt = "x"
expr = "2 * exp(a) * cos(x)"
'''


def test_a_path_counted_twice_deep_in_the_graph_is_named(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text(DEEP_PATHS)
    report = check(deriv.load_all(str(path)), Options())
    v = {(r.problem, r.claim.id): r for r in report.verdicts}
    assert v["deep", "right"].verdict == "pass" and v["deep-matrix", "right"].verdict == "pass"
    f = v["deep", "b-twice"].diagnosis[0]
    assert (f.kind, f.paths) == ("repeated-path", (("x", "a", "b", "y"),))
    f = v["deep-matrix", "c-twice"].diagnosis[0]
    assert (f.kind, f.paths) == ("repeated-path", (("W", "a", "c", "y"),))
    # the only path twice is twice the derivative: said so, not as a repeated path
    assert v["one-path", "doubled"].diagnosis[0].kind == "constant-multiple"


MATRIX_MLP = """[[problem]]
id = "mlp2"
inputs = { W1 = "matrix(h, n)", W2 = "matrix(m, h)", x = "vector(n)", y = "vector(m)", lam = "positive" }
graph = \"\"\"
z1 = W1 @ x
a1 = sigmoid(z1)
z2 = W2 @ a1
L = norm2(z2 - y) / 2 + lam * norm2(W1)
\"\"\"

[[problem.claim]]
id = "dW2-right"
of = "L"
wrt = "W2"
expr = "(z2 - y) @ a1.T"

[[problem.claim]]
id = "dW1-right"
of = "L"
wrt = "W1"
expr = "hadamard(W2.T @ (z2 - y), hadamard(a1, 1 - a1)) @ x.T + 2 * lam * W1"

[[problem.claim]]
id = "dW1-no-sigmoid-prime"
of = "L"
wrt = "W1"
expr = "(W2.T @ (z2 - y)) @ x.T + 2 * lam * W1"

[[problem.claim]]
id = "dW1-sigmoid-for-prime"
of = "L"
wrt = "W1"
expr = "hadamard(W2.T @ (z2 - y), a1) @ x.T + 2 * lam * W1"

[[problem.claim]]
id = "dW1-no-reg"
of = "L"
wrt = "W1"
expr = "hadamard(W2.T @ (z2 - y), hadamard(a1, 1 - a1)) @ x.T"

[[problem.claim]]
id = "dW1-reg-no-2"
of = "L"
wrt = "W1"
expr = "hadamard(W2.T @ (z2 - y), hadamard(a1, 1 - a1)) @ x.T + lam * W1"

[[problem.claim]]
id = "dW1-W1-for-W2"
of = "L"
wrt = "W1"
expr = "hadamard(W1.T @ (z2 - y), hadamard(a1, 1 - a1)) @ x.T + 2 * lam * W1"

[[problem.claim]]
id = "dW2-transposed-product"
of = "L"
wrt = "W2"
expr = "a1 @ (z2 - y).T"

[[problem.claim]]
id = "dW2-z1-for-a1"
of = "L"
wrt = "W2"
expr = "(z2 - y) @ z1.T"

[[problem.claim]]
id = "dW2-y-minus"
of = "L"
wrt = "W2"
expr = "(y - z2) @ a1.T"
"""


def test_matrix_backprop_mistakes_get_the_scalar_explanations():
    """A two-layer network in matrix form, with the mistakes students make in it: each gets an
    explanation that says where the mistake is, as its scalar form would."""
    report = check(load_text_problems(MATRIX_MLP), Options())
    v = {r.claim.id: r for r in report.verdicts}
    assert v["dW1-right"].verdict == "pass" and v["dW2-right"].verdict == "pass"
    first = {k: r.diagnosis[0] for k, r in v.items() if r.verdict == "fail"}
    for cid in ("dW1-no-sigmoid-prime", "dW1-sigmoid-for-prime", "dW1-reg-no-2"):
        assert first[cid].kind == "wrong-term", cid
    assert "a1" not in str(first["dW1-no-sigmoid-prime"].printed)
    assert "a1" in str(first["dW1-no-sigmoid-prime"].expr)
    assert (str(first["dW1-reg-no-2"].printed), str(first["dW1-reg-no-2"].expr).replace(" ", "")) \
        == ("W1*lam", "2*W1*lam")
    assert first["dW1-no-reg"].kind == "lost-path"
    assert first["dW2-transposed-product"].kind == "transposed"
    assert (first["dW2-z1-for-a1"].kind, str(first["dW2-z1-for-a1"].printed)) == \
        ("wrong-symbol", "z1")
    assert first["dW2-y-minus"].kind == "negated"
    assert first["dW1-W1-for-W2"].kind == "ill-shaped"


def load_text_problems(text):
    from deriv.problem import load_text
    return load_text(text, "mlp.toml")


JACOBIAN_PATHS = """[[problem]]
id = "softmax"
inputs = { z = "vector(n)" }
graph = \"\"\"
e = exp(z)
S = sum(e)
p = e / S
\"\"\"

[[problem.claim]]
id = "right"
of = "p"
wrt = "z"
expr = "diag(p) - p @ p.T"

[[problem.claim]]
id = "elementwise"
of = "p"
wrt = "z"
expr = "diag(p)"

[[problem]]
id = "normalised"
inputs = { x = "real", y = "positive" }
graph = \"\"\"
e = exp(x)
s = e + y
p = e / s
\"\"\"

[[problem.claim]]
id = "right"
of = "p"
wrt = "x"
expr = "p * (1 - p)"

[[problem.claim]]
id = "no-normaliser"
of = "p"
wrt = "x"
expr = "p"
"""


def test_a_jacobian_that_keeps_one_path_names_the_edge_it_keeps(tmp_path):
    """∂p/∂z of a softmax written diag(p): the path through the normaliser S is lost. The
    edge kept is e → p, between wrt and of, not an edge from z (said so for a vector and
    for a scalar)."""
    from deriv.render.words import UnicodeMath, sentence
    path = tmp_path / "jacobian.toml"
    path.write_text(JACOBIAN_PATHS)
    report = check(deriv.load_all(str(path)), Options())
    v = {(r.problem, r.claim.id): r for r in report.verdicts}
    for problem, wrong in (("softmax", "elementwise"), ("normalised", "no-normaliser")):
        assert v[problem, "right"].verdict == "pass"
        f = v[problem, wrong].diagnosis[0]
        assert (f.kind, f.kept, f.symbols) == ("lost-path", ("p",), ("s" if problem ==
                                                                      "normalised" else "S",))
        text = sentence(f, UnicodeMath())
        assert "the direct edge e → p" in text and "z → p" not in text, text


HUBER = """[[problem]]
id = "huber"
inputs = { r = "real", delta = "positive" }
graph = \"\"\"
a = abs(r)
m = min(a, delta)
L = m**2/2 + delta*(a - m)
\"\"\"

[[problem.claim]]
id = "right"
of = "L"
wrt = "r"
expr = "r*I(delta > a) + delta*sign(r)*I(a > delta)"

[[problem.claim]]
id = "squared-everywhere"
of = "L"
wrt = "r"
expr = "r"

[[problem.claim]]
id = "no-sign"
of = "L"
wrt = "r"
expr = "r*I(delta > a) + delta*I(a > delta)"

[[problem]]
id = "huber-regression"
inputs = { w = "vector(n)", x = "vector(n)", y = "real", delta = "positive" }
graph = \"\"\"
r = w.T @ x - y
a = abs(r)
m = min(a, delta)
L = m**2/2 + delta*(a - m)
\"\"\"

[[problem.claim]]
id = "right"
of = "L"
wrt = "w"
expr = "x * (r*I(delta > a) + delta*sign(r)*I(a > delta))"

[[problem.claim]]
id = "squared-everywhere"
of = "L"
wrt = "w"
expr = "r * x"
"""


def test_a_claim_wrong_on_one_branch_of_a_piecewise_derivative_names_the_branch(tmp_path):
    """Huber's ∂L/∂r written as the squared loss's r (wrong where |r| > δ), and with sign(r)
    lost (wrong where r < −δ): the wrong points are a side of a kink, or a cell of two."""
    from deriv.render.words import UnicodeMath, sentence
    path = tmp_path / "huber.toml"
    path.write_text(HUBER)
    report = check(deriv.load_all(str(path)), Options())
    v = {(r.problem, r.claim.id): r for r in report.verdicts}
    assert v["huber", "right"].verdict == "pass" == v["huber-regression", "right"].verdict
    f = v["huber", "squared-everywhere"].diagnosis[0]
    assert (f.kind, str(f.expr)) == ("wrong-branch", "a > delta")
    assert abs(f.values[1]) == pytest.approx(dict(f.point)["delta"])     # the truth there: ±δ
    f = v["huber", "no-sign"].diagnosis[0]
    assert f.kind == "wrong-branch" and {str(r) for r in f.expr.args} == {"a > delta", "r < 0"}
    assert dict(f.point)["r"] < 0 and f.values == pytest.approx((-f.values[1], f.values[1]))
    assert "is right except where a > δ and r < 0" in sentence(f, UnicodeMath({"delta": "δ"}))
    # the vector regression's error is one factor: said so
    assert v["huber-regression", "squared-everywhere"].diagnosis[0].kind == "wrong-factor"


def test_a_counterexample_on_a_long_graph_stays_readable(tmp_path):
    """A recurrent net of 30 steps: the point has 33 inputs and the right formula 30 terms. The
    sentence names the first inputs and says how many more, and leaves the formula to `deriv
    solve`; the JSON keeps the whole point."""
    from deriv.render import json as render_json
    from deriv.render.words import UnicodeMath, sentence
    path = _scalar_rnn(tmp_path, 30, "wrong", "2*h30*(1 - h30**2)*h29 + h1")
    report = check(deriv.load_all(str(path)), Options())
    f = report.verdicts[0].diagnosis[0]
    assert f.kind == "no-explanation" and len(f.point) == 33 and f.expr is not None
    text = sentence(f, UnicodeMath())
    assert "(25 more inputs)" in text and "too long to print" in text and len(text) < 400, text
    assert len(json.loads(render_json.report(report))["claims"][0]["diagnosis"][0]["point"]) \
        == 33


def test_a_wrong_factor_never_shows_a_jacobian_formula_that_is_not_one(tmp_path):
    """diag(p) for softmax's ∂p/∂z in a chain: the factor is named; its Jacobian has no formula
    from the VJP (setting c̄ = I inside sum(p ⊙ c̄) gave diag(p)(I − sum(diag(p))), wrong)."""
    from deriv.render.words import UnicodeMath, sentence
    path = tmp_path / "softmax.toml"
    path.write_text("""[[problem]]
id = "s"
inputs = { z = "vector(K)", y = "one-hot vector(K)" }
graph = \"\"\"
p = softmax(z)
L = -sum(hadamard(y, log(p)))
\"\"\"

[[problem.claim]]
id = "right"
of = "L"
wrt = "z"
expr = "(diag(p) - p @ p.T) @ D(L, p)"

[[problem.claim]]
id = "diag-only"
of = "L"
wrt = "z"
expr = "diag(p) @ D(L, p)"
""")
    report = check(deriv.load_all(str(path)), Options())
    v = {r.claim.id: r for r in report.verdicts}
    assert v["right"].verdict == "pass"
    f = v["diag-only"].diagnosis[0]
    assert f.kind == "wrong-factor" and (f.derivative.of, f.derivative.wrt) == ("p", "z")
    assert f.expr is None and sentence(f, UnicodeMath()).endswith("should be ∂p/∂z")


ATTENTION = """[[problem]]
id = "attention"
inputs = { Q = "matrix(T, d)", K = "matrix(T, d)", V = "matrix(T, dv)", G = "matrix(T, dv)" }
graph = \"\"\"
S = Q @ K.T / sqrt(d)
P = softmax(S, axis=1)
O = P @ V
L = sum(hadamard(G, O))
\"\"\"

[[problem.claim]]
id = "dV"
of = "L"
wrt = "V"
expr = "P.T @ G"

[[problem.claim]]
id = "dV-no-transpose"
of = "L"
wrt = "V"
expr = "P @ G"

[[problem.claim]]
id = "dQ"
of = "L"
wrt = "Q"
expr = "D(L, S) @ K / sqrt(d)"

[[problem.claim]]
id = "dQ-no-scale"
of = "L"
wrt = "Q"
expr = "D(L, S) @ K"

[[problem.claim]]
id = "dK"
of = "L"
wrt = "K"
expr = "D(L, S).T @ Q / sqrt(d)"

[[problem.claim]]
id = "dK-no-transpose"
of = "L"
wrt = "K"
expr = "D(L, S) @ Q / sqrt(d)"
"""


def test_attention_mistakes_name_the_transpose_and_the_scale(tmp_path):
    """Attention's backward pass: a factor of a product without its transpose (PG for PᵀG,
    ∂L/∂S·Q for (∂L/∂S)ᵀQ) is that factor, to be transposed; a 1/√d left out is a missing
    factor, though at every drawn d it is another constant."""
    from deriv.render.words import UnicodeMath, sentence
    path = tmp_path / "attention.toml"
    path.write_text(ATTENTION)
    report = check(deriv.load_all(str(path)), Options())
    v = {r.claim.id: r for r in report.verdicts}
    assert all(v[c].verdict == "pass" for c in ("dV", "dQ", "dK"))
    f = v["dV-no-transpose"].diagnosis[0]
    assert f.kind == "wrong-factor" and str(f.printed) == "P"
    assert sentence(f, UnicodeMath()) == "the factor P should be Pᵀ"
    f = v["dK-no-transpose"].diagnosis[0]
    assert f.kind == "wrong-factor" and sentence(f, UnicodeMath()).endswith("should be (∂L/∂S)ᵀ")
    f = v["dQ-no-scale"].diagnosis[0]
    assert f.kind == "missing-factor" and str(f.expr) == "1/sqrt(d)"


def test_bptt_of_a_hundred_steps_that_keeps_the_last_names_its_path(tmp_path):
    """A shared weight w with a hundred children: no subset of them is tried, and the budget of
    variants is spent long before the single paths; the shortest path through the nodes the
    claim names is tried whatever is left, and is the one it keeps."""
    path = _scalar_rnn(tmp_path, 100, "last-step", "2*h100*(1 - h100**2)*h99")
    report = check(deriv.load_all(str(path)), Options())
    f = report.verdicts[0].diagnosis[0]
    assert (f.kind, f.text, f.paths) == ("lost-path", "path", (("w", "h100", "L"),))


def test_a_gradient_step_uphill_is_a_sign_slip_of_the_step(tmp_path):
    """w + ε∇L for w − ε∇L: the step term has the wrong sign; the claim is labelled as a step,
    and a wrong step nothing explains compares with the updated w, not with ∂L/∂w."""
    from deriv.render.words import UnicodeMath, sentence
    path = tmp_path / "gd.toml"
    path.write_text('[[problem]]\nid = "gd"\n'
                    'inputs = { w = "vector(d)", x = "vector(d)", eps = "positive" }\n'
                    'graph = "L = tanh(dot(w, x))"\n'
                    '[[problem.claim]]\nid = "right"\nof = "L"\nwrt = "w"\nupdate = "eps"\n'
                    'expr = "w - eps*(1 - L**2)*x"\n'
                    '[[problem.claim]]\nid = "uphill"\nof = "L"\nwrt = "w"\nupdate = "eps"\n'
                    'expr = "w + eps*(1 - L**2)*x"\n'
                    '[[problem.claim]]\nid = "odd"\nof = "L"\nwrt = "w"\nupdate = "eps"\n'
                    'expr = "w - eps*(1 - L**3)*x"\n')
    v = {r.claim.id: r for r in check(deriv.load_all(str(path)), Options()).verdicts}
    assert v["right"].verdict == "pass"
    f = v["uphill"].diagnosis[0]
    assert f.kind == "term-sign" and sentence(f, UnicodeMath()).endswith("has the wrong sign")
    f = v["odd"].diagnosis[-1]
    assert f.kind == "no-explanation" and "where the updated w = " in sentence(f, UnicodeMath())


def test_one_explanation_found_two_ways_is_said_once():
    """A claim with an extra factor z is found by two methods (a factor among the
    candidates, and the symbolic ratio); it is said once."""
    from deriv.checker import Options, check_problem
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "s"\ninputs = { z = "real", w = "real", y = "real" }\n'
            'graph = """\na = sigmoid(z)\no = w*a\nL = (o - y)**2/2\n"""\n[[problem.claim]]\n'
            'id = "extra"\nof = "L"\nwrt = "z"\nexpr = "D(L, o)*w*a*(1-a)*z"\n')
    (p,) = load_text(text, "s.toml")
    (v,), _ = check_problem(p, Options())
    kinds = [(f.kind, str(f.expr)) for f in v.diagnosis]
    assert kinds and kinds[0] == ("extra-factor", "z")
    assert len(kinds) == len(set(kinds))


def test_the_simpler_of_a_missing_and_an_extra_factor_is_said():
    """σ(z)(1 − σ(z))² is the derivative times (1 − σ(z)): said as that extra factor, not as
    a missing −1/(σ(z) − 1)."""
    from deriv.checker import Options, check_problem
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "s"\ninputs = { z = "real" }\ngraph = """\ns = sigmoid(z)\n"""\n'
            '[[problem.claim]]\nid = "cubed"\nof = "s"\nwrt = "z"\n'
            'expr = "sigmoid(z)*(1 - sigmoid(z))**2"\n')
    (p,) = load_text(text, "s.toml")
    (v,), _ = check_problem(p, Options())
    f = v.diagnosis[0]
    assert f.kind == "extra-factor", f
    assert str(f.expr) == "1 - sigmoid(z)", f.expr


def _scalar_rnn(tmp_path, steps: int, claim: str, expr: str):
    """hₜ = tanh(w·hₜ₋₁ + u·xₜ), L = Σ hₜ², and one claim of ∂L/∂w: a file in tmp_path."""
    inputs = ", ".join([f'x{t} = "real"' for t in range(1, steps + 1)] +
                       ['w = "interval(-0.9, 0.9)"', 'u = "real"', 'h0 = "real"'])
    graph = "\n".join(f"h{t} = tanh(w*h{t - 1} + u*x{t})" for t in range(1, steps + 1))
    path = tmp_path / "rnn.toml"
    path.write_text(f'[[problem]]\nid = "rnn"\ninputs = {{ {inputs} }}\ngraph = """\n{graph}\n'
                    f'L = ' + " + ".join(f"h{t}**2" for t in range(1, steps + 1)) + '\n"""\n'
                    f'[[problem.claim]]\nid = "{claim}"\nof = "L"\nwrt = "w"\n'
                    f'expr = "{expr}"\n')
    return path


def test_a_wrong_piece_inside_a_claim_is_named_with_what_it_should_be():
    """parts.py: the sub-formula that, put right, makes the whole claim right — a primitive's
    derivative miswritten deep inside, or a residual block's ∂y/∂x as a whole."""
    v, _ = verdicts("parts.toml")
    assert v["right"].verdict == "pass"
    found = {k: v[k].diagnosis[0] for k in v if k != "right"}
    assert all(v[k].verdict == "fail" for k in found)
    f = found["tanh-prime-without-square"]
    assert (f.kind, str(f.printed), str(f.expr)) == ("wrong-factor", "1 - tanh(x)",
                                                     "1 - tanh(x)**2")
    f = found["tanh-for-its-derivative"]
    assert (f.kind, str(f.printed), str(f.expr)) == ("wrong-factor", "tanh(x)",
                                                     "1 - tanh(x)**2")
    f = found["an-x-too-many"]          # the x added, not the x inside tanh
    assert (f.kind, str(f.expr)) == ("extra-term", "x")
    f = found["dy/dx-with-a-w-too-many"]     # the lone w, not the w of w·tanh′
    assert (f.kind, str(f.expr)) == ("extra-term", "w")
    f = found["dy/dx-as-tanh-prime"]         # the residual's total ∂y/∂x, both paths
    assert (f.kind, (f.derivative.of, f.derivative.wrt), str(f.printed)) == \
        ("wrong-factor", ("y", "x"), "1 - tanh(x)**2")
    assert str(f.expr) == "w*(1 - tanh(x)**2) + 1"


def test_a_wrong_piece_inside_an_elementwise_array_claim(monkeypatch):
    """parts.py on arrays: each element of an elementwise claim is a scalar claim. (Other
    explanations come first in a full diagnosis: the piece is asked of parts.py directly.)"""
    import deriv.diagnose as D
    from deriv.parts import wrong_part
    seen = {}
    run = D.Diagnosis.run

    def recorded(self):
        seen[self.claim.id] = wrong_part(self)
        return run(self)
    monkeypatch.setattr(D.Diagnosis, "run", recorded)
    v, _ = verdicts("parts_arrays.toml")
    assert v["right"].verdict == "pass" and "right" not in seen
    f = seen["no-square"]
    assert (f.kind, str(f.printed), str(f.expr)) == ("wrong-factor", "1 - tanh(z)",
                                                     "1 - h**2")     # (in the nodes: h = tanh z)
    f = seen["tanh-itself"]
    assert (f.kind, str(f.expr)) == ("extra-term", "tanh(z)")
    f = seen["dW"]                     # through a matrix product: the factor solved for
    assert (f.kind, str(f.printed), str(f.expr)) == ("wrong-factor", "1 - tanh(z)", "1 - h**2")


def test_a_gate_derivative_miswritten_deep_in_a_gru_claim_is_named_in_the_nodes():
    """σ′ = r(1 − r) written r(1 + r) among the factors h·r·(1 + r)·u_r (a pair of a
    product's factors), and tanh′ = 1 − c² written 1 − c: said in the graph's own nodes."""
    v, _ = verdicts("parts_gru.toml")
    assert [k for k in v if v[k].verdict == "pass"] == ["dhn/dc", "dhn/dz", "dhn/dh",
                                                        "dhn/duh"]
    f = v["dhn/dh-sigma-prime-wrong"].diagnosis[0]
    assert (f.kind, str(f.printed), str(f.expr)) == ("wrong-factor", "r*(r + 1)", "r*(1 - r)")
    f = v["dhn/dh-tanh-prime-wrong"].diagnosis[0]
    assert (f.kind, str(f.printed), str(f.expr)) == ("wrong-factor", "1 - c", "1 - c**2")
    assert v["dhn/dh-no-reset-path"].diagnosis[0].kind == "lost-path"


def test_an_ill_shaped_claim_names_the_reading_that_fits_and_is_right():
    """misfit.py: a product in the other order, a missing transpose; none where no reading
    that fits is right (the claim still fails as ill-shaped)."""
    v, _ = verdicts("misfit.toml")
    assert v["dL/dW2"].verdict == "pass"
    for cid, right in (("dL/dW2-order", "matmul(transpose(H), 2*P - 2*Y)/N"),
                       ("dL/dH-no-transpose", "matmul(2*P - 2*Y, transpose(W2))/N")):
        f = v[cid].diagnosis[0]
        assert (v[cid].verdict, f.kind, str(f.expr)) == ("fail", "ill-shaped", right)
    f = v["dL/dW2-no-fit-is-right"].diagnosis[0]
    assert (f.kind, f.expr) == ("ill-shaped", None)


def test_a_factor_zero_explains_nothing_and_a_path_counted_twice_is_said_once():
    """∂²L/∂x² of relu(x)·y is 0: the claim 𝕀[x > 0] does not "miss a factor 0" (any claim
    would); and a chain that counts a path twice says so once, though its structure and its
    value both find it."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { x = "real", y = "real" }\ngraph = """\n'
            'L = relu(x) * y + abs(x*y)\n"""\n'
            '[[problem.claim]]\nid = "hess"\nof = "D(L, x)"\nwrt = "x"\nexpr = "I(x > 0)"\n'
            '[[problem]]\nid = "q"\ninputs = { x = "real" }\ngraph = """\n'
            'a = sin(x)\nb = x**2\nc = a * b\nd = exp(x)\ny = c + d\n"""\n'
            '[[problem.claim]]\nid = "dup"\nof = "y"\nwrt = "x"\n'
            'chain = "D(y, c) * D(c, a) * D(a, x) + D(y, c) * D(c, b) * D(b, x) + '
            'D(y, c) * D(c, b) * D(b, x) + D(y, d) * D(d, x)"\n')
    found = {v.claim.id: v for v in check(load_text(text), Options(samples=300, seed=0)).verdicts}
    assert found["hess"].verdict == "fail"
    assert all(f.expr != 0 for f in found["hess"].diagnosis if f.kind.endswith("factor"))
    assert found["dup"].verdict == "fail"
    kinds = [f.kind for f in found["dup"].diagnosis]
    assert kinds.count("repeated-path") == 1, kinds


def test_a_gradient_step_wrong_as_a_whole_is_explained_in_its_step():
    """w − ε·r·x written without ε, twice over, without x, or without the regulariser's
    path: each is said of the step (it had been "no simple explanation"); the right step
    passes."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "gd"\ninputs = { w = "real", x = "real", y = "real", '
            'eps = "positive", lam = "positive" }\ngraph = """\nr = w*x - y\n'
            'L = r**2/2 + lam*w**2/2\n"""\n')
    for cid, expr in [("right", "w - eps*(r*x + lam*w)"), ("no-eps", "w - (r*x + lam*w)"),
                      ("twice", "w - 2*eps*(r*x + lam*w)"), ("no-reg", "w - eps*r*x")]:
        text += (f'[[problem.claim]]\nid = "{cid}"\nof = "L"\nwrt = "w"\nupdate = "eps"\n'
                 f'expr = "{expr}"\n')
    found = {v.claim.id: v for v in check(load_text(text), Options(samples=300, seed=0)).verdicts}
    assert found["right"].verdict == "pass"
    first = {k: (v.diagnosis[0].kind, v.diagnosis[0].expr) for k, v in found.items()
             if v.verdict == "fail"}
    assert first["no-eps"][0] == "missing-factor" and str(first["no-eps"][1]) == "eps"
    assert first["twice"] == ("extra-factor", 2)
    assert first["no-reg"][0] in ("lost-path", "missing-term"), first
    assert all(v.diagnosis[0].kind != "no-explanation" for v in found.values()
               if v.verdict == "fail")


def test_a_wrong_elementwise_part_is_found_through_a_matrix_product():
    """σ′ written σ inside (δ ⊙ s)xᵀ and Wᵀ(v ⊙ s): the factor the product's other side fixes
    is solved for, and its wrong part named as in an elementwise claim (it had been "no
    simple explanation", or only "should be ∂L/∂a")."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "layer"\ninputs = { W = "matrix(n, n)", x = "vector(n)", '
            'v = "vector(n)" }\ngraph = """\na = W @ x\ns = sigmoid(a)\nL = sum(hadamard(v, s))\n'
            '"""\n')
    for cid, expr, wrt in [("right-W", "hadamard(v, hadamard(s, 1 - s)) @ x.T", "W"),
                           ("sigma-W", "hadamard(v, s) @ x.T", "W"),
                           ("right-x", "W.T @ hadamard(v, hadamard(s, 1 - s))", "x"),
                           ("sigma-x", "W.T @ hadamard(v, s)", "x")]:
        text += f'[[problem.claim]]\nid = "{cid}"\nof = "L"\nwrt = "{wrt}"\nexpr = "{expr}"\n'
    found = {v.claim.id: v for v in check(load_text(text), Options(samples=300, seed=0)).verdicts}
    assert found["right-W"].verdict == found["right-x"].verdict == "pass"
    for cid in ("sigma-W", "sigma-x"):
        first = found[cid].diagnosis[0]
        assert found[cid].verdict == "fail" and first.kind == "wrong-factor", (cid, first)
        assert str(first.printed) == "s", (cid, first)


def test_a_wrong_node_in_one_place_and_two_weights_exchanged_are_named():
    """c written for g in one place of (g ⊙ (1 − c²))xᵀ (c also sits rightly in it), h for x
    in the outer product, and W ↔ U across a gate's two paths: each said as what it is."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "gate"\ninputs = { W = "matrix(n, n)", U = "matrix(n, n)", '
            'x = "vector(n)", h = "vector(n)" }\ngraph = """\ng = sigmoid(W @ x)\n'
            'c = tanh(U @ x + h)\no = hadamard(g, c)\nL = sum(o)\n"""\n')
    for cid, expr, wrt in [
            ("right-U", "hadamard(g, 1 - hadamard(c, c)) @ x.T", "U"),
            ("c-for-g", "hadamard(c, 1 - hadamard(c, c)) @ x.T", "U"),
            ("h-for-x", "hadamard(g, 1 - hadamard(c, c)) @ h.T", "U"),
            ("right-x", "W.T @ hadamard(c, hadamard(g, 1 - g)) + "
                        "U.T @ hadamard(g, 1 - hadamard(c, c))", "x"),
            ("swapped", "U.T @ hadamard(c, hadamard(g, 1 - g)) + "
                        "W.T @ hadamard(g, 1 - hadamard(c, c))", "x")]:
        text += f'[[problem.claim]]\nid = "{cid}"\nof = "L"\nwrt = "{wrt}"\nexpr = "{expr}"\n'
    found = {v.claim.id: v for v in check(load_text(text), Options(samples=300, seed=0)).verdicts}
    assert found["right-U"].verdict == found["right-x"].verdict == "pass"
    first = {k: found[k].diagnosis[0] for k in ("c-for-g", "h-for-x", "swapped")}
    assert (first["c-for-g"].kind, str(first["c-for-g"].printed), str(first["c-for-g"].expr)) \
        == ("wrong-factor", "c", "g")
    assert first["h-for-x"].kind in ("wrong-factor", "wrong-symbol") and \
        (str(first["h-for-x"].printed), str(first["h-for-x"].expr)) == ("h", "x")
    assert (first["swapped"].kind, set(first["swapped"].symbols)) == ("swapped", {"U", "W"})


def test_symmetry_is_not_the_explanation_where_the_sizes_are():
    """∂mean(X)/∂X written 𝟏/n² is right only at square sizes; a square input A the claim
    does not touch had made it "right only when A is symmetric" (symmetric draws are square)."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { X = "matrix(m, n)", A = "matrix(n, n)" }\n'
            'graph = """\nw = mean(X)\nq = sum(A @ A)\n"""\n'
            '[[problem.claim]]\nid = "bad"\nof = "w"\nwrt = "X"\nexpr = "ones(m, n) / (n*n)"\n')
    (v,) = check(load_text(text), Options(seed=0)).verdicts
    kinds = [f.kind for f in v.diagnosis]
    assert v.verdict == "fail" and "symmetric-only" not in kinds and "square-only" in kinds


def test_a_slope_multiplied_in_once_too_often_is_an_extra_factor_in_both_forms():
    report = check(deriv.load_all(str(HERE / "extra_sigmoid_slope.toml")), Options())
    for problem in ("logreg-batch", "logreg"):
        v = {x.claim.id: x for x in report.verdicts if x.problem == problem}
        assert v["right"].verdict == "pass" and v["extra-slope"].verdict == "fail"
        first = v["extra-slope"].diagnosis[0]
        assert first.kind == "extra-factor", (problem, first)
        assert str(first.expr) == "p*(1 - p)", (problem, first.expr)


def test_a_mask_or_slope_lost_inside_a_matrix_product_is_the_factor_its_upstream_misses():
    report = check(deriv.load_all(str(HERE / "lost_mask.toml")), Options())
    v = {(x.problem, x.claim.id): x for x in report.verdicts}
    assert v["conv-im2col", "right"].verdict == v["mlp-tanh", "right"].verdict == "pass"
    for key, printed, factor in ((("conv-im2col", "no-mask"), "G", "indicator(Z)"),
                                 (("conv-im2col", "no-mask-x"), "G", "indicator(Z)"),
                                 (("mlp-tanh", "no-slope"), "matmul(transpose(W2), r)",
                                  "1 - z**2")):
        first = v[key].diagnosis[0]
        assert (first.kind, str(first.printed), str(first.expr)) == \
            ("missing-factor", printed, factor), (key, first)


def test_a_dropout_mask_lost_or_applied_twice_before_a_matrix_product_is_named():
    report = check(deriv.load_all(str(HERE / "lost_mask.toml")), Options())
    v = {(x.problem, x.claim.id): x for x in report.verdicts if x.problem == "dropout"}
    assert v["dropout", "right"].verdict == "pass"
    lost, twice = v["dropout", "no-M"].diagnosis[0], v["dropout", "M-twice"].diagnosis[0]
    assert (lost.kind, str(lost.expr)) == ("missing-factor", "M"), lost
    assert (twice.kind, str(twice.expr)) == ("extra-factor", "M"), twice


def test_a_term_of_a_quadratic_form_lost_beside_a_direct_edge_is_a_missing_term():
    report = check(deriv.load_all(str(HERE / "quadform_term.toml")), Options())
    v = {x.claim.id: x for x in report.verdicts}
    assert v["right"].verdict == "pass"
    first = v["one-term"].diagnosis[0]
    assert (first.kind, str(first.expr)) == ("missing-term", "matmul(transpose(A), x)"), first
    lost = v["no-b"].diagnosis[0]           # (the direct edge x → f is a path lost)
    assert lost.kind == "lost-path" and "q" in lost.kept, lost


def test_an_edge_dropped_at_the_last_step_of_a_long_chain_is_named():
    """nₖ = tanh(nₖ₋₁ + nₖ₋₂/10 + u/100) over 100 nodes, ∂n₉₀/∂x written without the edge
    n₈₈ → n₉₀: the edges into `of` are tried before the budget runs out, and the path a
    hundred nodes long is shown by its ends."""
    from deriv.problem import load_text
    from deriv.render.words import UnicodeMath, sentence
    graph = "n0 = tanh(x)\nn1 = tanh(x + u)\n" + "\n".join(
        f"n{i} = tanh(n{i - 1} + n{i - 2}/10 + u/100)" for i in range(2, 100))
    text = (f'[[problem]]\nid = "c100"\ninputs = {{ x = "real", u = "real" }}\n'
            f'graph = """\n{graph}\n"""\n[[problem.claim]]\nid = "d-wrong"\nof = "n90"\n'
            f'wrt = "x"\nexpr = "(1 - n90**2)*D(n89, x)"\n')
    report = check(load_text(text, "c100.toml"), Options())
    (v,) = report.verdicts
    first = v.diagnosis[0]
    assert (first.kind, first.symbols, first.kept) == ("lost-path", ("n90",), ("n89",)), first
    said = sentence(first, UnicodeMath())
    assert "n₈₈ → n₉₀" in said and "…" in said and len(said) < 300, said


def test_a_finding_shows_formulas_in_the_graphs_nodes_and_a_flipped_term_as_its_sign():
    from deriv.render.words import UnicodeMath, sentence
    report = check(deriv.load_all(str(HERE / "shown_forms.toml")), Options())
    v = {(x.problem, x.claim.id): x for x in report.verdicts}
    assert v["attention-2", "right"].verdict == v["normalise", "right"].verdict == "pass"
    said = sentence(v["attention-2", "diagonal-only"].diagnosis[0], UnicodeMath())
    assert "p₁·p₂·(v₁ - v₂)" in said and "exp" not in said, said
    sign = v["normalise", "sign"].diagnosis[0]
    assert sign.kind == "term-sign", sign


def test_every_mean_over_the_wrong_axis_at_once_is_one_wrong_axis():
    from deriv.render.words import UnicodeMath, sentence
    report = check(deriv.load_all(str(HERE / "layernorm_axes.toml")), Options())
    v = {x.claim.id: x for x in report.verdicts}
    assert v["right"].verdict == "pass"
    first = v["both-axis0"].diagnosis[0]
    assert first.kind == "wrong-axis" and len(first.printed) == 2, first
    assert "each time" in sentence(first, UnicodeMath())


def test_a_factor_that_should_be_a_number_is_not_named_as_a_partial():
    """f = q + b·x with q = x·a·x, written 2ax + 2b: the 2 of 2b should be 1, which ∂f/∂q
    also is everywhere — a coincidence, not the partial the 2 stands for."""
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "quad"\ninputs = { x = "real", a = "real", b = "real" }\n'
            'graph = """\nq = x*a*x\nf = q + b*x\n"""\n[[problem.claim]]\nid = "b-twice"\n'
            'of = "f"\nwrt = "x"\nexpr = "2*a*x + 2*b"\n')
    (v,) = check(load_text(text, "quad.toml"), Options()).verdicts
    named = [f for f in v.diagnosis if f.kind == "wrong-factor"]
    assert all(f.derivative is None for f in named), v.diagnosis
    assert v.diagnosis[0].kind == "repeated-path", v.diagnosis
