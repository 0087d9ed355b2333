"""Constraints on inputs (one-hot, probability, symmetric, positive definite, entrywise
domains) drawn as declared, and sizes fixed or drawn from a range on the command line
(`--size`), within the file's size relations; bad ones are placed errors, exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import deriv
from deriv.cli import main
from deriv.errors import DerivError
from deriv.sampling import draw_all, size_assignments
from deriv.constraints import ranges

from test_matrix import problem

KINDS = ('y = "one-hot vector(K)", Y = "one-hot matrix(N, K)", p = "probability vector(K)", '
         'P = "probability matrix(N, K)", S = "symmetric matrix(K, K)", '
         'C = "positive definite matrix(K, K)", v = "positive vector(K)", '
         'U = "interval(-1, 0) matrix(N, K)", W = "positive symmetric matrix(K, K)"')


@pytest.mark.parametrize("sizes", [{"K": 3, "N": 3}, {"K": 4, "N": 2}, {"K": 1, "N": 5}])
def test_every_constraint_is_drawn_as_declared(sizes):
    p = problem(KINDS, "L = sum(y) + sum(Y) + sum(p) + sum(P) + sum(S) + sum(C) + sum(v) "
                       "+ sum(U) + sum(W)")
    d = draw_all(p.inputs, 500, seed=3, sizes=sizes)
    for name in ("y", "p"):             # along the vector
        assert np.allclose(d[name].sum(axis=0), 1)
    for name in ("Y", "P"):             # along each row
        assert np.allclose(d[name].sum(axis=1), 1)
    assert set(np.unique(d["y"])) <= {0.0, 1.0} and set(np.unique(d["Y"])) <= {0.0, 1.0}
    assert np.all(d["p"] > 0) and np.all(d["P"] > 0)
    for name in ("S", "C", "W"):
        assert np.allclose(d[name], np.swapaxes(d[name], 0, 1))
    assert np.all(np.linalg.eigvalsh(np.moveaxis(d["C"], -1, 0)) >= 0.1 - 1e-12)
    assert np.all(d["v"] > 0) and np.all((d["U"] > -1) & (d["U"] < 0)) and np.all(d["W"] > 0)
    if sizes["K"] > 1:                  # every class is drawn
        assert set(np.argmax(d["y"], axis=0)[0]) == set(range(sizes["K"]))


def test_the_symmetric_diagnosis_draws_leave_one_hot_and_probability_rows_alone():
    p = problem('Y = "one-hot matrix(K, K)", P = "probability matrix(K, K)"', "L = sum(Y) + sum(P)")
    d = draw_all(p.inputs, 50, seed=0, sizes={"K": 3}, symmetric=True)
    assert np.allclose(d["Y"].sum(axis=1), 1) and np.allclose(d["P"].sum(axis=1), 1)


SOFTMAX_CE = '''[source]
title = "t"

[[problem]]
id = "softmax-ce"
inputs = {{ z = "vector(K)", y = "{kind}" }}
output = "L"
graph = """
p = softmax(z)
L = -(y.T @ log(p))
"""

[[problem.claim]]
id = "dL/dz"
of = "L"
wrt = "z"
expr = "p - y"
'''


def test_p_minus_y_passes_for_a_one_hot_target_and_fails_for_a_free_one():
    (onehot,) = deriv.load_all(SOFTMAX_CE.format(kind="one-hot vector(K)"))
    (simplex,) = deriv.load_all(SOFTMAX_CE.format(kind="probability vector(K)"))
    (free,) = deriv.load_all(SOFTMAX_CE.format(kind="vector(K)"))
    assert [v.verdict for v in deriv.check(onehot).verdicts] == ["pass"]
    assert [v.verdict for v in deriv.check(simplex).verdicts] == ["pass"]
    (wrong,) = deriv.check(free).verdicts
    assert wrong.verdict == "fail" and wrong.diagnosis        # explained, with the right formula
    twin = SOFTMAX_CE.format(kind="one-hot vector(K)").replace('expr = "p - y"', 'expr = "y - p"')
    (negated,) = deriv.check(deriv.load_all(twin)).verdicts
    assert negated.verdict == "fail" and {f.kind for f in negated.diagnosis} == {"negated"}


def test_sizes_fixed_or_drawn_from_a_range():
    assert size_assignments(("n", "m"), 0, ranges={"n": (4, 4)}) == [
        a for a in size_assignments(("n", "m"), 0, ranges={"n": (4, 4)}) if a["n"] == 4]
    assigned = size_assignments(("n", "m"), 0, ranges={"n": (4, 4), "m": (2, 6)})
    assert assigned[0] == {"n": 4, "m": 4}                  # the square one first
    assert {a["m"] for a in assigned} <= set(range(2, 7)) and len(assigned) > 1
    assert size_assignments(("n",), 0, ranges={"n": (5, 5)}) == [{"n": 5}]
    # without ranges, the draws are the ones deriv always made
    assert size_assignments(("n", "m"), 0) == size_assignments(("n", "m"), 0, ranges={})


def test_a_onehot_constant_raises_the_least_size_and_a_fixed_size_below_it_is_refused():
    p = problem('x = "vector(n)"', "L = onehot(4, n).T @ x")
    assert ranges(p) == {"n": (4, 5)}
    assert all(a["n"] >= 4 for a in size_assignments(p.sizes, 0, ranges=ranges(p)))
    assert deriv.check(p).exit_code == 0
    with pytest.raises(DerivError, match="onehot.4, n. needs n ≥ 4"):
        ranges(p, {"n": 3})


FILE = '''[source]
title = "t"

[[problem]]
id = "t"
inputs = {{ x = "vector(n)", A = "matrix(m, n)" }}
{sizes}
graph = """
L = sum(A @ x)
"""

[[problem.claim]]
id = "dL/dx"
of = "L"
wrt = "x"
expr = "A.T @ ones(m)"
'''


def _run(tmp_path, *args, sizes=""):
    path = tmp_path / "t.toml"
    path.write_text(FILE.format(sizes=sizes))
    return path, CliRunner().invoke(main, [*args[:1], str(path), *args[1:]])


def test_size_from_the_file_and_the_command_line(tmp_path):
    path, result = _run(tmp_path, "solve", "--format", "json", sizes='sizes = ["n == 2"]')
    assert result.exit_code == 0, result.output
    (value,) = [r["value"] for r in json.loads(result.output)["results"] if r["target"] ==
                "D(L, x)"]
    assert value["shape"] == [2, 1]
    path, result = _run(tmp_path, "solve", "--format", "json", "--size", "n=4", "--size", "m=1")
    assert result.exit_code == 0, result.output
    shapes = {r["target"]: r["value"]["shape"] for r in json.loads(result.output)["results"]}
    assert shapes == {"D(L, x)": [4, 1], "D(L, A)": [1, 4]}
    path, result = _run(tmp_path, "check", "--size", "n=2:3", "--size", "m=9")
    assert result.exit_code == 0, result.output
    for command in ("check", "solve"):        # the file's relations hold whatever --size says
        path, result = _run(tmp_path, command, "--size", "n=4", sizes='sizes = ["n == 2"]')
        assert result.exit_code == 2 and "satisfy" in result.output, result.output


@pytest.mark.parametrize("args, message", [
    (("--size", "n=0"), "--size n=0: a size is a number 1 to 64"),
    (("--size", "n=65"), "a size is a number 1 to 64"),
    (("--size", "n=4:2"), "LO ≤ HI"),
    (("--size", "n"), "--size takes NAME=N or NAME=LO:HI"),
    (("--size", "q=3"), "no problem checked has a size 'q' (sizes: m, n)"),
])
def test_a_bad_size_option_is_a_usage_error(tmp_path, args, message):
    for command in ("check", "solve"):
        _, result = _run(tmp_path, command, *args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert message in result.output or (command == "solve" and "q=" in args[1]
                                             and "'q' is not a size of t" in result.output)


BAD = [   # inputs, sizes → message, column of the error on the inputs / sizes line
    ('x = "symmetric vector(n)"', "", "'symmetric' needs a square matrix such as matrix(n, n)"),
    ('x = "positive definite matrix(m, n)"', "", "'positive definite' needs a square matrix"),
    ('x = "one-hot"', "", "'one-hot' needs a vector or a matrix, not a scalar"),
    ('x = "probability real"', "", "'probability' needs a vector or a matrix"),
    ('x = "positive one-hot vector(n)"', "", "positive and one-hot do not combine"),
    ('x = "orthogonal matrix(n, n)"', "", "unknown constraint 'orthogonal'"),
]


@pytest.mark.parametrize("inputs, sizes, message", BAD, ids=[b[2][:40] for b in BAD])
def test_a_bad_constraint_or_size_is_placed(inputs, sizes, message):
    text = f'[source]\ntitle = "t"\n\n[[problem]]\nid = "t"\ninputs = {{ {inputs} }}\n' \
        f'{sizes}\ngraph = "L = sum(x)"\n'
    with pytest.raises(DerivError) as err:
        deriv.load_all(text)
    assert message in err.value.message
    assert err.value.line == (7 if sizes else 6) and err.value.col
