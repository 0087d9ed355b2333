"""Drawing inputs from their declared domains and sizes, seeded so that a run can be repeated.

Arrays keep the sample axis last: a scalar input is (S,), a matrix (rows, cols, S). A problem
with symbolic sizes is drawn at several size assignments — one square (every size 3), the
others distinct where they can be — so a formula right only for square inputs fails.
"""

from __future__ import annotations

import numpy as np

from deriv.graph import Input
from deriv.problem import SIZE_RANGE, holds, size_values

REAL = (-2.0, 2.0)          # wide enough to see both sides of every kink in the documents'
POSITIVE = (0.1, 2.5)       # problems, narrow enough that exp(exp(x)) stays finite
ASSIGNMENTS = 4             # size assignments of a problem with symbolic sizes


def draw(inp: Input, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    structure = getattr(inp, "structure", "")
    if structure:
        return draw_structured(structure, inp, shape, rng)
    n = shape[-1]
    if inp.domain == "positive":
        return rng.uniform(*POSITIVE, shape)
    if inp.domain == "negative":
        return -rng.uniform(*POSITIVE, shape)
    if inp.domain == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(*POSITIVE, shape)
    if inp.domain == "interval" and inp.interval:
        return rng.uniform(*inp.interval, shape)
    del n
    return rng.uniform(*REAL, shape)


def draw_structured(structure: str, inp: Input, shape: tuple, rng) -> np.ndarray:
    """One-hot and probability vectors (a matrix: each row), symmetric and positive definite
    matrices; shape is (rows, cols, samples)."""
    rows, cols, n = shape
    along = 0 if inp.shape[1] == 1 else 1   # a vector along its length, a matrix its rows
    if structure == "onehot":
        length = shape[along]
        hot = rng.integers(0, length, (rows if along else 1, n))
        out = np.zeros(shape)
        if along:
            out[np.arange(rows)[:, None], hot, np.arange(n)[None, :]] = 1.0
        else:
            out[hot[0], 0, np.arange(n)] = 1.0
        return out
    if structure == "simplex":              # uniform on the open simplex (Dirichlet(1))
        e = rng.exponential(1.0, shape)
        return e / e.sum(axis=along, keepdims=True)
    base = draw(Input(inp.name, inp.symbol, inp.domain, inp.interval), shape, rng)
    if structure == "symmetric":
        return (base + np.swapaxes(base, 0, 1)) / 2
    # positive definite: B Bᵀ / n + I / 10, its eigenvalues at least 1/10
    return np.einsum("iks,jks->ijs", base, base) / rows + 0.1 * np.eye(rows)[..., None]


def size_assignments(sizes, seed: int, count: int = ASSIGNMENTS, relations=(),
                     ranges: dict | None = None) -> list[dict]:
    """One square assignment (every size 3); then distinct sizes in increasing and in
    decreasing order, so that every pair of sizes is drawn both ways (m < n and m > n: a
    formula right only for tall matrices, or undefined for wide ones, is never checked on
    square settings alone); then random ones. With `relations` (m >= n, the problem's
    `sizes`), only assignments that satisfy them ([] if none in the drawn range does).
    `ranges` (deriv.constraints.ranges: --size, onehot(k, n)) fix sizes or bound their draws."""
    if ranges:
        return [a for a in _within(sizes, seed, count, ranges) if holds(a, relations)]
    if relations:
        return _related(sizes, seed, count, relations)
    rng = np.random.default_rng(seed)
    out = [{s: 3 for s in sizes}]
    if not sizes:
        return out
    lo, hi = SIZE_RANGE
    # then each size through every other value of the range, the sizes shifted against each
    # other: every size takes every value once (a claim wrong only at n = 5 is seen), and
    # two sizes are drawn both ways, m < n and m > n
    others = [int(v) for v in rng.permutation([v for v in range(lo, hi) if v != 3])]
    for j in range(len(others)):
        out.append({s: others[(j + i) % len(others)] for i, s in enumerate(sizes)})
    while len(out) < count:
        out.append({s: int(v) for s, v in zip(sizes, rng.integers(lo, hi, len(sizes)))})
    return out


CANDIDATES = 4096           # size assignments tried against a problem's relations


def _related(sizes, seed: int, count: int, relations) -> list[dict]:
    """Assignments that satisfy the relations: the square one and the two orders where they
    fit, then the fitting assignment with the most distinct sizes (a rectangular setting is
    kept whenever the relations allow one), then random fitting ones."""
    rng = np.random.default_rng(seed)
    lo, hi = SIZE_RANGE
    k = len(sizes)
    values = np.array(size_values(relations))      # (2…5, and m == 8's 8)
    if len(values) ** k <= CANDIDATES:
        grid = np.stack(np.meshgrid(*[values] * k, indexing="ij"), -1).reshape(-1, k)
    else:
        grid = rng.choice(values, (CANDIDATES, k))
    fitting = [a for a in ({s: int(v) for s, v in zip(sizes, row)} for row in grid)
               if holds(a, relations)]
    if not fitting:
        return []
    proposals = [{s: 3 for s in sizes}]
    if k <= hi - lo:
        values = sorted(rng.permutation(np.arange(lo, hi))[:k])
        proposals += [{s: int(v) for s, v in zip(sizes, values)},
                      {s: int(v) for s, v in zip(sizes, reversed(values))}]
    out = [a for a in proposals if holds(a, relations)]
    out = [a for i, a in enumerate(out) if a not in out[:i]]
    most = max(len(set(a.values())) for a in fitting)
    if all(len(set(a.values())) < most for a in out):
        wide = [a for a in fitting if len(set(a.values())) == most]
        out.append(wide[int(rng.integers(len(wide)))])
    fresh = [a for a in fitting if a not in out]
    rng.shuffle(fresh)
    out += fresh[:max(0, count - len(out))]
    while len(out) < count:
        out.append(fitting[int(rng.integers(len(fitting)))])
    return out
def _within(sizes, seed: int, count: int, ranges: dict) -> list[dict]:
    """Assignments inside each size's inclusive range: the square one first (a common value,
    3 where every range holds it), then each size low and high in turn, then random ones;
    a fixed size is always its value."""
    rng = np.random.default_rng(seed)
    bounds = {s: ranges.get(s, (SIZE_RANGE[0], SIZE_RANGE[1] - 1)) for s in sizes}
    lo, hi = max(b[0] for b in bounds.values()), min(b[1] for b in bounds.values())
    common = min(max(3, lo), hi) if lo <= hi else None
    out = [{s: common if common is not None else min(max(3, a), b) for s, (a, b) in
            bounds.items()}]
    free = [s for s in sizes if bounds[s][0] < bounds[s][1]]
    if free:
        up = {s: int(rng.integers(a, b + 1)) for s, (a, b) in bounds.items()}
        out.append(up)
        out.append({s: a + b - up[s] for s, (a, b) in bounds.items()})   # the other way round
        while len(out) < count:
            out.append({s: int(rng.integers(a, b + 1)) for s, (a, b) in bounds.items()})
    unique = []
    for a in out:
        if a not in unique:
            unique.append(a)
    return unique


def concrete(shape: tuple, sizes: dict) -> tuple:
    return tuple(s if isinstance(s, int) else sizes[s] if s in sizes else _product(s, sizes)
                 for s in shape)


def _product(size: str, sizes: dict) -> int:
    """A product of sizes, "2*m*p" (a Kronecker product's rows), at this assignment."""
    out = 1
    for f in size.split("*"):
        out *= int(f) if f.isdigit() else sizes[f]
    return out


def draw_all(inputs: dict[str, Input], n: int, seed: int, sizes: dict | None = None,
             symmetric: bool | frozenset = False) -> dict[str, np.ndarray]:
    """Every input at n points: (n,) for a scalar, (rows, cols, n) for an array."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, inp in inputs.items():
        shape = concrete(inp.shape, sizes or {}) + (n,)
        values = draw(inp, shape, rng)
        if (symmetric is True or (symmetric and name in symmetric)) and len(shape) == 3 \
                and shape[0] == shape[1] and getattr(inp, "structure", "") not in ("onehot",
                                                                                  "simplex"):
            values = (values + np.swapaxes(values, 0, 1)) / 2
        out[name] = values
    return out
