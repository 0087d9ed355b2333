"""Differential testing (issue 7): random scalar DAGs, three ways to their derivatives.

For random graphs over exp, sin, cos, tanh, sigmoid, relu, products, sums and powers:
  * the forward sweep (tangents, deriv.sweep.forward), as expressions and as its program,
  * the reverse sweep (adjoints, deriv.sweep.reverse), as expressions and as its program,
  * the oracle: SymPy's diff of the inlined output (graph.inline),
agree numerically at random points. And random wrong claims built from the true derivative
(a sign flipped, a factor dropped, a term dropped) are reported failing by deriv.check
whenever they differ from it on a set of positive measure; the truth itself passes.
"""

from __future__ import annotations

import os

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from deriv.checker import Options, check_problem
from deriv.problem import load_text
from deriv.program import Values
from deriv.sweep import forward, reverse
from random_dags import (HIGH, LOW, Dag, deriv_text, differs_on_positive_measure, mutations,
                         random_dag)
from test_engine import builtin, diff, numeric

# CI: a fixed set of examples (derandomized, so a failure reproduces); DERIV_DIFF_EXAMPLES=2000
# for a long random run (benchmarks/mutation.py for the mutation figure)
SCALE = int(os.environ.get("DERIV_DIFF_EXAMPLES", 0)) or None
DIFFERENTIAL = settings(max_examples=SCALE or 60, deadline=None, database=None,
                        derandomize=SCALE is None)
MUTATION = settings(max_examples=(SCALE or 50) // 2, deadline=None, database=None,
                    derandomize=SCALE is None)
POINTS = 64          # = test_engine.N, the batch `numeric` evaluates


@st.composite
def dags(draw, max_nodes: int = 7):
    return random_dag(lambda seq: draw(st.sampled_from(list(seq))),
                      lambda lo, hi: draw(st.integers(lo, hi)), max_nodes)


def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) <= 1e-9 + 1e-7 * np.maximum(np.abs(a), np.abs(b))


_MP_STEPS = [{"step_gt": lambda z: mp.mpf(1 if z > 0 else 0),
              "step_ge": lambda z: mp.mpf(1 if z >= 0 else 0)}, "mpmath"]


def mp_numeric(expr: sp.Expr, point: dict):
    """expr at one point in mpmath (the current precision), SymPy built-ins only."""
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    gt, ge = sp.Function("step_gt"), sp.Function("step_ge")
    steps = {h: (gt if h.args[1] == 0 else ge)(h.args[0]) for h in expr.atoms(sp.Heaviside)}
    fn = sp.lambdify(free, expr.xreplace(steps), modules=_MP_STEPS)
    try:
        return mp.mpf(fn(*(point[s] for s in free)))
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return mp.nan


def assert_agree(name: str, values: dict[str, np.ndarray], precise):
    """All agree in floats, or where they do not (sin of a 10¹⁰ argument amplifies round-off),
    at 50 digits: `precise(i)` gives every label's value at sample i."""
    labels, arrays = list(values), list(values.values())
    finite = np.logical_and.reduce([np.isfinite(a) for a in arrays])
    suspect = set()
    for a in arrays:
        suspect |= set(np.flatnonzero(finite & ~close(a, arrays[0])))
    for i in sorted(suspect)[:8]:
        with mp.workdps(50):
            exact = precise(int(i))
            if any(mp.isnan(v) for v in exact.values()):
                continue
            first = exact[labels[0]]
            for label, v in exact.items():
                tolerance = mp.mpf(10)**-20 + mp.mpf(10)**-12 * max(abs(v), abs(first))
                assert abs(v - first) <= tolerance, \
                    (f"{name}: {label} differs from {labels[0]} at sample {i}: "
                     f"{mp.nstr(v, 15)} vs {mp.nstr(first, 15)} (floats: {values[label][i]} vs "
                     f"{arrays[0][i]})")


def _resolved(sweep) -> dict:
    """Each step's closed form in node symbols alone (a long one keeps earlier steps' symbols;
    substitute them)."""
    closed, symbols = sweep.closed_forms(), {}
    out = {}
    for step in sweep.steps:
        expr = closed[step.target].xreplace(symbols)
        symbols[step.program_symbol] = expr
        out[(step.target.of, step.target.wrt)] = expr
    return out


@DIFFERENTIAL
@given(dags(), st.integers(0, 2**32 - 1))
# sin(n6) with n6 ≈ 3.5·10¹⁰: the float values differ in the 6th digit, the exact ones agree
@example(Dag(["x0", "x1", "x2"], [("n1", "exp(x0)"), ("n2", "x0*x1"), ("n3", "exp(x0)"),
                                  ("n4", "(1 + x0**2)**n1"), ("n5", "exp(x0)"), ("n6", "n4**2"),
                                  ("n7", "sin(n6)")]), 1)
def test_forward_reverse_program_and_oracle_agree(dag, seed):
    (problem,) = load_text(dag.text(), "dag.toml")
    graph, out = problem.graph, problem.output
    rng = np.random.default_rng(seed)
    inputs = {i: rng.uniform(LOW, HIGH, POINTS) for i in graph.inputs}
    values = Values(problem, inputs)
    env = values.env
    rev = _resolved(reverse(graph, out))
    flat = graph.inline(graph.symbols[out])
    zero = sp.S.Zero
    for w in graph.inputs:
        fwd = _resolved(forward(graph, w))
        oracle = diff(flat, graph.symbols[w])
        reverse_expr = builtin(rev.get((out, w), zero))
        forward_expr = builtin(fwd.get((out, w), zero))
        if not graph.depends(out, w):
            assert (out, w) not in fwd and (out, w) not in rev
        computed = {
            "oracle": numeric(oracle, env),
            "reverse": numeric(reverse_expr, env),
            "forward": numeric(forward_expr, env),
            "program": np.asarray(values.derivative(out, w), dtype=float),
        }

        def precise(i, w=w, oracle=oracle, reverse_expr=reverse_expr,
                    forward_expr=forward_expr):
            point_inputs = {k: mp.mpf(float(v[i])) for k, v in inputs.items()}
            exact = Values(problem, point_inputs, backend="mpmath", n=1)
            point = {graph.symbols[k]: v for k, v in point_inputs.items()}
            nodes = dict(exact.env)
            return {"oracle": mp_numeric(oracle, point),
                    "reverse": mp_numeric(reverse_expr, nodes),
                    "forward": mp_numeric(forward_expr, nodes),
                    "program": mp.mpf(exact.derivative(out, w))}
        assert_agree(f"D({out}, {w}) of\n{dag.text()}", computed, precise)


def test_the_differential_comparison_can_fail():
    """assert_agree is not vacuous: a derivative off by a factor is caught, even at 50 digits."""
    (problem,) = load_text(Dag(["x0"], [("n1", "sin(x0)"), ("n2", "n1*x0")]).text())
    graph = problem.graph
    x = np.linspace(-1.9, 1.9, POINTS)
    values = Values(problem, {"x0": x})
    oracle = diff(graph.inline(graph.symbols["n2"]), graph.symbols["x0"])
    right = np.asarray(values.derivative("n2", "x0"), dtype=float)
    with pytest.raises(AssertionError):
        assert_agree("wrong", {"oracle": numeric(oracle, values.env), "program": 2 * right},
                     lambda i: {"oracle": mp.mpf(1), "program": mp.mpf(2)})
    assert_agree("right", {"oracle": numeric(oracle, values.env), "program": right},
                 lambda i: {})


def test_the_dag_generator_covers_every_operation():
    import random
    from random_dags import BINARY, UNARY
    rnd = random.Random(0)
    seen = set()
    for _ in range(300):
        dag = random_dag(lambda seq: rnd.choice(list(seq)), rnd.randint)
        seen |= {e for _, e in dag.lines}
    text = "\n".join(seen)
    for op in ("exp(", "sin(", "cos(", "tanh(", "sigmoid(", "relu(", "*", "+", "**"):
        assert op in text
    assert len(UNARY) + len(BINARY) >= 15


def claim_verdicts(dag, claims) -> dict[str, str]:
    (problem,) = load_text(dag.text(claims), "dag.toml")
    verdicts, _ = check_problem(problem, Options(samples=400, seed=1))
    return {v.claim.id: v.verdict for v in verdicts}


@MUTATION
@given(dags(max_nodes=5), st.data())
def test_wrong_claims_are_reported_failing(dag, data):
    (problem,) = load_text(dag.text(), "dag.toml")
    graph = problem.graph
    pick = lambda seq: data.draw(st.sampled_from(list(seq)))        # noqa: E731
    integer = lambda lo, hi: data.draw(st.integers(lo, hi))        # noqa: E731
    truths = _resolved(reverse(graph, problem.output))
    claims, wrong = [], {}
    for w in graph.inputs:
        truth = truths.get((problem.output, w), sp.S.Zero)
        claims.append((f"true-{w}", w, deriv_text(truth)))
        for k, (kind, expr) in enumerate(mutations(truth, pick, integer)):
            if differs_on_positive_measure(graph, expr, truth):
                cid = f"{kind.replace(' ', '-')}-{w}-{k}"
                claims.append((cid, w, deriv_text(expr)))
                wrong[cid] = expr
    claims = [c for c in claims if len(c[2]) < 5000]
    verdicts = claim_verdicts(dag, claims)
    for cid, wrt, expr in claims:
        if cid.startswith("true-"):
            # "error": the graph sits on a kink (relu(sin(x) - sin(x))), nothing to compare
            assert verdicts[cid] in ("pass", "error"), f"the true derivative {expr} failed"
    for cid, wrt, expr in claims:
        if not cid.startswith("true-") and verdicts[f"true-{wrt}"] == "pass":
            assert verdicts[cid] == "fail", f"{cid}: {expr} got {verdicts[cid]}\n{dag.text()}"


def test_a_factor_dropped_where_a_relu_is_flat_is_caught():
    """Found by the mutation test: n2 = relu(x0) is exactly 0 for x0 < 0, so relu(n2) has its
    kink argument at 0 on half the box. Dropping that half as "near a kink" once passed
    exp(n2) for D(n4, x0) = exp(n2)·I[x0 > 0]; the function is flat there, not kinked."""
    from random_dags import Dag
    dag = Dag(["x0"], [("n1", "x0*x0"), ("n2", "relu(x0)"), ("n3", "relu(n2)"),
                       ("n4", "exp(n2)")])
    verdicts = claim_verdicts(dag, [("true", "x0", "exp(n2)*indicator(x0)"),
                                    ("dropped", "x0", "exp(n2)")])
    assert verdicts == {"true": "pass", "dropped": "fail"}


@pytest.mark.parametrize("kind, expr, verdict", [
    ("true", "cos(n1)*exp(x0)", "pass"),
    ("sign flipped", "-cos(n1)*exp(x0)", "fail"),
    ("factor dropped", "cos(n1)", "fail"),
    ("term dropped", "exp(x0)", "fail"),
])
def test_a_known_dag_and_its_mutants(kind, expr, verdict):
    from random_dags import Dag
    dag = Dag(["x0"], [("n1", "exp(x0)"), ("n2", "sin(n1) + n1 - exp(x0)")])
    # D(n2, x0) = cos(n1)·exp(x0) (the +n1 and −exp(x0) cancel)
    assert claim_verdicts(dag, [("c", "x0", expr)])["c"] == verdict, kind
