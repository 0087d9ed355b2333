"""deriv check: every diagnosis kind fails on a wrong claim and passes once corrected."""

from __future__ import annotations

import textwrap

import pytest
import sympy as sp

from deriv.checker import Options, check, check_problem
from deriv.problem import load_file, load_text
from deriv.render.words import UnicodeMath, error_reason, sentence


@pytest.fixture(scope="module")
def problems(fixtures):
    return {p.id: p for p in load_file(fixtures / "wrong_claims.toml")}


@pytest.fixture(scope="module")
def verdicts(problems):
    return {(v.problem, v.claim.id): v for p in problems.values() for v in check_problem(p)[0]}


def words(problem, verdict) -> list[str]:
    """The diagnosis as the terminal reads it (findings are data; deriv.render words them)."""
    return [sentence(f, UnicodeMath(problem.display)) for f in verdict.diagnosis]


CASES = [  # (problem, claim id, expected first diagnosis kind, text it must mention)
    ("net", "mislabelled", "mislabelled", "∂y/∂ψ₂"),
    ("net", "swapped", "swapped", "ψ₁ and ψ₂"),
    ("net", "extra-factor", "extra-factor", "a[θ₁·x]"),     # relu is the book's a[·]
    # the missing term is the direct edge h1 → y: a lost path
    ("net", "missing-term", {"lost-path", "missing-term"}, "h₁ → y"),
    ("smooth", "negated", "negated", "negative"),
    ("smooth", "constant-multiple", "constant-multiple", "2"),
    ("smooth", "missing-factor", {"missing-factor", "wrong-factor"}, "1 - s"),
    ("smooth", "extra-term", "extra-term", "w"),
    ("smooth", "broken-link", "broken-link", "∂z/∂w is followed by ∂L/∂s"),
    ("smooth", "missing-path", "missing-path", "w → R → J"),
    ("staged", "value", "value", "printed value 4"),
]


@pytest.mark.parametrize("problem,claim,kind,mentions", CASES)
def test_wrong_claim_is_diagnosed(problems, verdicts, problem, claim, kind, mentions):
    v = verdicts[(problem, claim)]
    assert v.verdict == "fail"
    assert v.outcome == "failed"
    assert v.diagnosis[0].kind in ({kind} if isinstance(kind, str) else kind), v.diagnosis
    text = words(problems[problem], v)
    assert any(mentions in t for t in text), text


@pytest.mark.parametrize("problem,claim", [(p, c) for p, c, *_ in CASES])
def test_corrected_claim_passes(verdicts, problem, claim):
    v = verdicts[(problem, claim + "-fixed")]
    assert v.verdict == "pass", v.diagnosis
    assert v.samples >= 1000


def test_mislabelled_names_the_derivative_it_equals(verdicts):
    v = verdicts[("net", "mislabelled")]
    f = v.diagnosis[0]
    assert (f.derivative.of, f.derivative.wrt) == ("y", "psi2")


def test_repeated_path_is_reported(verdicts):
    v = verdicts[("smooth", "repeated-path")]
    assert v.verdict == "fail"
    assert {f.kind for f in v.diagnosis} == {"repeated-path"}


def test_value_claim_of_a_forward_pass(verdicts):
    assert verdicts[("staged", "forward-value")].verdict == "pass"


def test_relu_branches_are_covered(verdicts):
    v = verdicts[("net", "mislabelled-fixed")]
    assert v.branches > 0 and v.branches_seen == v.branches


def _one(text: str):
    return load_text(textwrap.dedent(text))


def test_no_false_alarm_on_large_exponentials():
    (p,) = _one('''
        [[problem]]
        id = "big"
        inputs = { x = "real" }
        graph = """
        f1 = exp(x)
        f3 = f1 + f1**2
        y = exp(f3) + sin(f3)
        """
        [[problem.claim]]
        id = "dy/dx"
        of = "y"
        wrt = "x"
        expr = "(exp(exp(x) + exp(2*x)) + cos(exp(x) + exp(2*x))) * (1 + 2*exp(x)) * exp(x)"
    ''')
    (v,), _ = check_problem(p)
    assert v.verdict == "pass", v.diagnosis


def test_no_false_alarm_on_cancellation():
    # 1 − cos t and its derivative for tiny t lose every digit in floating point; the
    # high-precision re-check must keep the claim from being called wrong.
    (p,) = _one('''
        [[problem]]
        id = "cancel"
        inputs = { t = "interval(-0.0001, 0.0001)" }
        graph = """
        u = 1 - cos(t)
        y = u / t**2
        """
        [[problem.claim]]
        id = "u"
        of = "u"
        expr = "2 * sin(t/2)**2"
        [[problem.claim]]
        id = "dy/dt"
        of = "y"
        wrt = "t"
        expr = "sin(t)/t**2 - 4*sin(t/2)**2/t**3"
        [[problem.claim]]
        id = "dy/dt-wrong"
        of = "y"
        wrt = "t"
        expr = "sin(t)/t**2 - 4*sin(t/2)**2/t**3 + t"
    ''')
    verdicts, _ = check_problem(p)
    by_id = {v.claim.id: v for v in verdicts}
    assert by_id["u"].verdict == "pass", by_id["u"].diagnosis
    assert by_id["dy/dt"].verdict == "pass", by_id["dy/dt"].diagnosis
    assert by_id["dy/dt-wrong"].verdict == "fail"


@pytest.mark.parametrize("seed", range(25))
def test_claim_wrong_on_a_tenth_of_the_space_is_caught(seed):
    # x is drawn from (−2, 2); the claim is wrong only for x > 1.6, a tenth of the space.
    (p,) = _one('''
        [[problem]]
        id = "tenth"
        inputs = { x = "real" }
        graph = "y = x**2"
        [[problem.claim]]
        id = "dy/dx"
        of = "y"
        wrt = "x"
        expr = "2*x + I(x > 1.6)"
    ''')
    (v,), _ = check_problem(p, Options(seed=seed))
    assert v.verdict == "fail"


def test_known_erratum_is_xfailed_and_a_fixed_one_xpasses():
    text = '''
        [[problem]]
        id = "xf"
        inputs = { x = "real" }
        graph = "y = x**2"
        [[problem.claim]]
        id = "wrong"
        of = "y"
        wrt = "x"
        expr = "x"
        expect = "fail"
        note = "deriv: a lost factor 2"
        [[problem.claim]]
        id = "right"
        of = "y"
        wrt = "x"
        expr = "2*x"
        expect = "fail"
        note = "not really wrong"
    '''
    rep = check(_one(text))
    assert [v.outcome for v in rep.verdicts] == ["xfailed", "xpassed"]
    assert rep.exit_code == 1
    assert rep.summary()["xfailed"] == 1 and rep.summary()["xpassed"] == 1


def test_log_of_negative_samples_is_an_error_not_a_pass():
    (p,) = _one('''
        [[problem]]
        id = "dom"
        inputs = { x = "real" }
        graph = "y = log(x - 5)"
        [[problem.claim]]
        id = "dy/dx"
        of = "y"
        wrt = "x"
        expr = "1/(x - 5)"
    ''')
    (v,), _ = check_problem(p)
    assert v.verdict == "error"
    assert v.reason == "too-few-points" and v.samples == 0
    assert "domain" in error_reason(v)


def test_missing_derivatives_are_reported():
    (p,) = _one('''
        [[problem]]
        id = "asks"
        inputs = { x = "real", w = "real" }
        asks = ["D(y, x)", "D(y, w)"]
        graph = "y = w * x"
        [[problem.claim]]
        id = "dy/dx"
        of = "y"
        wrt = "x"
        expr = "w"
    ''')
    _, missing = check_problem(p)
    assert [str(m.derivative) for m in missing] == ["D(y, w)"]


@pytest.mark.parametrize("expr, verdict, kinds", [
    ("cos(x) * exp(sin(x))", "pass", set()),
    ("-cos(x) * exp(sin(x))", "fail", {"negated"}),                      # sign flipped
    # factor cos(x) dropped: that is ∂y/∂s, so "mislabelled" first, and the lost factor named
    ("exp(sin(x))", "fail", {"mislabelled"}),
    ("2 * cos(x) * exp(sin(x))", "fail", {"constant-multiple"}),
])
def test_the_checker_catches_a_wrong_formula(expr, verdict, kinds):
    (p,) = _one(f'''
        [[problem]]
        id = "chain"
        inputs = {{ x = "real" }}
        graph = """
        s = sin(x)
        y = exp(s)
        """
        [[problem.claim]]
        id = "dy/dx"
        of = "y"
        wrt = "x"
        expr = "{expr}"
    ''')
    (v,), _ = check_problem(p, Options(samples=500, seed=3))
    assert v.verdict == verdict, v.diagnosis
    if kinds:
        assert v.diagnosis and v.diagnosis[0].kind in kinds, v.diagnosis
    else:
        assert not v.diagnosis
    if expr == "exp(sin(x))":
        assert (v.diagnosis[0].derivative.of, v.diagnosis[0].derivative.wrt) == ("y", "s")
        assert any(f.kind == "missing-factor" and f.expr == sp.cos(p.graph.symbols["x"])
                   for f in v.diagnosis), v.diagnosis
    if expr.startswith("2 *"):
        assert v.diagnosis[0].number == pytest.approx(2)
