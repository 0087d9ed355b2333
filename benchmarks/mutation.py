"""Mutation run: how many generated wrong claims does `deriv check` catch?

Random scalar DAGs (exp, sin, cos, tanh, sigmoid, relu, products, sums, powers); for each input
the true derivative D(output, x) (the reverse sweep's closed form,
`deriv.sweep.reverse(graph, output).closed_forms()`, in node symbols as a document writes it)
is mutated: a sign flipped, a factor dropped, a term dropped. A mutant that does not differ
from the truth on a set of positive measure (judged on 4000 fresh points) is not a wrong claim
and is set aside; the others are checked, with the true derivatives beside them, by
`deriv.checker.check_problem(problem, Options(...))` until there are N of them. Prints how many
were caught (verdict fail), in all and by kind of mutation.

    python benchmarks/mutation.py            # N = 1000
    python benchmarks/mutation.py -n 5000 --seed 3
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from random_dags import deriv_text, differs_on_positive_measure, mutations, random_dag  # noqa

from deriv.checker import Options, check_problem  # noqa: E402
from deriv.errors import DerivError  # noqa: E402
from deriv.problem import load_text  # noqa: E402
from deriv.sweep import reverse  # noqa: E402

KINDS = ("sign flipped", "factor dropped", "term dropped", "(not loadable)")


def true_derivatives(graph, output: str) -> dict[str, sp.Expr]:
    """D(output, w) for every input w, in node symbols alone: the reverse sweep's closed forms,
    with any earlier adjoint symbol a long step keeps (x_bar) substituted by its own form."""
    sweep = reverse(graph, output)
    closed, symbols, out = sweep.closed_forms(), {}, {}
    for step in sweep.steps:
        expr = closed[step.target].xreplace(symbols)
        symbols[step.program_symbol] = expr
        if step.target.of == output:
            out[step.target.wrt] = expr
    return {w: out.get(w, sp.S.Zero) for w in graph.inputs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="wrong claims to check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=2000, help="deriv check's sample count")
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    pick, integer = (lambda seq: rnd.choice(list(seq))), rnd.randint
    outcome: Counter = Counter()           # (kind, verdict)
    equivalent: Counter = Counter()
    truths: Counter = Counter()
    misses = []
    start = time.perf_counter()
    wrong = dags = 0
    while wrong < args.n:
        dag = random_dag(pick, integer, max_nodes=6)
        dags += 1
        (problem,) = load_text(dag.text(), "mutation.toml")
        graph = problem.graph
        true = true_derivatives(graph, problem.output)
        claims, kinds = [], {}
        for w in graph.inputs:
            truth = true[w]
            claims.append((f"true-{w}", w, deriv_text(truth)))
            for k, (kind, expr) in enumerate(mutations(truth, pick, integer)):
                if wrong + len(kinds) >= args.n:
                    break
                if not differs_on_positive_measure(graph, expr, truth, seed=rnd.randrange(2**32)):
                    equivalent[kind] += 1
                    continue
                cid = f"m{k}-{w}"
                claims.append((cid, w, deriv_text(expr)))
                kinds[cid] = (kind, expr)
        try:
            (problem,) = load_text(dag.text(claims), "mutation.toml")
        except DerivError as err:          # e.g. a claim longer than the parser takes
            outcome[("(not loadable)", "error")] += len(kinds)
            wrong += len(kinds)
            print(f"not loadable: {err}", file=sys.stderr)
            continue
        verdicts, _ = check_problem(problem, Options(samples=args.samples, seed=rnd.randrange(100)))
        for v in verdicts:
            if v.claim.id.startswith("true-"):
                truths[v.verdict] += 1
                continue
            kind, expr = kinds[v.claim.id]
            outcome[(kind, v.verdict)] += 1
            if v.verdict != "fail":
                misses.append((kind, v.verdict, v.reason, v.claim.expr_text, dag.text()))
        wrong += len(kinds)
    seconds = time.perf_counter() - start

    caught = sum(c for (k, verdict), c in outcome.items() if verdict == "fail")
    total = sum(outcome.values())
    print(f"mutation run: {dags} random DAGs, seed {args.seed}, {args.samples} samples a problem, "
          f"{seconds:.0f} s")
    print(f"wrong claims (differ from the truth on a set of positive measure): {total}")
    print(f"caught (verdict fail): {caught}/{total} = {100 * caught / max(total, 1):.1f}%")
    print("by kind:")
    for kind in KINDS:
        row = {verdict: c for (k, verdict), c in outcome.items() if k == kind}
        if row:
            n = sum(row.values())
            print(f"    {kind:<15} caught {row.get('fail', 0)}/{n}  (" +
                  ", ".join(f"{verdict} {c}" for verdict, c in sorted(row.items())) + ")")
    print(f"mutants set aside as equal to the truth almost everywhere: "
          f"{sum(equivalent.values())} ({dict(equivalent)})")
    print(f"true derivatives as claims: {dict(truths)}")
    for kind, verdict, reason, expr, text in misses[:10]:
        print(f"\nMISSED ({kind}, {verdict}{': ' + reason if reason else ''}): {expr}\n{text}")
    return 0 if caught == total else 1


if __name__ == "__main__":
    sys.exit(main())
