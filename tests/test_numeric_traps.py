"""Numeric traps (issue 7): NaN, inf, overflow, kinks and slow algebra never make a wrong
claim pass, and never hang the checker.

  * a claim is never "pass" on NaN or inf; points where either side is undefined are counted;
  * a claim evaluable at too few points gets the verdict "error" with the reason;
  * complex values are undefined, never their real part;
  * exp overflow, division by zero at a kink, huge exact numbers: counted, no warning, no crash;
  * symbolic simplification in the diagnosis has a time bound.
"""

from __future__ import annotations

import faulthandler
import time
import warnings

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from deriv.checker import Options, check_problem
from deriv.cli import main
from deriv.problem import load_text
from deriv.program import Values
from deriv.render.words import UnicodeMath, error_reason, sentence


# The rewritten diagnosis is numeric, with no per-attempt time limit of its own: a diagnosis
# that takes longer than this on a small problem is a hang.
DIAGNOSIS_SECONDS = 20.0


def problem(graph: str, claims: list[dict], inputs: str = '{ x = "real" }', at: str = "") -> str:
    text = f'[[problem]]\nid = "trap"\ninputs = {inputs}\n{at}\ngraph = """\n{graph}\n"""\n'
    for c in claims:
        text += "\n[[problem.claim]]\n" + "".join(
            f'{k} = {v if isinstance(v, (int, float)) else repr(v).replace(chr(39), chr(34))}\n'
            for k, v in c.items())
    return text


def verdicts(text: str, samples: int = 2000) -> dict:
    (p,) = load_text(text, "trap.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no RuntimeWarning may escape to the user
        found, _ = check_problem(p, Options(samples=samples, seed=0))
    return {v.claim.id: v for v in found}


def claim(cid: str, expr: str, of: str = "y", wrt: str = "x", **more) -> dict:
    return {"id": cid, "of": of, "wrt": wrt, "expr": expr, **more}


# --- too few points: error, with the reason ------------------------------------------------
def test_log_of_an_input_sampled_negative_is_an_error_naming_the_domain():
    v = verdicts(problem("y = log(x)", [claim("d", "1/x")], inputs='{ x = "negative" }'))["d"]
    assert v.verdict == "error"
    assert v.samples == 0 and v.undefined == 2000
    assert v.reason == "too-few-points"
    words = error_reason(v)
    assert "evaluable at only 0 points (2000 undefined" in words and "domain" in words


def test_too_few_defined_points_is_an_error_not_a_pass():
    # log(x) on interval(-2, 0.1): defined at ~5% of the points, fewer than the 20% asked for
    v = verdicts(problem("y = log(x)", [claim("d", "1/x")],
                         inputs='{ x = "interval(-2, 0.1)" }'))["d"]
    assert v.verdict == "error" and 0 < v.samples < 0.2 * 2000


def test_half_undefined_is_compared_on_the_rest_and_counted():
    v = verdicts(problem("y = log(x)", [claim("d", "1/x"), claim("w", "2/x")]))
    assert v["d"].verdict == "pass" and v["w"].verdict == "fail"
    assert 800 < v["d"].undefined < 1200 and v["d"].samples + v["d"].undefined == 2000


def test_undefined_points_are_reported(tmp_path):
    path = tmp_path / "log.toml"
    path.write_text(problem("y = log(x)", [claim("d", "1/x")]))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0 and "undefined" in result.output
    result = CliRunner().invoke(main, ["check", "--json", str(path)])
    assert '"undefined": ' in result.output


# --- never a pass on NaN or inf ------------------------------------------------------------
@pytest.mark.parametrize("expr, why", [
    ("sqrt(-1 - x**2)", "NaN everywhere"),
    ("exp(exp(x**2 + 10))", "inf everywhere"),
    ("cos(x) + sqrt(-1 - x**2)", "right plus NaN"),
    ("cos(x) + exp(exp(x**2 + 10)) - exp(exp(x**2 + 9))", "right plus inf minus inf"),
])
def test_a_claim_undefined_everywhere_is_never_a_pass(expr, why):
    v = verdicts(problem("y = sin(x)", [claim("d", expr)]))["d"]
    assert v.verdict != "pass", why


def test_exp_overflow_in_the_graph_is_counted_not_compared():
    text = problem("a = exp(exp(exp(3*x)))\ny = a", [
        claim("right", "9*exp(3*x)*exp(exp(3*x))*a/3"),
        claim("wrong", "a"),
    ])
    v = verdicts(text)
    # where float64 overflows, the points are checked at 50 digits instead of compared in floats
    assert v["right"].verdict == "pass" and v["right"].overflow > 0 and v["right"].precise > 0
    assert v["wrong"].verdict == "fail"


def test_a_printed_value_where_the_truth_is_infinite_is_never_a_pass():
    # inf is within any relative tolerance of inf: the printed 3 must not pass at x = 0
    text = problem("y = 1/x", [claim("d", "-1/x**2", value="-1"), claim("v", "1/x", wrt="",
                                                                        value="3")],
                   at="at = { x = 0 }")
    v = verdicts(text)
    for cid in ("d", "v"):
        assert v[cid].verdict == "fail"
        said = " ".join(sentence(f, UnicodeMath()) for f in v[cid].diagnosis)
        assert "∞" in said, said          # the diagnosis says the truth is infinite there


def test_division_by_zero_at_a_kink():
    v = verdicts(problem("y = abs(x)", [claim("sign", "x/abs(x)"), claim("wrong", "abs(x)/x + 1")]))
    assert v["sign"].verdict == "pass" and v["wrong"].verdict == "fail"


def test_huge_exact_numbers_evaluate_to_inf_not_an_overflow_error():
    v = verdicts(problem("y = x * 10**300 * 10**300", [claim("d", "10**600"),
                                                        claim("e", "10**599")]))
    # inf on both sides in float64: decided at 50 digits, where 10**600 is a number
    assert v["d"].verdict == "pass" and v["d"].precise > 0
    assert v["e"].verdict == "fail"


def test_complex_values_are_undefined_never_their_real_part():
    (p,) = load_text(problem("y = x", []), "trap.toml")
    values = Values(p, {"x": np.array([-1.0, 4.0])}, {})
    x = p.graph.symbols["x"]
    out = values.value(x + sp.I * x)
    assert np.isnan(out).all()
    root = values.value(sp.sqrt(x))
    assert list(root[1:]) == [2.0] and np.isnan(root[0])


def test_a_constant_that_is_not_real_is_refused_at_load():
    from deriv.errors import DerivError
    for expr in ("x + sqrt(-1)", "x * log(-2)", "x * (-8)**(1/3)"):
        with pytest.raises(DerivError, match="not a real number"):
            load_text(problem(f"y = {expr}", []), "trap.toml")


# --- the diagnosis is bounded in time -------------------------------------------------------
def test_symbolic_simplification_in_the_diagnosis_has_a_time_bound(monkeypatch):
    """SymPy made to hang: the claim is still diagnosed, as no simple explanation, in about
    the time limit of each symbolic attempt."""
    def hang(*args, **kwargs):
        while True:
            pass
    monkeypatch.setattr(sp, "simplify", hang)
    monkeypatch.setattr(sp, "factor", hang)
    text = problem("y = sin(x)*exp(x)", [claim("odd", "cos(x)*exp(x)**2 + x")])
    faulthandler.dump_traceback_later(60, exit=True)    # a hang fails the run, not blocks it
    try:
        start = time.perf_counter()
        v = verdicts(text)["odd"]
        elapsed = time.perf_counter() - start
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert v.verdict == "fail"
    assert [f.kind for f in v.diagnosis] == ["no-explanation"]
    assert elapsed < DIAGNOSIS_SECONDS


def test_a_diamond_ladder_is_diagnosed_without_inlining_it_whole():
    """Nine diamonds: the inlined output has 2⁹ copies of x; the diagnosis must not count
    operations on it unbounded (it once took minutes)."""
    lines = ["x0 = x"]
    for k in range(9):
        lines += [f"a{k} = sin(x{k})", f"b{k} = cos(x{k})", f"x{k + 1} = a{k} * b{k}"]
    text = problem("\n".join(lines) + "\ny = x9", [claim("wrong", "1")])
    start = time.perf_counter()
    v = verdicts(text, samples=500)["wrong"]
    assert v.verdict == "fail"
    assert time.perf_counter() - start < 20


def test_a_deep_chain_is_diagnosed_within_the_budget():
    """A chain of 300 tanh nodes and a wrong claim: looking for a mislabelling tries every
    D(h299, hk), each as long as the chain; the diagnosis budget stops it (it took 30 s)."""
    graph = "h0 = x\n" + "\n".join(f"h{i} = tanh(h{i - 1})" for i in range(1, 300))
    text = problem(graph, [claim("wrong", "2", of="h299")])
    start = time.perf_counter()
    v = verdicts(text, samples=500)["wrong"]
    assert v.verdict == "fail"
    assert time.perf_counter() - start < DIAGNOSIS_SECONDS


MIXED_SCALES = """[[problem]]
id = "mixed"
inputs = { u = "interval(0, 1) vector(2)", w = "vector(2)", y = "real" }
graph = \"\"\"
x = [[200000, 0], [0, 0.01]] @ u
r = dot(w, x) - y
L = r**2 / 2
\"\"\"

[[problem.claim]]
id = "right"
of = "L"
wrt = "w"
expr = "r * x"

[[problem.claim]]
id = "small-entry-doubled"
of = "L"
wrt = "w"
expr = "r * x + r * hadamard([[0], [1]], x)"
"""


def test_an_entry_wrong_beside_a_much_larger_one_fails():
    """Features of scale 10⁵ and 10⁻²: the gradient's small entry doubled is no round-off of
    the large one, at float64 nor in the 50-digit recheck (which compared every element to the
    largest, and passed it)."""
    (p,) = load_text(MIXED_SCALES, "mixed.toml")
    v = {r.claim.id: r for r in check_problem(p)[0]}
    assert v["right"].verdict == "pass"
    assert v["small-entry-doubled"].verdict == "fail"


# --- a derivative that vanishes by structure ----------------------------------------------
def test_a_zero_derivative_through_a_step_function_is_decided_by_the_graph():
    """0 = 0 at every point is no proof (a vanishing gradient underflows to 0 too), but a path
    through heaviside carries no derivative: that 0 is decided by structure, not rechecked."""
    text = problem("h = heaviside(x - 1)\ny = h*x + x**2",
                   [claim("dh/dx", "0", of="h"), claim("dh/dx#one", "1", of="h"),
                    claim("dy/dx-as-if-flat", "2*x"), claim("dy/dx", "h + 2*x")])
    (p,) = load_text(text, "trap.toml")
    assert not p.graph.carries("h", "x") and p.graph.carries("y", "x")
    assert p.graph.carries("y", "h") and p.graph.depends("h", "x")
    found = verdicts(text)
    assert found["dh/dx"].outcome == "passed" and found["dy/dx"].outcome == "passed"
    assert found["dh/dx#one"].outcome == "failed"
    assert found["dy/dx-as-if-flat"].outcome == "failed"     # the path through h·x is not flat


def test_a_gross_float_disagreement_refuted_at_high_precision_stops_float_deciding():
    """Near x = 1e-9, (1 − cos x)/x² loses every digit in float64 and its derivative by the
    sweep is 10⁹ where the truth is −x/12: far off, and right at high precision. Such a
    problem never lets float64 alone decide a gross disagreement; one where the first
    MAX_RECHECKED gross ones were all confirmed does."""
    from deriv.checker import MAX_RECHECKED, ProblemCheck
    text = problem("y = (1 - cos(x))/x**2",
                   [claim("dy/dx-stable", "-x/12"), claim("dy/dx-wrong", "x/12")],
                   inputs='{ x = "interval(1e-9, 2e-9)" }')
    (p,) = load_text(text, "trap.toml")
    pc = ProblemCheck(p, Options(samples=400))
    right, wrong = p.claims
    with np.errstate(all="ignore"):
        assert pc.check(right).outcome == "passed"
        assert pc.refuted and not pc.settled_by_float()
        pc.confirmed = MAX_RECHECKED             # as if 50 wrong claims had been confirmed
        assert pc.check(right).outcome == "passed"      # still rechecked: refuted once
        assert pc.check(wrong).outcome == "failed"
    fresh = ProblemCheck(p, Options(samples=400))
    fresh.confirmed = MAX_RECHECKED
    assert fresh.settled_by_float()


def test_strict_makes_a_pass_that_missed_a_side_of_a_kink_an_error(tmp_path):
    """relu(10⁻⁶ − x² − y²) is active only on a disc no draw reaches: the claim 0 is right
    wherever compared, a warning ("branches 1/2") by default and an error under --strict."""
    text = problem("L = relu(0.000001 - x**2 - z**2) + x", [claim("dL/dx", "1", of="L")],
                   inputs='{ x = "real", z = "real" }')
    path = tmp_path / "narrow.toml"
    path.write_text(text)
    plain = CliRunner().invoke(main, ["check", str(path)])
    assert plain.exit_code == 0 and "branches 1/2" in plain.output
    strict = CliRunner().invoke(main, ["check", str(path), "--strict"])
    assert strict.exit_code == 1 and "ERROR" in strict.output
    assert "only 1 of the 2 sides of its kinks" in strict.output


def test_a_claim_wrong_only_where_float64_overflows_is_not_explained_from_float64_points():
    """y = softplus(x) + relu(x − 800): a claim with 𝕀(x > 801) is right wherever float64
    evaluates it (below 710), wrong between 800 and 801 at 50 digits. Those float64 points
    cannot tell an explanation (they said "keeps only the path through s", which is false):
    the counterexample comes from the 50-digit points."""
    text = problem("s = softplus(x)\nr = relu(x - 800)\ny = s + r",
                   [claim("shifted", "exp(x)/(1 + exp(x)) + I(x > 801)"),
                    claim("right", "1/(1 + exp(-x)) + I(x - 800 > 0)")])
    found = verdicts(text)
    assert found["right"].outcome == "passed"
    wrong = found["shifted"]
    assert wrong.outcome == "failed"
    assert [f.kind for f in wrong.diagnosis] == ["no-explanation"]
    (c,), (t,) = [wrong.diagnosis[0].values[0]], [wrong.diagnosis[0].values[1]]
    assert abs(float(c) - float(t)) > 0.5


def test_a_factor_equal_to_another_claims_kink_argument_is_no_kink():
    """(x − 1) as a factor of one claim is not the kink of |x − 1| in another: the first
    claim's coverage counts no branch, the second's counts both sides."""
    text = problem("y = x**2", [claim("factor", "2*x*(x - 1)**2/(x**2 - 2*x + 1)"),
                                claim("kinked", "2*x + abs(x - 1) - (x - 1)*sign(x - 1)")])
    found = verdicts(text)
    assert found["factor"].outcome == found["kinked"].outcome == "passed"
    assert (found["factor"].branches, found["kinked"].branches) == (0, 2)
    assert found["kinked"].branches_seen == 2


def test_a_lost_term_three_ten_millionths_of_the_whole_fails():
    """L = eˢ + s on [15, 20]: the claim eˢ loses the direct edge, which is 3·10⁻⁷ of the
    derivative — inside a relative tolerance of 10⁻⁶, outside 10⁻⁹ (float64's round-off is
    10⁻¹⁶; what float64 cannot settle is rechecked at high precision, to 10⁻¹²)."""
    text = problem("e = exp(s)\nL = e + s", [claim("lost", "e", of="L", wrt="s"),
                                              claim("right", "e + 1", of="L", wrt="s")],
                   inputs='{ s = "interval(15, 20)" }')
    found = verdicts(text)
    assert found["right"].outcome == "passed"
    assert found["lost"].outcome == "failed"
    assert found["lost"].diagnosis[0].kind == "lost-path"          # not "1 times ∂L/∂s"


def test_a_whole_gradient_step_negated_is_said_so():
    text = problem("L = w**2", [claim("negated-step", "-(w - eta*2*w)", of="L", wrt="w",
                                      update="eta")],
                   inputs='{ w = "real", eta = "positive" }')
    (v,) = verdicts(text).values()
    assert v.outcome == "failed" and v.diagnosis[0].kind == "negated"
    from deriv.render.words import UnicodeMath, sentence
    assert "the negative of the updated w" in sentence(v.diagnosis[0], UnicodeMath())


def test_an_indicator_of_a_non_strict_comparison_counts_the_tie():
    """I(x >= c) is 1 where x = c: ∂max(x)/∂x is 1 at the argmax, where I(x > c) is 0 (it had
    been read as the strict one, so the right claim failed)."""
    text = problem("c = max(x)", [claim("ge", "I(x >= c)", of="c"),
                                  claim("le", "I(c <= x)", of="c"),
                                  claim("strict", "I(x > c)", of="c")],
                   inputs='{ x = "vector(n)" }')
    v = verdicts(text)
    assert (v["ge"].verdict, v["le"].verdict, v["strict"].verdict) == ("pass", "pass", "fail")


def test_saturated_sigmoid_and_tanh_slopes_are_not_zero():
    """σ′(150) = 7e-66 and tanh′(100) = 5.5e-87 are floats: the truth is computed from
    e^(−|z|) (slopes.py), never as 1 − 1, so the right claims pass and 0 fails — and a right
    claim written 1 − h², which float64 and 50 digits round to 0, is rechecked with more
    digits until its cancelled digits come back (recheck.ZERO_DIGITS)."""
    v = verdicts(problem("s = sigmoid(x)", [claim("right", "sigmoid(x)*sigmoid(-x)", of="s"),
                                            claim("zero", "0", of="s")],
                         inputs='{ x = "interval(150, 200)" }'))
    assert (v["right"].verdict, v["zero"].verdict) == ("pass", "fail")
    v = verdicts(problem("a = 100*x\nh = tanh(a)",
                         [claim("sech", "400/(exp(a) + exp(-a))**2", of="h"),
                          claim("one-minus", "100*(1 - h**2)", of="h"),
                          claim("zero", "0", of="h")]))
    assert (v["sech"].verdict, v["one-minus"].verdict, v["zero"].verdict) == \
        ("pass", "pass", "fail")


def test_a_chain_with_the_seed_factor_d_l_l_is_a_chain():
    """D(L, L) is 1, the seed a reverse sweep starts from, and D(x, x) a forward one's: no
    link of the chain (they had been a missing path and a broken link); a chain that misses a
    link still fails. (An identity between two links is no seed: the catalog's eth-dl-4-3-6
    ∂h₁/∂h₁ stays a broken link.)"""
    text = problem("z = w * x\nL = z**2", [
        {"id": "seed", "of": "L", "wrt": "x", "chain": "D(L, L) * D(L, z) * D(z, x)"},
        {"id": "tail", "of": "L", "wrt": "x", "chain": "D(L, z) * D(z, x) * D(x, x)"},
        {"id": "short", "of": "L", "wrt": "x", "chain": "D(L, L) * D(L, z)"}],
        inputs='{ x = "real", w = "real" }')
    v = verdicts(text)
    assert (v["seed"].verdict, v["tail"].verdict, v["short"].verdict) == ("pass", "pass", "fail")


def test_a_claim_agreeing_with_float64_round_off_fails_where_float64_misleads():
    """f = (1 − cos x)/x² for x in [1e-15, 1e-13] is round-off in float64, and so is its
    derivative there: the wrong 1/x agreed with it. The forward pass checked at 30 digits at
    one point shows float64 misleads on this problem, and an agreeing claim is rechecked."""
    v = verdicts(problem("f = (1 - cos(x)) / x**2",
                         [claim("right", "-x/12", of="f"), claim("wrong", "1/x", of="f")],
                         inputs='{ x = "interval(1e-15, 1e-13)" }'))
    assert (v["right"].verdict, v["wrong"].verdict) == ("pass", "fail")


def test_a_kink_side_the_domain_cannot_reach_is_no_branch_to_see():
    """relu(w·x) with w and x positive has one side: the pass is whole, and --strict passes
    it (it had warned "branches 1/2", and --strict made the right claims errors); a real x
    still has two sides, both seen."""
    v = verdicts(problem("z = w * x\na = relu(z)", [claim("c", "w", of="a")],
                         inputs='{ x = "positive", w = "positive" }'))
    assert (v["c"].verdict, v["c"].branches, v["c"].branches_seen, v["c"].partial) == \
        ("pass", 1, 1, False)
    v = verdicts(problem("z = w * x\na = relu(z)", [claim("c", "w*I(z > 0)", of="a")],
                         inputs='{ x = "real", w = "positive" }'))
    assert (v["c"].verdict, v["c"].branches, v["c"].branches_seen) == ("pass", 2, 2)


def test_a_small_component_beside_a_huge_one_is_still_checked():
    """∂L/∂x for L = 10¹⁰x₁² + x₂²: dropping x₂'s part, or flipping its sign, agreed within the
    tolerance the largest element sets and passed; such points are rechecked at high precision
    (recheck.swallowed), where round-off would agree and the dropped part does not."""
    v = verdicts(problem("L = sum(hadamard([1e10, 1], hadamard(x, x)))",
                         [claim("ok", "2 * hadamard([1e10, 1], x)", of="L"),
                          claim("drop", "2 * hadamard([1e10, 0], x)", of="L"),
                          claim("sign", "2 * hadamard([1e10, -1], x)", of="L")],
                         inputs='{ x = "vector(2)" }'))
    assert (v["ok"].verdict, v["drop"].verdict, v["sign"].verdict) == ("pass", "fail", "fail")


def test_a_point_outside_an_inputs_domain_is_bad_input_at_its_place():
    """at = { x = -1 } for a positive x: log x there would be checked, and a value claim pass;
    it is refused at the file's `at`, as `solve --at x=-1` is."""
    with pytest.raises(Exception) as err:
        load_text(problem("y = log(x)", [claim("c", "1/x", value="-1")],
                          inputs='{ x = "positive" }', at="at = { x = -1 }"), "trap.toml")
    assert "at.x = -1, but 'x' is declared positive" in str(err.value)
    (p,) = load_text(problem("y = log(x)", [claim("c", "1/x")], inputs='{ x = "positive" }',
                             at="at = { x = 2 }"), "trap.toml")
    assert p.at == {"x": 2.0}


def test_a_flat_branch_carries_no_slope_even_where_the_next_slope_is_infinite():
    """h = √relu(x) is 0 where x < 0, so ∂h/∂x = 0 there, though √'s slope at 0 is ∞: relu′'s
    0 stops the path (float64 had made it 0·∞ = NaN and dropped half the points, so a claim
    wrong at every x < 0 passed)."""
    text = problem("r = relu(x)\nh = sqrt(r)", [
        claim("right", "I(x > 0) / (2*sqrt(abs(x)))", of="h"),
        claim("wrong", "1 / (2*sqrt(abs(x)))", of="h"),
        claim("wrong-r", "1 / (2*sqrt(r))", of="h")])
    got = verdicts(text)
    assert {k: v.verdict for k, v in got.items()} == \
        {"right": "pass", "wrong": "fail", "wrong-r": "fail"}
    right = got["right"]
    assert right.undefined == 0 and right.branches_seen == right.branches == 2


def test_cancellation_far_below_float64_is_rechecked_at_enough_digits():
    """(1 − cos x)/x² at x ≈ 10⁻⁴⁰: 1 − cos x is 0 in float64 and at 30 and 60 digits alike,
    so the wrong 1/x agreed with every precision tried. The recheck starts at the digits the
    point's values span; the failure says float64 misleads there, and explains nothing from
    its noise."""
    text = problem("f = (1 - cos(x)) / x**2", [
        claim("right", "-x/12", of="f"), claim("wrong", "1/x", of="f"),
        {"id": "value-right", "of": "f", "expr": "1/2"}],
        inputs='{ x = "interval(1e-40, 1e-39)" }')
    got = verdicts(text, samples=300)
    assert {k: v.verdict for k, v in got.items()} == \
        {"right": "pass", "wrong": "fail", "value-right": "pass"}
    assert [f.kind for f in got["wrong"].diagnosis] == ["imprecise"]


def test_a_power_tower_is_bounded_in_mpmath_as_exp_is():
    """y = x**x**x**x**x on [1, 3] overflows float64, and mpmath would write 3^(3^(3^27)) out
    in full: the check hung. A power whose logarithm passes MP_EXP_LIMIT is ∞ at once."""
    start = time.perf_counter()
    got = verdicts(problem("y = x ** x ** x ** x ** x", [claim("bad", "y")],
                           inputs='{ x = "interval(1, 3)" }'), samples=300)
    assert got["bad"].verdict == "fail" and time.perf_counter() - start < 10


def test_the_textbook_tanh_slope_passes_deep_in_saturation():
    """1 − h² at h = tanh(x), x in [990, 1000], is 4·10⁻⁸⁶⁹: 0 at 800 digits, so the right
    textbook form failed as a difference; 0 itself is wrong there and fails."""
    got = verdicts(problem("h = tanh(x)", [claim("textbook", "1 - h**2", of="h"),
                                           claim("zero", "0", of="h")],
                           inputs='{ x = "interval(990, 1000)" }'), samples=300)
    assert got["textbook"].verdict == "pass" and got["zero"].verdict == "fail"


def test_solve_shows_the_values_float64_loses_at_the_digits_they_need():
    """At x = 10⁻¹⁴, float64 gives (1 − cos x)/x² = 0 and its slope 10¹⁴: solve had printed
    those. Where float64's forward pass is off, a small scalar problem is derived in mpmath."""
    from deriv.solution import solve
    (p,) = load_text(problem("f = (1 - cos(x)) / x**2", []))
    s = solve(p, at={"x": 1e-14})
    assert abs(s.forward_pass[0].value - 0.5) < 1e-12
    (result,) = s.results
    assert abs(result.value + 1e-14 / 12) < 1e-20


def test_a_claim_that_is_the_number_0_is_not_recomputed_deeper_for_cancellation():
    """A side that is 0 at two precisions may be cancelled digits (1 − tanh² at x = 1000), so
    it is computed deeper; a claim that is the number 0 is exact at any precision: two
    precisions decide (a 2,000-node graph had gone to 2,000 digits for the claim 0)."""
    import mpmath as mp

    from deriv import recheck as R
    calls = []

    def evaluate(digits):
        calls.append(digits)
        return [mp.mpf(0)], [mp.mpf("1.6e-7")]
    assert R.disagree_at(evaluate, [0], exact_claim=True) is True and len(calls) == 2
    calls.clear()
    assert R.disagree_at(evaluate, [0]) is True and len(calls) > 2
