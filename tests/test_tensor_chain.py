"""A printed chain through a tensor of order 3 (∂g/∂W for g = Wx): its links and paths are
checked, its value is not; a broken or missing link still fails."""

from __future__ import annotations

import textwrap

import pytest

from deriv.checker import check
from deriv.problem import load_text

FILE = textwrap.dedent('''
    [[problem]]
    id = "t"
    inputs = { W = "matrix(n, n)", x = "vector(n)" }
    graph = """
    g = W @ x
    m = g - x
    L = norm2(m)
    """

    [[problem.claim]]
    id = "dL/dW"
    of = "L"
    wrt = "W"
    chain = "CHAIN"
''')


@pytest.mark.parametrize("chain, verdict, kinds", [
    ("D(g, W) @ D(L, g)", "pass", []),
    ("D(g, W) @ D(m, g) @ D(L, m)", "pass", []),
    ("D(g, W) @ D(L, m)", "fail", ["broken-link"]),
    ("D(g, W) @ D(m, g)", "fail", ["broken-link"]),
])
def test_structure_of_a_tensor_chain(chain, verdict, kinds):
    (problem,) = load_text(FILE.replace("CHAIN", chain))
    claim = problem.claims[0]
    assert claim.chain_expr is None and claim.expr is None
    (v,) = check([problem]).verdicts
    assert v.verdict == verdict
    assert [f.kind for f in v.diagnosis][:1] == kinds


def test_a_tensor_chain_with_its_formula_checks_the_formula():
    text = FILE.replace("CHAIN", "D(g, W) @ D(L, g)") + 'expr = "2 * m @ x.T"\n'
    (v,) = check(load_text(text)).verdicts
    assert v.verdict == "pass"
    wrong = FILE.replace("CHAIN", "D(g, W) @ D(L, g)") + 'expr = "m @ x.T"\n'
    (v,) = check(load_text(wrong)).verdicts
    assert v.verdict == "fail"


def test_the_report_says_only_the_structure_was_checked(tmp_path):
    import json

    from click.testing import CliRunner

    from deriv.cli import main
    path = tmp_path / "t.toml"
    path.write_text(FILE.replace("CHAIN", "D(g, W) @ D(L, g)"))
    text = CliRunner().invoke(main, ["check", str(path)])
    assert text.exit_code == 0 and "chain structure only" in text.output
    data = json.loads(CliRunner().invoke(main, ["check", str(path), "--format", "json"]).output)
    assert data["claims"][0]["scope"] == "chain structure only"
