"""The LaTeX reader reads TeX as TeX: one-token arguments, function arguments, powers of
functions, e^{…}, the all-ones 𝟏, and values printed at the document's point. Each right
reading passes and a wrong formula written the same way fails."""

from __future__ import annotations

import pytest

from deriv.checker import Options, check
from deriv.errors import DerivError
from deriv.latex_reader import claim_sides
from deriv.problem import load_text

OPTIONS = Options(samples=300, seed=0)


def problem(inputs: str, graph: str, at: str = "") -> str:
    return f'[[problem]]\nid = "p"\ninputs = {{ {inputs} }}\n{at}\ngraph = """\n{graph}\n"""\n'


def claim(cid: str, of: str, wrt: str, printed: str) -> str:
    return f"[[problem.claim]]\nid = \"{cid}\"\nof = \"{of}\"\nwrt = \"{wrt}\"\nprinted = '{printed}'\n"


def verdicts(text: str) -> dict[str, str]:
    (p,) = load_text(text)
    return {v.claim.id: v.verdict for v in check([p], OPTIONS).verdicts}


def read(text: str, printed: str, of: str, wrt: str) -> list:
    (p,) = load_text(text)
    found, why = claim_sides(printed, p, of, wrt)
    assert not why, why
    return found


SCALAR = problem('x = "positive", w = "real", z = "real"', "y = x**2 / 4")


@pytest.mark.parametrize("printed, want", [
    (r"\frac12 x", "1 / 2 * x"),
    (r"\tfrac12 x", "1 / 2 * x"),
    (r"\dfrac 1 2 x", "1 / 2 * x"),
    (r"\frac123", "1 / 2 * 3"),
    (r"\frac1x", "1 / x"),
    (r"\frac{12}{x}", "12 / x"),
    (r"\frac{\frac12}3", "1 / 2 / 3"),
    (r"\sqrt 2x", "sqrt(2) * x"),
])
def test_a_bare_digit_argument_is_one_digit(printed, want):
    found = read(SCALAR, r"\frac{\partial y}{\partial x} = " + printed, "y", "x")
    assert found == [(None, want, None)]


def test_frac12_x_passes_where_it_is_right_and_fails_where_it_is_not():
    printed = r"\frac{\partial y}{\partial x} = \frac12 x"
    right = problem('x = "positive"', "y = x**2 / 4") + claim("c", "y", "x", printed)
    wrong = problem('x = "positive"', "y = 12*log(x)") + claim("c", "y", "x", printed)
    assert verdicts(right) == {"c": "pass"}
    assert verdicts(wrong) == {"c": "fail"}


@pytest.mark.parametrize("printed, want", [
    (r"\sin 2x", "sin(2 * x)"),
    (r"\log 2x", "log(2 * x)"),
    (r"\sin x \cos x", "sin(x) * cos(x)"),
    (r"\sin x (1 + x)", "sin(x) * (1 + x)"),
    (r"\sin x^2 w", "sin(x ** 2 * w)"),
    (r"\exp x", "exp(x)"),
    (r"\log(x)", "log(x)"),
    (r"\log|x|", "log(abs(x))"),
    (r"\log \sigma(z)", "log(sigmoid(z))"),
    (r"\log \sin x", "log(sin(x))"),
    (r"\sin^2 x", "sin(x) ** 2"),
    (r"\tanh^2 x", "tanh(x) ** 2"),
    (r"\exp[x]^2", "exp(x) ** 2"),
    (r"\sigma^2(z)", "sigmoid(z) ** 2"),
    (r"\sigma(z)^2", "sigmoid(z) ** 2"),
    (r"\sigma^2(z)\,\sigma(z)(1 - \sigma(z))",
     "sigmoid(z) ** 2 * sigmoid(z) * (1 - sigmoid(z))"),
])
def test_a_function_takes_its_argument_and_its_power(printed, want):
    found = read(SCALAR, r"\frac{\partial y}{\partial x} = " + printed, "y", "x")
    assert found == [(None, want, None)]


def test_an_inverse_function_is_not_read_as_a_reciprocal():
    (p,) = load_text(SCALAR)
    found, why = claim_sides(r"\frac{\partial y}{\partial x} = \sin^{-1} x", p, "y", "x")
    assert not found and "inverse function" in why


@pytest.mark.parametrize("graph, printed, want", [
    ("y = sin(x)**2", r"\sin 2x", "pass"),
    ("y = sin(x)**2", r"2 \sin x \cos x", "pass"),
    ("y = sin(x)**2", r"\sin x", "fail"),
    ("y = log(2*x)", r"\frac{1}{x}", "pass"),
    ("y = softplus(z)", r"\sigma(z)", "pass"),
    ("y = softplus(z)", r"\sigma^2(z)", "fail"),
    ("s = sigmoid(z)\ny = s**3 / 3", r"\sigma^2(z)\,\sigma(z)(1 - \sigma(z))", "pass"),
    ("s = sigmoid(z)\ny = s**3 / 3", r"\sigma(z)^2\,\sigma(z)(1 - \sigma(z))", "pass"),
    ("s = sigmoid(z)\ny = s**3 / 3", r"\sigma(z)^2 (1 - \sigma(z))", "fail"),
])
def test_functions_without_parentheses_and_powers_get_the_right_verdict(graph, printed, want):
    wrt = "z" if "z" in graph else "x"
    text = problem('x = "positive", z = "real"', graph) + \
        claim("c", "y", wrt, r"\frac{\partial y}{\partial %s} = %s" % (wrt, printed))
    assert verdicts(text) == {"c": want}


def test_e_to_a_power_is_the_exponential_unless_the_problem_names_e():
    assert read(SCALAR, r"\frac{\partial y}{\partial x} = e^{-2x} w", "y", "x") == \
        [(None, "exp(-(2 * x)) * w", None)]
    named = problem('x = "positive", e = "positive"', "y = e**x")
    assert read(named, r"\frac{\partial y}{\partial x} = e^{x} \log e", "y", "x") == \
        [(None, "e ** x * log(e)", None)]
    exp = problem('x = "real"', "y = exp(2*x)")
    assert verdicts(exp + claim("c", "y", "x", r"\frac{\partial y}{\partial x} = 2e^{2x}")) == \
        {"c": "pass"}
    assert verdicts(exp + claim("c", "y", "x", r"\frac{\partial y}{\partial x} = e^{2x}")) == \
        {"c": "fail"}


ARRAYS = problem('X = "matrix(N, D)", W = "matrix(D, K)", b = "vector(K)", G = "matrix(N, K)", '
                 'x = "vector(n)"',
                 "Z = X @ W + b\nL = sum(hadamard(G, Z))\nM = sum(x)**2 / 2\nR = norm2(x) / 2")


@pytest.mark.parametrize("of, wrt, printed, want", [
    ("M", "x", r"\mathbf{1}^\top x", "ones(n).T @ x"),
    ("M", "x", r"(\mathbf{1}^\top x)\mathbf{1}", "ones(n).T @ x * ones(n)"),
    ("L", "b", r"G^\top \mathbf{1}", "G.T @ ones(N)"),
    ("L", "b", r"\boldsymbol{1}^\top G", "ones(N).T @ G"),
    ("L", "W", r"X^\top G \mathbf{1}", "X.T @ G @ ones(K)"),
])
def test_bold_one_is_the_all_ones_vector_of_the_length_the_product_needs(of, wrt, printed, want):
    found = read(ARRAYS, r"\frac{\partial %s}{\partial %s} = %s" % (of, wrt, printed), of, wrt)
    assert found == [(None, want, None)]


@pytest.mark.parametrize("printed", [r"\mathbf{1} + \mathbf{1}", r"\mathbf{1}\mathbf{1}^\top x"])
def test_bold_one_of_no_known_length_is_unread_never_the_number_1(printed):
    (p,) = load_text(ARRAYS)
    found, why = claim_sides(r"\frac{\partial M}{\partial x} = " + printed, p, "M", "x")
    assert not found and "all-ones" in why


def test_bold_one_gets_the_right_verdicts():
    text = ARRAYS + claim("sum-sq", "M", "x", r"\frac{\partial M}{\partial x} = "
                          r"(\mathbf{1}^\top x)\mathbf{1}") + \
        claim("bias", "L", "b", r"\frac{\partial L}{\partial b} = G^\top \mathbf{1}") + \
        claim("not-the-gradient", "R", "x", r"\frac{\partial R}{\partial x} = \mathbf{1}^\top x") + \
        claim("row-sums", "L", "b", r"\frac{\partial L}{\partial b} = \mathbf{1}^\top G")
    assert verdicts(text) == {"sum-sq": "pass", "bias": "pass", "not-the-gradient": "fail",
                              "row-sums": "fail"}
    scalar = problem('x = "real"', "y = 3*x") + \
        claim("c", "y", "x", r"\frac{\partial y}{\partial x} = 3\mathbf{1}")
    assert verdicts(scalar) == {"c": "pass"}


TANH = problem('x = "real", w = "real"', "h = tanh(w*x)\ny = h**2", "at = { x = 0.5, w = 2.0 }")
NO_POINT = problem('x = "real", w = "real"', "h = tanh(w*x)\ny = h**2")
D = r"\frac{\partial y}{\partial x}"          # = 2h(1 − h²)w = 1.2794… at the point


@pytest.mark.parametrize("printed, want", [
    (D + r" \approx 1.28", [(None, None, "1.28")]),
    (D + r" = 1.28", [(None, None, "1.28")]),
    (D + r" = 1.280", [(None, None, "1.280")]),
    (D + r" = 2h(1-h^2)w \approx 1.28", [(None, "2 * h * (1 - h ** 2) * w", "1.28")]),
    (D + r" = \frac{\partial y}{\partial h}\frac{\partial h}{\partial x} = 2h(1-h^2)w = 1.28",
     [("D(y, h) * D(h, x)", "2 * h * (1 - h ** 2) * w", "1.28")]),
])
def test_a_number_after_a_derivative_is_its_value_at_the_point(printed, want):
    assert read(TANH, printed, "y", "x") == want


def test_without_a_point_an_equal_number_is_a_formula_and_an_approximate_one_a_value():
    assert read(NO_POINT, D + " = 3", "y", "x") == [(None, "3", None)]
    assert read(NO_POINT, D + r" \approx 1.28", "y", "x") == [(None, None, "1.28")]


def test_printed_values_are_checked_at_the_point_right_and_wrong():
    text = TANH
    for cid, printed in [("approx", D + r" \approx 1.28"), ("equal", D + " = 1.28"),
                         ("both", D + r" = 2h(1-h^2)w \approx 1.28"),
                         ("wrong-value", D + r" \approx 1.35"),
                         ("wrong-formula", D + r" = 2h(1-h^2) \approx 1.28"),
                         ("right-formula-wrong-value", D + r" = 2h(1-h^2)w \approx 1.35")]:
        text += claim(cid, "y", "x", printed)
    assert verdicts(text) == {"approx": "pass", "equal": "pass", "both": "pass",
                              "wrong-value": "fail", "wrong-formula": "fail",
                              "right-formula-wrong-value": "fail"}
    (p,) = load_text(NO_POINT + claim("c", "y", "x", D + r" \approx 1.28"))
    (v,) = check([p], OPTIONS).verdicts
    assert v.verdict == "fail" and v.diagnosis[0].kind == "value" and v.diagnosis[0].count == 0


def test_a_formula_with_a_condition_is_unread_not_checked_without_it():
    (p,) = load_text(TANH)
    for condition in (r"\text{ if } x > 0", r"\quad \text{when } w x \geq 0", r"\mbox{if} x>0"):
        found, why = claim_sides(D + r" = 2h(1-h^2)w " + condition, p, "y", "x")
        assert not found and "condition" in why, condition
    with pytest.raises(DerivError) as err:
        load_text(TANH + claim("c", "y", "x", D + r" = 2h(1-h^2)w \text{ if } x > 0"), "f.toml")
    assert "condition" in err.value.message and err.value.line
    # the case split the reader supports is still read
    found = read(TANH, D + r" = \begin{cases} 2h(1-h^2)w, & \text{if } x > 0 \\ "
                       r"2h(1-h^2)w, & \text{if } x < 0 \end{cases}", "y", "x")
    assert found[0][1].count("I(") == 2


def test_a_number_for_an_array_derivative_stays_a_formula():
    text = problem('x = "vector(n)", s = "real"', "y = s * sum(x)", "at = { s = 1.5 }")
    (p,) = load_text(text)
    found, why = claim_sides(r"\frac{\partial y}{\partial x} = 1.5", p, "y", "x")
    assert found == [(None, "1.5", None)], why
    found, why = claim_sides(r"\frac{\partial y}{\partial s} = 1.5", p, "y", "s")
    assert found == [(None, None, "1.5")], why


@pytest.mark.parametrize("printed, want", [
    (r"\sigma^{\prime}(z)", "sigmoid(z) * (1 - sigmoid(z))"),
    (r"\tanh^\prime x", "1 - tanh(x) ** 2"),
])
def test_a_prime_on_a_functions_name_is_its_derivative(printed, want):
    assert read(SCALAR, r"\frac{\partial y}{\partial x} = " + printed, "y", "x") == \
        [(None, want, None)]


def test_det_without_parentheses_takes_one_factor():
    text = problem('K = "matrix(n, n)"', "y = logdet(K)")
    assert read(text, r"\frac{\partial y}{\partial K} = \det K K^{-\top} / \det K", "y", "K") \
        == [(None, "det(K) * inv(K).T / det(K)", None)]


def test_a_multi_letter_name_in_mathrm_is_the_problems_name_not_prose():
    text = problem('h0 = "real", uf = "real"', "f = sigmoid(uf * h0)\ny = 2*f")
    printed = r"\frac{\partial y}{\partial h_0} = 2 f \mathrm{uf} \left(1 - f\right)"
    assert read(text, printed, "y", "h0") == [(None, "2 * f * uf * (1 - f)", None)]
    assert verdicts(text + claim("c", "y", "h0", printed)) == {"c": "pass"}
    wrong = printed.replace(r"\left(1 - f\right)", r"\left(1 + f\right)")
    assert verdicts(text + claim("c", "y", "h0", wrong)) == {"c": "fail"}


def test_a_prime_of_a_vector_is_elementwise():
    """σ′(z) of a vector z is σ(z) ⊙ (1 − σ(z)): `*` between two vectors is not deriv's
    syntax for it (the sheet's g ⊙ σ′(z) was unread)."""
    text = problem('z = "vector(n)", g = "vector(n)"', "a = sigmoid(z)\nL = dot(g, a)")
    found = read(text, r"\nabla_z L = g \odot \sigma'(z)", "L", "z")
    assert found == [(None, "hadamard(g, hadamard(sigmoid(z), 1 - sigmoid(z)))", None)], found


@pytest.mark.parametrize("printed", [
    r"\frac{\partial h}{\partial x} = y(1 - h^2)\,\mathrm{sech}^2(x)",
    r"\frac{\partial h}{\partial x} = y(1 - h^2)\operatorname{cosh}(x)",
    r"\frac{\partial h}{\partial x} = y(1 - h^2)\text{erf}(x)",
])
def test_an_unknown_function_in_an_operator_font_is_unread_not_cut_off_as_prose(printed):
    """\\mathrm{sech}, \\operatorname{cosh}, \\text{erf}(x): a function's name, which deriv
    does not know — the claim is unread (it had been cut there as prose, its factor dropped,
    and the wrong formula passed); \\mathrm{ReLU} and \\text{so, } keep their readings."""
    text = problem('x = "positive", y = "positive"', "h = tanh(x*y)")
    (p,) = load_text(text)
    found, why = claim_sides(printed, p, "h", "x")
    assert found == [] and "unknown command" in why
    assert read(text, r"\frac{\partial h}{\partial x} = y(1 - h^2) \text{ so }", "h", "x") == \
        [(None, "y * (1 - h ** 2)", None)]
    relu = problem('x = "real"', "r = relu(x)")
    assert read(relu, r"r = \mathrm{ReLU}(x)", "r", "") == [(None, "relu(x)", None)]


SUMS = problem('x = "vector(n)", w = "vector(n)", Omega = "matrix(n, n)"',
               "s = sum(hadamard(w, x))\nq = sum(hadamard(x, x))\nz = Omega @ x")


def value_claim(cid: str, of: str, printed: str) -> str:
    return f"[[problem.claim]]\nid = \"{cid}\"\nof = \"{of}\"\nprinted = '{printed}'\n"


def test_an_index_sum_multiplies_elements_not_arrays():
    """Σ_i w_i x_i is a dot product (w ⊙ x summed), Σ_i x_i² squares each element, and
    Σ_j Ω_ji x_j is (Ωᵀx)_i: each right reading passes, a wrong formula written alike fails."""
    got = verdicts(SUMS + value_claim("s", "s", r"s = \sum_i w_i x_i")
                   + value_claim("q", "q", r"q = \sum_i x_i^2")
                   + value_claim("z", "z", r"z = \sum_j \Omega_{ij} x_j")
                   + value_claim("q-bad", "q", r"q = (\sum_i x_i)^2")
                   + value_claim("s-bad", "s", r"s = \sum_i w_i \sum_j x_j")
                   + value_claim("z-bad", "z", r"z = \sum_j \Omega_{ji} x_j"))
    assert got == {"s": "pass", "q": "pass", "z": "pass",
                   "q-bad": "fail", "s-bad": "fail", "z-bad": "fail"}
    (p,) = load_text(SUMS)
    assert claim_sides(r"z = \sum_j \Omega_{ji} x_j", p, "z", "")[0] == \
        [(None, "Omega.T @ x", None)]


def test_an_ill_shaped_printed_formula_is_a_failed_claim_and_the_others_are_checked():
    """W₂ᵀ ∂L/∂Z₂ does not multiply: as in `expr`, the claim fails as ill-shaped, with the
    reading that would fit, and the file's other claims are still checked."""
    text = problem('A = "matrix(N, H)", W2 = "matrix(H, K)", Y = "matrix(N, K)"',
                   "Z2 = A @ W2\nL = sum(hadamard(Z2 - Y, Z2 - Y)) / 2") \
        + claim("right", "L", "A", r"\frac{\partial L}{\partial A} = "
                r"\frac{\partial L}{\partial Z_2} W_2^T") \
        + claim("ill", "L", "A", r"\frac{\partial L}{\partial A} = "
                r"W_2^T\frac{\partial L}{\partial Z_2}")
    (p,) = load_text(text)
    report = check([p], OPTIONS)
    by_id = {v.claim.id: v for v in report.verdicts}
    assert by_id["right"].verdict == "pass"
    assert by_id["ill"].verdict == "fail"
    kinds = [f.kind for f in by_id["ill"].diagnosis]
    assert "ill-shaped" in kinds, kinds


@pytest.mark.parametrize("cases, want", [
    (r"y(1-h^2), & \text{if } y > 1 \\ 0, & \text{otherwise}", "pass"),
    (r"y(1-h^2) & y > 1 \\ 0 & y \le 1", "pass"),
    (r"0, & \text{if } y > 1 \\ y(1-h^2), & \text{otherwise}", "fail"),
    (r"y(1-h^2), & \text{if } y < 1 \\ 0, & \text{otherwise}", "fail"),
])
def test_a_case_split_with_an_otherwise_row_is_read(cases, want):
    """The last row `otherwise` is the rest: value·(1 − 𝕀[the other conditions])."""
    text = problem('x = "interval(0.5, 2)", y = "interval(0.5, 2)"',
                   "z = relu(y - 1)\nh = tanh(x * y) * I(z > 0)") \
        + claim("c", "h", "x", r"\frac{\partial h}{\partial x} = \begin{cases} "
                + cases + r" \end{cases}")
    assert verdicts(text) == {"c": want}


@pytest.mark.parametrize("printed, want", [
    (r"s = \sum_i x_i", "pass"), (r"s = \sum_{i=1}^{n} x_i", "pass"),
    (r"s = \sum_{i=0}^{n-1} x_i", "pass"), (r"s = \sum_{i=2}^{n} x_i", "unread"),
    (r"s = \sum_{i=1}^{n-1} x_i", "unread"), (r"s = \sum_{i=1}^{3} x_i", "unread")])
def test_a_sum_over_part_of_its_range_is_unread_never_read_as_the_whole(printed, want):
    """Σ_{i=2}^{n} x_i had been read as Σ_i x_i, so a partial sum passed as the whole."""
    (p,) = load_text(problem('x = "vector(n)"', "s = sum(x)"))
    sides, why = claim_sides(printed, p, "s", "")
    if want == "unread":
        assert not sides and "part of its index's range" in why
    else:
        assert not why and verdicts(problem('x = "vector(n)"', "s = sum(x)") +
                                    value_claim("c", "s", printed)) == {"c": "pass"}


@pytest.mark.parametrize("printed, want", [
    (r"\mathbf{1}[z > 0]", "pass"), (r"\boldsymbol{1}[z > 0]", "pass"),
    (r"\mathbf{1}[z < 0]", "fail")])
def test_a_bold_one_with_a_condition_is_the_indicator(printed, want):
    """𝟏[z > 0], as CS231n writes relu′: its bracket had been dropped, so 𝟏[z < 0] passed."""
    text = problem('w = "real", x = "real", b = "real"', "z = w*x + b\nh = relu(z)") + \
        claim("c", "h", "b", r"\frac{\partial h}{\partial b} = " + printed)
    assert verdicts(text) == {"c": want}


def test_the_ones_vector_inside_a_sum_stays_outside_it():
    """Σ_i x_i 𝟏 is (Σx)𝟏: 𝟏 had been summed with x (Σ(x ⊙ 𝟏), a scalar)."""
    text = problem('x = "vector(n)"', "t = sum(x)\nL = t**2") + claim(
        "right", "L", "x", r"\frac{\partial L}{\partial x} = 2 \sum_{i=1}^{n} x_i \mathbf{1}") + \
        claim("wrong", "L", "x", r"\frac{\partial L}{\partial x} = \sum_{i=1}^{n} x_i \mathbf{1}")
    assert verdicts(text) == {"right": "pass", "wrong": "fail"}


def test_abs_and_exp_of_a_square_matrix_are_unread_not_guessed_elementwise():
    """The Cookbook's |X| is det X and e^X may be the matrix exponential: a right claim had
    failed read elementwise. Of an N × K matrix, elementwise is their only meaning."""
    (p,) = load_text(problem('X = "matrix(n, n)", Z = "matrix(N, K)"',
                             "d = det(X)\nE = sum(exp(Z))"))
    for printed, of, wrt in [(r"\frac{\partial d}{\partial X} = |X| X^{-T}", "d", "X"),
                             (r"\frac{\partial d}{\partial X} = e^{X}", "d", "X")]:
        sides, why = claim_sides(printed, p, of, wrt)
        assert not sides and "square matrix" in why, (printed, why)
    assert claim_sides(r"\frac{\partial E}{\partial Z} = e^{Z}", p, "E", "Z")[0] == \
        [(None, "exp(Z)", None)]
