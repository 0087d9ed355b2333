"""Reverse-sweep scaling on chain and layered-ReLU graphs of growing depth.

Prints, per graph: nodes, time of the reverse sweep (adjoint program), the operation count of
the adjoint program after common-subexpression elimination over that of the forward pass
(the cheap-gradient bound says 3 to 5), and beside it SymPy's naive `diff` of the inlined
expression (time and size), which swells.

    python benchmarks/sweep_scaling.py
"""

from __future__ import annotations

import os
import signal
import time

os.environ.setdefault("SYMPY_CACHE_SIZE", "20000")  # as the deriv command sets it

import sympy as sp

from deriv.problem import load_text
from deriv.sweep import reverse

DEPTHS = (10, 50, 200, 1000)
NAIVE_SECONDS = 20


def chain(n: int) -> str:
    lines = ["h0 = x"] + [f"h{i} = tanh(w{i % 5} * h{i - 1} + b{i % 5})" for i in range(1, n)]
    inputs = ", ".join(["x = \"real\""] + [f"w{i} = \"real\", b{i} = \"real\"" for i in range(5)])
    return _problem(lines, inputs)


def layered(n: int, width: int = 4) -> str:
    """ReLU layers of `width` units; unit j of layer k mixes every unit of layer k − 1."""
    lines = [f"a0_{j} = x{j}" for j in range(width)]
    layers = max(1, (n - width) // (2 * width))
    for k in range(1, layers + 1):
        for j in range(width):
            mix = " + ".join(f"w{(j + i) % 7} * a{k - 1}_{i}" for i in range(width))
            lines.append(f"z{k}_{j} = {mix} + b{j}")
            lines.append(f"a{k}_{j} = relu(z{k}_{j})")
    lines.append("y = " + " + ".join(f"a{layers}_{j}" for j in range(width)))
    inputs = ", ".join([f"x{j} = \"real\"" for j in range(width)] +
                       [f"w{i} = \"real\"" for i in range(7)] + [f"b{j} = \"real\"" for j in range(width)])
    return _problem(lines, inputs)


def _problem(lines, inputs):
    return ('[[problem]]\nid = "bench"\ninputs = { ' + inputs + ' }\ngraph = """\n' +
            "\n".join(lines) + '\n"""\n')


def ops(exprs) -> int:
    return sum(sp.count_ops(e) for e in exprs)


def cse_ops(exprs) -> int:
    replacements, reduced = sp.cse(list(exprs))
    return ops([r for _, r in replacements]) + ops(reduced)


class Slow(Exception):
    pass


def naive(graph, output):
    """SymPy diff of the fully inlined output w.r.t. every input, with a time limit."""
    def alarm(*_):
        raise Slow()
    signal.signal(signal.SIGALRM, alarm)
    signal.alarm(NAIVE_SECONDS)
    try:
        start = time.perf_counter()
        flat = graph.inline(graph.symbols[output])
        grads = [sp.diff(flat, graph.symbols[i]) for i in graph.inputs]
        size = ops(grads)
        return time.perf_counter() - start, size
    except (Slow, RecursionError):
        return None, None
    finally:
        signal.alarm(0)


def main():
    print(f"{'graph':<8} {'nodes':>6} {'sweep s':>9} {'fwd ops':>8} {'adj ops':>8} "
          f"{'ratio':>6} {'naive s':>9} {'naive ops':>10}")
    for name, build in (("chain", chain), ("relu", layered)):
        for depth in DEPTHS:
            (problem,) = load_text(build(depth))
            graph = problem.graph
            output = graph.order[-1]
            start = time.perf_counter()
            sweep = reverse(graph, output)
            program = [p for _, p in sweep.program()]
            elapsed = time.perf_counter() - start
            forward_ops = ops(graph.nodes[n].expr for n in graph.order)
            adjoint_ops = cse_ops(program)
            naive_s, naive_ops = naive(graph, output) if depth <= 200 else (None, None)
            print(f"{name:<8} {len(graph.order):>6} {elapsed:>9.3f} {forward_ops:>8} "
                  f"{adjoint_ops:>8} {adjoint_ops / forward_ops:>6.2f} "
                  f"{(f'{naive_s:.3f}' if naive_s is not None else '> limit'):>9} "
                  f"{(naive_ops if naive_ops is not None else '—'):>10}")


if __name__ == "__main__":
    main()
