"""The command line, through click's CliRunner (and one real process for import costs)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from deriv.cli import main


@pytest.fixture()
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)
    return invoke


def test_help_does_not_import_sympy():
    code = ("import sys; from deriv.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('sympy' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_list_shows_the_catalog(run):
    result = run("list")
    assert result.exit_code == 0
    for pid in ("problem-7.12", "problem-7.13", "dis-backprop-1", "problem-7.1"):
        assert pid in result.output


def test_solve_7_12_prints_every_reverse_step_in_order(run):
    out = run("solve", "problem-7.12", "--at", "x=0.5").output
    order = [out.index(t) for t in ("∂y/∂f₅ =", "∂y/∂f₄ =", "∂y/∂f₃ =", "∂y/∂f₂ =", "∂y/∂f₁ =",
                                    "∂y/∂x =")]
    assert order == sorted(order)
    # in the nodes where that is shorter: exp(f₃) is the node f₄ (deriv.textbook)
    assert "∂y/∂f₃ = ∂y/∂f₄·∂f₄/∂f₃ + ∂y/∂f₅·∂f₅/∂f₃ = f₄ + cos(f₃) = 78.4685" in out


def test_forward_and_reverse_agree_on_dy_dx(run):
    def dydx(mode):
        data = json.loads(run("solve", "problem-7.12", "--mode", mode, "--format", "json").output)
        return [r["value"] for r in data["results"] if r["target"] == "D(y, x)"][0]
    assert dydx("forward") == pytest.approx(dydx("reverse"), rel=1e-12)
    out = run("solve", "problem-7.13").output
    assert all(f"∂f{s}/∂x =" in out for s in "₁₂₃₄₅")


def test_solve_dis_backprop_1_reproduces_the_documents_values(run):
    data = json.loads(run("solve", "dis-backprop-1", "--format", "json").output)
    forward = {f["node"]: f["value"] for f in data["forward_pass"]}
    assert forward == {"g": 3, "f": -12}
    results = {r["target"]: r["value"] for r in data["results"]}
    assert results["D(f, z)"] == 3 and results["D(f, g)"] == -4
    assert results["D(f, x)"] == -4 and results["D(f, y)"] == -4


def test_show(run):
    out = run("show", "problem-7.1").output
    assert "ψ₀₂" in out and "printed:" in out


def test_check_problem_7_1_flags_psi02(run):
    result = run("check", "problem-7.1", "--json")
    data = json.loads(result.output)
    by_id = {c["claim"]: c for c in data["claims"]}
    assert by_id["dy/dpsi02"]["verdict"] == "fail"
    assert by_id["dy/dpsi02"]["equals"] == ["D(y, psi12)"]
    assert by_id["dy/dphi1"]["verdict"] == "pass"
    assert result.exit_code == 0  # the erratum is known: xfailed


def test_whole_catalog_check_exits_0(run):
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "xfailed" in result.output.splitlines()[-1]


def test_students_answer_file_names_the_wrong_term(run, tmp_path):
    answer = tmp_path / "answer.toml"
    answer.write_text(textwrap.dedent('''
        [[problem]]
        id = "my-7.12"
        inputs = { x = "real" }
        graph = """
        f1 = exp(x)
        f2 = f1**2
        f3 = f1 + f2
        f4 = exp(f3)
        f5 = sin(f3)
        y = f4 + f5
        """
        [[problem.claim]]
        id = "dy/df1"
        of = "y"
        wrt = "f1"
        chain = "D(y, f3) * D(f3, f1)"
        expr = "cos(f3) + exp(f3)"
    '''))
    result = run("check", str(answer))
    assert result.exit_code == 1
    assert "FAILED" in result.output
    # the printed value is ∂y/∂f₂ (= ∂y/∂f₃): named, and the paths through f₂ it loses
    assert "equals ∂y/∂f₂, not ∂y/∂f₁" in result.output
    assert "keeps only the path through f₃; misses the paths through f₂" in result.output
    assert ": f₁ → f₂ → f₃ → f₄ → y, f₁ → f₂ → f₃ → f₅ → y" in result.output


@pytest.mark.parametrize("expr,message", [
    ("__import__('os').system('x')", "only the named functions"),
    ("x.real", "attribute .real is not allowed"),   # only .T, the transpose
    ("(lambda: 1)()", "lambda"),
    ("10**10**10", "exponent"),
])
def test_parser_refusals_exit_2_with_a_place(run, tmp_path, expr, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(f'[[problem]]\nid = "bad"\ninputs = {{ x = "real" }}\ngraph = """\n'
                   f'y = {expr}\n"""\n')
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:5:" in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_unknown_problem_is_exit_2(run):
    result = CliRunner().invoke(main, ["solve", "problem-99"])
    assert result.exit_code == 2
    assert "no problem 'problem-99'" in result.output


def test_solve_matrix_problem_7_6_reverse(run):
    result = run("solve", "problem-7.6")
    assert result.exit_code == 0, result.output
    assert "∂z/∂h = Ωᵀ" in result.output
    assert "[dz/dh: PASSED]" in result.output


def test_matrix_problem_forward_and_reverse_agree(run):
    def results(mode):
        result = run("solve", "problem-7.6", "--mode", mode, "--format", "json")
        assert result.exit_code == 0, result.output
        return {r["target"]: r["value"] for r in json.loads(result.output)["results"]}
    forward, reverse = results("forward"), results("reverse")
    assert set(forward) == set(reverse) >= {"D(z, h)", "D(z, beta)"}
    assert "D(z, Omega)" not in reverse         # a vector by a matrix: a tensor, not shown
    for target in [t for t in reverse if reverse[t] is not None]:
        assert forward[target]["shape"] == reverse[target]["shape"]
        np.testing.assert_allclose(forward[target]["value"], reverse[target]["value"],
                                   rtol=1e-12)
    assert reverse["D(z, beta)"]["value"] == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    text = run("solve", "problem-7.6", "--mode", "forward").output
    assert "Forward mode: tangents ∂·/∂h, input to output" in text
    assert "∂z/∂h = Ωh\u0307" in text            # Ωḣ: the tangent of h, a combining dot


@pytest.mark.parametrize("declared, at, ok", [
    ('"positive"', "0", False), ('"positive"', "0.5", True), ('"negative"', "1", False),
    ('"nonzero"', "0", False), ('"interval(1, 2)"', "3", False), ('"interval(1, 2)"', "1.5", True),
    ('"real"', "0", True)])
def test_solve_at_a_point_outside_the_declared_domain_is_bad_input(tmp_path, declared, at, ok):
    path = tmp_path / "p.toml"
    path.write_text(f'[[problem]]\nid = "p"\ninputs = {{ x = {declared} }}\n'
                    f'graph = """\ny = x * x + 1\n"""\n')
    result = CliRunner().invoke(main, ["solve", str(path), "--at", f"x={at}"])
    assert result.exit_code == (0 if ok else 2), result.output
    if not ok:
        assert "declared" in result.output and "Traceback" not in result.output


def test_an_unknown_name_or_function_gets_a_did_you_mean_and_exit_2(tmp_path, run):
    path = tmp_path / "typo.toml"
    base = textwrap.dedent('''\
        [[problem]]
        id = "typo"
        inputs = { x = "real", W1 = "real" }
        graph = """
        step = W1 * x
        y = tanh(step)
        """
        [[problem.claim]]
        id = "c"
        of = "y"
        wrt = "x"
        expr = "EXPR"
        ''')
    said = {}
    for expr in ("W_1 * (1 - y**2)", "W1 * heavisde(x)", "W1 * ln(x)", "W1 * (1 - y**2)"):
        path.write_text(base.replace("EXPR", expr))
        result = run("check", str(path))
        said[expr] = (result.exit_code, result.output)
    assert said["W_1 * (1 - y**2)"][0] == 2
    assert "unknown name 'W_1' (did you mean W1?)" in said["W_1 * (1 - y**2)"][1]
    assert "typo.toml:12:9" in said["W_1 * (1 - y**2)"][1]
    assert "(did you mean heaviside?)" in said["W1 * heavisde(x)"][1]
    assert "unknown function 'ln' (did you mean log?)" in said["W1 * ln(x)"][1]
    # a node may still be called `step` (a synonym is a hint, never a name taken)
    assert said["W1 * (1 - y**2)"][0] == 0, said["W1 * (1 - y**2)"][1]
