"""`deriv check` as a library: every claim of a problem against the engine's derivative.

One checker for every kind. Inputs are drawn in batches (one per size assignment; a scalar
problem has one); the truth is the adjoint program evaluated on them (deriv.program); a claim
is compiled once, as written. Points near kinks or where the function is undefined are
dropped; disagreements are re-evaluated with mpmath before a claim is called wrong; a failing
claim is explained (deriv.diagnose).
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from dataclasses import dataclass

import numpy as np
import sympy as sp

from deriv import algebra as A
from deriv.chains import chain_findings
from deriv.errors import DerivError
from deriv.diagnose import Diagnosis
from deriv.findings import Finding, Missing, Report, Verdict
from deriv.parse import DRef, dref_of
from deriv.primitives import kink_arguments
from deriv.problem import Claim, Problem, derivative_shape
from deriv import constraints
from deriv import recheck as R
from deriv.program import Values, close, forward_program, mp_flat, mp_point, per_point
from deriv.reach import reach
from deriv.sampling import draw_all, size_assignments

KINK_EPS = 1e-6
MIN_VALID_FRACTION = 0.2
MAX_PRECISE = 64              # points where float64 fails, evaluated at 50 digits instead
MP_VALUES = 20_000            # node values at some precision kept for the next claim (a point's)
MAX_PRECISE_WORK = 1 << 23    # ... unless one evaluation costs more operations than this
SOUND_WORK = 1 << 14          # float64's forward values compared with 30 digits below this work
GROSS = 1e3                   # then only a disagreement this many tolerances wide is decided
MAX_RECHECKED = 50            # claims of a problem whose gross disagreement is confirmed
PRECISE_GROSS_WORK = 1 << 18  # from this work on (a 64×64 inverse), a gross one needs no
                              # recheck either
MIN_PER_BATCH = 50
MIN_POINTS = 10               # a batch smaller than this is refused as too large to check
DIAGNOSIS_SAMPLES = 2000      # points a failing claim's explanation is sought on
DIAGNOSIS_NUMBERS = 1 << 19   # and on at most this many numbers of its largest value
SHARED_SAMPLES = 20_000       # up to this many points, copies of a problem share their checks
MAX_DIAGNOSED = 50            # failing claims of one problem that are explained
DIAGNOSED_WORK = 1 << 13      # ... all of them up to this work a point (see most_diagnosed)
REACH_POINTS = 32             # points a batch may add to reach the unseen sides of kinks
WORK = 1 << 27                # operations (a matrix one weighing n³) a batch's forward pass
                              # may cost: the points of a heavy matrix problem are fewer
MEMORY = 1 << 28              # bytes the values of one batch may take (sweeps and
                              # temporaries take about as much again: a run stays under 1 GiB)


@dataclass
class Options:
    samples: int = 2000
    seed: int = 0
    strict: bool = False        # warnings fail too
    sizes: dict = dataclasses.field(default_factory=dict)   # --size n=3, n=2:6 (constraints.py)
    # worker processes; 0: the machine's cores for a run of many claims (the CLI's default).
    # The library's is 1: a process with threads of its own (a Jupyter kernel) must not fork
    jobs: int = 1


class Batch:
    """Points drawn at one size assignment, their forward pass and derivatives."""

    def __init__(self, problem: Problem, sizes: dict, n: int, seed: int, kinks: list,
                 symmetric: bool | frozenset = False):
        self.sizes = sizes
        self.inputs = draw_all(problem.inputs, n, seed, sizes, symmetric)
        self.values = Values(problem, self.inputs, sizes, n=n)    # (n: a graph of constants)
        extra = reach(problem, self.inputs, sizes, self.values.kinks(kinks), seed,
                      max(REACH_POINTS, n // 8)) if kinks and not symmetric else None
        if extra is not None:             # points on the sides of the kinks not yet seen
            self.inputs = {k: np.concatenate([v, extra[k]], axis=-1)
                           for k, v in self.inputs.items()}
            n = next(iter(self.inputs.values())).shape[-1]
            self.values = Values(problem, self.inputs, sizes)
        self.n = n
        graph = problem.graph
        # a node is defined where it and all its parents are finite: a derivative at a point
        # where the function itself is undefined (log of a negative) proves nothing
        # (one all-true mask is shared by the nodes defined everywhere: a 5,000-node chain
        # would build and combine thousands of them)
        everywhere = np.ones(n, dtype=bool)
        self.defined = {name: everywhere for name in graph.inputs}
        # points lost to a nearly singular matrix (XᵀAX for wide X), counted under that cause
        self.singular = np.zeros(n, dtype=bool)
        for name in graph.order:
            value = self.values.env[graph.symbols[name]]
            # (a finite sum has no inf or NaN term: one reduction decides most nodes)
            mask = everywhere if np.isfinite(np.sum(value)) else per_point(np.isfinite(value))
            parents = everywhere
            for parent in graph.parents(name):
                if self.defined[parent] is not everywhere:
                    parents = parents & self.defined[parent]
            if mask is not everywhere and _inverts(graph.nodes[name].expr):
                self.singular |= parents & ~mask
            self.defined[name] = parents if mask is everywhere else mask & parents
        self.kink_values = self.values.kinks(kinks)
        keep = np.ones(n, dtype=bool)
        keep_total = keep.copy()
        for values in self.kink_values.values():
            near = np.abs(values) < KINK_EPS * (1.0 + np.abs(values))
            keep &= ~per_point(near, every=False)
            keep_total &= ~per_point(near & (values != 0), every=False)
        self.keep = keep
        self._sides: dict = {}
        # A kink argument exactly 0 is 0 on a whole region (relu(relu(x)) for x < 0): the
        # function is flat there, so a total derivative is defined and compared; only an edge
        # partial (a local claim) sits on the kink itself.
        self.keep_total = keep_total


    def sides(self, kink) -> tuple[np.ndarray, np.ndarray]:
        """Per point: is some element of the kink's argument positive, some negative?"""
        if kink not in self._sides:
            values = self.kink_values[kink]
            self._sides[kink] = (per_point(values > 0, every=False),
                                 per_point(values < 0, every=False))
        return self._sides[kink]


class ProblemCheck:
    """All claims of one problem, sharing the drawn batches and every sweep."""

    def __init__(self, problem: Problem, options: Options):
        self.problem = problem
        self.graph = problem.graph
        self.options = options
        ranges = constraints.ranges(problem, options.sizes) if problem.sizes else {}
        assignments = size_assignments(problem.sizes, options.seed, relations=problem.relations,
                                       ranges=ranges) if problem.sizes else [{}]
        need = constraints.minimums(problem) if problem.sizes else {}   # (a relation's n = 1
        assignments = [a for a in assignments                    # is no size for eig(S, 2))
                       if all(a[k] >= need.get(k, 1) for k in a)]
        larger = None if ranges else _larger_sizes(problem, options, assignments)
        if larger is not None and all(larger[k] >= need.get(k, 1) for k in larger):
            assignments.append(larger)
        if not assignments:
            ranges = {**{k: (v, "") for k, v in need.items() if v > 1}, **ranges}
            bounds = ", ".join(f"{k} in {lo}…{hi}" if hi != "" else f"{k} ≥ {lo}"
                               for k, (lo, hi) in ranges.items())
            raise DerivError(f"{problem.id}: no sizes satisfy its size relations ("
                             + ", ".join(f"{a} {op} {b}" for a, op, b in problem.relations)
                             + (f"; with {bounds}, from --size, onehot(k, n) or eig(S, k)"
                                if bounds else "")
                             + ")", problem.path, *(problem.sizes_at or (problem.line,)))
        self.per_batch = self.batch_size(problem, options, assignments)
        self.numbers = max(self.value_numbers(problem, assignments))   # its largest value
        self.kinks = problem_kinks(problem)
        self.kink_symbols = {k: k.free_symbols for k in self.kinks}
        self.batches = [Batch(problem, sizes, self.per_batch, options.seed + i, self.kinks)
                        for i, sizes in enumerate(assignments)]
        self._symmetric: dict | None = None
        self._graph_kinks: dict | None = None      # node → its kink arguments
        self._above: dict[str, set] = {}          # a node → the kinks of it and above it
        self.confirmed = 0                 # gross disagreements confirmed at high precision
        self.refuted = False               # one was not: float64 misleads on this problem
        self._small: ProblemCheck | None = None
        self._mp: dict = {}                # mpmath values at a point and precision
        self._sound: bool | None = None    # float64's forward values right (float64_sound)
        self._signs: dict = {}             # kink argument → its sign fixed by the domain
        self._work: int | None = None      # operations one recheck evaluation costs
        self.diagnosed = 0                 # failing claims explained so far
        self.share = 1.0                   # of the problem's claims, the part now checked
        self._compared = None              # the last pairs compared (self.compared)
        self.diagnosis_ops = self.diagnosis_sweep_ops = 0.0

    def operations(self, kind: str = "ops") -> float:
        """Operations evaluated so far, per sampled point (every batch runs the same code)."""
        return sum(getattr(b.values, kind) for b in self.batches) / len(self.batches)

    @staticmethod
    def batch_size(problem: Problem, options: Options, assignments: list[dict]) -> int:
        """Points a batch draws: the samples asked for, shared among the size assignments, and
        bounded so that every value of the graph (kept for the reverse sweep) fits in memory."""
        per_batch = max(MIN_PER_BATCH, options.samples // len(assignments))
        elements = sum(ProblemCheck.value_numbers(problem, assignments)) + \
            4 * ProblemCheck.jacobian_numbers(problem, assignments)
        fits = MEMORY // (8 * 3 * elements)       # values, adjoints and temporaries
        if fits < MIN_POINTS:
            raise DerivError(f"{problem.id} is too large to check: {elements} numbers a point "
                             f"(at most {MEMORY // (8 * 3 * MIN_POINTS)})", problem.path,
                             problem.line)
        if problem.sizes or any(problem.graph.shape(n) for n in problem.graph.symbols):
            # matrix work bounds the points too: a 64×64 expm a point is 2000 times what a
            # scalar graph's whole pass costs (fewer points still see every entry differ)
            largest = {s: max(a[s] for a in assignments) for s in problem.sizes}
            work = R.work(problem.graph, max(forward_program(problem.graph).ops, 1), largest)
            # and each claim compared, element by element
            work += len(problem.claims) * max(ProblemCheck.value_numbers(problem, assignments))
            fits = min(fits, max(MIN_PER_BATCH, WORK // max(work, 1)))
        return min(per_batch, fits)

    def fitting_points(self, sizes: dict) -> int:
        """Points whose values at these sizes fit in one batch's memory."""
        numbers = sum(self.value_numbers(self.problem, [sizes])) + \
            4 * self.jacobian_numbers(self.problem, [sizes])
        return MEMORY // (8 * 3 * max(1, numbers))

    @staticmethod
    def jacobian_numbers(problem: Problem, assignments: list[dict]) -> int:
        """Numbers the largest derivative a claim compares holds at a point (a softmax's
        Jacobian is n² where its values are n): the truth, the claim and their difference are
        held at once, each that large (10⁷ points of a 5×5 Jacobian took 2.2 GB)."""
        from deriv.sampling import concrete
        graph = problem.graph
        largest = {s: max(a[s] for a in assignments) for s in problem.sizes}
        return max([math.prod(concrete(graph.shape(c.of), largest)) *
                    math.prod(concrete(graph.shape(c.wrt), largest))
                    for c in problem.claims if c.wrt and c.of in graph.symbols and
                    c.wrt in graph.symbols], default=0)

    @staticmethod
    def value_numbers(problem: Problem, assignments: list[dict]) -> list[int]:
        """Numbers each value of the graph holds at a point, at the largest sizes."""
        from deriv.sampling import concrete
        largest = {s: max(a[s] for a in assignments) for s in problem.sizes}
        return [math.prod(concrete(problem.graph.shape(n), largest))
                for n in problem.graph.symbols]

    # --- values -------------------------------------------------------------------------------
    def derivative(self, values: Values, ref: DRef) -> object:
        """What D(a, b) means inside a claim: the edge partial when b is a direct parent of a
        (the chain-rule factor a document writes), the total derivative otherwise."""
        local = ref.wrt in self.graph.parents(ref.of)
        return values.derivative(ref.of, ref.wrt, ref.layout, local)

    def evaluate(self, values: Values, expr: sp.Expr, given: dict | None = None):
        """A claim's expression as written, with each D(a, b) from the adjoint program (and
        the symbols in `given` at the values given: a part put in, a symbol swapped)."""
        extra = {s: self.derivative(values, d) for s in A.free(expr) if (d := dref_of(s))}
        return values.value(expr, {**extra, **given} if given else extra)

    def truth(self, values: Values, claim: Claim, layout: str | None = None):
        layout = layout or claim.layout
        if claim.is_value:
            return values.env[self.graph.symbols[claim.of]]
        if claim.update == "newton":
            return newton_step(values, claim.of, claim.wrt)
        if claim.update:
            grad = values.derivative(claim.of, claim.wrt, "gradient", claim.local)
            return values.env[self.graph.symbols[claim.wrt]] - \
                values.env[self.graph.symbols[claim.update]] * grad
        return values.derivative(claim.of, claim.wrt, layout, claim.local)

    def target_shape(self, claim: Claim, layout: str | None = None) -> tuple:
        if claim.is_value or claim.update:
            return self.graph.shape(claim.of if claim.is_value else claim.wrt)
        return derivative_shape(self.graph, claim.of, claim.wrt, layout or claim.layout)

    def symmetric_batches(self, only: frozenset | None = None, sizes: dict | None = None
                          ) -> list[Batch]:
        """Draws where every square input (or those in `only`) is symmetric, at `sizes` (the
        first setting's: square, unless relations forbid it)."""
        cache = self._symmetric = self._symmetric or {}
        sizes = dict(sizes if sizes is not None else self.batches[0].sizes)
        key = (only, tuple(sorted(sizes.items())))
        if key not in cache:
            cache[key] = [Batch(self.problem, sizes, self.per_batch, self.options.seed + 7919,
                                self.kinks, symmetric=True if only is None else only)]
        return cache[key]

    # --- comparing ---------------------------------------------------------------------------
    def valid(self, batch: Batch, claim: Claim, *arrays) -> np.ndarray:
        mask = batch.keep if claim.local else batch.keep_total
        mask = mask & batch.defined[claim.of]
        for a in arrays:
            mask = mask & per_point(np.isfinite(a))
        return mask

    def agree(self, pairs, claim: Claim, expr: sp.Expr) -> str:
        """"agree" or "disagree": float64 on the batch, then mpmath at the points float64
        cannot settle (deriv.recheck); "undecided" when every point compared was lost to
        underflow and none could be recomputed."""
        if any(c is None or np.shape(c) != np.shape(t) for _, c, t, _ in pairs):
            return "disagree"
        magnitudes, s, (bad, lost, informative) = self.compared(pairs)
        structural_zero = expr == 0 and not claim.is_value and \
            not self.graph.carries(claim.of, claim.wrt)
        disagreeing = len(bad[0])
        if not disagreeing and (informative >= R.INFORMATIVE or not len(lost) or structural_zero):
            if self.work() > SOUND_WORK:     # (a few points at 30 digits: where that is cheap)
                return "agree"
            # where float64 misleads on the problem, a few of the points; else those a huge
            # element's tolerance may have swallowed a small one at
            points = None if not self.float64_sound() else R.swallowed(pairs, s, magnitudes)
            return R.recheck_agreement(
                pairs, lambda b, i, digits: self.at_point(b, i, digits, claim, expr), points)
        ops = self.work()
        gross = disagreeing and bad[1].max() > GROSS
        if gross and (ops > PRECISE_GROSS_WORK or self.settled_by_float()):
            # far outside round-off on well-conditioned points: past a heavy evaluation, or
            # once a problem's first claims were confirmed (5,000 wrong claims in one file)
            return "disagree"
        if ops > MAX_PRECISE_WORK:
            # one evaluation at 50 digits would take minutes (a 64×64 eigendecomposition in
            # mpmath): a slight disagreement is not decided either way (a gross one stood above)
            return "too-costly"
        points = R.choose(bad, lost[:0] if structural_zero else lost, informative, ops,
                          self.options.seed)
        decided = False
        cost = [0]                      # evaluations at some precision, bounded as points are
        for b, i in points:
            if R.enough(cost[0], ops):
                break
            batch, c, t, _ = pairs[b]
            start = R.first_digits(v[..., i] for v in batch.values.env.values()
                                   if isinstance(v, np.ndarray))
            found = R.disagree_at(lambda digits: self.at_point(batch, i, digits, claim, expr), cost,
                                  (c[..., i], t[..., i]), start, exact_claim=expr.is_Number)
            if found:
                self.confirmed += bool(gross)
                return "disagree" if disagreeing else "disagree-underflow"
            decided = decided or found is not None
        if gross and decided:
            self.refuted = True             # far off in float64, right at high precision
        if gross and not decided and points:
            # far off in float64, and no point could be recomputed (mpmath refuses 0⁻¹ where
            # float64 gives ∞ and a flat branch 0): float64 decides, as it would without them
            return "disagree"
        if disagreeing or decided or informative:
            return "agree"
        return "undecided"

    def float64_sound(self) -> bool:
        """Are float64's forward values right on this problem? (deriv.recheck.sound)"""
        if self._sound is None and self.work() > PRECISE_GROSS_WORK:
            self._sound = True     # one pass at 30 digits takes seconds (64×64 products):
        if self._sound is None:    # float64's values are taken as they are, as before
            batch = self.batches[0]
            self._sound = R.sound(batch, lambda i: self.mp_values(batch, i, R.first_digits(
                v[..., i] for v in batch.values.env.values() if isinstance(v, np.ndarray))))
        return self._sound

    def begin(self, share: float = 1.0, fresh: bool = False):
        """A new file's copy of the problem, or (`fresh`) one block of a problem's claims:
        its own budget of explanations — a class's 51st answer to one exercise is explained
        as the first was —, in a block `share` of the problem's, and its own confirmations."""
        self.diagnosed = 0
        self.share = share
        if fresh:        # (what a block decides never depends on the blocks before it)
            self.confirmed, self.refuted = 0, False

    def settled_by_float(self) -> bool:
        """A gross float64 disagreement decides without a recheck: once MAX_RECHECKED of this
        problem's (fewer where one evaluation is heavy, as for diagnoses: 8 on a 200-layer
        matrix product) were all confirmed at high precision, and none was refuted."""
        most = max(3, min(MAX_RECHECKED, MAX_RECHECKED * DIAGNOSED_WORK // self.work()))
        return self.confirmed >= max(1, math.ceil(most * self.share)) and not self.refuted

    def most_diagnosed(self) -> int:
        """Failing claims of this problem that are explained: MAX_DIAGNOSED, fewer where one
        evaluation is heavy matrix work (three at 64×64 inverses)."""
        most = max(3, min(MAX_DIAGNOSED, MAX_DIAGNOSED * DIAGNOSED_WORK // self.work()))
        return max(1, math.ceil(most * self.share))

    def work(self) -> int:
        """Operations one evaluation of the problem at a point costs (a forward pass and a
        sweep, matrix work weighed)."""
        if self._work is None:
            largest = {s: max(b.sizes[s] for b in self.batches) for s in self.problem.sizes}
            self._work = 4 * R.work(self.graph, max(forward_program(self.graph).ops, 1),
                                    largest)
        return self._work

    def precise_points(self) -> int:
        """Points a batch may evaluate at 50 digits where float64 fails: none where one
        evaluation would take minutes."""
        return 0 if self.work() > MAX_PRECISE_WORK else MAX_PRECISE

    def precise(self, claim: Claim, expr: sp.Expr, pairs) -> tuple[int, int, int]:
        """Points where float64 overflows (log(exp(a) + exp(b)) at a = 710) are not undefined:
        up to MAX_PRECISE of them a batch (not those lost to a singular matrix) are evaluated
        at 50 digits instead. Returns how many
        are defined there, how many of those disagree, and how many were tried."""
        defined = wrong = tried = 0
        cost, ops = [0], self.work()        # bounded as a recheck is (a 600-layer product at
        for batch, _, _, valid in pairs:    # 50 digits takes a second a point)
            keep = batch.keep if claim.local else batch.keep_total
            for i in np.flatnonzero(keep & ~valid & ~batch.singular)[:self.precise_points()]:
                if R.enough(cost[0], ops):
                    break
                tried += 1
                cost[0] += 1
                both = self.at_point(batch, int(i), 50, claim, expr)
                if both is None or len(both[0]) != len(both[1]):
                    continue        # undefined there too (a log of a negative): no overflow
                defined += 1
                if not wrong:    # compared at rising precision (deriv.recheck), until one fails
                    start = R.first_digits(v[..., i] for v in batch.values.env.values()
                                           if isinstance(v, np.ndarray))
                    wrong += bool(R.disagree_at(
                        lambda digits: self.at_point(batch, int(i), digits, claim, expr), cost,
                        None, start))
        return defined, wrong, tried

    def at_point(self, batch: Batch, i: int, digits: int, claim: Claim, expr: sp.Expr):
        """Claim and truth at point i of a batch, at `digits` decimal digits, as flat lists of
        finite real numbers; None where either, or the function itself, is undefined (the
        forward pass at a point is shared by the claims, in a bounded cache)."""
        import mpmath as mp
        if self.work() * R.digit_weight(digits) > MAX_PRECISE_WORK:
            return None     # minutes at that precision (matrix towers at 1,000 digits)
        with mp.workdps(digits):
            values = self.mp_values(batch, i, digits)
            if values is None:
                return None
            try:
                c = self.evaluate(values, expr) if expr is not None else None
                t = self.truth(values, claim)
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                return None
            c_arr, t_arr = mp_flat(c), mp_flat(t)
        if c_arr is None or t_arr is None:
            return None
        return c_arr, t_arr

    def mp_values(self, batch: Batch, i: int, digits: int) -> Values | None:
        """The forward pass at point i of a batch at `digits` decimal digits; None where a
        value is undefined there (a log of a negative, not an overflow). Kept for the next
        claim, in a bounded cache."""
        import mpmath as mp
        key = (id(batch), i, digits)
        if key not in self._mp:
            if len(self._mp) > 64 or len(self._mp) * len(self.graph.order) > MP_VALUES:
                self._mp.clear()
            with mp.workdps(digits):
                point = {k: mp_point(v, i) for k, v in batch.inputs.items()}
                values = Values(self.problem, point, batch.sizes, backend="mpmath", n=1)
            if any(mp_flat(v) is None for v in values.env.values()):
                values = None
            self._mp[key] = values
        return self._mp[key]

    def pairs(self, claim: Claim, written: sp.Expr, evaluate: bool = True) -> list:
        """(batch, claim's value, truth, valid points) per batch. Once float64 settles a
        gross disagreement (settled_by_float: 5,000 wrong claims in one file), a claim grossly
        wrong at the first size setting is not evaluated at the others: that alone decides
        it, as it would among all of them (its counts are that setting's)."""
        out = []
        settle_early = evaluate and self.settled_by_float()
        for batch in self.batches:
            t = self.truth(batch.values, claim)
            c = self.evaluate(batch.values, written) if evaluate else None
            c = _one_number(c, t)
            out.append((batch, c, t, self.valid(batch, claim, t, *(() if c is None else (c,)))))
            if settle_early and len(self.batches) > 1 and self.grossly_wrong(out):
                break
        return out

    def compared(self, pairs):
        """(magnitudes, scale, float64 comparison) of `pairs`; the last one is kept, as
        `agree` asks again about the pairs `grossly_wrong` settled on (5,000 wrong claims in one
        file spent a sixth of their check comparing twice)."""
        key = tuple(id(x) for p in pairs for x in p)
        if self._compared is not None and self._compared[0] == key:
            return self._compared[1]
        magnitudes = R.sizes(pairs)
        s = R.scale(pairs, magnitudes)
        result = magnitudes, s, R.compare(pairs, s, magnitudes)
        # (the arrays kept alive: no other object can take their ids while this is kept)
        self._compared = key, result, tuple(x for p in pairs for x in p)
        return result

    def grossly_wrong(self, pairs) -> bool:
        if any(c is None or np.shape(c) != np.shape(t) for _, c, t, _ in pairs):
            return False
        bad, _, _ = self.compared(pairs)[2]
        return bool(len(bad[0])) and bad[1].max() > GROSS

    def diagnosis(self, claim: Claim, written: sp.Expr, pairs) -> Diagnosis:
        """A failing claim's explanation is sought on DIAGNOSIS_SAMPLES points: its candidates
        compared at a million points took most of such a run, and the default number of points
        explains as well (so the diagnosis reads the same at any --samples). Where a value holds
        many numbers (a 64×64 matrix), on fewer: DIAGNOSIS_NUMBERS of it in all."""
        points = min(DIAGNOSIS_SAMPLES, max(MIN_PER_BATCH, DIAGNOSIS_NUMBERS // self.numbers))
        if self.options.samples <= points:
            return Diagnosis(self, claim, written, pairs)
        if self._small is None:
            self._small = ProblemCheck(self.problem, Options(points, self.options.seed))
        small = self._small
        shaped = pairs[0][1] is not None
        return Diagnosis(small, claim, written, small.pairs(claim, written, shaped))

    # --- one claim ---------------------------------------------------------------------------
    def check(self, claim: Claim) -> Verdict:
        if claim.spec is not None:   # a shape, count, optimum, expectation, value at a point
            from deriv.kind_check import check_kind
            return check_kind(self, claim)
        if claim.unread:             # printed LaTeX deriv could not read: said, never skipped
            return Verdict(self.problem.id, claim, "error", reason=f"unread: {claim.unread}")
        target = None if claim.is_value else claim.target
        if claim.expr is None and claim.chain is None and claim.value is not None:
            # only a number printed at the document's point (∂y/∂x ≈ 1.28): checked there
            finding = self.value_finding(claim)
            return Verdict(self.problem.id, claim, "fail" if finding else "pass",
                           diagnosis=[finding] if finding else [])
        if claim.expr is None and claim.chain_expr is None and claim.chain is not None:
            # a chain through a tensor of order 3 (∂z/∂W): its links and paths, not its value
            structure = chain_findings(self.graph, claim.chain, claim.of, claim.wrt)
            return Verdict(self.problem.id, claim, "fail" if structure else "pass",
                           diagnosis=structure, reason="chain structure only")
        if claim.shape_error is not None:     # e.g. X @ R with inner sizes that differ
            from deriv.misfit import refit       # (and the reading that fits, if one is right)
            return Verdict(self.problem.id, claim, "fail", diagnosis=[
                Finding("ill-shaped", target, text=claim.shape_error.message,
                        expr=refit(self, claim))])
        v = Verdict(self.problem.id, claim, "pass")
        findings: list[Finding] = []
        written = claim.expr if claim.expr is not None else claim.chain_expr
        want = self.target_shape(claim)
        got = A.shape_of(written)
        pairs = self.pairs(claim, written, got == want)
        for batch, _, _, valid in pairs:
            keep = batch.keep if claim.local else batch.keep_total
            v.near_kink += int((~keep).sum())
            v.singular += int((keep & ~valid & batch.singular).sum())
            v.undefined += int((~valid).sum())
        v.undefined -= v.near_kink + v.singular
        v.samples = int(sum(p[3].sum() for p in pairs))
        # size settings where nothing could be compared (a singular XᵀAX for wide X): said,
        # never passed over in silence
        v.dropped = tuple(dict(p[0].sizes) for p in pairs if p[3].sum() < 3) \
            if len(pairs) > 1 else ()
        v.branches, v.branches_seen = self.coverage(claim, pairs)
        total = sum(b.n for b in self.batches)
        precise_wrong = 0
        # undefined where the derivative is defined (2(XXᵀ)⁻¹X for 2X(XᵀX)⁻¹ at m > n): wrong
        lost = got == want and self.undefined_where_defined(claim, pairs)
        if got == want and v.undefined and not lost:
            v.precise, precise_wrong, tried = self.precise(claim, written, pairs)
            # every point tried is defined at 50 digits: the others overflow too, they are not
            # undefined (they are counted, not all evaluated)
            v.overflow = v.undefined if tried and v.precise == tried else v.precise
            v.undefined -= v.overflow
        if got != want:
            v.verdict = "fail"
            findings.extend(self.diagnosis(claim, written, pairs).shape_mismatch(got, want))
        elif v.samples < 3 and v.precise and precise_wrong == 0:
            pass        # float64 fails at (almost) every point: decided at 50 digits alone
        elif v.samples < max(10, MIN_VALID_FRACTION * total) and not v.precise:
            v.verdict = "error"
            v.reason = "too-few-points"
            return v
        else:
            outcome = self.agree(pairs, claim, written)
            if outcome == "agree" and lost:
                outcome = "disagree"
            # wrong only where float64 overflows (at 50 digits): the float64 points, where it
            # is right, cannot tell an explanation; the counterexample is from 50 digits
            only_precise = bool(precise_wrong) and not outcome.startswith("disagree")
            if only_precise:
                outcome = "disagree"
            if outcome in ("undecided", "too-costly"):
                v.verdict = "error"
                v.reason = "underflow" if outcome == "undecided" else outcome
                return v
            if outcome.startswith("disagree") and not self.float64_sound():
                v.verdict = "fail"          # float64's values are wrong: an explanation
                findings.append(Finding("imprecise", target))  # confirmed on them is noise
            elif outcome == "disagree-underflow":      # float64 values are all 0: no diagnosis
                v.verdict = "fail"
                findings.append(Finding("underflow", target))
            elif outcome == "disagree" and self.diagnosed >= self.most_diagnosed():
                v.verdict = "fail"         # the diagnosis is bounded by a count, never a clock
                findings.append(Finding("not-diagnosed", target, count=self.diagnosed))
            elif outcome == "disagree":
                v.verdict = "fail"
                self.diagnosed += 1
                before = self.operations(), self.operations("sweep_ops")
                diagnosis = self.diagnosis(claim, written, pairs)
                findings.extend([diagnosis.counterexample()] if only_precise else
                                diagnosis.run())
                self.diagnosis_ops += self.operations() - before[0]
                self.diagnosis_sweep_ops += self.operations("sweep_ops") - before[1]
        if claim.chain is not None and not claim.is_value:
            structure = chain_findings(self.graph, claim.chain, claim.of, claim.wrt)
            if not structure and claim.expr is not None and claim.chain_expr is not None:
                chain_pairs = []
                for batch, c, t, valid in pairs:
                    # (a chain written as the expr is: its values are the claim's)
                    ch = c if claim.chain_expr == written and c is not None else \
                        self.evaluate(batch.values, claim.chain_expr)
                    chain_pairs.append((batch, ch, t, valid & per_point(np.isfinite(ch))))
                if self.agree(chain_pairs, claim, claim.chain_expr).startswith("disagree"):
                    structure.append(Finding("chain-value", target))
            if structure:
                v.verdict = "fail"
                findings.extend(structure)
        if claim.value is not None:
            finding = self.value_finding(claim)
            if finding:
                v.verdict = "fail"
                findings.append(finding)
        if claim.shapes:
            found = self.printed_shapes(claim)
            if found:
                v.verdict = "fail"
                findings.extend(found)
        # (a path counted twice is found by the chain's structure and by its value alike)
        v.diagnosis = [f for k, f in enumerate(findings) if not any(
            f == g or f.paths and (f.kind, f.paths, f.count) == (g.kind, g.paths, g.count)
            for g in findings[:k])]
        if v.verdict == "fail" and not self.options.strict and self.harmless(claim, written):
            v.severity = "warning"
        if self.options.strict and v.partial:     # warnings fail: a side no point reached
            v.verdict, v.reason = "error", "branches-unseen"
        return v

    def undefined_where_defined(self, claim: Claim, pairs) -> bool:
        """Is the claim undefined (a singular inverse) at most points of some size setting
        where the derivative is defined? Such a formula is not the derivative there."""
        for batch, c, t, _ in pairs:
            if c is None:
                continue
            keep = batch.keep if claim.local else batch.keep_total
            defined = keep & batch.defined[claim.of] & per_point(np.isfinite(t))
            lost = defined & ~per_point(np.isfinite(c))
            if defined.sum() >= 10 and lost.sum() > defined.sum() // 2:
                return True
        return False

    def harmless(self, claim: Claim, written: sp.Expr) -> bool:
        """A printed forward value that is off by a quantity no asked derivative can see (the
        zᵢ = Σⱼ Ωᵢⱼhⱼ that drops β, where ∂z/∂h is asked): off by terms that neither depend on
        an asked variable nor feed it."""
        if not claim.is_value or claim.expr is None or claim.of not in self.graph.nodes:
            return False
        error = written - self.graph.nodes[claim.of].expr
        names = {s.name for s in error.free_symbols}
        if not names <= set(self.graph.symbols):
            return False
        # the derivatives asked, or else those the document's claims are about
        asked = {d.wrt for d in self.problem.asks} or \
            {c.wrt for c in self.problem.claims if not c.is_value}
        return bool(asked) and not any(self.graph.depends(n, w) or self.graph.depends(w, n)
                                       for n in names for w in asked)

    def coverage(self, claim: Claim, pairs) -> tuple[int, int]:
        """Each kink argument upstream of the claim: is each side seen at a valid point?"""
        upstream = {self.graph.symbols[n] for n in self.graph.ancestors.get(claim.of, ())} | \
            {self.graph.symbols[claim.of]}
        written = [e for e in (claim.expr, claim.chain_expr) if e is not None]
        names = set().union(*(A.free(e) for e in written))   # (has() only where it may)
        # the claim's own: kinks of the functions it calls ((n − 5) as a factor is none)
        own = {k for e in written if any(self.kink_symbols[k] <= names for k in self.kinks)
               for k in kink_arguments(e)}
        relevant = [k for k in self.kinks
                    if k in self.kinks_above(claim.of) and self.kink_symbols[k] & upstream or
                    self.kink_symbols[k] <= names and (k in own or -k in own)]
        seen = sides = 0
        for k in relevant:
            pos = neg = False
            for batch, _, _, valid in pairs:
                positive, negative = batch.sides(k)
                pos = pos or bool(np.any(positive & valid))
                neg = neg or bool(np.any(negative & valid))
            seen += int(pos) + int(neg)
            sides += 1 if self.one_sided(k) else 2
        return sides, min(seen, sides)

    def kinks_above(self, of: str) -> set:
        """The kinks of `of`'s node and the nodes above it — not one that merely shares an input
        with it (relu(x² + 1) beside s = sin(x)); each node's read once a problem."""
        if self._graph_kinks is None:
            self._graph_kinks = {n: kink_arguments(self.graph.nodes[n].expr)
                                 for n in self.graph.order}
        cache = self._above
        if of not in cache:
            cache[of] = {k for n in [of, *self.graph.ancestors.get(of, ())]
                         for k in self._graph_kinks.get(n, ())}
        return cache[of]

    def one_sided(self, k: sp.Expr) -> bool:
        """Does the inputs' domain fix the sign of a kink's argument? (deriv.domains)"""
        if k not in self._signs:
            from deriv.domains import fixed_sign
            self._signs[k] = fixed_sign(self.graph, k)
        return self._signs[k]

    def value_finding(self, claim: Claim) -> Finding | None:
        """A printed number at the document's point."""
        target = None if claim.is_value else claim.target
        text = claim.value_text or repr(claim.value)
        if not self.problem.at or set(self.problem.at) != set(self.graph.inputs):
            return Finding("value", target, text=text, count=0)    # no point to check it at
        point = {k: np.array([float(v)]) for k, v in self.problem.at.items()}
        values = Values(self.problem, point, {})
        truth = float(np.ravel(self.truth(values, claim))[0])
        if not np.isfinite(truth):   # never a pass: inf is within any tolerance of inf
            return Finding("value", target, text=text, number=truth)
        if abs(truth - claim.value) <= printed_tolerance(text, truth):
            return None
        return Finding("value", target, text=text, number=truth)

    def printed_shapes(self, claim: Claim) -> list[Finding]:
        """The printed sizes against the inferred ones: the claim's, then each D factor's."""
        printed = [tuple(int(x) if x.isdigit() else x for x in re.split(r"\s*[x×]\s*", s.strip()))
                   for s in claim.shapes]
        source = claim.chain_expr if claim.chain_expr is not None else claim.expr
        refs = [d for e in sp.preorder_traversal(source) if e.is_Symbol and (d := dref_of(e))]
        inferred = [(claim.target, self.target_shape(claim))]
        inferred += [(d, derivative_shape(self.graph, d.of, d.wrt, d.layout)) for d in refs]
        out = []
        if len(printed) != len(inferred):
            out.append(Finding("shape-printed", claim.target, count=len(printed),
                               number=len(inferred)))
        for (ref, shape), p in zip(inferred, printed):
            if tuple(shape or (1, 1)) != p:
                out.append(Finding("shape-printed", claim.target, derivative=ref,
                                   shapes=(p, shape)))
        return out


SINGULAR_AT = frozenset({"inv", "det", "logdet"})    # undefined where a matrix is singular


def _inverts(expr: sp.Expr) -> bool:
    from deriv.primitives import entry_of
    return any(getattr(entry_of(e), "name", None) in SINGULAR_AT
               for e in sp.preorder_traversal(expr))


def newton_step(values: Values, of: str, wrt: str):
    """wrt − (∇²of)⁻¹∇of at every point: the Hessian is the derivative of the node ∂of/∂wrt
    (deriv.second), both from the adjoint programs; a singular Hessian is undefined there."""
    from deriv.second import gradient_name
    hessian = values.derivative(gradient_name(of, wrt), wrt)
    grad = values.derivative(of, wrt)
    at = values.env[values.graph.symbols[wrt]]
    if values.backend != "numpy":
        import mpmath as mp
        if not isinstance(hessian, np.ndarray):
            return at - grad / hessian
        step = mp.lu_solve(mp.matrix(hessian.tolist()), mp.matrix(np.ravel(grad).tolist()))
        return at - np.array([[step[i]] for i in range(len(step))], dtype=object)
    if np.ndim(hessian) == 1:
        with np.errstate(all="ignore"):
            return at - grad / hessian
    from deriv.primitives import BY_NAME
    return at - np.einsum("ijs,jks->iks", BY_NAME["inv"].numpy(hessian), grad)


def _one_number(c, t):
    """A 1×1 value against a scalar one (a K-vector's Jacobian drawn at K = 1): the same
    number a point, in the truth's shape. Any other difference of shape stays one."""
    if isinstance(c, np.ndarray) and isinstance(t, np.ndarray) and c.shape != t.shape and \
            c.shape[-1:] == t.shape[-1:] and c[..., 0].size == 1 == t[..., 0].size:
        return c.reshape(t.shape)
    return c


def problem_kinks(problem: Problem) -> list:
    """The kink arguments of the graph and the claims, in the order they appear (never a set's
    order: that changes from run to run). Found once per problem (the sharing key reads them
    too)."""
    cached = problem.__dict__.get("_kinks")
    if cached is not None:
        return cached
    graph = problem.graph
    kinks = [k for n in graph.order for k in kink_arguments(graph.nodes[n].expr)]
    for claim in problem.claims:
        for e in (claim.expr, claim.chain_expr):
            if e is not None:
                kinks += [k for k in kink_arguments(e) if not _has_dref(k)]
    problem.__dict__["_kinks"] = kinks = list(dict.fromkeys(kinks))
    return kinks


def printed_tolerance(text: str, truth: float) -> float:
    """How far from the truth a printed number may be: half a unit of its last printed digit
    ("2.50": ±0.005, "1.2e-3": ±5e-5; its zeros are digits too); an integer is exact (to
    10⁻⁹, relative above 1)."""
    from decimal import Decimal, InvalidOperation
    try:
        exponent = Decimal(text.strip()).as_tuple().exponent
    except (InvalidOperation, ValueError):
        exponent = 0
    if ("." not in text and "e" not in text.lower()) or not isinstance(exponent, int):
        return 1e-9 * max(abs(truth), 1.0)       # printed 0 where round-off left 1e-17
    return 0.5 * 10.0 ** exponent + 1e-12 * abs(truth)


LARGER_SIZES = (6, 9)      # a size a claim uses as a number is also drawn from here


def _larger_sizes(problem: Problem, options: Options, assignments: list) -> dict | None:
    """One more size setting, every size drawn from 6 to 8, where a claim uses a size as a
    number (1/N, (n − 2)(n − 3)(n − 4)(n − 5)·X): drawn from 2 to 5 alone, a claim wrong for
    every n ≥ 6 would pass. Not where --size fixes the sizes or no such setting fits the
    problem's relations."""
    from deriv.problem import holds
    if not problem.sizes or options.sizes or not assignments:
        return None
    uses = any(isinstance(s, A.SizeValue) for c in problem.claims
               for e in (c.expr, c.chain_expr) if e is not None for s in e.free_symbols)
    if not uses:
        return None
    rng = np.random.default_rng(options.seed + 7919)
    for _ in range(16):
        larger = {s: int(rng.integers(*LARGER_SIZES)) for s in problem.sizes}
        if holds(larger, problem.relations) and larger not in assignments:
            return larger
    return None


def _has_dref(expr: sp.Expr) -> bool:
    return any(dref_of(s) for s in expr.free_symbols)


def check_problem(problem: Problem, options: Options | None = None, progress=None,
                  shared: dict | None = None, block: tuple[int, int] | None = None
                  ) -> tuple[list[Verdict], list[Missing]]:
    """Every claim of one problem (or of `block`, a (start, stop) slice of them: see
    claim_blocks); `progress(verdict)` is called after each. With `shared` (one dict for a
    run), copies of a problem — a class's answers to one exercise — share its drawn points and
    sweeps, and a claim written the same way its verdict: the check is deterministic, so a copy
    would only repeat it."""
    options = options or Options()
    verdicts = []
    claims = problem.claims if block is None else problem.claims[block[0]:block[1]]
    with np.errstate(all="ignore"):   # inf − inf, exp overflow: NaNs, counted, not warnings
        key = _problem_key(problem) if shared is not None else None
        pc = shared.get(key) if key is not None else None
        if pc is None:
            pc = ProblemCheck(problem, options)
            if key is not None:
                shared[key] = pc
        pc.begin(len(claims) / max(1, len(problem.claims)), fresh=block is not None)
        for claim in claims:
            same = (key, block, _claim_key(claim)) if key is not None else None
            if same is not None and same in shared:
                verdict = dataclasses.replace(shared[same], claim=claim)
            else:
                verdict = pc.check(claim)
                if same is not None and not any(f.kind == "not-diagnosed"
                                                for f in verdict.diagnosis):
                    shared[same] = verdict      # (an explanation the budget denied is not
            verdict.problem, verdict.file = problem.id, problem.path   # the copy's answer)
            verdicts.append(verdict)
            if progress is not None:
                progress(verdict)
    if block is not None and block[0] > 0:
        return verdicts, []           # (the first block says what the problem misses)
    covered = {(c.of, c.wrt) for c in problem.claims if not c.unread}
    missing = [Missing(problem.id, a, problem.path) for a in problem.asks
               if (a.of, a.wrt) not in covered]
    return verdicts, missing


CLAIM_BLOCK = 500       # claims of one problem checked as one piece of work


def claim_blocks(problems: list[Problem]) -> list[tuple[int, tuple[int, int] | None]]:
    """The pieces a run checks: (problem index, None) for a problem of up to CLAIM_BLOCK
    claims, (index, (start, stop)) for each block of a larger one — 5,000 claims of one
    problem are shared among the cores. A block has its share of the problem's explanations
    (MAX_DIAGNOSED in all) and decides alone, so the report is the same however the blocks
    were split among processes."""
    units = []
    for k, p in enumerate(problems):
        n = len(p.claims)
        if n <= CLAIM_BLOCK:
            units.append((k, None))
        else:
            units.extend((k, (start, min(n, start + CLAIM_BLOCK)))
                         for start in range(0, n, CLAIM_BLOCK))
    return units


def _problem_key(problem: Problem) -> tuple:
    """What a check depends on besides the claim: inputs, graph, output, point, kinks, and what
    the problem asks (a harmless printed value is judged by it)."""
    graph = problem.graph
    return (tuple((i.name, i.kind, i.domain, i.interval, i.structure)
                  for i in graph.inputs.values()), tuple(problem.relations),   # (sizes drawn)
            tuple((n, graph.nodes[n].text) for n in graph.order), problem.output,
            tuple(sorted(problem.at.items())), tuple(problem_kinks(problem)),
            tuple(problem.asks), tuple(sorted({c.wrt for c in problem.claims})))  # harmless()


def _claim_key(c: Claim) -> tuple:
    return (c.of, c.wrt, c.local, c.layout, c.update, c.expr_text, c.chain_text, c.value_text,
            tuple(c.shapes or ()), c.shape_error.message if c.shape_error else None, c.unread,
            c.spec)


def operation_counts(problem: Problem, options: Options | None = None) -> dict[str, int]:
    """Array operations per sampled point, from the generated code's operators and calls:
    `forward`, one forward pass; `truth`, the forward pass and the reverse sweeps the verdicts
    need (the cheap-gradient bound: ≤ 3 × forward); `check`, all that reaching the verdicts
    evaluated (truth, the claims as written, their edge partials, kinks); `diagnosis`, apart,
    what explaining the failing claims cost."""
    from deriv.program import forward_operations
    options = options or Options()
    with np.errstate(all="ignore"):
        pc = ProblemCheck(problem, options)
        for claim in problem.claims:
            pc.check(claim)
    total = pc.operations()
    forward = forward_operations(problem)
    sweeps = pc.operations("sweep_ops") - pc.diagnosis_sweep_ops
    return {"forward": forward, "truth": int(round(forward + sweeps)),
            "check": int(round(total - pc.diagnosis_ops)),
            "diagnosis": int(round(pc.diagnosis_ops))}


def check(problems: list[Problem], options: Options | None = None, progress=None,
          on_error=None) -> Report:
    """Every claim of every problem. Runs of many claims are shared among the machine's cores
    (deriv.workers; `options.jobs`): copies of one problem go to the same worker, and every
    check is deterministic, so the report is the same however the work was split. A problem
    that cannot be checked (too large) raises DerivError, or with `on_error(problem, error)`
    is passed over."""
    start = time.perf_counter()
    options = options or Options()
    report = Report(problems=list(problems))
    # shared points and sweeps stay in memory for the run: only while they are small
    shared = {} if options.samples <= SHARED_SAMPLES else None
    units = claim_blocks(problems)
    done = dict(_in_workers(problems, units, options, progress))
    failed: set[int] = set()
    results: dict[int, list] = {}
    for u, (k, block) in enumerate(units):
        if k in failed:
            continue
        problem = problems[k]
        if done.get(u) is not None:
            result = done[u]
        else:       # checked here: a small run, or what a worker could not do (its error)
            try:
                result = check_problem(problem, options, progress, shared, block)
            except DerivError as err:
                if err.file is None:          # found while checking: placed at its problem
                    err.file, err.line, err.col = problem.path, problem.line, None
                if on_error is None:
                    raise
                on_error(problem, err)
                failed.add(k)
                results.pop(k, None)
                continue
        results.setdefault(k, []).append(result)
    for k in sorted(results):
        for verdicts, missing in results[k]:
            report.verdicts.extend(verdicts)
            report.missing.extend(missing)
    report.seconds = time.perf_counter() - start
    return report


PARALLEL_CLAIMS = 60     # fewer claims than this are checked in one process: a worker's start
                         # (a fork, results sent back) costs about what 5 claims do


def jobs_for(problems: list[Problem], options: Options) -> int:
    from deriv import workers
    if options.jobs:
        return options.jobs
    if options.samples > SHARED_SAMPLES or not workers.available():
        return 1        # a large run's arrays would be held once per worker: memory binds
    if sum(len(p.claims) for p in problems) < PARALLEL_CLAIMS:
        return 1
    return min(workers.cores(), workers.MAX_JOBS)


def _in_workers(problems: list[Problem], units: list, options: Options, progress):
    """(unit index, (verdicts, missing)) of the pieces of work (claim_blocks) checked by
    worker processes; None for one a worker could not check (bad input found while checking,
    a bug), which the caller checks itself and so reports as a run in one process does."""
    from deriv import workers
    groups: dict[tuple, list[int]] = {}
    for u, (k, block) in enumerate(units):      # copies of a problem (its block) together
        groups.setdefault((_problem_key(problems[k]), block), []).append(u)
    jobs = min(jobs_for(problems, options), len(groups))
    if jobs <= 1:
        return

    def size(u):
        k, block = units[u]
        return (block[1] - block[0] if block else len(problems[k].claims)) + 4
    # largest first, so that the last to finish is a small one
    tasks = sorted(groups.values(), key=lambda g: -sum(size(u) for u in g))

    def work(indices):
        shared: dict = {}
        out = []
        for u in indices:
            k, block = units[u]
            try:
                with np.errstate(all="ignore"):
                    verdicts, missing = check_problem(problems[k], options, None, shared, block)
            except Exception:   # noqa: BLE001 — the parent checks it again, and says why
                out.append((u, None))
                continue
            out.append((u, ([dataclasses.replace(v, claim=None) for v in verdicts], missing)))
        return out

    for indices, results in workers.each(work, tasks, jobs):
        for u, result in results or [(u, None) for u in indices]:
            if result is not None:          # the claims stay this process's own objects
                k, block = units[u]
                claims = problems[k].claims if block is None else \
                    problems[k].claims[block[0]:block[1]]
                for verdict, claim in zip(result[0], claims):
                    verdict.claim = claim
                    if progress is not None:
                        progress(verdict)
            yield u, result
