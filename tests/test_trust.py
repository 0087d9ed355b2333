"""Trust (issue 14): no wrong claim passes, no correct claim fails, nothing raw reaches the
terminal, no input makes an internal error. Each case of the issue is a test here (or a file
of tests/hostile/); every checker test shows the wrong claim failing and the right one passing.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

import deriv
from deriv.checker import Options, check_problem, printed_tolerance
from deriv.cli import main
from deriv.errors import DerivError
from deriv.problem import load_text


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, (int, float)) else json.dumps(value)


def problem(graph: str, claims: list[dict], inputs: str = '{ x = "real" }', extra: str = "") -> str:
    text = f'[[problem]]\nid = "t"\ninputs = {inputs}\n{extra}graph = """\n{graph}\n"""\n'
    for c in claims:
        text += "\n[[problem.claim]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in c.items())
    return text


def claim(cid: str, expr: str, of: str = "y", wrt: str = "x", **more) -> dict:
    return {"id": cid, "of": of, "wrt": wrt, "expr": expr, **more}


def verdicts(text: str, samples: int = 2000) -> dict:
    (p,) = load_text(text, "trust.toml")
    found, _ = check_problem(p, Options(samples=samples, seed=0))
    return {v.claim.id: v for v in found}


def run(*args, **kwargs):
    result = CliRunner().invoke(main, [str(a) for a in args], **kwargs)
    assert "Traceback" not in result.output
    return result


# --- 1. user names never reach the compiled code's namespace -----------------------------------
@pytest.mark.parametrize("name", ["mpf", "maximum", "reduce", "np", "mp", "C", "K", "S", "F_exp",
                                  "program", "a0", "v0", "x0", "b0", "t0"])
def test_a_user_name_is_only_a_name(name):
    text = problem(f"y = {name}*{name}*x", [claim("wrong", f"{name}*x/3", wrt=name),
                                            claim("right", f"2*{name}*x", wrt=name)],
                   inputs=f'{{ {name} = "real", x = "real" }}', extra=f'display = {{ {name} = "w" }}\n')
    v = verdicts(text)
    assert v["wrong"].verdict == "fail" and v["right"].verdict == "pass"


# --- 2. a tolerance that follows the scale; printed values to the precision printed ------------
@pytest.mark.parametrize("size", ["1e-12", "1e-30", "1e12"])
def test_a_factor_2_fails_at_any_scale(size):
    v = verdicts(problem(f"y = {size}*sin(x)", [claim("wrong", f"2*{size}*cos(x)"),
                                                 claim("right", f"{size}*cos(x)")]))
    assert v["wrong"].verdict == "fail" and v["right"].verdict == "pass"


@pytest.mark.parametrize("value, verdict", [('"2.50"', "fail"), ("2.50", "fail"),
                                            ('"2.54"', "pass"), ("2.5", "pass"),
                                            ('"2.5400"', "pass"), ('"2.5401"', "fail"),
                                            ('"2.54e0"', "pass"), ('"3"', "fail")])
def test_a_printed_value_is_compared_to_the_precision_printed(value, verdict):
    text = (problem("y = x*x", [], extra="at = { x = 1.27 }\n") +
            f'\n[[problem.claim]]\nid = "v"\nof = "y"\nwrt = "x"\nexpr = "2*x"\nvalue = {value}\n')
    assert verdicts(text)["v"].verdict == verdict


def test_printed_tolerance_keeps_the_digits_written():
    assert printed_tolerance("2.50", 2.54) == pytest.approx(0.005, rel=1e-6)
    assert printed_tolerance("1.2e-3", 1e-3) == pytest.approx(5e-5, rel=1e-6)
    assert printed_tolerance("3", 3.0) < 1e-8
    # the same digits, however spelled: 0.1 and 1e-1 are both ±0.05
    assert printed_tolerance("1e-1", 0.1) == printed_tolerance("0.1", 0.1) == \
        pytest.approx(0.05, rel=1e-6)
    assert printed_tolerance("3E2", 300.0) == pytest.approx(50, rel=1e-6)


# --- 3. high precision where float64 cannot decide --------------------------------------------
def test_round_off_everywhere_and_a_real_error_on_a_small_region():
    """(a − 10¹⁰)/x is 1 up to round-off that float64 calls a disagreement at most points;
    the real error lives only at x > 1.95, past the first disagreeing points."""
    graph = "a = x + 10000000000\ny = a"
    v = verdicts(problem(graph, [claim("noisy", "(a - 10000000000)/x"),
                                 claim("wrong", "(a - 10000000000)/x + I(x > 1.95)")]))
    assert v["noisy"].verdict == "pass"
    assert v["wrong"].verdict == "fail"


@pytest.mark.parametrize("interval", ["1e-14, 2e-14", "1e-16, 2e-16", "1e-3, 2e-3",
                                      "1e-40, 2e-40", "1e-150, 2e-150"])
def test_cancellation_at_tiny_x_is_computed_at_enough_digits(interval):
    """(1 − cos x)/x²: the derivative is a difference of two terms of size 1/x; at 50 digits
    the recheck itself cancels wrong below x = 10⁻¹⁴ (the precision is raised until stable)."""
    v = verdicts(problem("y = (1 - cos(x))/x**2", [
        claim("series", "-x/12 + x**3/180"), claim("exact", "(x*sin(x) - 2*(1 - cos(x)))/x**3"),
        claim("wrong", "-x/6")], inputs=f'{{ x = "interval({interval})" }}'))
    assert v["series"].verdict == "pass" and v["exact"].verdict == "pass"
    assert v["wrong"].verdict == "fail"


def test_a_vanishing_gradient_is_never_passed_on_underflow():
    """h_i = tanh(3h_{i−1}), 1000 nodes: ∂h₉₉₉/∂h₀ ≈ 10⁻¹⁵⁰⁰ is 0 in float64 on both sides
    of a claim that drops the factor ∂h₁/∂h₀; mpmath (no underflow) tells them apart."""
    graph = "h0 = x\n" + "\n".join(f"h{i} = tanh(3*h{i - 1})" for i in range(1, 1000))
    v = verdicts(problem(graph, [claim("dropped", "D(h999, h1)", of="h999", wrt="h0"),
                                 claim("right", "D(h999, h1)*3*(1 - h1**2)", of="h999",
                                       wrt="h0")]), samples=200)
    assert v["dropped"].verdict == "fail"
    assert [f.kind for f in v["dropped"].diagnosis] == ["underflow"]
    assert v["right"].verdict == "pass"


# --- 4. sampling reaches every kink ------------------------------------------------------------
@pytest.mark.parametrize("inputs, graph, right, wrong", [
    ('{ x = "real" }', "y = relu(x - 3) + x", "1 + I(x > 3)", "1"),
    ('{ x = "real" }', "y = relu(x + 1000) * 0 + relu(x - 500)", "I(x > 500)", "0"),
    ('{ x = "positive" }', "y = abs(x - 40)", "sign(x - 40)", "-1"),
    ('{ x = "interval(-2, 2)" }', "y = relu(x - 1.99999)", "I(x > 1.99999)", "0"),
    ('{ x = "real", z = "real" }', "y = max(x, 7*z + 20)", "I(x > 7*z + 20)", "1"),
], ids=["relu-3", "relu-500", "abs-40", "narrow-interval", "max-plane"])
def test_every_side_of_every_kink_is_sampled(inputs, graph, right, wrong):
    v = verdicts(problem(graph, [claim("right", right), claim("wrong", wrong)], inputs=inputs))
    assert v["right"].verdict == "pass" and v["right"].branches_seen == v["right"].branches
    assert v["wrong"].verdict == "fail"


def test_coverage_counts_only_the_sides_the_domain_allows(tmp_path):
    """relu(x − 3) on interval(0, 1) is 0 there: its other side is no branch the domain has,
    so the pass is complete (interval arithmetic on the kink's argument); on a real input the
    sampler reaches both sides, and a claim that ignores the kink fails."""
    path = tmp_path / "cover.toml"
    path.write_text(problem("y = relu(x - 3) + relu(2 - x)", [claim("c", "-1")],
                            inputs='{ x = "interval(0, 1)" }'))
    result = run("check", path, "--strict")
    assert result.exit_code == 0 and "not every branch was seen" not in result.output
    path.write_text(problem("y = relu(x - 3) + relu(2 - x)", [claim("c", "-1")]))
    assert run("check", path).exit_code == 1


# --- 5. max/min ties that hold identically ------------------------------------------------------
@pytest.mark.parametrize("function", ["max", "min"])
def test_an_identical_tie_splits_evenly(function):
    v = verdicts(problem(f"y = {function}(2*x, x + x)", [claim("two", "2"), claim("zero", "0"),
                                                          claim("four", "4")]))
    assert v["two"].verdict == "pass"
    assert v["zero"].verdict == "fail" and v["four"].verdict == "fail"


def test_a_tie_between_different_functions_is_still_a_kink():
    v = verdicts(problem("y = max(x, 0.5*x)", [claim("right", "I(x > 0) + 0.5*I(x < 0)"),
                                                claim("wrong", "1")]))
    assert v["right"].verdict == "pass" and v["wrong"].verdict == "fail"


# --- 6. expect markers ------------------------------------------------------------------------
WRONG_MARKED = problem("y = x*x", [claim("c", "x", expect="fail", note="I say so")])


def test_expect_is_not_honoured_in_a_file_by_default(tmp_path):
    path = tmp_path / "student.toml"
    path.write_text(WRONG_MARKED)
    result = run("check", path)
    assert result.exit_code == 1 and "FAILED" in result.output
    assert run("check", "--expect", path).exit_code == 0
    assert run("check", "--expect-markers", "*.toml", path).exit_code == 0
    assert run("--problems", tmp_path, "check").exit_code == 1
    assert deriv.check(deriv.load(str(path)), expect=False).exit_code == 1
    assert deriv.check(deriv.load(str(path))).exit_code == 0       # the library's caller knows


def test_expect_is_honoured_in_the_bundled_catalog():
    result = run("check", "problem-7.12")
    assert result.exit_code == 0 and "XFAIL" in result.output


# --- 8. no internal error; an internal error exits 3 ------------------------------------------
def test_seed_must_be_non_negative(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(problem("y = x", []))
    result = run("check", "--seed", "-5", path)
    assert result.exit_code == 2 and "internal error" not in result.output


def test_a_file_name_too_long(tmp_path):
    for name in ["a" * 300 + ".toml", "a/" * 3000 + "x.toml"]:
        result = run("check", name)
        assert result.exit_code == 2 and "internal error" not in result.output
        assert "cannot read file" in result.output


@pytest.mark.parametrize("over", ["x=-1e308:1e308", "x=1e-320:2e-320", "x=-1e300:1e300",
                                  "x=0:1e-300"])
def test_plot_over_extreme_bounds_is_a_clear_error(tmp_path, over):
    path = tmp_path / "p.toml"
    path.write_text(problem("y = relu(x - 3)", []))
    result = run("plot", path, "--wrt", "x", "--over", over)
    assert result.exit_code == 2 and "internal error" not in result.output
    assert "--over" in result.output


def test_an_internal_error_exits_3_and_asks_to_be_reported(tmp_path, monkeypatch):
    import deriv.batch
    path = tmp_path / "p.toml"
    path.write_text(problem("y = x", [claim("c", "1")]))

    def broken(*args, **kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(deriv.batch, "run", broken)
    result = run("check", path)
    assert result.exit_code == 3
    assert "internal error" in result.output and "report" in result.output


@pytest.mark.parametrize("graph, inputs", [
    ("L = sum(A) * 10.0**300 * 10.0**300", '{ A = "matrix(n, n)" }'),
    ("L = x * 1.5**999 * 1.5**999", '{ x = "real" }'),
    ("L = x * 10**300 * 10**300 * 10**300", '{ x = "real" }'),
])
@pytest.mark.parametrize("command", ["check", "solve", "show", "graph"])
def test_float_power_overflow_is_never_an_internal_error(tmp_path, graph, inputs, command):
    wrt = "A" if "A" in inputs else "x"
    path = tmp_path / "p.toml"
    path.write_text(problem(graph, [claim("c", "1", of="L", wrt=wrt)], inputs=inputs))
    result = run(command, path)
    assert result.exit_code in (0, 1, 2) and "internal error" not in result.output, result.output


# --- 9. names; text from a file on the terminal, in LaTeX and Markdown --------------------------
@pytest.mark.parametrize("inputs", ['{ "x\\n" = "real", x = "real" }', '{ None = "real" }',
                                    '{ True = "matrix(n, n)" }', '{ lambda = "vector(n)" }',
                                    '{ "x y" = "real" }', '{ "" = "real" }'])
def test_names_that_are_not_identifiers_are_refused(inputs):
    with pytest.raises(DerivError) as err:
        load_text(problem("y = 1", [], inputs=inputs), "n.toml")
    assert err.value.line == 3 and "\n" not in str(err.value)


EVIL = r'''
[source]
title = "evil\u001b]0;pwned\u0007"
[[problem]]
id = "p"
title = "T\u001b[2J\u001b[H"
section = "s\n\\immediate\\write18{touch CANARY}"
note = "n\u202eabc"
ask = "\u2066a\u2069\u0085"
inputs = { x = "real" }
display = { x = "\\immediate\\write18{touch CANARY}", y = "\u001b[1A\u001b[2KPASSED" }
at = { x = 1 }
graph = "y = x*x"
[[problem.claim]]
id = "c\u001b[2K"
of = "y"
wrt = "x"
printed = "p\u001b[31m\u202e"
expr = "3*x"
note = "\u202eevil"
'''


def _raw(text: str) -> list[str]:
    return [hex(ord(c)) for c in text if c not in "\n" and (
        unicodedata.category(c) == "Cc" or c in "\u061c\u200e\u200f\u2028\u2029" or
        0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069)]


@pytest.mark.parametrize("args", [["check"], ["check", "-v"], ["show"], ["solve"],
                                  ["solve", "--format", "latex"], ["solve", "--format", "markdown"],
                                  ["solve", "--format", "json"], ["check", "--format", "markdown"],
                                  ["check", "--json"], ["graph"], ["graph", "--format", "dot"],
                                  ["show", "--format", "markdown"], ["show", "--format", "json"],
                                  ["plot", "--wrt", "x", "--over", "x=-1:1"]])
def test_text_from_a_file_is_escaped_for_the_terminal(tmp_path, args):
    path = tmp_path / "evil.toml"
    path.write_text(EVIL)
    result = run(args[0], path, *args[1:])
    assert result.exit_code in (0, 1), result.output
    assert _raw(result.output) == []
    if "latex" in args or "markdown" in args:
        body = [line for line in result.output.splitlines() if not line.startswith("%")]
        assert not any(r"\immediate" in line and r"\\immediate" not in line for line in body)
    if args == ["check", "--json"]:
        data = json.loads(result.output)         # still valid JSON, the text intact
        assert data["claims"][0]["claim"] == "c\x1b[2K"


def test_an_error_message_is_escaped_too(tmp_path):
    path = tmp_path / "e.toml"
    path.write_text(problem("y = x", [{"id": "c", "of": "y\x1b[2J", "wrt": "x", "expr": "1"}]))
    result = run("check", path)
    assert result.exit_code == 2 and _raw(result.output) == []
    assert "\\u001b" in result.output or "\\x1b" in result.output


def test_display_latex_that_could_run_a_command_never_reaches_a_document():
    from deriv.names import latex, safe_latex
    assert safe_latex(r"\hat{y}") and safe_latex(r"W^{(1)}_{1}") and safe_latex(r"\mathcal{L}")
    for evil in [r"\immediate\write18{rm -rf ~}", r"\input{/etc/passwd}", r"x^^5cinput",
                 r"\csname input\endcsname", "a}{", r"\def\x{}", "a\\"]:
        assert not safe_latex(evil), evil
        assert latex("y", {"y": evil}) == "y"


def test_the_corpus_of_this_issue_is_in_hostile():
    names = {p.stem for p in (Path(__file__).parent / "hostile").glob("trust-*.toml")}
    assert len(names) >= 8, names


# --- 7. every documented limit for every kind of file -----------------------------------------
def test_a_matrix_graph_has_the_node_limit_too():
    from deriv.problem import MAX_NODES
    graph = "B0 = A\n" + "".join(f"B{i} = B{i - 1} + A\n" for i in range(1, MAX_NODES + 2))
    with pytest.raises(DerivError, match=f"more than {MAX_NODES} nodes") as err:
        load_text(problem(graph, [], inputs='{ A = "matrix(n, n)" }'), "m.toml")
    assert err.value.line == 5                        # where the graph starts


def test_more_files_than_the_limit_are_refused_before_reading(tmp_path):
    from deriv.catalog import MAX_FILES
    for k in range(MAX_FILES + 1):
        (tmp_path / f"f{k}.toml").write_text("not toml at all [")
    result = run("check", tmp_path)
    assert result.exit_code == 2 and f"more than {MAX_FILES} problem files" in result.output


def test_samples_beyond_the_maximum_are_a_usage_error(tmp_path):
    from deriv.cli import MAX_SAMPLES
    path = tmp_path / "p.toml"
    path.write_text(problem("y = x", [claim("c", "1")]))
    assert run("check", "--samples", MAX_SAMPLES + 1, path).exit_code == 2



def test_a_batch_is_bounded_in_memory():
    """Samples beyond what 256 MiB of values hold are not drawn: the batch shrinks."""
    from deriv.checker import MEMORY, ProblemCheck
    graph = "h0 = x\n" + "\n".join(f"h{i} = sin(h{i - 1})" for i in range(1, 1500))
    (p,) = load_text(problem(graph, []), "big.toml")
    size = ProblemCheck.batch_size(p, Options(samples=100_000), [{}])
    assert size * 1501 * 8 * 3 <= MEMORY and size < 100_000


def test_the_diagnosis_is_bounded_by_a_count():
    from deriv.checker import MAX_DIAGNOSED
    claims = [claim(f"w{k}", f"{k + 2}*cos(x)") for k in range(MAX_DIAGNOSED + 5)]
    v = verdicts(problem("y = sin(x)", claims), samples=200)
    kinds = [v[f"w{k}"].diagnosis[0].kind for k in range(MAX_DIAGNOSED + 5)]
    assert all(v[f"w{k}"].verdict == "fail" for k in range(MAX_DIAGNOSED + 5))
    assert kinds[:MAX_DIAGNOSED] == ["constant-multiple"] * MAX_DIAGNOSED
    assert kinds[MAX_DIAGNOSED:] == ["not-diagnosed"] * 5


def test_every_copy_of_an_exercise_has_its_own_explanations():
    """A class's answers to one exercise share the drawn points and sweeps, not the budget of
    explanations: the 55th student's wrong claim is explained as the first's was."""
    from deriv.checker import MAX_DIAGNOSED, check
    copies = [load_text(problem("y = sin(x)", [claim("dy/dx", f"{k + 2}*cos(x)")]),
                        f"s{k}.toml")[0] for k in range(MAX_DIAGNOSED + 5)]
    report = check(copies, Options(samples=200, jobs=1))
    assert [v.diagnosis[0].kind for v in report.verdicts] == \
        ["constant-multiple"] * (MAX_DIAGNOSED + 5)


def test_a_problem_of_many_claims_is_checked_in_blocks_the_same_way_on_any_cores(monkeypatch):
    """Blocks of one problem's claims go to different processes; each has its share of the
    explanations and decides alone, so the report does not depend on how they were split."""
    from deriv import checker
    monkeypatch.setattr(checker, "CLAIM_BLOCK", 10)
    monkeypatch.setattr(checker, "MAX_DIAGNOSED", 10)
    claims = [claim(f"w{k}", f"{k + 2}*cos(x)") for k in range(45)] + \
        [claim("right", "cos(x)")]
    (p,) = load_text(problem("y = sin(x)\nz = y*y", claims, extra='asks = ["D(y, x)", "D(z, x)"]\n'),
                     "many.toml")
    reports = [checker.check([p], Options(samples=200, jobs=j)) for j in (1, 2)]
    kinds = [[(v.claim.id, v.verdict, v.samples, [f.kind for f in v.diagnosis])
              for v in r.verdicts] for r in reports]
    assert kinds[0] == kinds[1] and len(kinds[0]) == 46
    assert [v.claim.id for v in reports[0].verdicts] == [c.id for c in p.claims]
    explained = [k for k, v in enumerate(reports[0].verdicts)
                 if v.diagnosis and v.diagnosis[0].kind == "constant-multiple"]
    # the budget of 10 shared among the 5 blocks (rounded up in each), the last one's too
    assert len(explained) <= 10 + 5 and explained[-1] >= 40 and kinds[0][-1][1] == "pass"
    assert [(str(m.derivative.of), str(m.derivative.wrt)) for m in reports[0].missing] == [("z", "x")]


SOFTMAX_K = """[[problem]]
id = "softmax"
inputs = { z = "vector(K)" }
graph = \"\"\"
p = softmax(z)
\"\"\"

[[problem.claim]]
id = "right"
of = "p"
wrt = "z"
expr = "diag(p) - p @ p.T"

[[problem.claim]]
id = "wrong"
of = "p"
wrt = "z"
expr = "diag(p) + p @ p.T"
"""


def test_a_jacobian_drawn_at_size_one_is_one_number_a_point(tmp_path):
    """At K = 1 the claim is 1×1 where the truth is a number a point: the same value, so the
    right claim passes and the wrong one fails (it crashed the diagnosis, exit 3)."""
    path = tmp_path / "softmax.toml"
    path.write_text(SOFTMAX_K)
    report = deriv.check(deriv.load_all(str(path)), sizes={"K": 1})
    v = {r.claim.id: r for r in report.verdicts}
    assert v["right"].verdict == "pass" and v["wrong"].verdict == "fail"
    assert v["wrong"].diagnosis


def test_another_claims_kink_is_not_a_branch_of_this_one(tmp_path):
    """logsumexp's ∂m/∂x = softmax(x) has no branch; a wrong claim beside it written with
    I(x − max(x) ≥ 0) has one, which only that claim must cover."""
    path = tmp_path / "lse.toml"
    path.write_text('[[problem]]\nid = "lse"\ninputs = { x = "vector(n)" }\n'
                    'graph = "m = logsumexp(x)"\n'
                    '[[problem.claim]]\nid = "right"\nof = "m"\nwrt = "x"\nexpr = "softmax(x)"\n'
                    '[[problem.claim]]\nid = "one-hot"\nof = "m"\nwrt = "x"\n'
                    'expr = "I(x - max(x) >= 0)"\n')
    report = deriv.check(deriv.load_all(str(path)))
    v = {r.claim.id: r for r in report.verdicts}
    assert v["right"].verdict == "pass" and v["right"].branches == 0
    assert v["one-hot"].verdict == "fail" and v["one-hot"].branches == 2


def test_vectors_of_one_entry_have_a_dot_product(tmp_path):
    """vector(1) is a number: dot(y, z) of two of them is their product (it was refused as
    "dot takes two column vectors, not scalar and scalar")."""
    path = tmp_path / "one.toml"
    path.write_text('[[problem]]\nid = "one"\ninputs = { z = "vector(1)", y = "vector(1)" }\n'
                    'graph = "L = -dot(y, z)"\n'
                    '[[problem.claim]]\nid = "right"\nof = "L"\nwrt = "z"\nexpr = "-y"\n'
                    '[[problem.claim]]\nid = "wrong"\nof = "L"\nwrt = "z"\nexpr = "y"\n')
    v = {r.claim.id: r for r in deriv.check(deriv.load_all(str(path))).verdicts}
    assert v["right"].verdict == "pass" and v["wrong"].verdict == "fail"


def test_past_200_confirmed_claims_a_gross_disagreement_stands_on_float64(monkeypatch):
    """250 claims each wrong by a factor: the first 200 disagreements are confirmed at high
    precision, the rest fail on float64 alone (5,000 wrong claims in one file stay bounded);
    a right claim among them still passes."""
    from deriv import recheck
    from deriv.checker import MAX_RECHECKED
    calls = []
    real = recheck.disagree_at
    monkeypatch.setattr(recheck, "disagree_at", lambda *a, **k: calls.append(1) or real(*a, **k))
    claims = [claim(f"w{k}", f"{k + 2}*cos(x)") for k in range(MAX_RECHECKED + 50)]
    claims.append(claim("right", "cos(x)"))
    (p,) = load_text(problem("y = sin(x)", claims), "many.toml")
    found = check_problem(p, Options(samples=200))[0]
    assert [v.verdict for v in found] == ["fail"] * (MAX_RECHECKED + 50) + ["pass"]
    assert MAX_RECHECKED <= len(calls) < MAX_RECHECKED + 10


def test_a_jacobian_claim_at_the_most_samples_stays_under_1_gib(tmp_path):
    """The batch is sized by the largest derivative a claim compares too (a softmax's n × n
    Jacobian, where its values are n): 10⁷ samples of one had taken 2.2 GB."""
    import os
    import subprocess
    import sys
    from deriv.cli import MAX_SAMPLES
    path = tmp_path / "smjac.toml"
    path.write_text('[[problem]]\nid = "smjac"\ninputs = { z = "vector(n)" }\n'
                    'graph = "p = softmax(z)"\n'
                    'claim = [{ id = "ok", of = "p", wrt = "z", expr = "diag(p) - p @ p.T" }]\n')
    proc = subprocess.Popen([sys.executable, "-m", "deriv", "check", str(path), "--samples",
                             str(MAX_SAMPLES), "-j", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert usage.ru_maxrss < 1 << 20          # KiB: under 1 GiB


def test_strict_needs_no_kink_side_the_intervals_rule_out():
    """relu(x + 3) and max(x, 5) with x in (−2, 2), |p − 2| with p in (0, 1), relu(x² + 1):
    one side each is impossible, so --strict made right claims errors for not seeing it."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { x = "interval(-2, 2)", p = "interval(0, 1)", '
            'z = "real" }\ngraph = """\na = relu(x + 3)\nb = max(x, 5)\nc = abs(p - 2)\n'
            'e = relu(z**2 + 1)\n"""\n'
            'claim = [{ id = "a", of = "a", wrt = "x", expr = "1" },\n'
            '{ id = "b", of = "b", wrt = "x", expr = "0" },\n'
            '{ id = "c", of = "c", wrt = "p", expr = "-1" },\n'
            '{ id = "e", of = "e", wrt = "z", expr = "2*z" }]\n')
    found = {v.claim.id: v.verdict for v in
             check(load_text(text), Options(seed=0, strict=True)).verdicts}
    assert found == {"a": "pass", "b": "pass", "c": "pass", "e": "pass"}


def test_strict_counts_the_kinks_above_the_claim_not_those_sharing_its_input():
    """s = sin(x) beside e = relu(x − 0.9999999): e's narrow side (under the kink margin) is
    no branch of ∂s/∂x, which --strict had made an ERROR for it."""
    from deriv.checker import Options, check
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { x = "interval(-1, 1)" }\ngraph = """\n'
            's = sin(x)\ne = relu(x - 0.9999999)\n"""\n'
            'claim = [{ id = "ds", of = "s", wrt = "x", expr = "cos(x)" }]\n')
    (v,) = check(load_text(text), Options(seed=0, strict=True)).verdicts
    assert v.verdict == "pass"


def test_a_claim_that_uses_a_size_as_a_number_is_also_drawn_at_larger_sizes():
    """Sizes are drawn from 2 to 5: X + (n − 2)(n − 3)(n − 4)(n − 5)·X is right at each of
    them and wrong at every n ≥ 6. A claim that uses a size as a number gets one larger
    setting too, so it fails; a claim that does not is unaffected."""
    text = problem("L = sum(hadamard(X, X)) / (2*n)", [
        claim("sizes-trick", "X/n + (n - 2)*(n - 3)*(n - 4)*(n - 5)*X", of="L", wrt="X"),
        claim("right", "X/n", of="L", wrt="X")], inputs='{ X = "matrix(n, n)" }')
    v = verdicts(text)
    assert v["sizes-trick"].verdict == "fail" and v["right"].verdict == "pass"
