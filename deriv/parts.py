"""A wrong part of a formula, wherever it sits: the piece of a claim that, put right, makes the
whole claim right — tanh′ written 1 − tanh inside (y − t)(1 + w(1 − tanh x)), or a residual
block's ∂y/∂x written without its skip connection's 1.

For each small sub-formula s of the claim (the smallest first), the claim is read as a function
of s alone: evaluated with s set to 0, 1 and 2, it is linear in s where the three agree, and
then the value s must have for the claim to be right follows at every point. That value is
compared, all points at once, with what s may stand for: the partials along the claim's paths
(edges, and totals from wrt — a residual's ∂y/∂x), and each primitive's own derivative at the
graph's arguments (tanh′(x) = 1 − tanh(x)²) and an argument's own slope in wrt (the 1/τ of
exp(z/τ)). A match is confirmed on every sampled point, as
every explanation is. An array claim's parts are those reached through elementwise operations:
each of its elements is then a scalar claim.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from deriv import algebra as A
from deriv import primitives as P
from deriv.findings import Finding
from deriv.parse import DRef, dref_of

MAX_PARTS = 24             # sub-formulas of a claim tried, the smallest first
MAX_PART_CANDIDATES = 96   # partials and primitive derivatives a part may stand for
MAX_PART_OPS = 40          # a claim larger than this is not taken apart


def wrong_part(d) -> Finding | None:
    claim, graph, pc = d.claim, d.graph, d.pc
    written = d.written
    if written is None or claim.is_value or claim.update or not d.pairs or \
            not A.within(written, MAX_PART_OPS):
        return None
    batch, _, truth, valid = d.pairs[0]
    shape = A.shape_of(written)
    if np.shape(truth)[-1:] != np.shape(valid) or np.count_nonzero(valid) < 3:
        return None
    candidates = _candidates(d, shape)
    if not candidates:
        return None
    u = A.symbol("_part", shape)
    zero = [(0, lambda values: 0.0)]      # a term too many, inside
    for where, part in _parts(written, shape):
        replaced = _put(written, where, u)
        need = _needed(d, replaced, u, batch.values, truth, valid)
        if need is None:
            continue
        added = _parent(written, where).is_Add
        for label, value in (zero if added else []) + candidates:
            got = np.broadcast_to(value(batch.values), np.shape(need))
            defined = valid & _per_point(np.isfinite(need) & np.isfinite(got))
            if np.count_nonzero(defined) < max(3, np.count_nonzero(valid) // 2):
                continue
            if not np.allclose(got[..., defined], need[..., defined], rtol=1e-6, atol=d.atol):
                continue

            def fixed(b, k, replaced=replaced, value=value):
                return _evaluate(pc, b.values, replaced, u, value(b.values))
            if d.matches(fixed, lambda b, k: d.pairs[k][2]):
                return _finding(d, part, label, added)
    return None


def _parts(written: sp.Expr, shape: tuple) -> list[tuple[tuple, sp.Expr]]:
    """(where, sub-formula): each place in the claim that may hold a wrong piece — not a number,
    not the whole — the smallest first (the most precise explanation). One place each: the x
    added in 1 + x + w·tanh(x) is not the x inside tanh. In an array claim, the parts of its
    shape reached through elementwise operations alone (each element is a scalar claim)."""
    found: list[tuple[int, tuple, sp.Expr]] = []

    def walk(e, where, elementwise):
        inner = elementwise and (not shape or _elementwise(e))
        size = 1 + sum(walk(a, where + (i,), inner) for i, a in enumerate(e.args))
        if where and elementwise and not e.is_Number and A.shape_of(e) == shape and \
                not (e.is_Mul and e.args[0] == -1 and len(e.args) == 2):
            found.append((size, where, e))
        return size
    walk(written, (), True)
    found.sort(key=lambda f: f[0])
    return [(where, e) for _, where, e in found[:MAX_PARTS]]


def _put(e: sp.Expr, where: tuple, part) -> sp.Expr:
    """e with the sub-formula at `where` replaced by `part`."""
    if not where:
        return part
    args = list(e.args)
    args[where[0]] = _put(args[where[0]], where[1:], part)
    return e.func(*args)


def _elementwise(e: sp.Expr) -> bool:
    entry = P.entry_of(e)
    return isinstance(e, (sp.Add, sp.Mul)) or (e.is_Pow and not A.shape_of(e.exp)) or \
        (entry is not None and entry.elementwise)


def _per_point(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1]).all(axis=0)


def _evaluate(pc, values, expr: sp.Expr, u: sp.Symbol, part_value):
    extra = {s: pc.derivative(values, d) for s in A.free(expr) if (d := dref_of(s))}
    extra[u] = np.broadcast_to(np.asarray(part_value, dtype=float),
                               values.shape(u) + (values.n,)).copy()
    return values.value(expr, extra)


def _needed(d, replaced, u, values, truth, valid):
    """The value the part (u in `replaced`) must have for the claim to be right, where the
    claim is linear in it (None where it is not, or where the part's coefficient vanishes)."""
    if u not in replaced.free_symbols:
        return None
    try:
        with np.errstate(all="ignore"):
            c0, c1, c2 = (_evaluate(d.pc, values, replaced, u, k) for k in (0.0, 1.0, 2.0))
            slope = c1 - c0
            linear = np.abs(c2 - 2 * c1 + c0) <= 1e-9 * (np.abs(c0) + np.abs(c1) + np.abs(c2)
                                                          + d.scale)
            if np.shape(c0) != np.shape(truth) or not _per_point(linear)[valid].all():
                return None
            need = np.where(np.abs(slope) > 1e-12 * (d.scale + 1), (truth - c0) / slope, np.nan)
    except (KeyError, ValueError, ZeroDivisionError, A.ShapeError):
        return None
    return need


def _candidates(d, shape: tuple) -> list[tuple[object, object]]:
    """(what it is, values(batch values) → its values): the partials along the claim's paths,
    edges and totals, and the primitives' derivatives at the graph's arguments (of the claim's
    shape: an array claim's parts are elementwise)."""
    claim, graph, pc = d.claim, d.graph, d.pc
    on = [n for n in graph.order if graph.depends(claim.of, n) and graph.depends(n, claim.wrt)]
    on_set = set(on) | {claim.wrt}
    wrt = graph.symbols[claim.wrt]
    out: list[tuple[object, object]] = []

    def partial(of, wrt, local):
        if shape or graph.shape(of) or graph.shape(wrt) or (of, wrt) == (claim.of, claim.wrt):
            return              # (not the claim's own derivative: "δ should be ∂L/∂r" is no news)
        def value(values, of=of, wrt=wrt, local=local):
            return values.derivative(of, wrt, claim.layout, local)
        out.append(((DRef(of, wrt, claim.layout), local), value))
    for a in on:
        for b in graph.parents(a):
            if b in on_set:
                partial(a, b, True)
    for a in on:               # totals from wrt (a residual block's ∂y/∂x, both its paths)
        if sum(1 for b in graph.parents(a) if b in on_set) > 1 or \
                (claim.wrt in graph.parents(a) and graph.depends(a, claim.wrt) and
                 any(b != claim.wrt and graph.depends(b, claim.wrt) for b in graph.parents(a))):
            partial(a, claim.wrt, False)
    seen: set = set()
    for a in on:
        for call in sp.preorder_traversal(graph.nodes[a].expr):
            entry = P.entry_of(call)
            if entry is None or not entry.partials or call in seen or \
                    A.shape_of(call) != shape:
                continue
            seen.add(call)
            forms = [entry.partials[i](*call.args) for i in range(len(call.args))]
            # and an argument's own slope in wrt: the 1/τ of exp(z/τ)
            forms += [sp.diff(arg, wrt) for arg in call.args if not shape and
                      not arg.is_Atom and wrt in arg.free_symbols and A.within(arg, 8)]
            for form in forms:
                if form not in seen and not form.is_Number and A.shape_of(form) == shape:
                    seen.add(form)
                    out.append((form, lambda values, form=form: pc.evaluate(values, form)))
    return out[:MAX_PART_CANDIDATES]


def _parent(e: sp.Expr, where: tuple) -> sp.Expr:
    for i in where[:-1]:
        e = e.args[i]
    return e


def _finding(d, part, label, added: bool) -> Finding:
    """Said as a term where the part is added, as a factor where it multiplies or sits
    deeper."""
    kind = "wrong-term" if added else "wrong-factor"
    if label == 0:
        return Finding("extra-term", d.target, expr=part)
    if isinstance(label, tuple):
        ref, local = label
        formula = d.graph.local(ref.of, ref.wrt) if local else d.formula(ref.of, ref.wrt)
        return Finding("wrong-factor", d.target, derivative=ref, printed=part, expr=formula)
    return Finding(kind, d.target, printed=part, expr=label)
