"""Students' backprop slips that deriv used to leave unexplained or explain oddly, each shown
on a wrong claim beside a right claim of the same problem that passes (so it is never given
that explanation): a term missing from a derivative whose closed form is a product over a sum
(softmax's p ⊙ (g − (pᵀg)𝟏)), a reduction over the wrong axis, a wrong branch, a lost 1/q,
a mean's 1/(NK), a factor too many or miswritten in a ⊙ product, a Jacobian's −ppᵀ, a
function written for its derivative, an exponential for its normalised form; then every claim
of the labelled files tests/fixtures/diagnosis/student_mistakes*.toml held to its label."""

from __future__ import annotations

import pytest

import deriv
from diagnosis_set import FOLDER, Row, expected_kinds
from deriv.render.words import UnicodeMath, sentence

SOFTMAX = """
[[problem]]
id = "softmax-{n}"
inputs = {{ z = "{shape}", g = "{shape}" }}
output = "L"
graph = '''
p = softmax(z{axis})
L = sum(hadamard(g, p))
'''

[[problem.claim]]
id = "right"
of = "L"
wrt = "z"
expr = "{right}"

[[problem.claim]]
id = "no-sum"
of = "L"
wrt = "z"
expr = "hadamard(p, g)"

[[problem.claim]]
id = "sum-of-g"
of = "L"
wrt = "z"
expr = "{sum_of_g}"
"""

VECTOR = SOFTMAX.format(n="vector", shape="vector(n)", axis="",
                        right="hadamard(p, g) - (p.T @ g) * p",
                        sum_of_g="hadamard(p, g) - sum(g) * p")
ROWS = SOFTMAX.format(n="rows", shape="matrix(N, K)", axis=", axis=1",
                      right="hadamard(p, g - sum(hadamard(p, g), axis=1))",
                      sum_of_g="hadamard(p, g - sum(g, axis=1))")


def check(text: str) -> dict:
    report = deriv.check(deriv.load(text), samples=500, seed=0)
    return {v.claim.id: v for v in report.verdicts}


def first(v):
    return v.diagnosis[0]


def said(v) -> tuple[str, str]:
    """A failing claim's first finding: its kind and its sentence."""
    f = first(v)
    return f.kind, sentence(f, UnicodeMath())


def test_softmax_backward_without_its_sum_misses_that_term_vector_and_rows():
    for text in (VECTOR, ROWS):
        v = check(text)
        assert v["right"].verdict == "pass"
        f = first(v["no-sum"])
        assert f.kind == "missing-term", f
        # the missing term is −p ⊙ (the sum of g ⊙ p), written in the problem's nodes
        said = sentence(f, UnicodeMath())
        assert "sum(g ⊙ p" in said and said.startswith("misses the term -"), said


def test_softmax_backward_with_sum_g_for_the_weighted_sum_is_a_wrong_term():
    for text in (VECTOR, ROWS):
        v = check(text)
        f = first(v["sum-of-g"])
        assert f.kind == "wrong-term", f
        assert "sum(g ⊙ p" in sentence(f, UnicodeMath())


CENTRING = """
[[problem]]
id = "centring"
inputs = { X = "matrix(N, D)", G = "matrix(N, D)" }
output = "L"
graph = '''
M = mean(X, axis=0)
L = sum(hadamard(G, X - M))
'''

[[problem.claim]]
id = "right"
of = "L"
wrt = "X"
expr = "G - mean(G, axis=0)"

[[problem.claim]]
id = "right-ones"
of = "L"
wrt = "X"
expr = "G - ones(N) @ sum(G, axis=0) / N"

[[problem.claim]]
id = "mean-over-features"
of = "L"
wrt = "X"
expr = "G - mean(G, axis=1)"

[[problem.claim]]
id = "sum-over-features"
of = "L"
wrt = "X"
expr = "G - sum(G, axis=1) / N"

[[problem.claim]]
id = "sum-not-mean"
of = "L"
wrt = "X"
expr = "G - sum(G, axis=0)"
"""


def test_a_mean_over_the_wrong_axis_is_named_with_its_count():
    v = check(CENTRING)
    assert v["right"].verdict == v["right-ones"].verdict == "pass"
    f = first(v["mean-over-features"])
    assert f.kind == "wrong-axis"
    assert sentence(f, UnicodeMath()) == \
        "reduces over the wrong axis: sum(G, axis=1)/D should be sum(G, axis=0)/N"
    f = first(v["sum-over-features"])
    assert f.kind == "wrong-axis"
    assert sentence(f, UnicodeMath()) == \
        "reduces over the wrong axis: sum(G, axis=1) should be sum(G, axis=0)"


def test_a_sum_for_a_mean_on_the_right_axis_is_no_wrong_axis():
    f = first(check(CENTRING)["sum-not-mean"])
    assert f.kind == "wrong-term"
    assert "axis=0" in sentence(f, UnicodeMath())


def test_a_softmax_over_the_batch_axis_is_a_wrong_axis():
    text = ROWS.replace('expr = "hadamard(p, g - sum(g, axis=1))"',
                        'expr = "hadamard(p, g - sum(hadamard(p, g), axis=0))"')
    v = check(text)
    assert v["right"].verdict == "pass"
    f = first(v["sum-of-g"])
    assert f.kind == "wrong-axis"
    assert sentence(f, UnicodeMath()) == \
        "reduces over the wrong axis: sum(g ⊙ p, axis=0) should be sum(g ⊙ p, axis=1)"


def test_axis_candidates_keep_only_what_fits():
    from deriv import algebra as A
    from deriv.axes import axis_swaps
    from deriv.parse import parse_expression
    G = A.symbol("G", ("N", "D"))
    b = A.symbol("b", ("D", 1))
    # sum(G, axis=0).T + b: the row sums over axis 1 are N×1 and do not fit the D×1 b
    expr = parse_expression("sum(G, axis=0).T + b", {"G": G, "b": b},
                            sizes=frozenset({"N", "D"}))
    assert axis_swaps(expr) == []
    expr = parse_expression("G - sum(G, axis=0)", {"G": G}, sizes=frozenset({"N", "D"}))
    moved = [right for _, _, right in axis_swaps(expr)]
    assert len(moved) == 2 and all("total1" in str(m) for m in moved)


ELU = """
[[problem]]
id = "elu"
inputs = { z = "real", alpha = "interval(0.5, 1.5)" }
output = "e"
graph = '''
e = relu(z) + alpha * (exp(min(z, 0)) - 1)
'''

[[problem.claim]]
id = "right"
of = "e"
wrt = "z"
expr = "I(z > 0) + alpha * exp(z) * I(z < 0)"

[[problem.claim]]
id = "right-from-output"
of = "e"
wrt = "z"
expr = "I(z > 0) + (e + alpha) * I(z < 0)"

[[problem.claim]]
id = "leaky-slope"
of = "e"
wrt = "z"
expr = "I(z > 0) + alpha * I(z < 0)"

[[problem.claim]]
id = "positive-side-only"
of = "e"
wrt = "z"
expr = "I(z > 0)"
"""


def test_elu_with_the_leaky_slope_is_a_wrong_branch_not_its_own_derivative_as_a_factor():
    v = check(ELU)
    assert v["right"].verdict == v["right-from-output"].verdict == "pass"
    kinds = [f.kind for f in v["leaky-slope"].diagnosis]
    assert kinds[0] == "wrong-branch", kinds
    f = v["leaky-slope"].diagnosis[0]
    assert "z < 0" in sentence(f, UnicodeMath())
    # never "the factor α should be ∂e/∂z": the claim's own derivative explains nothing
    assert not any(f.kind == "wrong-factor" and f.derivative is not None and
                   (f.derivative.of, f.derivative.wrt) == ("e", "z")
                   for f in v["leaky-slope"].diagnosis)


def test_a_branch_term_left_out_stays_a_missing_term():
    f = first(check(ELU)["positive-side-only"])
    assert f.kind == "missing-term", f      # the lost term is the more specific statement


DROPOUT = """
[[problem]]
id = "dropout"
inputs = {{ a = "{kind}", u = "{uniform}", q = "interval(0.5, 0.9)", g = "{kind}" }}
output = "L"
graph = '''
m = I(q - u > 0)
h = {ma} / q
L = {gh}
'''

[[problem.claim]]
id = "right"
of = "L"
wrt = "a"
expr = "{mg} / q"

[[problem.claim]]
id = "no-scale"
of = "L"
wrt = "a"
expr = "{mg}"
"""
EXTRA_Q = """
[[problem]]
id = "no-dropout"
inputs = { a = "real", q = "interval(0.5, 0.9)", g = "real" }
output = "L"
graph = "L = g * a + q"

[[problem.claim]]
id = "scaled"
of = "L"
wrt = "a"
expr = "g * q"
"""
# (scalar, one node: with h a node of its own, "m should be ∂h/∂a = m/q" says it as well)
SCALAR_DROPOUT = DROPOUT.format(kind="real", uniform="interval(0, 1)", ma="m * a",
                                gh="g * h", mg="m * g").replace(
    "h = m * a / q\nL = g * h", "L = g * m * a / q")
VECTOR_DROPOUT = DROPOUT.format(kind="vector(n)", uniform="interval(0, 1) vector(n)",
                                ma="hadamard(m, a)", gh="sum(hadamard(g, h))",
                                mg="hadamard(m, g)")


def test_inverted_dropout_without_its_scale_misses_1_over_q_scalar_and_vector():
    for text in (SCALAR_DROPOUT, VECTOR_DROPOUT):
        v = check(text)
        assert v["right"].verdict == "pass"
        assert said(v["no-scale"]) == ("missing-factor", "misses a factor 1/q")
    # a q the claim does write stays an extra factor q
    assert said(check(EXTRA_Q)["scaled"]) == ("extra-factor", "has an extra factor q")


MEAN_ALL = """
[[problem]]
id = "mean-all"
inputs = { X = "matrix(N, D)", W = "matrix(D, K)", Y = "matrix(N, K)" }
output = "L"
graph = '''
R = X @ W - Y
L = mean(hadamard(R, R))
'''

[[problem.claim]]
id = "right"
of = "L"
wrt = "W"
expr = "2 * X.T @ R / (N * K)"

[[problem.claim]]
id = "as-a-sum"
of = "L"
wrt = "W"
expr = "2 * X.T @ R"
"""


def test_a_mean_over_every_entry_differentiated_as_a_sum_misses_1_over_NK():
    v = check(MEAN_ALL)
    assert v["right"].verdict == "pass"
    assert said(v["as-a-sum"]) == ("missing-factor", "misses a factor 1/(K·N)")


SOFTPLUS = """
[[problem]]
id = "softplus-{n}"
inputs = {{ Z = "{kind}", G = "{kind}" }}
output = "L"
graph = '''
H = softplus(Z)
L = {loss}
'''

[[problem.claim]]
id = "right"
of = "L"
wrt = "Z"
expr = "{right}"

[[problem.claim]]
id = "sigma-prime"
of = "L"
wrt = "Z"
expr = "{wrong}"
"""


def test_softplus_derivative_written_as_sigma_prime_has_an_extra_factor_scalar_and_matrix():
    scalar = SOFTPLUS.format(n="scalar", kind="real", loss="G * H", right="G * sigmoid(Z)",
                             wrong="G * sigmoid(Z) * (1 - sigmoid(Z))")
    matrix = SOFTPLUS.format(n="matrix", kind="matrix(m, n)", loss="sum(hadamard(G, H))",
                             right="hadamard(G, sigmoid(Z))",
                             wrong="hadamard(G, hadamard(sigmoid(Z), 1 - sigmoid(Z)))")
    for text in (scalar, matrix):
        v = check(text)
        assert v["right"].verdict == "pass"
        assert said(v["sigma-prime"]) == \
            ("extra-factor", "has an extra factor 1 - σ(Z)"), text


JACOBIAN = """
[[problem]]
id = "softmax-jacobian"
inputs = { z = "vector(n)" }
output = "p"
graph = "p = softmax(z)"

[[problem.claim]]
id = "right"
of = "p"
wrt = "z"
expr = "diag(p) - p @ p.T"

[[problem.claim]]
id = "diagonal"
of = "p"
wrt = "z"
expr = "diag(p)"

[[problem.claim]]
id = "outer-twice"
of = "p"
wrt = "z"
expr = "diag(p) - 2 * p @ p.T"

[[problem.claim]]
id = "outer-sign"
of = "p"
wrt = "z"
expr = "diag(p) + p @ p.T"
"""


def test_the_softmax_jacobian_written_diag_p_misses_minus_p_p_transposed():
    v = check(JACOBIAN)
    assert v["right"].verdict == "pass"
    assert said(v["diagonal"]) == ("missing-term", "misses the term -ppᵀ")
    # one it writes twice has it once too many; one with its sign flipped is a term-sign
    assert said(v["outer-twice"]) == ("extra-term", "has an extra term -ppᵀ")
    assert [f.kind for f in v["outer-twice"].diagnosis].count("extra-term") == 1
    assert first(v["outer-sign"]).kind == "term-sign"


FUNCTION_ITSELF = """
[[problem]]
id = "softplus-itself"
inputs = { x = "real", v = "vector(n)" }
output = "y"
graph = '''
s = softplus(x)
y = softplus(x * v)
'''

[[problem.claim]]
id = "ds/dx"
of = "s"
wrt = "x"
expr = "sigmoid(x)"

[[problem.claim]]
id = "dy/dx"
of = "y"
wrt = "x"
layout = "derivative"
expr = "hadamard(sigmoid(x * v), v)"

[[problem.claim]]
id = "ds/dx-itself"
of = "s"
wrt = "x"
expr = "softplus(x)"

[[problem.claim]]
id = "dy/dx-itself"
of = "y"
wrt = "x"
layout = "derivative"
expr = "y"
"""


def test_a_function_written_for_its_derivative_is_a_wrong_factor_scalar_and_vector():
    v = check(FUNCTION_ITSELF)
    assert v["ds/dx"].verdict == v["dy/dx"].verdict == "pass"
    assert said(v["ds/dx-itself"]) == \
        ("wrong-factor", "the factor softplus(x) should be ∂s/∂x = σ(x)")
    f = first(v["dy/dx-itself"])
    assert f.kind == "wrong-factor" and (f.derivative.of, f.derivative.wrt) == ("y", "x")


RELU_MASK = """
[[problem]]
id = "relu-layer"
inputs = { x = "vector(d)", W1 = "matrix(h, d)", w2 = "vector(h)" }
output = "L"
graph = '''
a = W1 @ x
z = relu(a)
L = w2.T @ z
'''

[[problem.claim]]
id = "right"
of = "L"
wrt = "a"
expr = "hadamard(w2, I(a > 0))"

[[problem.claim]]
id = "relu-for-step"
of = "L"
wrt = "a"
expr = "hadamard(w2, z)"
"""


def test_relu_written_for_its_step_in_a_hadamard_product_is_a_wrong_factor():
    v = check(RELU_MASK)
    assert v["right"].verdict == "pass"
    assert said(v["relu-for-step"]) == \
        ("wrong-factor", "the factor z should be ∂z/∂a = 𝕀[a > 0]")


POWER = """
[[problem]]
id = "quotient"
inputs = { a = "real", b = "positive" }
output = "q"
graph = "q = a / b"

[[problem.claim]]
id = "right"
of = "q"
wrt = "b"
expr = "-a / b**2"

[[problem.claim]]
id = "power-not-lowered"
of = "q"
wrt = "b"
expr = "-a / b"
"""


def test_a_power_not_lowered_misses_1_over_b_rather_than_having_an_extra_b():
    v = check(POWER)
    assert v["right"].verdict == "pass"
    assert said(v["power-not-lowered"]) == ("missing-factor", "misses a factor 1/b")


# --- the labelled files of students' mistakes, claim by claim ---------------------------------

STUDENT_FILES = ("student_mistakes.toml", "student_mistakes_matrix.toml")
# wrong claims deriv does not explain as a marker would (yet): kept in the set, labelled honestly
UNEXPLAINED = {
}


@pytest.fixture(scope="module")
def student_rows():
    rows = {}
    for name in STUDENT_FILES:
        report = deriv.check(deriv.load_all(str(FOLDER / name)), samples=2000, seed=0)
        for v in report.verdicts:
            rows[f"{v.problem}:{v.claim.id}"] = Row(
                name, v.problem, v.claim.id, expected_kinds(v.claim.id), v.claim.expect,
                v.verdict, tuple(f.kind for f in v.diagnosis))
    return rows


def _student_claims():
    out = []
    for name in STUDENT_FILES:
        for p in deriv.load_all(str(FOLDER / name)):
            for c in p.claims:
                key = f"{p.id}:{c.id}"
                marks = [pytest.mark.xfail(strict=True, reason=UNEXPLAINED[key])] \
                    if key in UNEXPLAINED else []
                out.append(pytest.param(key, id=key, marks=marks))
    return out


@pytest.mark.parametrize("key", _student_claims())
def test_each_student_mistake_is_explained_as_labelled_and_each_right_claim_passes(
        student_rows, key):
    row = student_rows[key]
    if row.wrong:
        assert row.verdict == "fail" and row.diagnosed, (row.expected, row.found)
    else:
        assert row.verdict == "pass", row.found


def test_the_unexplained_list_names_claims_of_the_set(student_rows):
    assert set(UNEXPLAINED) <= set(student_rows)


IN_EXPONENTIALS = """
[[problem]]
id = "exps"
inputs = { z = "real", v = "vector(n)" }
output = "s"
graph = '''
s = softplus(z)
y = logsumexp(v)
'''

[[problem.claim]]
id = "ds/dz"
of = "s"
wrt = "z"
expr = "sigmoid(z)"

[[problem.claim]]
id = "dy/dv"
of = "y"
wrt = "v"
expr = "softmax(v)"

[[problem.claim]]
id = "ds/dz-exp"
of = "s"
wrt = "z"
expr = "exp(z)"

[[problem.claim]]
id = "dy/dv-unnormalised"
of = "y"
wrt = "v"
expr = "exp(v)"
"""


def test_an_exponential_for_its_normalised_form_misses_the_normaliser_scalar_and_vector():
    v = check(IN_EXPONENTIALS)
    assert v["ds/dz"].verdict == v["dy/dv"].verdict == "pass"
    # eᶻ for σ(z) = eᶻ/(1 + eᶻ); eᵛ for softmax(v) = eᵛ⁻ʸ, y = logsumexp(v)
    assert said(v["ds/dz-exp"]) == ("missing-factor", "misses a factor 1/(1 + exp(z))")
    assert said(v["dy/dv-unnormalised"]) == ("missing-factor", "misses a factor exp(-y)")


def test_a_miswritten_slope_beside_a_named_adjoint_is_a_wrong_factor_for_vectors_too():
    """σ′ written a ⊙ a beside D(L, o): the scalar claim and the vector one get the same
    explanation (the vector's had none while the claim named an adjoint)."""
    for inputs, product in (('z = "real", w = "real", y = "real"', "w*a"),
                            ('z = "vector(n)", w = "vector(n)", y = "vector(n)"',
                             "hadamard(w, a)")):
        slope = "a*a" if product == "w*a" else "hadamard(a, a)"
        right = "a*(1 - a)" if product == "w*a" else "hadamard(a, 1 - a)"
        text = (f'[[problem]]\nid = "s"\ninputs = {{ {inputs} }}\ngraph = """\n'
                f'a = sigmoid(z)\no = {product}\nL = norm2(o - y)/2\n"""\n'
                f'[[problem.claim]]\nid = "aa"\nof = "L"\nwrt = "z"\n'
                f'expr = "hadamard(hadamard(D(L, o), w), {slope})"\n'
                f'[[problem.claim]]\nid = "right"\nof = "L"\nwrt = "z"\n'
                f'expr = "hadamard(hadamard(D(L, o), w), {right})"\n').replace(
                    "hadamard(hadamard(D(L, o), w), a*a)", "D(L, o)*w*a*a").replace(
                    "hadamard(hadamard(D(L, o), w), a*(1 - a))", "D(L, o)*w*a*(1 - a)")
        v = check(text)
        assert v["right"].verdict == "pass"
        f = first(v["aa"])
        assert f.kind == "wrong-factor" and str(f.printed) == "a**2", f
