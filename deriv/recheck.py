"""Comparing a claim with the truth: in float64 on the batch, then at high precision (mpmath)
wherever float64 cannot be trusted to decide.

- The tolerance follows the scale of the values compared: |c − t| ≤ RTOL·max(|c|, |t|) +
  ATOL·s, where s is the claim's typical magnitude (the median of max(|c|, |t|) over the points
  compared), so a factor 2 on a function of size 10⁻¹² fails as it does at size 1.
- Points where float64 disagrees are re-evaluated with mpmath, the worst first, then a seeded
  random subset of the others, up to a budget of operations (never a clock): a claim is wrong
  when one of them disagrees at high precision too. A point where both sides are lost to
  underflow (a vanishing gradient: 0 = 0 in float64) proves nothing; when no point is left
  that is not, such points are re-evaluated too, where mpmath's exponent never underflows.
- At each point the working precision is raised (30, 60, 120, … digits) until two successive
  precisions agree, so a cancellation such as (1 − cos x)/x² at x = 10⁻¹⁴ is computed right;
  what still differs between the last two is an uncertainty, never a finding. There the
  tolerance is relative only: exponents never underflow, and a true 0 computed as 10⁻⁶⁰ at 60
  digits is within the uncertainty.
"""

from __future__ import annotations

import numpy as np

from deriv.program import mp_flat, per_point

RTOL = 1e-9
PRECISE_RTOL = 1e-12            # at high precision (the digits the working precision keeps)
ATOL = 1e-9                     # × the claim's scale
FLOOR = 1e-12                   # × an array's largest element: at high precision, what of an
                                # element's difference is still round-off
UNDERFLOW = 1e-290              # below this, float64 has lost (or is about to lose) the value
PRECISIONS = (30, 60, 120, 240, 480)    # decimal digits, tried in turn (from 30, or more for
                                        # a point whose values span many decades)
BUDGET = 60_000                 # operations × evaluations a claim's recheck may spend
# a matrix operation whose work grows as n³ weighs n³ operations in that budget: a 64×64
# inverse at 50 digits is not one operation
CUBIC = frozenset({"inv", "det", "logdet", "matmul", "matpow", "expm", "sinm", "cosm",
                   "expm_frechet", "sinm_frechet", "cosm_frechet", "eig", "eigvec",
                   "eig_resolvent"})
MOST_POINTS = 200
FEWEST_POINTS = 8
INFORMATIVE = 10                # compared points not lost to underflow that make a verdict


def sizes(pairs) -> list:
    """max(|c|, |t|) per element, per batch (computed once: scale and compare share it)."""
    with np.errstate(all="ignore"):
        return [np.maximum(np.abs(c), np.abs(t)) for _, c, t, _ in pairs]


def scale(pairs, magnitudes: list | None = None) -> float:
    """The typical magnitude of the values compared: the median over the points of the
    largest element of either side (0 if they are all zero)."""
    if any(c is None or np.shape(c) != np.shape(t) for _, c, t, _ in pairs):
        return 0.0
    found = []
    for (_, _, _, valid), m in zip(pairs, magnitudes or sizes(pairs)):
        m = m.reshape(-1, m.shape[-1]).max(axis=0) if m.ndim > 1 else m
        m = m[valid]
        m = m[np.isfinite(m) & (m > 0)]
        if m.size:
            found.append(m)
    if not found:
        return 0.0
    values = np.concatenate(found)
    values = np.sort(values[:: max(1, values.size // 512)])    # a sample is enough
    return float((values[(values.size - 1) // 2] + values[values.size // 2]) / 2)   # median


def compare(pairs, s: float, magnitudes: list):
    """Float64 verdicts per point: (disagreeing, lost to underflow, informative count).
    Points are arrays of (batch index, point); disagreeing ones come with how far outside the
    tolerance they are."""
    bad, excess, lost, informative = [], [], [], 0
    for b, ((_, c, t, valid), size) in enumerate(zip(pairs, magnitudes)):
        with np.errstate(all="ignore"):
            diff = np.abs(c - t)
            tol = ATOL * s + RTOL * size
            within = diff <= tol
        ok = per_point(within)
        tiny = per_point(size < UNDERFLOW)
        where = np.flatnonzero(valid & ~ok)
        bad.append(np.stack([np.full(where.size, b), where], axis=1))
        worst = np.zeros(0)
        if where.size:          # how far outside: computed only where some point disagrees
            with np.errstate(all="ignore"):
                outside = np.where(within, 0.0, diff / np.where(tol > 0, tol, 1e-300))
            worst = outside.reshape(-1, outside.shape[-1]).max(axis=0) if outside.ndim > 1 \
                else outside
            worst = worst[where]
        excess.append(worst)
        lost_here = np.flatnonzero(valid & ok & tiny)
        lost.append(np.stack([np.full(lost_here.size, b), lost_here], axis=1))
        informative += int((valid & ok & ~tiny).sum())
    return (np.concatenate(bad), np.concatenate(excess)), np.concatenate(lost), informative


def choose(bad, lost: np.ndarray, informative: int, ops: int, seed: int):
    """The points to re-evaluate, in order (lazily: a plainly wrong claim stops at the first):
    the worst disagreements first, then a random subset of the others; points lost to
    underflow when too few others were compared."""
    budget = int(min(MOST_POINTS, max(FEWEST_POINTS, BUDGET // max(ops, 1))))
    points, excess = bad
    count = 0
    if len(excess):
        first = int(np.argmax(excess))
        yield int(points[first, 0]), int(points[first, 1])
        count = 1
        half = min(budget // 2, len(excess))
        top = np.argpartition(-excess, half - 1)[:half] if half < len(excess) else \
            np.arange(len(excess))
        top = top[np.argsort(-excess[top], kind="stable")]
        rest = np.setdiff1d(np.arange(len(excess)), top, assume_unique=True)
        rng = np.random.default_rng(seed)
        rest = rest[rng.permutation(rest.size)[: budget - half]]
        for k in np.concatenate([top, rest]).tolist():
            if k != first:
                count += 1
                yield int(points[k, 0]), int(points[k, 1])
    if informative < INFORMATIVE and len(lost):
        rng = np.random.default_rng(seed + 1)
        for k in rng.permutation(len(lost))[: max(FEWEST_POINTS, budget - count)].tolist():
            yield int(lost[k, 0]), int(lost[k, 1])


def work(graph, operations: int, sizes: dict) -> int:
    """What one evaluation at a point costs, in operations: the forward pass's `operations`,
    each matrix operation of CUBIC weighing n³ (n its largest size at `sizes`), not 1."""
    import sympy as sp

    from deriv.algebra import shape_of
    from deriv.primitives import entry_of
    from deriv.sampling import concrete
    extra = 0
    if not any(graph.shape(n) for n in graph.symbols):
        return operations                       # scalars only: no matrix operation
    for name in graph.order:
        for e in sp.preorder_traversal(graph.nodes[name].expr):
            entry = entry_of(e)
            if entry is not None and entry.name in CUBIC:
                n = max((d for a in e.args for d in concrete(shape_of(a), sizes)), default=1)
                extra += n ** 3 * _products(entry.name, e.args) - 1
            elif e.args and shape_of(e):
                # an elementwise operation on an array is one operation a point in float64,
                # one per entry in mpmath (exp(exp(exp(X))) on a 5×5 X: 25 exps at 1,000
                # digits an operation)
                extra += 2 * (int(np.prod(concrete(shape_of(e), sizes))) - 1)
    return operations + extra


def _products(name: str, args) -> int:
    """About how many n×n products an operation and its derivative take: a power Aᵏ's sweep
    sums k products of powers; a matrix function's series and its Fréchet derivative, tens."""
    if name == "matpow":
        k = args[1] if len(args) > 1 else None
        return 2 * min(abs(int(k)), 64) + 1 if k is not None and k.is_Integer else 8
    return SERIES if name not in ("inv", "det", "logdet", "matmul") else 1


SERIES = 40                     # products in a matrix function (expm, eig, …) and its sweep


def digit_weight(digits: int) -> float:
    """What an operation at `digits` decimal digits costs, against one at 50: multiplying
    n-digit numbers takes about n^1.6 (Python's Karatsuba), so 1,000 digits weigh 120."""
    return max(1.0, (digits / 50) ** 1.6)


def enough(cost: int, operations: int) -> bool:
    """Has a recheck spent its budget? At least 2·FEWEST_POINTS evaluations, fewer (one at
    least) where one evaluation alone costs more than the budget allows that many."""
    return cost * operations > BUDGET and \
        cost >= min(2 * FEWEST_POINTS, max(1, BUDGET // max(operations, 1)))


def first_digits(values) -> int:
    """The precision to start at, from the point's float64 values (inputs and nodes): 30 digits
    and four times their decimal range — 1 − cos x at x = 10⁻¹⁶ needs 32 digits to be anything
    but 0, and (1 − cos x)/x³ twice that again — so that the first two precisions never both
    lose a value as float64 lost it."""
    flat = [np.ravel(v) for v in values]
    v = np.abs(np.concatenate(flat)) if flat else np.zeros(0)   # (one pass, not one a node)
    v = v[np.isfinite(v) & (v > 0)]
    spread = float(np.abs(np.log10(v)).max()) if v.size else 0.0
    return int(PRECISIONS[0] + 4 * min(spread, 330))     # float64 spans 10⁻³²⁴ … 10³⁰⁸


ZERO_DIGITS = 2000      # digits a side exactly 0 where the other is not is rechecked up to
                        # (1 − tanh(x)² at x = 1000 is 4·10⁻⁸⁶⁹: 0 below 870 digits)


def disagree_at(evaluate, cost: list, float64: tuple | None = None,
                start: int = PRECISIONS[0], exact_claim: bool = False) -> bool | None:
    """Does the claim differ from the truth at one point, computed at rising precision?
    `evaluate(digits)` gives (claim, truth) as flat lists of mpf, or None where undefined;
    `float64`, the batch's own (claim, truth) there, counts as the first precision (16
    digits): a plainly wrong claim computed stably is settled by one mpmath evaluation.
    None: undefined there (nothing to say). The tolerance is relative only: the batch's scale
    may come from values float64 got wrong, and what precision cannot settle is the
    uncertainty, so a true 0 computed as 10⁻⁶⁰ still agrees with 0. `exact_claim`: the claim
    is a number, exact at any precision (its 0 is no cancellation to compute deeper)."""
    import mpmath as mp
    previous, last = None, 16
    if float64 is not None and all(np.isfinite(x).all() for x in float64):
        previous = tuple([mp.mpf(float(x)) for x in np.ravel(v)] for v in float64)
    limit = max(PRECISIONS[-1], 2 * start)          # at least two precisions
    digits = start
    while digits <= max(limit, ZERO_DIGITS):
        cost[0] += digit_weight(digits)     # (a thousand digits weigh a hundred evaluations)
        now = evaluate(digits)
        if now is None:
            return None
        c, t = now
        if len(c) != len(t):
            return True
        if previous is not None:
            pc, pt = previous
            gain = mp.mpf(10) ** (-(digits - last) // 2)    # half the digits added, to be safe
            # each element relative to itself (a feature of scale 10⁻² beside one of 10⁵ is
            # not round-off of the larger), and to the largest one far below float64's
            # round-off (an array's computed zeros are not its scale)
            floor = FLOOR * max(max(abs(a), abs(b)) for a, b in zip(c, t)) if c else 0
            stable, wrong, zero = True, False, False
            for a, b, pa, pb in zip(c, t, pc, pt):
                change = abs(a - pa) + abs(b - pb)
                diff = abs(a - b)
                tol = PRECISE_RTOL * max(abs(a), abs(b)) + floor
                differs = diff > tol + change * gain
                wrong = wrong or differs
                zero = zero or (differs and ((a == 0 and not exact_claim) or b == 0))
                stable = stable and change <= mp.mpf("1e-3") * max(tol, diff)
            # a side that is 0 at two precisions may be all its digits cancelled (1 − tanh(x)²
            # is 0 up to 2x/ln 10 digits): more digits, up to ZERO_DIGITS, before "wrong"
            deeper = wrong and zero and 2 * digits <= ZERO_DIGITS
            if stable and not deeper:
                if wrong and zero and all(a == 0 or b == 0 or abs(a - b) <= mp.mpf(10) ** (
                        -digits // 2) * max(abs(a), abs(b)) for a, b in zip(c, t)) and \
                        max(max(abs(a), abs(b)) for a, b in zip(c, t)) < mp.mpf(10) ** -digits:
                    return None      # 0 beside a value below the digits carried: undecided
                return wrong
            if 2 * digits > (ZERO_DIGITS if deeper else limit):   # still moving: only
                return None if wrong else False                      # agreement is safe
        previous, last = (c, t), digits
        digits *= 2
    return None


SOUND_POINTS = 4        # where float64 misleads, points of an agreeing claim rechecked


def sound(batch, precise) -> bool:
    """Are float64's forward values right? Compared with `precise(i)`, the forward pass at
    point i at 30 digits, at one point of the batch where every value is finite (a problem
    float64 misleads on is caught where it does so widely: (1 − cos x)/x² at x ≈ 10⁻¹⁴ is all
    round-off, and a claim that agrees with it agrees with noise; 0.1 s over the catalog)."""
    import mpmath as mp
    finite = np.ones(batch.n, dtype=bool)
    for v in batch.values.env.values():
        if isinstance(v, np.ndarray) and v.dtype == float:
            finite &= per_point(np.isfinite(v))
    for i in np.flatnonzero(finite)[:1]:
        try:
            exact_values = precise(int(i))
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return True
        if exact_values is None:
            return True
        for symbol, v in batch.values.env.items():
            exact = mp_flat(exact_values.env.get(symbol))
            if exact is None or not isinstance(v, np.ndarray):
                continue
            if any(mp.isfinite(b) and abs(a - b) > 1e-6 * abs(b) + 1e-300
                   for a, b in zip(np.ravel(v[..., i]), exact)):
                return False
    return True


def recheck_agreement(pairs, at_point, points=None) -> str:
    """A claim that agrees in float64, rechecked at high precision at `points` ((batch,
    point) pairs), or else at a few points spread over the first size setting's; `at_point(
    batch, i, digits)` gives (claim, truth) there."""
    if points is None:
        valid = pairs[0][3]
        points = [(0, int(i)) for i in
                  np.flatnonzero(valid)[:: max(1, int(valid.sum()) // SOUND_POINTS)]]
    cost = [0]
    for b, i in points[:SOUND_POINTS]:
        batch = pairs[b][0]        # (at 10⁻⁴⁰, 1 − cos x is 0 at 30 and 60 digits alike)
        start = first_digits(v[..., i] for v in batch.values.env.values()
                             if isinstance(v, np.ndarray))
        if disagree_at(lambda digits: at_point(batch, i, digits), cost, start=start):
            return "disagree"
    return "agree"


def swallowed(pairs, s: float, magnitudes: list) -> list[tuple[int, int]]:
    """(batch, point) of a few points that agree only by the tolerance the largest element
    sets: an element well above round-off of that scale, off by more than round-off of its own
    size ([10¹⁰x₁, x₂] with x₂'s part dropped agreed everywhere). Rechecked at high precision,
    which settles round-off either way."""
    out = []
    for b, ((_, c, t, valid), size) in enumerate(zip(pairs, magnitudes)):
        if c is None or np.shape(c) != np.shape(t):
            continue
        with np.errstate(all="ignore"):
            off = (np.abs(c - t) > SWALLOWED * size) & (size > ROUNDOFF * s)
        where = np.flatnonzero(valid & ~per_point(~off))
        out += [(b, int(i)) for i in where[:: max(1, where.size // SOUND_POINTS)][:SOUND_POINTS]]
    return out[:SOUND_POINTS]


SWALLOWED = 1e-7        # an element this far from the truth, relative to itself, ...
ROUNDOFF = 1e-12        # ... and this large against the largest element's scale
