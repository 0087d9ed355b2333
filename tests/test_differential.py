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

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from deriv.check import Options, check_problem
from deriv.numeric import evaluate
from deriv.problem import load_text
from deriv.sweep import bar, dot, forward, reverse
from random_dags import (HIGH, LOW, deriv_text, differs_on_positive_measure, mutations,
                         node_values, random_dag)

# CI sizes; DERIV_DIFF_EXAMPLES=2000 for a long run (benchmarks/mutation.py for the figure)
SCALE = int(os.environ.get("DERIV_DIFF_EXAMPLES", 60))
DIFFERENTIAL = settings(max_examples=SCALE, deadline=None, database=None)
MUTATION = settings(max_examples=max(1, SCALE // 2), deadline=None, database=None)
POINTS = 64


@st.composite
def dags(draw, max_nodes: int = 7):
    return random_dag(lambda seq: draw(st.sampled_from(list(seq))),
                      lambda lo, hi: draw(st.integers(lo, hi)), max_nodes)


def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) <= 1e-9 + 1e-7 * np.maximum(np.abs(a), np.abs(b))


def run_program(steps, seed_symbol, env: dict, n: int) -> dict:
    """Evaluate a sweep's program (x_bar / x_dot assignments) step by step, numerically."""
    env = dict(env)
    env[seed_symbol] = np.ones(n)
    for symbol, program in steps:
        if symbol not in env:
            env[symbol] = evaluate(program, env, n)
    return env


def assert_agree(name: str, values: dict[str, np.ndarray]):
    arrays = list(values.values())
    finite = np.logical_and.reduce([np.isfinite(a) for a in arrays])
    for label, a in values.items():
        ok = close(a[finite], arrays[0][finite])
        assert ok.all(), (f"{name}: {label} differs from {list(values)[0]} at "
                          f"{np.flatnonzero(~ok)[:5]}: {a[finite][~ok][:3]} vs "
                          f"{arrays[0][finite][~ok][:3]}")


@DIFFERENTIAL
@given(dags(), st.integers(0, 2**32 - 1))
def test_forward_reverse_and_oracle_agree(dag, seed):
    (problem,) = load_text(dag.text(), "dag.toml")
    graph, out = problem.graph, problem.output
    rng = np.random.default_rng(seed)
    env = node_values(graph, {i: rng.uniform(LOW, HIGH, POINTS) for i in graph.inputs})
    rev = reverse(graph, out)
    adjoints = run_program(rev.program(), bar(out), env, POINTS)
    flat = graph.inline(graph.symbols[out])
    for w in graph.inputs:
        fwd = forward(graph, w)
        tangents = run_program(fwd.program(), dot(w), env, POINTS)
        oracle = sp.diff(flat, graph.symbols[w])
        values = {"oracle": evaluate(oracle, env, POINTS)}
        step = rev.step(out, w)
        values["reverse"] = evaluate(step.expr, env, POINTS) if step else np.zeros(POINTS)
        values["reverse program"] = adjoints.get(bar(w), np.zeros(POINTS))
        step = fwd.step(out, w)
        values["forward"] = evaluate(step.expr, env, POINTS) if step else np.zeros(POINTS)
        values["forward program"] = tangents.get(dot(out), np.zeros(POINTS)) \
            if graph.depends(out, w) else np.zeros(POINTS)
        assert_agree(f"D({out}, {w}) of\n{dag.text()}", values)


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
    from deriv.sweep import Derivatives
    truths = Derivatives(graph)
    claims, wrong = [], {}
    for w in graph.inputs:
        truth = truths.total(problem.output, w)
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
