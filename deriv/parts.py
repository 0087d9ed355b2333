"""A wrong part of a formula, wherever it sits: the piece of a claim that, put right, makes the
whole claim right — tanh′ written 1 − tanh inside (y − t)(1 + w(1 − tanh x)), or a residual
block's ∂y/∂x written without its skip connection's 1.

For each small sub-formula s of the claim reached through its sums and products (the smallest
first), the claim is linear in s, C = a·s + b: a and b follow from one evaluation of the claim's
sums and products, and so does the value s must have for the claim to be right. That value is
compared, all points at once, with what s may stand for: the partials along the claim's paths
(edges, and totals from wrt — a residual's ∂y/∂x), and each primitive's own derivative at the
graph's arguments (tanh′(x) = 1 − tanh(x)²) and an argument's own slope in wrt (the 1/τ of
exp(z/τ)). A match is confirmed on every sampled point, as
every explanation is. An array claim's parts are those reached through elementwise operations:
each of its elements is then a scalar claim.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import sympy as sp

from deriv import algebra as A
from deriv import primitives as P
from deriv.findings import Finding
from deriv.matrix_form import reference_form
from deriv.parse import DRef

MAX_PARTS = 32             # sub-formulas of a claim tried, the smallest first
MAX_PART_CANDIDATES = 96   # partials and primitive derivatives a part may stand for
MAX_PART_OPS = 40          # a claim larger than this is not taken apart
MAX_PAIRED_FACTORS = 12    # a product of more factors is not tried two factors at a time


def wrong_part(d) -> Finding | None:
    claim, pc = d.claim, d.pc
    written = d.written
    if written is None or claim.is_value or claim.update or not d.pairs or \
            not A.within(written, MAX_PART_OPS):
        return None
    shape = A.shape_of(written)
    trees = {}
    for k, (batch, _, truth, valid) in enumerate(d.pairs[:MAX_SOLVED_BATCHES]):
        if np.shape(truth)[-1:] != np.shape(valid) or np.count_nonzero(valid) < 3:
            continue
        try:
            with np.errstate(all="ignore"):
                tree = _Tree(pc, batch.values, written)
        except (KeyError, ValueError, ZeroDivisionError, A.ShapeError):
            continue
        if np.shape(tree.value[()]) == np.shape(truth):
            trees[k] = tree
    if not trees:
        return None
    first = min(trees)
    found = _search(d, first, trees[first], (), d.pairs[first][2], shape)
    if found is not None:
        return found
    # inside a matrix product (δ ⊙ s)xᵀ, Wᵀ(v ⊙ s): the factor that holds the part, solved
    # for where the other factor fixes it (full rank: at the first size setting where it
    # does), is searched the same way
    tried = set()
    for k, tree in trees.items():
        batch, _, truth, _ = d.pairs[k]
        for place, need in _solved_factors(tree, truth):
            if place in tried:
                continue
            tried.add(place)
            try:
                with np.errstate(all="ignore"):
                    inner = _Tree(pc, batch.values, tree.at(place))
            except (KeyError, ValueError, ZeroDivisionError, A.ShapeError):
                continue
            found = _search(d, k, inner, place, need, A.shape_of(tree.at(place)))
            if found is not None:
                return found
    return None


MAX_SOLVED_BATCHES = 4     # size settings tried for a matrix product's factor to be solved


def _search(d, k: int, tree, prefix: tuple, truth, shape) -> Finding | None:
    """The part of `tree` (the claim's sub-formula at `prefix`, which must come to `truth` on
    batch k) that, put right, makes the whole claim right: deleted (a factor too many),
    replaced, or multiplied by what it misses (a mask lost inside a matrix product)."""
    pc, written, batch, valid = d.pc, d.written, d.pairs[k][0], d.pairs[k][3]
    candidates = _candidates(d, shape)
    if not candidates:
        return None
    # each candidate's values on the batch, all at once; the first row is 0 (a term too
    # many, inside a sum), the second 1 (a factor too many, inside a product)
    candidates = [(0, lambda values: 0.0), (1, lambda values: 1.0)] + candidates
    with np.errstate(all="ignore"):
        rows = np.stack([np.broadcast_to(np.asarray(value(batch.values), dtype=float),
                                         np.shape(truth)) for _, value in candidates])
    finite = np.isfinite(rows)
    n = len(candidates)
    enough = max(3, np.count_nonzero(valid) // 2)

    def plausible_for(need, atol, some=False):
        """Rows close to `need` wherever both are defined, on enough points: where every
        element is defined, or (`some`: a ratio, undefined where a mask is 0) one is."""
        with np.errstate(all="ignore"):
            defined = finite & np.isfinite(need)
            close = np.isclose(rows, need, rtol=1e-6, atol=atol) | ~defined
        defined = defined.reshape(n, -1, defined.shape[-1])
        defined = (defined.any(axis=1) if some else _per_point(defined)) & valid
        close = _per_point(close.reshape(n, -1, close.shape[-1]))
        return (close | ~defined).all(axis=1) & (defined.sum(axis=1) >= enough)
    u = A.symbol("_part", shape)
    tried = []
    for where, block, part, value_at, a in tree.parts(shape, whole=bool(prefix)):
        with np.errstate(all="ignore"):      # (linear in the part: C + a·(s − part) = truth)
            a = np.broadcast_to(a, np.shape(truth))
            need = np.where(np.abs(a) > 1e-12 * (d.scale + 1),
                            value_at + (truth - tree.value[()]) / a, np.nan)
            ratio = np.where(np.abs(value_at) > 1e-12 * (d.scale + 1), need / value_at,
                             np.nan)
        plausible = plausible_for(need, d.atol, some=True)
        added = block is None and _parent(written, prefix + where).is_Add
        plausible[0] &= added
        plausible[1] &= not added
        # (a ratio is a pure number; a factor solved through a matrix product carries its
        # solve's round-off, so the screen is loose and the confirmation below exact)
        missing = plausible_for(np.broadcast_to(ratio, np.shape(truth)), 1e-6, some=True)
        missing[:2] = False                  # (times 0 or 1 is no factor)
        missing &= not added
        tried.append((where, block, part, added, plausible, missing))
    # a factor that is simply too many (σ′ once more: (p − y) ⊙ p ⊙ (1 − p)) before any
    # smaller part put right (p "should be" 1/(1 − p)): the simplest edit first; a factor
    # missing from a part (G for G ⊙ 𝕀[Z > 0] in (G ⊙ 𝕀[Z > 0])Xcᵀ) last
    for reading in ("deleted", "replaced", "missing"):
        for where, block, part, added, plausible, missing in tried:
            rows_here = missing if reading == "missing" else plausible
            for j in np.flatnonzero(rows_here):
                if (reading == "deleted") != (j == 1) and reading != "missing":
                    continue
                label, value = candidates[j]
                replaced = _put(written, prefix + where, u if block is None else sp.Mul(u, *(
                    x for i, x in enumerate(tree.at(where).args) if i not in block)))
                if reading == "missing":
                    def value(values, value=value, part=part):
                        return np.asarray(pc.evaluate(values, part)) * value(values)

                def fixed(b, k, replaced=replaced, value=value):
                    return _evaluate(pc, b.values, replaced, u, value(b.values))
                if d.matches(fixed, lambda b, k: d.pairs[k][2]):
                    if reading == "deleted":
                        return Finding("extra-factor", d.target, expr=part)
                    if reading == "missing":
                        return _missing(d, part, label)
                    return _finding(d, part, label, added)
    return None


def _missing(d, part, label) -> Finding:
    if isinstance(label, tuple):
        ref, local = label
        formula = d.graph.local(ref.of, ref.wrt) if local else d.shown_formula(ref.of, ref.wrt)
        return Finding("missing-factor", d.target, derivative=ref, printed=part,
                       expr=None if formula is None else reference_form(formula))
    return Finding("missing-factor", d.target, printed=part, expr=label)


def _solved_factors(tree, truth):
    """(place of a factor of a matrix product L·R in the claim, the values it must have): for
    each product reached through the claim's sums and products, the factor whose value the
    claim's truth fixes — R where L has full column rank, L where R has full row rank —
    solved point by point (least squares, then checked); under a transpose, its argument."""
    for where, a in tree.coefficient.items():
        e = tree.at(where)
        entry = P.entry_of(e)
        if entry is None or entry.name != "matmul":
            continue
        left, right = (tree.pc.evaluate(tree.values, x) for x in e.args)
        with np.errstate(all="ignore"):
            a = np.broadcast_to(a, np.shape(truth))
            product = tree.value[where]
            if np.shape(product) != np.shape(truth) or not np.all(np.abs(a) > 1e-12):
                continue
            product_need = product + (truth - tree.value[()]) / a
        for factor in (1, 0):
            solved = _solve(left, right, product_need, factor)
            if solved is None:
                continue
            place = where + (factor,)
            while P.entry_of(tree.at(place)) is P.REGISTRY["transpose"]:   # q in (…)qᵀ
                place, solved = place + (0,), np.swapaxes(solved, 0, 1)
            yield place, solved


def _solve(left, right, need, factor: int):
    """The factor (0: left, 1: right) X with L·X = need or X·R = need at every point, where
    the other factor determines it; None otherwise. Points are the last axis."""
    other = left if factor == 1 else right
    if np.ndim(other) != 3 or np.ndim(need) != 3:
        return None
    o = np.moveaxis(other, -1, 0)
    n = np.moveaxis(need, -1, 0)
    if factor == 0:                       # X·R = need ⇔ Rᵀ·Xᵀ = needᵀ
        o, n = o.transpose(0, 2, 1), n.transpose(0, 2, 1)
    if o.shape[1] < o.shape[2] or not np.all(np.isfinite(o)) or not np.all(np.isfinite(n)):
        return None                        # (wide: many X would do)
    if np.any(np.linalg.matrix_rank(o) < o.shape[2]):
        return None
    x = np.linalg.lstsq(o[0], n[0], rcond=None)[0][None] if len(o) == 1 else \
        np.linalg.solve(o.transpose(0, 2, 1) @ o, o.transpose(0, 2, 1) @ n)
    if not np.allclose(o @ x, n, rtol=1e-6, atol=1e-9 * (np.abs(n).max() + 1)):
        return None                        # (no X gives it: the mistake is elsewhere)
    if factor == 0:
        x = x.transpose(0, 2, 1)
    return np.moveaxis(x, 0, -1)


class _Tree:
    """The claim's value at every place of its sums and products, and each place's coefficient:
    the claim is linear in any part reached through sums and (elementwise) products alone,
    C = a·part + b, so the value the part must have follows from one evaluation — the other
    places (a function, a power, a matrix product) are evaluated whole, each distinct one once."""

    def __init__(self, pc, values, written: sp.Expr):
        self.pc, self.values, self.written = pc, values, written
        self.value: dict[tuple, object] = {}
        self.coefficient: dict[tuple, object] = {}
        self.size: dict[tuple, int] = {}
        self._whole: dict[sp.Expr, object] = {}
        self._walk(written, ())
        self._spread(written, (), 1.0)

    def _walk(self, e, where):
        if e.is_Add or e.is_Mul:
            parts = [self._walk(a, where + (i,)) for i, a in enumerate(e.args)]
            v = sum(parts[1:], parts[0]) if e.is_Add else _product(parts)
        elif e.is_Number:
            v = float(e)
        else:
            if e not in self._whole:
                self._whole[e] = self.pc.evaluate(self.values, e)
            v = self._whole[e]
        self.value[where] = v
        self.size[where] = 1 + sum(self.size[where + (i,)] for i in range(len(e.args))) \
            if (e.is_Add or e.is_Mul) else sum(1 for _ in sp.preorder_traversal(e))
        return v

    def _spread(self, e, where, a):
        self.coefficient[where] = a
        if e.is_Add:
            for i, x in enumerate(e.args):
                self._spread(x, where + (i,), a)
        elif e.is_Mul:     # each factor's coefficient: a times the others (prefix and suffix
            values = [self.value[where + (j,)] for j in range(len(e.args))]   # products: a
            before, after = [a], [1.0]                    # product of 300 factors is linear)
            for v in values[:-1]:
                before.append(_product([before[-1], v]))
            for v in reversed(values[1:]):
                after.append(_product([after[-1], v]))
            after.reverse()
            for i, x in enumerate(e.args):
                self._spread(x, where + (i,), _product([before[i], after[i]]))

    def parts(self, shape: tuple, whole: bool = False) -> list[tuple]:
        """(where, block, sub-formula, its value, its coefficient): each place in a sum or
        product that may hold the wrong piece — not a number, not the whole, of the claim's
        shape — and each pair of a product's factors (r(1 + r) for σ′ = r(1 − r) among
        h·r·(1 + r)·u), the smallest first (the most precise explanation). One place each: the
        x added in 1 + x + w·tanh(x) is not the x inside tanh."""
        found = []
        for where in self.coefficient:
            e = self.at(where)
            if (where or whole) and not e.is_Number and A.shape_of(e) == shape and \
                    not (e.is_Mul and e.args[0] == -1 and len(e.args) == 2):
                found.append((self.size[where], where, None, e, self.value[where],
                              self.coefficient[where]))
            if e.is_Mul and 2 < len(e.args) <= MAX_PAIRED_FACTORS:
                for block in combinations(range(len(e.args)), 2):
                    factors = [e.args[i] for i in block]
                    if any(f.is_Number for f in factors) or \
                            A.shape_of(sp.Mul(*factors)) != shape:
                        continue
                    inside = [self.value[where + (i,)] for i in block]
                    others = [self.value[where + (i,)] for i in range(len(e.args))
                              if i not in block]
                    found.append((sum(self.size[where + (i,)] for i in block) + 1, where,
                                  block, sp.Mul(*factors), _product(inside),
                                  _product([self.coefficient[where], *others])))
        found.sort(key=lambda f: f[0])
        return [f[1:] for f in found[:MAX_PARTS]]

    def at(self, where: tuple) -> sp.Expr:
        e = self.written
        for i in where:
            e = e.args[i]
        return e


def _product(values: list):
    return np.prod(np.broadcast_arrays(*values), axis=0)


def _put(e: sp.Expr, where: tuple, part) -> sp.Expr:
    """e with the sub-formula at `where` replaced by `part`."""
    if not where:
        return part
    args = list(e.args)
    args[where[0]] = _put(args[where[0]], where[1:], part)
    return e.func(*args)


def _per_point(a: np.ndarray) -> np.ndarray:
    """All of each point's elements (points last; a leading axis of candidates kept)."""
    return a.all(axis=tuple(range(1, a.ndim - 1))) if a.ndim > 2 else a


def _evaluate(pc, values, expr: sp.Expr, u: sp.Symbol, part_value):
    return pc.evaluate(values, expr, {u: np.broadcast_to(
        np.asarray(part_value, dtype=float), values.shape(u) + (values.n,)).copy()})


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
    # a form in the graph's own nodes where it holds their expressions: r(1 − r) for σ′
    named = {graph.nodes[n].expr: graph.symbols[n] for n in graph.order
             if not graph.nodes[n].expr.is_Atom}
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
            for form in (f.xreplace(named) for f in forms):
                if form not in seen and not form.is_Number and A.shape_of(form) == shape:
                    seen.add(form)
                    out.append((form, lambda values, form=form: pc.evaluate(values, form)))
    # and another node or input of the part's shape (c written for g in one place, q for h)
    for name in [*graph.inputs, *graph.order]:
        symbol = graph.symbols[name]
        if A.shape_of(symbol) == shape and symbol not in seen:
            seen.add(symbol)
            out.append((symbol, lambda values, symbol=symbol: values.env[symbol]))
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
        formula = d.graph.local(ref.of, ref.wrt) if local else d.shown_formula(ref.of, ref.wrt)
        return Finding("wrong-factor", d.target, derivative=ref, printed=part,
                       expr=None if formula is None else reference_form(formula))
    if added and negated(d, part, label):    # (u·uᵀw/s for −u·uᵀw/s: said as its sign)
        return Finding("term-sign", d.target, expr=part)
    if not added and label != 0 and _within_powers(part / label, part):
        # M² for M, x·y for y: the part holds what it should be times a factor too many
        return Finding("extra-factor", d.target, expr=part / label, printed=part)
    return Finding(kind, d.target, printed=part, expr=label)


def negated(d, part, label) -> bool:
    """Is the term's right value its own negative, at every point of the first batch?"""
    values = d.pairs[0][0].values
    try:
        with np.errstate(all="ignore"):
            a = np.asarray(d.pc.evaluate(values, part), dtype=float)
            b = np.asarray(d.pc.evaluate(values, label), dtype=float)
            a, b = np.broadcast_arrays(a, b)
    except (KeyError, ValueError, TypeError, ZeroDivisionError, IndexError, A.ShapeError):
        return False
    ok = np.isfinite(a) & np.isfinite(b)
    return bool(ok.sum() >= 3 and np.abs(a[ok]).max() > 0 and
                np.allclose(a[ok], -b[ok], rtol=1e-6, atol=d.atol))


def _within_powers(factor, part) -> bool:
    """Is `factor` made of the part's own factors, each to at most its power there?"""
    if factor.is_Number:
        return False
    have, want = part.as_powers_dict(), factor.as_powers_dict()
    return all(k.is_Number or (have.get(k, 0) * p > 0 and abs(p) <= abs(have.get(k, 0)))
               for k, p in want.items() if (k, p) != (1, 1))
