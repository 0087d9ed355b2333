"""Sampling that reaches every kink: points on each side of every branch.

The kink arguments are known symbolically (deriv.primitives.kink_arguments: the argument of a
relu, 𝕀, abs, max, …). A batch drawn from the declared domains may see only one side of one
(relu(x − 3) for a `real` x drawn in [−2, 2]). For each side never seen, inputs are drawn
wide (magnitudes 10⁻³ … 10⁴ on unbounded domains, the ends of an interval), and from a drawn
point on that side a bisection along the segment to a point of the batch finds where the
sign switches: the points on both sides of the crossing join the batch. Everything is
seeded and bounded by counts, so a run is repeatable.
"""

from __future__ import annotations

import numpy as np

from deriv.program import Values
from deriv.sampling import concrete, draw

CANDIDATES = 512        # wide draws looked at
PER_SIDE = 4            # crossings located per unseen side
STEPS = 24              # bisection steps (the pair ends 2⁻²⁴ of a segment apart)
WIDE = (-3.0, 4.0)      # log10 of the magnitudes drawn on an unbounded domain
OFFSETS = (0.0, 1e-3, 0.1, 0.0, 1e-3, 0.1, 1.0)   # from the crossing, as a part of the segment


def _wide(inp, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    magnitude = 10.0 ** rng.uniform(*WIDE, shape)
    if inp.domain == "positive":
        return magnitude
    if inp.domain == "negative":
        return -magnitude
    if inp.domain == "interval" and inp.interval:
        lo, hi = inp.interval
        near = (hi - lo) * 10.0 ** rng.uniform(-9.0, 0.0, shape)
        return np.where(rng.random(shape) < 0.5, lo + near, hi - near)
    return rng.choice([-1.0, 1.0], shape) * magnitude


def _sides(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point: has some element > 0, has some element < 0 (finite ones only)."""
    flat = values.reshape(-1, values.shape[-1]) if np.ndim(values) > 1 else values[None]
    with np.errstate(invalid="ignore"):
        return (flat > 0).any(axis=0), (flat < 0).any(axis=0)


def unseen(kink_values: dict) -> list[tuple[object, int]]:
    """(kink, side) for every side of a kink that no point reached."""
    out = []
    for k, v in kink_values.items():
        pos, neg = _sides(v)
        out += [(k, s) for s, seen in ((1, pos.any()), (-1, neg.any())) if not seen]
    return out


def reach(problem, inputs: dict[str, np.ndarray], sizes: dict, kink_values: dict,
          seed: int, most: int) -> dict[str, np.ndarray] | None:
    """Up to `most` points, on both sides of the crossings of every kink side unseen in
    `inputs` (whose kink values are given), or None if none was found."""
    missing = unseen(kink_values)
    if not missing or most < 2:
        return None
    rng = np.random.default_rng(seed + 104_729)
    n = next(iter(inputs.values())).shape[-1]
    # a constrained input (one-hot, probability, positive definite) is drawn as declared
    wide = {name: (draw(inp, concrete(inp.shape, sizes) + (CANDIDATES,), rng) if inp.structure
                   else _wide(inp, concrete(inp.shape, sizes) + (CANDIDATES,), rng))
            for name, inp in problem.inputs.items()}
    kinks = list(dict.fromkeys(k for k, _ in missing))
    with np.errstate(all="ignore"):
        found = Values(problem, wide, sizes).kinks(kinks)
    pairs: list[tuple[object, int, int, int]] = []       # kink, side, batch point, wide point
    for k, side in missing:
        pos, neg = _sides(found[k])
        hits = np.flatnonzero(pos if side > 0 else neg)[:PER_SIDE]
        pairs += [(k, side, int(rng.integers(n)), int(j)) for j in hits]
    pairs = pairs[: most // len(OFFSETS)]
    if not pairs:
        return None
    start = {name: v[..., [p[2] for p in pairs]] for name, v in inputs.items()}
    end = {name: v[..., [p[3] for p in pairs]] for name, v in wide.items()}
    for name, inp in problem.inputs.items():     # between two one-hot points is none: stay
        if inp.structure == "onehot":
            end[name] = start[name]
    lo, hi = np.zeros(len(pairs)), np.ones(len(pairs))

    def at(t):
        return {name: start[name] + (end[name] - start[name]) * t for name in start}

    for _ in range(STEPS):                 # the side is absent at lo, present at hi
        mid = (lo + hi) / 2
        with np.errstate(all="ignore"):
            values = Values(problem, at(mid), sizes).kinks(kinks)
        present = np.zeros(len(pairs), dtype=bool)
        for p, (k, side, _, _) in enumerate(pairs):
            pos, neg = _sides(values[k][..., p:p + 1])
            present[p] = bool((pos if side > 0 else neg)[0])
        hi, lo = np.where(present, mid, hi), np.where(present, lo, mid)
    # the crossing's two sides, at the kink and a little and further away (a point within
    # 10⁻⁶ of a kink is not compared), and the wide point itself
    points = [at(lo - lo * f) for f in OFFSETS[:3]] + [at(hi + (1 - hi) * f) for f in OFFSETS[3:]]
    return {name: np.concatenate([p[name] for p in points], axis=-1) for name in start}
