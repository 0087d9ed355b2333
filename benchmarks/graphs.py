"""Synthetic problem files for scaling benchmarks: three graph families at a chosen size.

Each generator returns the TOML text of one problem file (pure Python, no deriv import) with
about `n` graph nodes, inputs drawn from [-2, 2], and three claims the checker must get right:

- `chain(n)`   a scalar chain x → f1 → … → y mixing sin, tanh, exp, constant factors and a
               leaky relu: depth grows, every node has one parent and one child.
- `mlp(n)`     a width-10 ReLU network on scalar nodes with fixed numeric weights (seeded,
               rescaled on sample inputs so that no layer dies): fan-in and fan-out of 10.
- `ladder(n)`  a ladder of diamonds p → (a = sin p, b = cos p) → m(a, b): the number of paths
               from x to y doubles per diamond (2^333 at 1000 nodes), so anything that enumerates
               paths instead of sweeping is exposed.

Claims per problem: the local derivative of y w.r.t. the node just before it (correct), the
same with a sign flipped or a factor 2 (a wrong claim, `expect = "fail"`), and D(y, x) as the
chain through x's children, `D(y, c) * D(c, x)` summed (correct), as `expr` and, unless
`printed_chain=False`, as a printed `chain` too, whose path coverage deriv also checks: mlp has
10^layers paths from x1 to y and ladder 2^diamonds, so that check alone is a scaling test.

    python benchmarks/graphs.py DIR [--no-chain]   # writes chain-10.toml … ladder-1000.toml
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

SIZES = (10, 100, 1000)
DOMAIN = '"interval(-2, 2)"'


def chain(n: int, printed_chain: bool = True) -> str:
    """x → f1 → … → f(n-1) → y = tanh(f(n-1)): n nodes, bounded by the sin/tanh in every cycle."""
    ops = ("sin({})", "tanh(1.5*{} + 0.2)", "1.25*{}", "exp(0.5*{}) - 1", "relu({}) + 0.3*{}")
    lines, prev = [], "x"
    for i in range(1, max(n, 2)):
        lines.append(f"f{i} = " + ops[(i - 1) % len(ops)].format(prev, prev))
        prev = f"f{i}"
    lines.append(f"y = tanh({prev})")
    return _file(f"chain-{n}", f"scalar chain of {len(lines)} nodes", {"x": DOMAIN}, lines,
                 "x", [("dy/dlast", prev, f"1 - tanh({prev})**2"),
                       ("dy/dlast#wrong", prev, f"tanh({prev})**2 - 1", "the sign flipped")],
                 printed_chain)


def mlp(n: int, printed_chain: bool = True, width: int = 10, seed: int = 0) -> str:
    """Width-10 ReLU layers h{l}_{j} = relu(Σ c·h{l-1}_k + b), y = Σ of the last layer.

    Weights are drawn uniformly, then each unit is rescaled so that its pre-activation has zero
    mean and unit spread on 64 sample inputs: every unit stays active on about half of them.
    """
    rng = random.Random(seed)
    layers = max(1, round((n - 1) / width))
    names = [f"x{j + 1}" for j in range(width)]
    samples = [[rng.uniform(-2, 2) for _ in range(width)] for _ in range(64)]
    lines = []
    for layer in range(1, layers + 1):
        new_names, new_samples = [], [[] for _ in samples]
        for j in range(width):
            w = [rng.uniform(-1, 1) for _ in range(width)]
            z = [sum(a * b for a, b in zip(w, s)) for s in samples]
            mean = sum(z) / len(z)
            spread = (sum((v - mean) ** 2 for v in z) / len(z)) ** 0.5 or 1.0
            w = [round(c / spread, 3) for c in w]
            bias = round(-mean / spread, 3)
            name = f"h{layer}_{j}"
            lines.append(f"{name} = relu({_linear(w, names, bias)})")
            for s, out in zip(samples, new_samples):
                out.append(max(0.0, sum(c * v for c, v in zip(w, s)) + bias))
            new_names.append(name)
        names, samples = new_names, new_samples
    lines.append("y = " + " + ".join(names))
    return _file(f"mlp-{n}", f"width-{width} ReLU network of {layers} layers ({len(lines)} nodes)",
                 {f"x{j + 1}": DOMAIN for j in range(width)}, lines, "x1",
                 [("dy/dlast", names[0], "1"),
                  ("dy/dlast#wrong", names[0], "2", "a factor 2 too many")], printed_chain)


def ladder(n: int, printed_chain: bool = True) -> str:
    """Diamonds a_k = sin(p), b_k = cos(p), m_k = 2·a_k·b_k or tanh(a_k + b_k); y = tanh(m_last)."""
    lines, prev = [], "x"
    for k in range(1, max(1, (n - 1) // 3) + 1):
        lines += [f"a{k} = sin({prev})", f"b{k} = cos({prev})",
                  f"m{k} = 2*a{k}*b{k}" if k % 2 else f"m{k} = tanh(a{k} + b{k})"]
        prev = f"m{k}"
    lines.append(f"y = tanh({prev})")
    return _file(f"ladder-{n}", f"ladder of {(len(lines) - 1) // 3} diamonds ({len(lines)} nodes)",
                 {"x": DOMAIN}, lines, "x",
                 [("dy/dlast", prev, f"1 - tanh({prev})**2"),
                  ("dy/dlast#wrong", prev, f"2*(1 - tanh({prev})**2)", "a factor 2 too many")],
                 printed_chain)


FAMILIES = {"chain": chain, "mlp": mlp, "ladder": ladder}


def _linear(weights, names, bias) -> str:
    text = f"{weights[0]}*{names[0]}"
    for c, name in zip(weights[1:], names[1:]):
        text += f" - {-c}*{name}" if c < 0 else f" + {c}*{name}"
    return text + (f" - {-bias}" if bias < 0 else f" + {bias}")


def _file(pid: str, title: str, inputs: dict, lines: list[str], x: str, local: list,
          printed_chain: bool) -> str:
    """One problem: the graph, asks D(y, x), the local claims and the claim on D(y, x) through
    x's children (with a printed `chain`, whose path coverage deriv also checks, or without)."""
    children = [ln.split(" = ")[0] for ln in lines if _uses(ln.split(" = ", 1)[1], x)]
    chain = " + ".join(f"D(y, {c}) * D({c}, {x})" for c in children)
    out = ['[source]', f'title = "deriv benchmark: {title}"', '',
           '[[problem]]', f'id = "{pid}"', f'title = "{title}"', 'mode = "reverse"',
           "inputs = { " + ", ".join(f"{k} = {v}" for k, v in inputs.items()) + " }",
           'output = "y"', f'asks = ["D(y, {x})"]', 'graph = """', *lines, '"""']
    for cid, wrt, expr, *wrong in local:
        out += ['', '[[problem.claim]]', f'id = "{cid}"', 'of = "y"', f'wrt = "{wrt}"',
                f'expr = "{expr}"']
        if wrong:
            out += ['expect = "fail"', f'note = "deliberately wrong: {wrong[0]}"']
    out += ['', '[[problem.claim]]', f'id = "dy/d{x}"', 'of = "y"', f'wrt = "{x}"',
            *([f'chain = "{chain}"'] if printed_chain else []), f'expr = "{chain}"']
    return "\n".join(out) + "\n"


def _uses(expr: str, name: str) -> bool:
    return re.search(rf"\b{name}\b", expr) is not None


def write_all(directory, sizes=SIZES, families=tuple(FAMILIES), printed_chain=True) -> list[Path]:
    """Write FAMILY-SIZE.toml for every family and size into `directory`; return the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for family in families:
        for n in sizes:
            path = directory / f"{family}-{n}.toml"
            path.write_text(FAMILIES[family](n, printed_chain), encoding="utf-8")
            paths.append(path)
    return paths


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--no-chain"]
    if len(args) != 1:
        sys.exit("usage: python benchmarks/graphs.py DIR [--no-chain]")
    for p in write_all(args[0], printed_chain="--no-chain" not in sys.argv):
        print(p)
