"""A claim right on one side of a kink and wrong on the other: a piece of a piecewise derivative
forgotten or miswritten (the squared loss's r beyond Huber's |r| = δ, a sign(r) lost where
r < 0). The wrong points must be exactly the points on one side of a kink, or in one cell of
two kinks (the kinks' sides are known at every drawn point); a kink whose argument is an array
counts only where it is one number a point."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import sympy as sp

from deriv.findings import Finding
from deriv.primitives import kink_arguments
from deriv.program import at_point, close, per_point

MAX_BRANCH_KINKS = 8        # kinks whose sides (alone and in pairs) may bound a wrong branch


def wrong_branch(pairs, pc, graph, written, target, atol: float) -> Finding | None:
    """`pairs`: (batch, claim's value, truth, valid points) per batch, as a diagnosis has them."""
    wrong = [ok & ~per_point(close(c, t, atol=atol)) for _, c, t, ok in pairs
             if c is not None and np.shape(c) == np.shape(t)]
    if len(wrong) < len(pairs):
        return None
    valid = np.concatenate([ok for *_, ok in pairs])
    every_wrong = np.concatenate(wrong)
    if every_wrong.sum() < 3 or (valid & ~every_wrong).sum() < 3:
        return None
    # the graph's kinks first, then the claim's own (another claim's are not its branches)
    graph_kinks = {k for n in graph.order for k in kink_arguments(graph.nodes[n].expr)}
    own = set(kink_arguments(written)) if written is not None else set()
    tried: set = set()
    for allowed in (graph_kinks, graph_kinks | own):
        sides = []
        for kink in [k for k in pc.kinks if k in allowed][:MAX_BRANCH_KINKS]:
            pos, neg = (np.concatenate(m) for m in zip(*(b.sides(kink) for b, *_ in pairs)))
            if not (pos & neg).any():
                sides += [(sp.StrictGreaterThan(kink, 0), pos), (sp.StrictLessThan(kink, 0), neg)]
        cells = [(a,) for a in sides] + [(a, b) for a, b in combinations(sides, 2)
                                         if a[0].lhs != b[0].lhs]
        for cell in cells:
            if _key(cell) in tried or not np.array_equal(
                    np.logical_and.reduce([m for _, m in cell]) & valid, every_wrong):
                continue
            # a point on the wrong side, with the claim's value and the truth there
            (batch, c, t, _), here = next((p, w) for p, w in zip(pairs, wrong) if w.any())
            i = int(np.flatnonzero(here)[0])
            point = tuple((name, at_point(v, i)) for name, v in batch.inputs.items())
            return Finding("wrong-branch", target, expr=sp.And(*(_readable(r) for r, _ in cell)),
                           point=point, values=(at_point(c, i), at_point(t, i)))
        tried |= {_key(c) for c in cells}
    return None


def _key(cell) -> tuple:
    return tuple(r for r, _ in cell)


def _readable(relation):
    """a − δ > 0 as a > δ: the terms of a kink's argument on the side their sign puts them."""
    terms = sp.Add.make_args(relation.lhs)
    plus = sp.Add(*(t for t in terms if not t.could_extract_minus_sign()))
    minus = -sp.Add(*(t for t in terms if t.could_extract_minus_sign()))
    if plus == 0 or minus == 0:
        return relation
    return relation.func(plus, minus)

