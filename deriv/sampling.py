"""Drawing inputs from their declared domains, seeded so that a run can be repeated."""

from __future__ import annotations

import numpy as np

from deriv.graph import Input

REAL = (-2.0, 2.0)          # wide enough to see both sides of every kink in the documents'
POSITIVE = (0.1, 2.5)       # problems, narrow enough that exp(exp(x)) stays finite


def draw(inp: Input, n: int, rng: np.random.Generator) -> np.ndarray:
    if inp.domain == "positive":
        return rng.uniform(*POSITIVE, n)
    if inp.domain == "negative":
        return -rng.uniform(*POSITIVE, n)
    if inp.domain == "nonzero":
        return rng.choice([-1.0, 1.0], n) * rng.uniform(*POSITIVE, n)
    if inp.domain == "interval" and inp.interval:
        return rng.uniform(*inp.interval, n)
    return rng.uniform(*REAL, n)


def draw_all(inputs: dict[str, Input], n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: draw(inp, n, rng) for name, inp in inputs.items()}
