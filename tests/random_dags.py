"""Random scalar DAGs and wrong claims built from their true derivatives.

Shared by tests/test_differential.py (choices drawn by hypothesis, so failures shrink) and
benchmarks/mutation.py (choices from a seeded random.Random). A generator only asks for
`pick(sequence)` and `integer(lo, hi)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from deriv.primitives import numpy_namespace

Pick = Callable[[Sequence], object]
Integer = Callable[[int, int], int]

UNARY = ["exp({a})", "sin({a})", "cos({a})", "tanh({a})", "sigmoid({a})", "relu({a})",
         "{a}**2", "{a}**3", "2*{a}", "-{a}"]
BINARY = ["{a}*{b}", "{a} + {b}", "{a} - {b}", "(1 + {a}**2)**{b}", "{a}*{b} + {a}"]
LOW, HIGH = -2.0, 2.0                   # the sampler's range for a "real" input


@dataclass
class Dag:
    inputs: list[str]
    lines: list[tuple[str, str]] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.lines[-1][0]

    def text(self, claims: Sequence[tuple[str, str, str]] = ()) -> str:
        """A problem file; claims are (id, wrt, expr) about D(output, wrt)."""
        inputs = ", ".join(f'{i} = "real"' for i in self.inputs)
        graph = "\n".join(f"{n} = {e}" for n, e in self.lines)
        out = [f'[[problem]]\nid = "dag"\ninputs = {{ {inputs} }}\ngraph = """\n{graph}\n"""\n']
        for cid, wrt, expr in claims:
            out.append(f'[[problem.claim]]\nid = "{cid}"\nof = "{self.output}"\nwrt = "{wrt}"\n'
                       f'expr = "{expr}"\n')
        return "\n".join(out)


def random_dag(pick: Pick, integer: Integer, max_nodes: int = 7) -> Dag:
    dag = Dag([f"x{i}" for i in range(integer(1, 3))])
    names = list(dag.inputs)
    for k in range(integer(1, max_nodes)):
        recent = names[-3:]                       # lean on recent nodes: depth and diamonds
        a = pick(recent if integer(0, 2) else names)
        if integer(0, 2):
            expr = pick(UNARY).format(a=a)
        else:
            b = pick([n for n in names if n != a] or names)   # x0 - x0 is a dull graph
            expr = pick(BINARY).format(a=a, b=b)
        name = f"n{k + 1}"
        dag.lines.append((name, expr))
        names.append(name)
    return dag


# --- printing SymPy back into deriv's syntax ---------------------------------------------------
class _Printer(StrPrinter):
    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Rational(self, expr):
        return f"({expr.p}/{expr.q})"

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Exp1(self, expr):
        return "exp(1)"


def deriv_text(expr: sp.Expr) -> str:
    return _Printer().doprint(expr)


# --- wrong claims ------------------------------------------------------------------------------
def _subexpressions(expr: sp.Expr, kind) -> list[sp.Expr]:
    return [e for e in sp.preorder_traversal(expr) if isinstance(e, kind) and len(e.args) >= 2]


def mutations(truth: sp.Expr, pick: Pick, integer: Integer) -> list[tuple[str, sp.Expr]]:
    """A sign flipped, a factor dropped, a term dropped: each at a random place (when the
    derivative has such a place)."""
    out = [("sign flipped", -truth)]
    products = _subexpressions(truth, sp.Mul)
    if products:
        product = pick(products)
        dropped = product.args[integer(0, len(product.args) - 1)]
        out.append(("factor dropped", truth.xreplace({product: product.func(
            *[a for a in product.args if a is not dropped])})))
    sums = _subexpressions(truth, sp.Add)
    if sums:
        total = pick(sums)
        dropped = total.args[integer(0, len(total.args) - 1)]
        out.append(("term dropped", truth.xreplace({total: total.func(
            *[a for a in total.args if a is not dropped])})))
    return out


def evaluate(expr: sp.Expr, env: dict, n: int) -> np.ndarray:
    """expr at n points (deriv's NumPy namespace for its own functions, via lambdify)."""
    free = tuple(sorted(expr.free_symbols, key=lambda s: s.name))
    with np.errstate(all="ignore"):
        fn = sp.lambdify(free, expr, modules=[numpy_namespace(), "numpy"])
        out = np.asarray(fn(*(env[s] for s in free)), dtype=float)
    return np.broadcast_to(out, (n,)).copy()


def node_values(graph, points: dict[str, np.ndarray]) -> dict:
    env = {graph.symbols[n]: v for n, v in points.items()}
    n = len(next(iter(points.values())))
    for name in graph.order:
        env[graph.symbols[name]] = evaluate(graph.nodes[name].expr, env, n)
    return env


def differs_on_positive_measure(graph, a: sp.Expr, b: sp.Expr, seed: int = 12345,
                                n: int = 4000, fraction: float = 1e-3) -> bool:
    """Do a and b (in node symbols) differ on a set of positive measure of the sampled box?
    Judged on n fresh uniform points (not the checker's): differing at ≥ `fraction` of the
    points where both are finite."""
    rng = np.random.default_rng(seed)
    env = node_values(graph, {i: rng.uniform(LOW, HIGH, n) for i in graph.inputs})
    va, vb = evaluate(a, env, n), evaluate(b, env, n)
    finite = np.isfinite(va) & np.isfinite(vb)
    if finite.sum() < n // 10:
        return False
    with np.errstate(all="ignore"):
        differ = np.abs(va - vb) > 1e-6 * (1 + np.maximum(np.abs(va), np.abs(vb)))
    return bool((differ & finite).sum() >= max(2, fraction * finite.sum()))
