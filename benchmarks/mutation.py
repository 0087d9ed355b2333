"""Mutation run: how many generated wrong claims does `deriv check` catch?

Random scalar DAGs (exp, sin, cos, tanh, sigmoid, relu, products, sums, powers); for each input
the true derivative D(output, x) (the reverse sweep's, in node symbols, as a document writes it)
is mutated: a sign flipped, a factor dropped, a term dropped. A mutant that does not differ from
the truth on a set of positive measure (judged on 4000 fresh points) is not a wrong claim and
is set aside; the others are checked until there are N of them.

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from random_dags import deriv_text, differs_on_positive_measure, mutations, random_dag  # noqa

from deriv.check import Options, check_problem  # noqa: E402
from deriv.errors import DerivError  # noqa: E402
from deriv.problem import load_text  # noqa: E402
from deriv.sweep import Derivatives  # noqa: E402


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
        derivatives = Derivatives(graph)
        claims, kinds = [], {}
        for w in graph.inputs:
            truth = derivatives.total(problem.output, w)
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
    for kind in ("sign flipped", "factor dropped", "term dropped", "(not loadable)"):
        row = {verdict: c for (k, verdict), c in outcome.items() if k == kind}
        if row:
            print(f"    {kind:<15} " + "  ".join(f"{verdict} {c}"
                                               for verdict, c in sorted(row.items())))
    print(f"mutants set aside as equal to the truth almost everywhere: "
          f"{sum(equivalent.values())} ({dict(equivalent)})")
    print(f"true derivatives as claims: {dict(truths)}")
    for kind, verdict, reason, expr, text in misses[:10]:
        print(f"\nMISSED ({kind}, {verdict}{': ' + reason if reason else ''}): {expr}\n{text}")
    return 0 if caught == total else 1


if __name__ == "__main__":
    sys.exit(main())
