"""Claims of other kinds (shape, count, optimum, expectation, at a stated point) and gradient
checkpointing: each kind passes a right claim and fails a wrong one, with the finding that says
why, through every renderer; bad input is refused at its place."""

from __future__ import annotations

import json
import textwrap

import pytest
import sympy as sp
from click.testing import CliRunner

import deriv
from deriv.checker import check_problem
from deriv.checkpoint import plan
from deriv.cli import main
from deriv.errors import DerivError
from deriv.kind_check import tensor_shape
from deriv.problem import load_file, load_text
from deriv.render.words import UnicodeMath, sentence

EXPECTED = {  # (problem, claim) → None for a pass, else (finding kind, words it must say)
    ("shapes", "dm/dg shape"): None,
    ("shapes", "dg/dW shape"): None,
    ("shapes", "dg/dW order"): None,
    ("shapes", "wrong shape"): ("shape-printed", "is n × n, but it is [n×n×n]"),
    ("shapes", "wrong order"): ("tensor-order", "order 2"),
    ("counts", "210"): None,
    ("counts", "211"): ("count-value", "= 210, not = 211"),
    ("counts", "weights"): None,
    ("counts", "biases"): None,
    ("counts", "biases wrong"): ("count-formula", "d₁ + d₂ + d₃ + d₀·d₁ + d₁·d₂ + d₂·d₃"),
    ("counts", "fewer"): None,
    ("counts", "not fewer"): ("count-value", "= 2000, not > 10000"),
    ("ridge", "argmin"): None,
    ("ridge", "argmax-wrong"): ("optimum-kind", "is a minimum of J, not a maximum"),
    ("ridge", "argmax-K"): None,
    ("ridge", "not-stationary"): ("not-stationary", "does not vanish"),
    ("relu-moment", "E[b2]"): None,
    ("relu-moment", "E[b2] wrong"): ("expectation", "= σ²/2 exactly, not σ²"),
    ("relu-moment", "E[b2] uniform"): None,
    ("relu-moment", "E[sig]"): None,
    ("relu-moment", "E[a2] shifted"): None,
    ("relu-moment", "E[b2] shifted wrong"): ("expectation", "exactly, not"),
    ("relu-moment", "E[sig] wrong"): ("expectation", "Monte Carlo, 200000 seeded draws"),
    ("zero-init", "all zero"): ("at-point", "∂l/∂β₁ is not 0"),
    ("zero-init", "hidden zero"): None,
    ("zero-init", "not all zero"): None,
    ("zero-init", "hidden zero with bias"): ("at-point", "f is not 0"),
    ("chain50", "stored"): None,
    ("chain50", "recomputed"): None,
    ("chain50", "recomputed wrong"): ("count-value", "= 6, not < 6"),
}


@pytest.fixture(scope="module")
def problems(fixtures):
    return {p.id: p for p in load_file(fixtures / "claim_kinds.toml")}


@pytest.fixture(scope="module")
def verdicts(problems):
    return {(v.problem, v.claim.id): v for p in problems.values() for v in check_problem(p)[0]}


def test_every_claim_is_covered(verdicts):
    assert set(verdicts) == set(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_each_kind_passes_a_right_claim_and_fails_a_wrong_one(key, problems, verdicts):
    v = verdicts[key]
    want = EXPECTED[key]
    if want is None:
        assert v.verdict == "pass", [f.kind for f in v.diagnosis]
        assert v.samples > 0
        return
    kind, said = want
    assert v.verdict == "fail"
    assert v.diagnosis[0].kind == kind
    words = sentence(v.diagnosis[0], UnicodeMath(problems[key[0]].display))
    assert said in words, words


def test_tensor_shape_from_the_shapes_of_of_and_wrt(problems):
    graph = problems["shapes"].graph
    assert tensor_shape(graph, "g", "W") == ("n", "n", "n")     # refused as a derivative
    assert tensor_shape(graph, "m", "g") == ("n", "n")
    assert tensor_shape(graph, "L", "W") == ("n", "n")
    assert tensor_shape(graph, "L", "g") == ("n",)
    assert tensor_shape(graph, "L", "") == ()


def test_counts_are_exact():
    text = textwrap.dedent('''
        [[problem]]
        id = "exact"
        inputs = { x = "real" }
        graph = "y = x"

        [[problem.claim]]
        id = "third"
        kind = "count"
        expr = "0.1 + 0.2"
        value = "3/10"

        [[problem.claim]]
        id = "off by 1e-17"
        kind = "count"
        expr = "1/3"
        value = "0.3333333333333333"
    ''')
    p = load_text(text)[0]
    got = {v.claim.id: v.verdict for v in check_problem(p)[0]}
    assert got == {"third": "pass", "off by 1e-17": "fail"}   # floats would say otherwise


def test_checkpoint_plan_of_fifty_layers():
    layers = "\n".join(["f1 = relu(x)"] + [f"f{k} = relu(f{k - 1})" for k in range(2, 51)]
                       + ["l = f50**2"])
    p = load_text(f'[[problem]]\nid = "deep"\ninputs = {{ x = "real" }}\n'
                  f'graph = """\n{layers}\n"""\n')[0]
    found = plan(p.graph, 10)
    assert found.stored == ("f10", "f20", "f30", "f40", "f50")
    assert found.recomputed == 45 and found.evaluations == 96 and found.peak == 14
    assert found.segments[1].recomputed == tuple(f"f{k}" for k in range(41, 50))
    assert found.segments[1].sources == ("f40",)
    every = plan(p.graph, 1)
    assert every.recomputed == 0 and every.peak == 51


def test_cli_check_formats(fixtures):
    runner = CliRunner()
    path = str(fixtures / "claim_kinds.toml")
    result = runner.invoke(main, ["check", path, "-q"])
    assert result.exit_code == 1, result.output
    assert "argmax over w of J" in result.output
    assert "the claimed argmax over w is a minimum of J" in result.output
    data = json.loads(runner.invoke(main, ["check", path, "--format", "json"]).output)
    kinds = {c["claim"]: [d["kind"] for d in c["diagnosis"]] for c in data["claims"]}
    assert kinds["argmax-wrong"] == ["optimum-kind"] and kinds["argmin"] == []
    assert {"count-value", "expectation", "at-point"} <= set(data["kinds"])
    md = runner.invoke(main, ["check", path, "--format", "markdown"]).output
    assert "optimum-kind: the claimed argmax over $w$ is a minimum of $J$" in md
    gh = runner.invoke(main, ["check", path, "--format", "github"]).output
    assert "::error file=" in gh and "E[b₂] = σ²/2 exactly" in gh
    junit = runner.invoke(main, ["check", path, "--format", "junit"]).output
    assert "tensor of order 2" in junit


def test_cli_solve_checkpoint(fixtures):
    runner = CliRunner()
    path = str(fixtures / "claim_kinds.toml")
    text = runner.invoke(main, ["solve", path, "--id", "chain50", "--checkpoint", "3"])
    assert text.exit_code == 0, text.output
    assert "store f₃, f₆, f₉ (3 values)" in text.output
    assert "stored 3, recomputed 6, evaluations 16" in text.output
    data = json.loads(runner.invoke(main, ["solve", path, "--id", "chain50", "--checkpoint", "3",
                                           "--format", "json"]).output)
    assert data["counts"] == {"stored": 3, "recomputed": 6, "evaluations": 16, "peak": 5}
    assert data["segments"][1] == {"nodes": ["f7", "f8", "f9"], "recomputed": ["f7", "f8"],
                                   "sources": ["f6"], "memory": 5}
    md = runner.invoke(main, ["solve", path, "--id", "chain50", "--checkpoint", "3",
                              "--format", "markdown"]).output
    assert "| f₇, f₈, f₉ | f₇, f₈ (2) | f₆ | 5 |" in md
    bad = runner.invoke(main, ["solve", path, "--id", "chain50", "--checkpoint", "0"])
    assert bad.exit_code == 2


BAD = [  # (claim table, words the error must say)
    ('kind = "guess"\nof = "y"', "unknown claim kind 'guess'"),
    ('kind = "count"\nexpr = "__import__(1)"\nvalue = 1', "'expr'"),
    ('kind = "count"\nexpr = "2*3"\nvalue = 6\nrelation = "≈"', "'relation'"),
    ('kind = "count"\nexpr = "n*2"\nvalue = 6', "give their numbers in 'sizes'"),
    ('kind = "count"\nexpr = "2"\ncount = "entries(q)"', "not an input or node"),
    ('kind = "count"\nexpr = "2"\ncount = "checkpoint(0, stored)"', "checkpoint(K, quantity)"),
    ('kind = "shape"\nof = "y"\nwrt = "x"\nshape = "n x"', "is not a size"),
    ('kind = "shape"\nof = "y"\nwrt = "x"', "'shape'"),
    ('kind = "optimum"\nof = "y"\nwrt = "x"\noptimum = "best"\nexpr = "0"', "'optimum'"),
    ('kind = "optimum"\nof = "y"\nwrt = "x"\noptimum = "min"\nexpr = "x"', "names 'x' itself"),
    ('kind = "expectation"\nof = "y"\nrandom = { x = "cauchy(0, 1)" }\nexpr = "0"',
     "normal(mean, sd)"),
    ('kind = "expectation"\nof = "y"\nrandom = { x = "normal(0, x)" }\nexpr = "0"',
     "its parameters in the other inputs"),
    ('kind = "at"\nof = "y"\nwrt = "x"\npoint = { q = 0 }\nexpr = "0"', "point.q"),
    ('kind = "at"\nof = "y"\nwrt = "x"\npoint = { x = 0 }\nexpr = "0"\noptimum = "min"',
     "does not belong"),
    ('kind = "count"\nexpr = "1"\nvalue = 1\nexpect = "fail"', "needs a 'note'"),
    ('kind = "at"\nof = "y"\npoint = { x = inf }\nexpr = "0"', "point.x is a finite number"),
    ('kind = "count"\nexpr = "1/0"\nvalue = 1', "division by zero"),
    ('kind = "at"\nof = "y"\npoint = { x = 1e400 }\nexpr = "0"', "point.x is a finite number"),
]


@pytest.mark.parametrize("claim, said", BAD)
def test_bad_claims_are_refused_at_their_place(claim, said, tmp_path):
    text = ('[[problem]]\nid = "p"\ninputs = { x = "real", v = "vector(n)" }\n'
            'graph = "y = x**2"\n'
            '\n[[problem.claim]]\nid = "c"\n' + claim + "\n")
    with pytest.raises(DerivError) as err:
        load_text(text, "p.toml")
    assert said in err.value.message
    assert err.value.file == "p.toml" and err.value.line >= 6
    path = tmp_path / "p.toml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_distribution_invalid_at_a_drawn_point_is_an_error_not_a_verdict():
    text = ('[[problem]]\nid = "p"\ninputs = { a = "real", s = "real" }\n'
            'graph = "b = relu(a)**2"\n\n[[problem.claim]]\nid = "c"\nkind = "expectation"\n'
            'of = "b"\nrandom = { a = "normal(0, s)" }\nexpr = "s**2/2"\n')
    (v,), _ = check_problem(load_text(text)[0])
    assert v.verdict == "error" and v.reason == "distribution"


def test_from_printed_leaves_other_kinds_alone(fixtures):
    ps = load_file(fixtures / "claim_kinds.toml", from_printed=True)
    assert all(c.spec is not None for p in ps for c in p.claims)
    assert sp.Integer(210) == next(c.spec.value for p in ps for c in p.claims if c.id == "210")


def test_the_fifty_layer_catalog_graph_against_finite_differences():
    """problem-7.11 is too deep for the SymPy oracle of test_engine: its reverse sweep is held to
    central differences instead, at every input of the first layer."""
    import numpy as np

    import deriv
    from deriv.program import Values
    from deriv.sampling import draw_all
    p = deriv.load("problem-7.11")
    inputs = draw_all(p.inputs, 16, seed=3)
    values = Values(p, inputs)
    for name in ("beta0", "omega0", "x", "omega49"):
        h = 1e-6
        up = Values(p, {**inputs, name: inputs[name] + h}).env[p.graph.symbols["l"]]
        down = Values(p, {**inputs, name: inputs[name] - h}).env[p.graph.symbols["l"]]
        assert np.allclose(values.derivative("l", name), (up - down) / (2 * h), rtol=1e-5,
                           atol=1e-7), name
    assert deriv.check(p).exit_code == 0


def test_the_optimum_of_an_objective_of_tiny_values_is_judged_by_its_curvature(tmp_path):
    """exp(−‖w‖²/2 − ‖y − Xw‖²/(2λ)) is ~10⁻²⁰ at the MAP estimate: its second differences
    are tiny too, and still say "maximum" — round-off is judged relative to the values."""
    path = tmp_path / "map.toml"
    path.write_text('''
[[problem]]
id = "map"
inputs = { X = "matrix(n, d)", y = "vector(n)", lam = "positive", w = "vector(d)" }
graph = """
P = exp(-norm2(w)/2 - norm2(y - X @ w)/(2*lam) - 40)
"""

[[problem.claim]]
id = "argmax"
kind = "optimum"
of = "P"
wrt = "w"
optimum = "max"
expr = "inv(X.T @ X + lam * eye(d)) @ X.T @ y"

[[problem.claim]]
id = "argmin"
kind = "optimum"
of = "P"
wrt = "w"
optimum = "min"
expr = "inv(X.T @ X + lam * eye(d)) @ X.T @ y"
''')
    import deriv
    from deriv.checker import Options, check
    report = check(deriv.load_all(str(path)), Options())
    v = {r.claim.id: r for r in report.verdicts}
    assert v["argmax"].verdict == "pass"
    assert v["argmin"].verdict == "fail"
    assert (v["argmin"].diagnosis[0].kind, v["argmin"].diagnosis[0].text) == ("optimum-kind", "max")


SADDLES = """[[problem]]
id = "saddle"
inputs = { w = "vector(64)", a = "real" }
graph = \"\"\"
J = norm2(w) - 2*dot(onehot(1, 64), w)**2 + a
\"\"\"

[[problem.claim]]
id = "min-at-saddle"
kind = "optimum"
of = "J"
wrt = "w"
optimum = "min"
expr = "zeros(64, 1)"

[[problem]]
id = "bowl"
inputs = { w = "vector(64)", a = "real" }
graph = \"\"\"
J = norm2(w) + dot(onehot(1, 64), w)**2 + a
\"\"\"

[[problem.claim]]
id = "min"
kind = "optimum"
of = "J"
wrt = "w"
optimum = "min"
expr = "zeros(64, 1)"

[[problem]]
id = "valley"
inputs = { w = "vector(3)", a = "real" }
graph = \"\"\"
J = dot(onehot(1, 3), w)**2 + a
\"\"\"

[[problem.claim]]
id = "min"
kind = "optimum"
of = "J"
wrt = "w"
optimum = "min"
expr = "zeros(3, 1)"
"""


def test_a_saddle_with_one_falling_direction_in_64_is_not_a_minimum(tmp_path):
    """J = ‖w‖² − 2w₁²: 63 rising directions and one falling one, which 8 random directions
    almost never meet; the Hessian's least-curvature direction does. The bowl beside it is a
    minimum, and the sentence never says "a minimum, not a minimum"."""
    from deriv.render.words import UnicodeMath, sentence
    path = tmp_path / "saddle.toml"
    path.write_text(SADDLES)
    report = deriv.check(deriv.load_all(str(path)))
    v = {(r.problem, r.claim.id): r for r in report.verdicts}
    assert v["bowl", "min"].verdict == "pass"
    # a valley (w₁² with w₂, w₃ free): its flat directions are neutral, not a saddle's
    assert v["valley", "min"].verdict == "pass"
    f = v["saddle", "min-at-saddle"].diagnosis[0]
    assert (f.kind, f.text) == ("optimum-kind", "saddle")
    assert "is a saddle point of J, not a minimum" in sentence(f, UnicodeMath())


def test_a_printed_scalar_shape_is_a_scalar():
    """shape = "scalar" (or "1") for ∂s/∂a of two scalars passes; it had failed with "the
    printed size is scalar, but it is scalar"."""
    from deriv.problem import load_text
    from deriv.checker import check
    text = '''
[[problem]]
id = "p"
inputs = { a = "real", x = "vector(n)" }
graph = "s = sum(x) * a"
claim = [{ id = "word", kind = "shape", of = "s", wrt = "a", shape = "scalar" },
         { id = "one", kind = "shape", of = "s", wrt = "a", shape = "1" },
         { id = "wrong", kind = "shape", of = "s", wrt = "x", shape = "scalar" }]
'''
    report = check(load_text(text, "p.toml"))
    assert {v.claim.id: v.verdict for v in report.verdicts} == {
        "word": "pass", "one": "pass", "wrong": "fail"}


def test_pi_is_a_constant_where_no_node_is_called_pi():
    """E[relu(a)] for a ~ N(0, σ) is σ/√(2π): written with pi it passes (the file syntax had
    no π, so the exact answer could never pass); a node called pi is still that node."""
    from deriv.problem import load_text
    from deriv.checker import check
    text = '''
[[problem]]
id = "e"
inputs = { a = "real", sigma = "positive" }
graph = "b = relu(a)"
claim = [{ id = "ok", kind = "expectation", of = "b", random = { a = "normal(0, sigma)" }, expr = "sigma/sqrt(2*pi)" },
         { id = "bad", kind = "expectation", of = "b", random = { a = "normal(0, sigma)" }, expr = "sigma/sqrt(2*3.14)" }]

[[problem]]
id = "node"
inputs = { x = "real" }
graph = "pi = sigmoid(x)\\ny = 2*pi"
claim = [{ id = "c", of = "y", wrt = "x", expr = "2*pi*(1 - pi)" }]
'''
    report = check(load_text(text, "p.toml"))
    assert {v.claim.id: v.verdict for v in report.verdicts} == {"ok": "pass", "bad": "fail",
                                                               "c": "pass"}


def test_an_expectation_over_a_matrix_problem_is_drawn_with_its_sizes():
    """E[‖W‖²t² + Σ𝟏] for t ~ N(0, 1) is ‖W‖² + mn: drawn by Monte Carlo with W a matrix (it
    crashed looking up the size m); a wrong claim fails, naming W as the matrix it is."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { W = "matrix(m, n)", t = "real" }\n'
            'graph = """\nL = sum(hadamard(W, W)) * t**2 + sum(ones(m, n))\n"""\n'
            'claim = [{ id = "right", kind = "expectation", of = "L", '
            'random = { t = "normal(0, 1)" }, expr = "norm2(W) + m*n" },\n'
            '{ id = "wrong", kind = "expectation", of = "L", '
            'random = { t = "normal(0, 1)" }, expr = "norm2(W) + m" }]\n')
    found = {v.claim.id: v for v in check(load_text(text), Options(seed=0)).verdicts}
    assert found["right"].verdict == "pass" and found["wrong"].verdict == "fail"
    point = dict(found["wrong"].diagnosis[0].point)
    assert point["W"].ndim == 2


def test_a_count_of_a_million_digits_is_shown_not_a_crash(tmp_path):
    from click.testing import CliRunner
    from deriv.cli import main
    path = tmp_path / "c.toml"
    path.write_text('[[problem]]\nid = "p"\ninputs = { W = "matrix(m, n)" }\n'
                    'graph = "L = sum(W)"\nclaim = [ { id = "a", kind = "count", '
                    'expr = "(m**n)**n", sizes = { m = 10, n = 1000 }, value = 1 } ]\n')
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 1 and "1.0e+1000000" in result.output, result.output


def test_a_claim_at_a_point_where_the_function_is_undefined_is_an_error_not_a_pass():
    """log(t²) at t = 0 is −∞, and its slope 2/t undefined: any value claimed there had
    passed with nothing compared."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { t = "real", x = "real" }\n'
            'graph = """\ng = log(t**2) + x\n"""\n'
            'claim = [{ id = "value", kind = "at", point = { t = 0 }, of = "g", expr = "3" },\n'
            '{ id = "slope", kind = "at", point = { t = 0 }, of = "g", wrt = "t", expr = "-7" },\n'
            '{ id = "fine", kind = "at", point = { t = 1 }, of = "g", wrt = "t", expr = "2" },\n'
            '{ id = "off", kind = "at", point = { t = 1 }, of = "g", wrt = "t", expr = "3" }]\n')
    found = {v.claim.id: v for v in check(load_text(text), Options(seed=0)).verdicts}
    assert {k: v.verdict for k, v in found.items()} == \
        {"value": "error", "slope": "error", "fine": "pass", "off": "fail"}
    assert found["slope"].reason == "undefined-at"


def test_an_argmin_on_a_half_flat_objective_is_judged_by_its_moving_slope():
    """J = (c₁₀ − 0.01)² through ten relus is flat wherever they die: the gradient's typical
    size was the median of draws half of them 0, so 10⁻¹⁸ of round-off at the right argmin
    was "10²⁸² times its typical size"."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    graph = "\n".join(["c1 = relu(x + 0.001)"] + [f"c{i} = relu(c{i - 1} + 0.001)"
                                                  for i in range(2, 11)] + ["J = (c10 - 0.01)**2"])
    text = (f'[[problem]]\nid = "p"\ninputs = {{ x = "real" }}\ngraph = """\n{graph}\n"""\n'
            'claim = [{ id = "right", kind = "optimum", of = "J", wrt = "x", optimum = "min", '
            'expr = "0" },\n{ id = "wrong", kind = "optimum", of = "J", wrt = "x", '
            'optimum = "min", expr = "0.5" }]\n')
    found = {v.claim.id: v.verdict for v in check(load_text(text), Options(seed=0)).verdicts}
    assert found == {"right": "pass", "wrong": "fail"}


def test_leaky_relu_slope_at_its_kink_is_its_negative_slope():
    """leaky_relu′(0) had been 0 — no slope of it; torch takes α there, and so does deriv."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { w = "real", b = "real", x = "real" }\n'
            'graph = """\nh = leaky_relu(w*x + b, 0.01)\n"""\n'
            'claim = [{ id = "alpha", kind = "at", point = { w = 0, b = 0 }, of = "h", wrt = "b", '
            'expr = "0.01" },\n{ id = "zero", kind = "at", point = { w = 0, b = 0 }, of = "h", '
            'wrt = "b", expr = "0" }]\n')
    found = {v.claim.id: v.verdict for v in check(load_text(text), Options(seed=0)).verdicts}
    assert found == {"alpha": "pass", "zero": "fail"}


def test_an_expectation_through_many_relus_is_bounded():
    """E[c_K] for cᵢ = relu(cᵢ₋₁ + 0.001), x ~ U(0, 1): integrated piece by piece it doubled
    with each relu (K = 10: 15 s) and nested past the recursion limit at K = 1000 (exit 3).
    Past two pieces it is drawn, and the draws shrink with the graph."""
    import time
    from deriv.checker import Options, check
    from deriv.problem import load_text
    for k in (10, 400):
        graph = "\n".join(["c1 = relu(x + 0.001)"] + [f"c{i} = relu(c{i - 1} + 0.001)"
                                                      for i in range(2, k + 1)])
        text = (f'[[problem]]\nid = "p"\ninputs = {{ x = "real" }}\ngraph = """\n{graph}\n"""\n'
                f'claim = [{{ id = "right", kind = "expectation", of = "c{k}", '
                f'random = {{ x = "uniform(0, 1)" }}, expr = "{0.5 + k / 1000}" }},\n'
                f'{{ id = "wrong", kind = "expectation", of = "c{k}", '
                f'random = {{ x = "uniform(0, 1)" }}, expr = "{0.6 + k / 1000}" }}]\n')
        start = time.perf_counter()
        found = {v.claim.id: v.verdict for v in check(load_text(text), Options(seed=0)).verdicts}
        assert found == {"right": "pass", "wrong": "fail"} and time.perf_counter() - start < 10


def test_an_expectation_with_heavy_tails_is_undecided_never_passed():
    """E[eᵃ] for a ~ N(0, 5) is e^12.5, but a few draws make the sample mean, and its bound
    was wide enough that 0 passed. Where one draw is over 8 % of their sum: an ERROR."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { a = "real" }\ngraph = "ex = exp(a)"\n'
            'claim = [{ id = "zero", kind = "expectation", of = "ex", '
            'random = { a = "normal(0, 5)" }, expr = "0" },\n'
            '{ id = "narrow", kind = "expectation", of = "ex", '
            'random = { a = "normal(0, 1)" }, expr = "exp(1/2)" }]\n')
    found = {v.claim.id: v for v in check(load_text(text), Options(seed=0)).verdicts}
    assert found["zero"].verdict == "error" and found["zero"].reason == "heavy-tails"
    assert found["narrow"].verdict == "pass"


def test_a_shape_claim_and_a_derivative_claim_agree_on_the_derivative_layout():
    """∂L/∂W of a scalar L by an m × n W is [n×m] in the derivative layout, for an `expr` claim;
    the `shape` claim had said [m×n], so one file held two sizes for one derivative."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { W = "matrix(m, n)", x = "vector(n)" }\n'
            'graph = "L = sum(W @ x)"\n'
            'claim = [{ id = "expr", of = "L", wrt = "W", layout = "derivative", '
            'expr = "x @ ones(1, m)" },\n'
            '{ id = "nm", kind = "shape", of = "L", wrt = "W", layout = "derivative", '
            'shape = "n x m" },\n'
            '{ id = "mn", kind = "shape", of = "L", wrt = "W", layout = "derivative", '
            'shape = "m x n" }]\n')
    found = {v.claim.id: v.verdict for v in check(load_text(text), Options(seed=0)).verdicts}
    assert found == {"expr": "pass", "nm": "pass", "mn": "fail"}


@pytest.mark.parametrize("seed", [0, 1, 3, 4, 5])
def test_an_expectation_wrong_on_one_side_of_a_kink_fails_at_every_seed(seed):
    """E[eᵃ + relu(m − 1)] for a ~ U(0, 1) is e − 1 only where m < 1: the other inputs were
    drawn at 4 points that missed m > 1 at half the seeds. Each side of the kink comes first."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { a = "real", m = "real" }\n'
            'graph = "L = exp(a) + relu(m - 1)"\n'
            'claim = [{ id = "c", kind = "expectation", of = "L", '
            'random = { a = "uniform(0, 1)" }, expr = "exp(1) - 1" }]\n')
    (v,) = check(load_text(text), Options(seed=seed)).verdicts
    assert v.verdict == "fail"


def test_an_optimum_at_a_kink_or_on_a_flat_valley_is_judged_by_the_values_around_it():
    """The lasso's soft threshold puts w on |w|'s kink, where the gradient is one of many, and
    |w − a| + |w − b| is flat between a and b: both right minimisers had failed. w³'s 0 and a
    wrong threshold still fail."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "lasso"\ninputs = { w = "real", a = "real", lam = "positive" }\n'
            'graph = "J = (w - a)**2 / 2 + lam * abs(w)"\n'
            'claim = [{ id = "soft", kind = "optimum", of = "J", wrt = "w", optimum = "min", '
            'expr = "sign(a) * relu(abs(a) - lam)" },\n'
            '{ id = "wrong", kind = "optimum", of = "J", wrt = "w", optimum = "min", '
            'expr = "a - lam*sign(a)" }]\n'
            '[[problem]]\nid = "median"\ninputs = { w = "real", a = "real", b = "real" }\n'
            'graph = "J = abs(w - a) + abs(w - b)"\n'
            'claim = [{ id = "mid", kind = "optimum", of = "J", wrt = "w", optimum = "min", '
            'expr = "(a + b)/2" }]\n'
            '[[problem]]\nid = "cube"\ninputs = { w = "real", a = "real" }\n'
            'graph = "J = (w - a)**3 + 0*a"\n'
            'claim = [{ id = "cube", kind = "optimum", of = "J", wrt = "w", optimum = "min", '
            'expr = "a" }]\n')
    found = {v.claim.id: v.verdict for v in check(load_text(text), Options(seed=0)).verdicts}
    assert found == {"soft": "pass", "wrong": "fail", "mid": "pass", "cube": "fail"}
