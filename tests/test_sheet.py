"""Claims read from LaTeX as written: the reader, --from-printed, --sheet, and `deriv import`."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from deriv.catalog import load_catalog, resolve
from deriv.checker import Options, check
from deriv.cli import main
from deriv.errors import DerivError
from deriv.latex_reader import claim_sides, context, read_display
from deriv.latex_text import repair
from deriv.problem import load_text
from deriv.sheet import problem_from_sheet

FIXTURES = Path(__file__).parent / "fixtures"
UDL = FIXTURES / "udl-ch7-solutions.txt"
OPTIONS = Options(samples=400, seed=0)

SCALAR = '''
[[problem]]
id = "s"
inputs = { x = "real", w = "real", psi02 = "real", theta = "positive" }
notation = { functions = { a = "relu" } }
graph = """
f1 = exp(x)
f2 = f1**2 + w*psi02
f3 = f1 + f2
L = log(abs(f3)) + relu(theta*x) + sigmoid(f3)
"""
'''

MATRIX = '''
[[problem]]
id = "m"
inputs = { W = "matrix(n, n)", x = "vector(n)", b = "vector(n)" }
graph = """
z = W @ x + b
h = relu(z)
L = norm2(h) + trace(W)
"""
'''


def sides(problem_text: str, latex: str, of: str, wrt: str = "") -> list:
    (p,) = load_text(problem_text)
    found, why = claim_sides(latex, p, of, wrt)
    assert not why, why
    return [(chain, expr) for chain, expr, _ in found]


@pytest.mark.parametrize("latex, of, wrt, want", [
    (r"\frac{\partial f_3}{\partial f_1} = 1", "f3", "f1", [(None, "1")]),
    (r"\partial f_2/\partial \psi_{02} = w", "f2", "psi02", [(None, "w")]),
    (r"\frac{\mathrm{d} f_1}{\mathrm{d} x} = \exp[x]", "f1", "x", [(None, "exp(x)")]),
    (r"\frac{\partial L}{\partial x} = \frac{\partial L}{\partial f_3}\frac{\partial f_3}{\partial x}"
     r" = \left(\frac{1}{f_3} + \sigma(f_3)(1 - \sigma(f_3))\right) \cdot f_1(1 + 2 f_1)"
     r" + \theta \mathbb{I}[\theta x > 0]", "L", "x",
     [("D(L, f3) * D(f3, x)",
       "(1 / f3 + sigmoid(f3) * (1 - sigmoid(f3))) * (f1 * (1 + 2 * f1)) + theta * I(theta * x > 0)")]),
    (r"\frac{\partial f_3}{\partial x} &= \frac{\partial f_3}{\partial f_1}\frac{\partial f_1}{\partial x}"
     r" + \frac{\partial f_3}{\partial f_2}\frac{\partial f_2}{\partial x} \\ &= \exp[x](1+2f_1)",
     "f3", "x", [("D(f3, f1) * D(f1, x) + D(f3, f2) * D(f2, x)", "exp(x) * (1 + 2 * f1)")]),
    (r"\frac{\partial L}{\partial f_3} = \frac{1}{f_3} + \text{sig}[f_3](1 - \text{sig}[f_3])",
     "L", "f3", [(None, "1 / f3 + sig(f3) * (1 - sig(f3))")]),
    (r"\nabla_{\theta} L = x \, a'[\theta x]", "L", "theta", [(None, "x * I(theta * x > 0)")]),
    (r"\nabla_{\theta} L = x \, g'[\theta x]", "L", "theta", None),      # g′: g unnamed
])
def test_scalar_notation(latex, of, wrt, want):
    if want is None:
        (p,) = load_text(SCALAR)
        assert claim_sides(latex, p, of, wrt)[1]
        return
    assert sides(SCALAR, latex, of, wrt) == want


@pytest.mark.parametrize("latex, want", [
    (r"\frac{\partial L}{\partial x} = \sin x + \mathbb{1}[x > 0]", "sin(x) + I(x > 0)"),
    (r"\frac{\partial L}{\partial x} = \begin{cases} \theta, & \text{if } \theta x > 0 \\ "
     r"0, & \text{if } \theta x < 0 \end{cases}", "theta * I(theta * x > 0) + 0 * I(theta * x < 0)"),
    (r"\frac{\partial L}{\partial x} = \max(0, x) \cdot \operatorname{ReLU}(x)", "relu(x) * relu(x)"),
])
def test_more_scalar_notation(latex, want):
    assert sides(SCALAR, latex, "L", "x") == [(None, want)]


def test_index_sums_and_inverse_transposes():
    text = '''
[[problem]]
id = "v"
inputs = { Omega = "matrix(n, n)", h = "vector(n)", K = "matrix(n, n)" }
graph = """
z = Omega @ h
q = trace(inv(K) @ Omega)
"""
'''
    assert sides(text, r"z_i = \sum_j \Omega_{ij} h_j", "z") == [(None, "Omega @ h")]
    assert sides(text, r"\frac{\partial q}{\partial \Omega} = \mathbf{K}^{-T}", "q", "Omega") \
        == [(None, "inv(K).T")]


def test_chains_of_products_are_kept_as_chains_and_distributed():
    found = sides(SCALAR, r"\frac{\partial L}{\partial x} = \left(\frac{\partial L}{\partial f_3}"
                          r"\frac{\partial f_3}{\partial f_1} + \frac{\partial L}{\partial f_2}"
                          r"\right)\frac{\partial f_1}{\partial x}", "L", "x")
    assert found == [("D(L, f3) * D(f3, f1) * D(f1, x) + D(L, f2) * D(f1, x)", None)]


@pytest.mark.parametrize("latex, of, wrt, want", [
    (r"\frac{\partial L}{\partial \mathbf{W}} = \left(2\,\mathbf{h} \odot \mathbb{I}[\mathbf{z} > 0]"
     r"\right) \mathbf{x}^\top + \mathbf{I}", "L", "W",
     "hadamard(2 * h, I(z > 0)) @ x.T + eye(n)"),
    (r"\nabla_{\boldsymbol{b}} L = 2 \mathbf{h} \circ u(\mathbf{z})", "L", "b", None),
    (r"\frac{\partial L}{\partial \mathbf{h}} = 2\mathbf{h}", "L", "h", "2 * h"),
    (r"\frac{\partial L}{\partial z} = \frac{\partial L}{\partial h} \odot \mathbb{I}[z > 0]",
     "L", "z", "hadamard(D(L, h), I(z > 0))"),
])
def test_matrix_notation(latex, of, wrt, want):
    (p,) = load_text(MATRIX)
    found, why = claim_sides(latex, p, of, wrt)
    if want is None:
        assert "unknown symbol u" in why or "u" in why
        return
    assert not why, why
    assert found[-1][1] == want


def test_norms_traces_sums_and_logs_read_as_values():
    text = '''
[[problem]]
id = "v"
inputs = { W = "matrix(n, n)", x = "vector(n)", K = "matrix(n, n)" }
graph = """
n2 = norm2(x)
t = trace(W)
s = sum(x)
l = logdet(K)
"""
'''
    assert sides(text, r"n_2 = \|\mathbf{x}\|^2", "n2") == [(None, "norm2(x)")]
    assert sides(text, r"t = \operatorname{tr}(\mathbf{W})", "t") == [(None, "trace(W)")]
    assert sides(text, r"s = \sum_{i=1}^{n} x_i", "s") == [(None, "sum(x)")]
    (p,) = load_text(text)
    assert claim_sides(r"l = \log|\det K|", p, "l", "")[0] == [(None, "log(abs(det(K)))", None)]


def test_damaged_latex_is_repaired_and_said():
    fixed = repair(r"$$egin{aligned} rac{\partial y}{\partial oldsymbol{x}} &= 1 \ y &= 2 "
                   "\\end{aligned}$$")
    assert r"\begin{aligned}" in fixed.text and r"\frac{" in fixed.text
    assert r"\boldsymbol{x}" in fixed.text and "\\\\y" in fixed.text
    assert any("rac{" in n for n in fixed.notes) and any("row break" in n for n in fixed.notes)
    # a form feed where \f was (a string escape) reads too
    (p,) = load_text(SCALAR)
    readings, notes = read_display("\frac{\\partial f_3}{\\partial f_1} = 1", context(p))
    assert readings[0].of == "f3" and notes


def test_a_claim_with_only_printed_is_read_from_it():
    text = SCALAR + '''
[[problem.claim]]
id = "right"
of = "f3"
wrt = "x"
printed = '\\frac{\\partial f_3}{\\partial x} = \\exp[x](1 + 2 f_1)'

[[problem.claim]]
id = "wrong"
of = "f3"
wrt = "x"
printed = '\\frac{\\partial f_3}{\\partial x} = \\exp[x](1 + f_1)'
'''
    (p,) = load_text(text)
    verdicts = {v.claim.id: v.verdict for v in check([p], OPTIONS).verdicts}
    assert verdicts == {"right": "pass", "wrong": "fail"}


def test_an_unreadable_printed_only_claim_is_an_error_with_its_place():
    text = SCALAR + '''
[[problem.claim]]
id = "c"
of = "f3"
wrt = "x"
printed = '\\frac{\\partial f_3}{\\partial x} = \\mathfrak{Q}'
'''
    with pytest.raises(DerivError) as err:
        load_text(text, "f.toml")
    assert err.value.line == text.split("\n").index(
        next(l for l in text.split("\n") if l.startswith("printed"))) + 1
    assert "cannot read" in err.value.message


def test_from_printed_agrees_with_the_hand_transcriptions():
    hand = {(v.problem, v.claim.id): v.verdict
            for v in check(resolve(["problem-7.1", "problem-7.12", "problem-7.13"]),
                           OPTIONS).verdicts}
    printed = {(v.problem, v.claim.id): v.verdict
               for v in check(resolve(["problem-7.1", "problem-7.12", "problem-7.13"],
                                      from_printed=True), OPTIONS).verdicts}
    differ = {k for k in hand if printed[k] != hand[k]}
    assert differ == {("problem-7.1", "dy/dtheta11")}     # cut off in the document
    assert printed[("problem-7.12", "dy/df1")] == "fail"
    assert printed[("problem-7.1", "dy/dpsi02")] == "fail"


def _by_target(report):
    return {(v.claim.of, v.claim.wrt): v for v in report.verdicts}


def test_sheet_reports_psi02_wrong_with_the_catalogs_diagnosis_at_its_line():
    (catalog,) = resolve(["problem-7.1"])
    expected = next(v for v in check([catalog], OPTIONS).verdicts if v.claim.id == "dy/dpsi02")
    problem, notes = problem_from_sheet(catalog, str(UDL))
    report = check([problem], OPTIONS)
    got = next(v for v in report.verdicts if v.claim.wrt == "psi02")
    assert got.verdict == "fail" and got.outcome == "failed"
    assert [(f.kind, f.derivative) for f in got.diagnosis] == \
        [(f.kind, f.derivative) for f in expected.diagnosis]
    assert got.claim.place == f"{UDL}:7:869"
    assert UDL.read_text().split("\n")[6][868:].startswith(r"\frac{\partial y}{\partial \psi_{02}}")
    unread = [v for v in report.verdicts if v.claim.unread]
    assert [v.claim.wrt for v in unread] == ["theta11"]
    assert any("ullet" in n for n in notes)


def test_sheet_cli_lists_every_equation_with_its_place():
    result = CliRunner().invoke(main, ["check", "problem-7.12", "--sheet", str(UDL)])
    assert result.exit_code == 1, result.output
    assert f"{UDL}:116:417" in result.output and "missing path" in result.output
    assert "damaged LaTeX" in result.stderr


def test_markdown_and_notebook_sheets_give_the_same_verdicts():
    (p,) = resolve(["problem-7.12"])
    runs = []
    for name in ("sheet-7.12.md", "sheet-7.12.ipynb"):
        problem, _ = problem_from_sheet(p, str(FIXTURES / name))
        report = check([problem], OPTIONS)
        runs.append([(v.claim.of, v.claim.wrt, v.verdict, v.claim.unread) for v in report.verdicts])
    assert runs[0] == runs[1]
    verdicts = {(of, wrt): verdict for of, wrt, verdict, _ in runs[0]}
    assert verdicts[("y", "f1")] == "fail" and verdicts[("y", "f3")] == "pass"
    assert any(unread for *_, unread in runs[0])          # the "…" equation, said unread
    assert all(wrt != "x" or of != "f1" for of, wrt, *_ in runs[0])   # 7.13 is not 7.12's


def test_import_drafts_problem_7_12_that_checks_like_the_catalog(tmp_path):
    out = tmp_path / "p.toml"
    result = CliRunner().invoke(main, ["import", str(UDL), "--section", "Problem 7.12",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    (drafted,) = load_text(out.read_text(), str(out))
    assert list(drafted.graph.nodes) == ["f1", "f2", "f3", "f4", "f5", "y"]
    assert list(drafted.graph.inputs) == ["x"]
    (catalog,) = resolve(["problem-7.12"])
    want = {k: v.verdict for k, v in _by_target(check([catalog], OPTIONS)).items()}
    got = _by_target(check([drafted], OPTIONS))
    assert {k: v.verdict for k, v in got.items()} == want
    assert [f.kind for f in got[("y", "f1")].diagnosis] == ["missing-path"]


def test_import_escapes_what_it_writes(tmp_path):
    sheet = tmp_path / "s.md"
    sheet.write_text('# P\n$$g = \\exp[x]$$\n$$\\frac{\\partial g}{\\partial x} = \\exp[x] '
                     '\\text{ "quoted" \'\'\' """ }$$\n$$\\frac{\\partial g}{\\partial x} = '
                     '\\mathfrak{Q}$$\n')
    result = CliRunner().invoke(main, ["import", str(sheet)])
    assert result.exit_code == 0, result.output
    (p,) = load_text(result.stdout)
    assert [c.id for c in p.claims] == ["dg/dx"]
    assert "# unread (line 4" in result.stdout


@pytest.mark.parametrize("content, why", [
    (b"\x00\x01\x02binary" * 100, "binary"),
    (b"\xff\xfe not utf-8", "UTF-8"),
    (b"x" * 2_100_000, "larger"),
    (b"$x = 1$ " * 100_000, "more than 3000 formulas"),
])
def test_hostile_sheets_are_refused_clearly(tmp_path, content, why):
    sheet = tmp_path / "s.tex"
    sheet.write_bytes(content)
    result = CliRunner().invoke(main, ["check", "problem-7.12", "--sheet", str(sheet)])
    assert result.exit_code == 2 and why in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("math", [
    "\\frac{" * 5000 + "x" + "}{y}" * 5000,
    "x" + "^x" * 3000,
    "-" * 5000 + "x",
    "a" + " + a" * 2500,
    "\\def\\x{\\x\\x} \\x",
    "\\newcommand{\\f}[1]{\\f{#1}\\f{#1}} \\f{x}",
    "\\left(" * 3000 + "x" + "\\right)" * 3000,
])
def test_hostile_latex_is_unread_quickly(tmp_path, math):
    sheet = tmp_path / "s.md"
    sheet.write_text(f"# Problem 7.12\n$$\\frac{{\\partial y}}{{\\partial x}} = {math}$$\n")
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["check", "problem-7.12", "--sheet", str(sheet)])
    assert time.perf_counter() - start < 5
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output and "internal error" not in result.stderr
    assert "unread" in result.output or result.exit_code == 2


def test_hostile_corpus_sheets(tmp_path):
    for path in sorted((Path(__file__).parent / "hostile").glob("*.tex")):
        start = time.perf_counter()
        result = CliRunner().invoke(main, ["check", "problem-7.12", "--sheet", str(path)])
        assert time.perf_counter() - start < 5, path
        assert result.exit_code in (1, 2), (path, result.output)
        assert "Traceback" not in result.output, path


def test_notation_tables_are_checked():
    bad = SCALAR.replace('notation = { functions = { a = "relu" } }',
                         'notation = { functions = { a = "eval" } }')
    with pytest.raises(DerivError, match="not a function"):
        load_text(bad)
    bad = SCALAR.replace('notation = { functions = { a = "relu" } }',
                         "notation = { names = { '\\ell' = \"nowhere\" } }")
    with pytest.raises(DerivError, match="not an input or node"):
        load_text(bad)


def test_every_catalog_printed_claim_loads_from_printed():
    problems = load_catalog(from_printed=True)
    claims = [c for p in problems for c in p.claims]
    assert len([c for c in claims if not c.unread]) >= 130


TOKENS = [r"\frac", r"\partial", "{", "}", "(", ")", "[", "]", "|", r"\|", "^", "_", "=", "&=",
          r"\\", "\\ ", "+", "-", r"\cdot", r"\odot", r"\sum", r"\nabla", r"\mathbf", r"\left(",
          r"\right)", r"\mathbb{I}", r"\exp", r"\sigma", "x", "y", "f_1", "f_3", "2", "0.5",
          ",", ";", r"\quad", r"\text{so }", "rac{", "egin{aligned}", r"\begin{cases}",
          r"\end{cases}", "&", ">", "'", r"\top", "T", r"\operatorname{tr}", r"\mathrm{d}",
          r"\def", "$", "\f", "\t", "é", "\x00"]


def test_the_reader_only_reads_or_says_why():
    """Random token soup: readings or unread reasons, never another exception."""
    from hypothesis import given, settings, strategies as st
    (p,) = resolve(["problem-7.12"])
    ctx = context(p)

    @settings(max_examples=600, deadline=None, derandomize=True)
    @given(st.sampled_from(["", r"\frac{\partial y}{\partial f_3} = ", "f_2 = ", "&= "]),
           st.lists(st.sampled_from(TOKENS), max_size=40))
    def run(lead, tokens):
        readings, notes = read_display(lead + " ".join(tokens), ctx)
        for r in readings:
            assert r.kind in ("derivative", "value", "unread")
            assert r.kind != "unread" or r.reason
    run()


def test_import_with_the_sheets_notation_finds_problem_7_1s_errata(tmp_path):
    out = tmp_path / "p.toml"
    result = CliRunner().invoke(main, ["import", str(UDL), "--section", "Problem 7.1",
                                       "--function", "a=relu", "-o", str(out)])
    assert result.exit_code == 0, result.output
    (drafted,) = load_text(out.read_text(), str(out))
    assert list(drafted.graph.nodes) == ["y"] and len(drafted.graph.inputs) == 14
    verdicts = {v.claim.id: v for v in check([drafted], OPTIONS).verdicts}
    assert verdicts["dy/dpsi02"].verdict == "fail" and verdicts["dy/dphi1"].verdict == "pass"
    assert "# unread (line 7" in out.read_text()        # ∂y/∂θ₁₁, cut off in the document
    bad = CliRunner().invoke(main, ["import", str(UDL), "--function", "a=eval"])
    assert bad.exit_code == 2 and "not a function" in bad.stderr


def test_an_align_continuation_after_spacing_is_part_of_its_equation(tmp_path):
    """`&\\quad + 5x^2` and `&\\qquad {}- 7\\sin x` continue the row above: they had been
    dropped, so the wrong sums passed, and a right sum split this way failed."""
    from click.testing import CliRunner
    from deriv.cli import main
    (tmp_path / "p.toml").write_text('[[problem]]\nid = "a"\nsection = "Problem A"\n'
                                     'inputs = { x = "real" }\n'
                                     'graph = "y = x**2 - 3*x + sin(x)"\n')
    (tmp_path / "s.tex").write_text(
        "\\section{Problem A}\n\\begin{align}\n"
        "\\frac{\\partial y}{\\partial x} &= 2x - 3 + \\cos x \\\\\n&\\quad + 5x^2\n"
        "\\end{align}\n\\begin{align}\n"
        "\\frac{\\partial y}{\\partial x} &= 2x \\\\\n&\\qquad {}- 3 + \\cos x\n\\end{align}\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "p.toml"), "--sheet",
                                       str(tmp_path / "s.tex"), "--format", "json"])
    import json
    outcomes = [c["outcome"] for c in json.loads(result.stdout)["claims"]]
    assert outcomes == ["failed", "passed"], result.output


@pytest.mark.parametrize("suffix, hidden", [
    (".tex", "% old: $$\\frac{\\partial y}{\\partial x} = 9$$"),
    (".tex", "\\iffalse\n$$\\frac{\\partial y}{\\partial x} = 9$$\n\\fi"),
    (".tex", "\\begin{verbatim}\n$$\\frac{\\partial y}{\\partial x} = 9$$\n\\end{verbatim}"),
    (".tex", "\\verb|$y = 2$|"),
    (".md", "<!-- $$\\frac{\\partial y}{\\partial x} = 9$$ -->"),
    (".md", "```latex\n$$\\frac{\\partial y}{\\partial x} = 9$$\n```"),
    (".md", "`$y = 3$`")])
def test_what_a_reader_never_sees_is_not_the_sheets_claim(tmp_path, suffix, hidden):
    """A TA's old formula commented out, or shown as code, is not printed by the document: it
    had been checked (and failed) as one of its claims."""
    from click.testing import CliRunner
    from deriv.cli import main
    (tmp_path / "p.toml").write_text('[[problem]]\nid = "a"\ninputs = { x = "real" }\n'
                                     'graph = "y = sin(x)"\n')
    sheet = tmp_path / f"s{suffix}"
    sheet.write_text(hidden + "\n\n$$\\frac{\\partial y}{\\partial x} = \\cos x$$\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "p.toml"), "--sheet", str(sheet)])
    assert result.exit_code == 0 and "1 passed" in result.output, result.output
