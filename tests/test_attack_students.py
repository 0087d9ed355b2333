"""Derivations students write, and hostile-but-legal inputs, found by an outside tester: each
right claim passes, each wrong twin fails with the diagnosis that names the mistake."""

from __future__ import annotations

import json

from click.testing import CliRunner

import deriv
from deriv.cli import main


def toml(inputs: str, graph: str, claims: list[dict]) -> str:
    text = f'[[problem]]\nid = "p"\ninputs = {{ {inputs} }}\ngraph = """\n{graph}\n"""\n'
    for c in claims:
        text += "\n[[problem.claim]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in c.items())
    return text


def claim(id, of, wrt, expr, **more):
    return dict(id=id, of=of, wrt=wrt, expr=expr, **more)


def checked(text: str) -> dict:
    report = deriv.check(deriv.load(text))
    return {v.claim.id: (v.verdict, [f.kind for f in v.diagnosis]) for v in report.verdicts}


def test_a_column_times_the_1x1_u_t_product():
    """(I − uuᵀ)t/r written u @ (uᵀ @ t): n×1 @ 1×1 is a column, not an ill-shaped claim."""
    got = checked(toml('x = "vector(n)", t = "vector(n)"',
                       "r = norm(x)\nu = x / r\nL = sum(u.T @ t)", [
        claim("right", "L", "x", "(t - u @ (u.T @ t)) / r"),
        claim("right-row", "L", "x", "(t.T - (t.T @ u) @ u.T).T / r"),
        claim("norm-lost", "L", "x", "(t - u @ (t.T @ t)) / r"),
        claim("lost", "L", "x", "t / r"),
        claim("wrong-side", "L", "x", "(t - (u.T @ t) @ u) / r")]))
    assert got["right"] == ("pass", []) and got["right-row"] == ("pass", []), got
    assert got["norm-lost"][0] == "fail" and got["lost"] == ("fail", ["lost-path"]), got
    assert got["wrong-side"] == ("fail", ["ill-shaped"]), got


def test_a_1x1_product_in_the_graph_is_derived(tmp_path):
    text = toml('x = "vector(n)", t = "vector(n)"', "p = x @ (x.T @ t)\nL = norm2(p)", [
        claim("right", "L", "x", "2 * (p @ (x.T @ t) + t @ (x.T @ p))"),
        claim("lost", "L", "x", "2 * p @ (x.T @ t)")])
    got = checked(text)
    # (x reaches p twice, through one edge: the product rule's second term is missing — a
    # term of one node's partial, not a path through another node)
    assert got["right"] == ("pass", []) and got["lost"] == ("fail", ["missing-term"]), got
    (tmp_path / "p.toml").write_text(text)
    result = CliRunner().invoke(main, ["solve", str(tmp_path / "p.toml")])
    assert result.exit_code == 0 and "∂L/∂x" in result.output, result.output


def test_a_chain_rule_product_longer_than_the_nesting_limit():
    """A 70-layer chain written as one product of its 69 local factors: a flat product is one
    level of nesting, as a sum is (it was refused as nested deeper than 60 levels)."""
    n = 70
    graph = "\n".join(["h0 = x"] + [f"h{i} = sin(h{i - 1})" for i in range(1, n)])
    factors = [f"cos(h{i - 1})" for i in range(n - 1, 0, -1)]
    got = checked(toml('x = "interval(1, 1.5)"', graph, [
        claim("chain", f"h{n - 1}", "h0", "*".join(f"D(h{i}, h{i - 1})" for i in range(n - 1, 0, -1))),
        claim("right", f"h{n - 1}", "h0", "*".join(factors)),
        claim("sign", f"h{n - 1}", "h0", "-" + "*".join(factors))]))
    assert got["chain"] == ("pass", []) and got["right"] == ("pass", []), got
    assert got["sign"] == ("fail", ["negated"]), got
