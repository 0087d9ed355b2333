"""Index notation and repetition (deriv.indexing): families z[i], sums over an index, the
Kronecker delta, graph lines declared once per index value, claims with free indices — and
their errors, each at the file:line:col where the wrong part is written."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

import deriv
from deriv.cli import main
from deriv.errors import DerivError
from deriv.problem import load_text

SOFTMAX = '''
[[problem]]
id = "softmax-ce-index"
index = { i = "1..3", j = "1..3", k = "1..3" }
inputs = { "z[i]" = "real", y1 = "interval(0, 1)", u = "interval(0, 1)" }
asks = ["D(L, z[i])"]
graph = """
y2 = (1 - y1) * u
y3 = 1 - y1 - y2
e[i] = exp(z[i])
s = sum(e[k], k)
p[i] = e[i] / s
L = -sum(y[k] * log(p[k]), k)
"""

[[problem.claim]]
id = "dp/dz"
of = "p[i]"
wrt = "z[j]"
expr = "p[i] * (delta(i, j) - p[j])"

[[problem.claim]]
id = "dL/dz"
of = "L"
wrt = "z[i]"
expr = "p[i] - y[i]"
'''

RNN = '''
[[problem]]
id = "rnn-repeated"
index = { t = "1..3" }
inputs = { h0 = "real", "x[t]" = "real", w = "real", u = "real", b = "real", y = "real" }
graph = """
a[t] = w*h[t-1] + u*x[t] + b
h[t] = tanh(a[t])
L = (h[3] - y)**2 / 2
"""

[[problem.claim]]
id = "dL/dw"
of = "L"
wrt = "w"
expr = "sum(D(L, a[t]) * h[t-1], t)"

[[problem.claim]]
id = "dL/da"
of = "L"
wrt = "a[t]"
expr = "D(L, h[t]) * (1 - h[t]**2)"
'''

MLP = '''
[[problem]]
id = "deep-mlp"
index = { l = 4 }
inputs = { "W[l]" = "matrix(n, n)", h0 = "vector(n)", y = "vector(n)" }
graph = """
z[l] = W[l] @ h[l-1]
h[l] = relu(z[l])
L = norm2(h[4] - y) / 2
"""

[[problem.claim]]
id = "dL/dW"
of = "L"
wrt = "W[l]"
expr = "D(L, z[l]) @ h[l-1].T"
'''

LINEAR = """[[problem]]
id = "linear-layer"
index = { i = "1..2", j = "1..3", k = "1..3" }
inputs = { "W[i, j]" = "real", "x[j]" = "real", "y[i]" = "real" }
graph = \"\"\"
z[i] = sum(W[i, k] * x[k], k)
L = sum((z[i] - y[i])**2, i) / 2
\"\"\"

[[problem.claim]]
id = "dL/dW"
of = "L"
wrt = "W[i, j]"
expr = "(z[i] - y[i]) * x[j]"

[[problem.claim]]
id = "dL/dx"
of = "L"
wrt = "x[j]"
expr = "sum(W[i, j] * D(L, z[i]), i)"

[[problem.claim]]
id = "dL/dW-wrong"
of = "L"
wrt = "W[i, j]"
expr = "(z[i] - y[i]) * x[i]"
"""


def test_families_lines_and_sums_unroll_into_plain_names():
    [p] = load_text(SOFTMAX)
    assert [i for i in p.inputs] == ["z1", "z2", "z3", "y1", "u"]
    assert [n for n in p.graph.order if n.startswith(("e", "p"))] == \
        ["e1", "e2", "e3", "p1", "p2", "p3"]
    assert str(p.graph.nodes["s"].expr) == "e1 + e2 + e3"
    assert [str(a) for a in p.asks] == ["D(L, z1)", "D(L, z2)", "D(L, z3)"]


def test_a_free_index_claim_is_checked_for_every_index_value():
    [p] = load_text(SOFTMAX)
    ids = [c.id for c in p.claims]
    assert ids[:2] == ["dp/dz[i=1, j=1]", "dp/dz[i=1, j=2]"] and len(ids) == 9 + 3
    diagonal = next(c for c in p.claims if c.id == "dp/dz[i=2, j=2]")
    assert (diagonal.of, diagonal.wrt, diagonal.expr_text) == ("p2", "z2", "p2 * (1 - p2)")
    report = deriv.check(p)
    assert report.summary()["passed"] == 12 and report.exit_code == 0


def test_a_wrong_free_index_claim_fails_at_each_index_value():
    [p] = load_text(SOFTMAX.replace('"p[i] - y[i]"', '"y[i] - p[i]"'))
    report = deriv.check(p)
    failed = [v.claim.id for v in report.verdicts if v.verdict == "fail"]
    assert failed == ["dL/dz[i=1]", "dL/dz[i=2]", "dL/dz[i=3]"]
    assert all(any(f.kind == "negated" for f in v.diagnosis)
               for v in report.verdicts if v.verdict == "fail")


def test_a_wrong_delta_fails_only_where_it_is_wrong():
    [p] = load_text(SOFTMAX.replace("delta(i, j) - p[j]", "1 - p[j]"))
    report = deriv.check(p)
    failed = {v.claim.id for v in report.verdicts if v.verdict == "fail"}
    assert failed == {f"dp/dz[i={i}, j={j}]" for i in (1, 2, 3) for j in (1, 2, 3) if i != j}


def test_a_gradient_by_a_matrix_entry_with_free_i_j_at_a_non_square_size():
    [p] = load_text(LINEAR)
    assert [i for i in p.inputs][:6] == ["W11", "W12", "W13", "W21", "W22", "W23"]
    assert str(p.graph.nodes["z2"].expr) == "W21*x1 + W22*x2 + W23*x3"
    verdicts = {v.claim.id: v for v in deriv.check(p).verdicts}
    assert all(verdicts[f"dL/dW[i={i}, j={j}]"].verdict == "pass" for i in (1, 2) for j in (1, 2, 3))
    assert all(verdicts[f"dL/dx[j={j}]"].verdict == "pass" for j in (1, 2, 3))
    wrong = {k: v for k, v in verdicts.items() if k.startswith("dL/dW-wrong")}
    assert {k for k, v in wrong.items() if v.verdict == "fail"} == \
        {f"dL/dW-wrong[i={i}, j={j}]" for i in (1, 2) for j in (1, 2, 3) if i != j}
    assert {f.kind for f in wrong["dL/dW-wrong[i=1, j=2]"].diagnosis} >= {"mislabelled"}


def test_repetition_declares_an_rnn_of_three_steps_in_three_lines():
    [p] = load_text(RNN)
    graph_lines = RNN.split('graph = """')[1].split('"""')[0].strip().splitlines()
    assert len(graph_lines) <= 10
    assert p.graph.order == ["a1", "h1", "a2", "h2", "a3", "h3", "L"]
    assert str(p.graph.nodes["a2"].expr) == "b + h1*w + u*x2"
    assert deriv.check(p).exit_code == 0
    wrong = load_text(RNN.replace("sum(D(L, a[t]) * h[t-1], t)", "D(L, a[3]) * h[2]"))[0]
    [verdict] = [v for v in deriv.check(wrong).verdicts if v.claim.id == "dL/dw"]
    assert verdict.verdict == "fail" and {f.kind for f in verdict.diagnosis} & {"lost-path"}


def test_repetition_of_matrix_layers():
    [p] = load_text(MLP)
    assert [i for i in p.inputs][:4] == ["W1", "W2", "W3", "W4"]
    assert p.graph.shape("W3") == ("n", "n")
    report = deriv.check(p)
    assert report.exit_code == 0 and report.summary()["passed"] == 4
    wrong = load_text(MLP.replace("h[l-1].T", "h[l].T"))[0]
    assert all(v.verdict == "fail" for v in deriv.check(wrong).verdicts)


def test_entry_names_and_how_they_are_shown():
    from deriv.indexing import entry_name
    from deriv.names import pretty
    assert entry_name("W", (1, 2)) == "W12" and entry_name("W", (1, 12)) == "W1_12"
    assert entry_name("h", (12,)) == "h12"
    assert pretty("W12") == "W₁₂" and pretty("W1_12") == "W₁₁₂"


BAD = [
    # (replace this, by this, in SOFTMAX) → message, line, col of the wrong part
    (("e[i] / s", "e[i+1] / s"), "index out of range: e[4]", 12, 8),
    (("exp(z[i])", "exp(z[q])"), "unknown index 'q'", 10, 14),
    (("exp(z[i])", "exp(u[i])"), "'u' is a scalar (interval(0, 1)); it takes no index", 10, 12),
    (("exp(z[i])", "exp(z[i, i])"), "z takes 1 index, not 2", 10, 12),
    (("exp(z[i])", "exp(z[j])"), "index 'j' is not bound here", 10, 14),
    (("exp(z[i])", "exp(z[i] * i)"), "the index 'i' stands alone", 10, 19),
    (("exp(z[i])", "exp(z[i]) + ww[1]"), "unknown name 'ww' in ww[1]", 10, 20),
    (('"p[i] - y[i]"', '"p[j] - y[i]"'), "index 'j' is not bound here", 26, 11),
    (('"p[i] - y[i]"', '"p[i] - y[7]"'), "index out of range: y[7] (there is no y7)", 26, 16),
    (('"p[i] - y[i]"', '"p[i] - y[i] + zz"'), "unknown name 'zz'", 26, 23),
    (('"p[i] - y[i]"', '"p[i] - y[i] + D(L, z[i+1])"'), "index out of range: z[4]", 26, 28),
    (('wrt = "z[i]"', 'wrt = "z[m]"'), "unknown index 'm' in z[m]", 25, 8),
    (('i = "1..3"', 'i = "3..1"'), 'a range is "lo..hi"', 4, 9),
    (('k = "1..3"', 'k = "1..3", s = 2'), "'s' names both an index and an input or node", 4, 9),
    (('"z[i]" = "real"', '"z[i, i]" = "real"'), "an index is repeated in z[i, i]", 5, 10),
    (('asks = ["D(L, z[i])"]', 'asks = ["D(L, z[5])"]'), "index out of range: z[5]", 6, 15),
]


@pytest.mark.parametrize("change,message,line,col", BAD)
def test_bad_index_notation_is_an_error_at_its_place(change, message, line, col):
    text = SOFTMAX.replace(*change)
    assert text != SOFTMAX
    with pytest.raises(DerivError) as err:
        load_text(text, "bad.toml")
    assert message in err.value.message
    assert (err.value.file, err.value.line, err.value.col) == ("bad.toml", line, col), \
        str(err.value)


def test_index_notation_needs_declared_indices():
    with pytest.raises(DerivError, match="declare the index first"):
        load_text(SOFTMAX.replace('index = { i = "1..3", j = "1..3", k = "1..3" }\n', ""))
    vector = RNN.replace('"x[t]" = "real"', 'x = "vector(n)"')
    with pytest.raises(DerivError, match=r"'x' is a vector\(n\); index notation applies"):
        load_text(vector)


def test_an_unrolled_graph_stays_within_the_limits():
    huge = '[[problem]]\nid = "h"\nindex = { i = 1000, j = 1000 }\ninputs = { x = "real" }\n' \
           'graph = """\nv[i, j] = x\n"""\n'
    with pytest.raises(DerivError, match="unroll to more than 5000 inputs and nodes") as err:
        load_text(huge)
    assert err.value.line == 6
    many = '[[problem]]\nid = "h"\nindex = { i = 80, j = 80 }\ninputs = { "x[i]" = "real" }\n' \
           'graph = """\ny = sum(x[i], i)\n"""\n[[problem.claim]]\nid = "c"\nof = "y"\n' \
           'wrt = "x[i]"\nexpr = "1 + 0*x[j]"\n'
    with pytest.raises(DerivError, match="index 'j' is not bound here"):
        load_text(many)
    with pytest.raises(DerivError, match="unroll to more than 5000 claims"):
        load_text(many.replace('id = "c"\nof = "y"', 'id = "c"\nof = "x[j]"'))
    sums = '[[problem]]\nid = "h"\nindex = { i = 1000, j = 1000 }\ninputs = { "x[i]" = "real" }\n' \
           'graph = """\ny = sum(sum(x[i] * x[j], i), j)\n"""\n'
    with pytest.raises(DerivError, match="unrolls to more than|longer than"):
        load_text(sums)


def test_the_cli_checks_an_indexed_file_and_reports_bad_ones_with_exit_2(tmp_path):
    good = tmp_path / "rnn.toml"
    good.write_text(RNN)
    result = CliRunner().invoke(main, ["check", str(good)])
    assert result.exit_code == 0, result.output
    assert "dL/da[t=3]" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text(RNN.replace("h[3] - y", "h[4] - y"))
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 2
    assert re.search(r"bad\.toml:\d+:\d+: error: index out of range: h\[4\]", result.output)
    assert "Traceback" not in result.output
