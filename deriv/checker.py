"""`deriv check` as a library: every claim of a problem against the engine's derivative.

One checker for every kind. Inputs are drawn in batches (one per size assignment; a scalar
problem has one); the truth is the adjoint program evaluated on them (deriv.program); a claim
is compiled once, as written. Points near kinks or where the function is undefined are
dropped; disagreements are re-evaluated with mpmath before a claim is called wrong; a failing
claim is explained (deriv.diagnose).
"""

from __future__ import annotations

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
from deriv.program import Values, close, mp_flat, per_point
from deriv.sampling import draw_all, size_assignments

KINK_EPS = 1e-6
MIN_VALID_FRACTION = 0.2
RECHECK = 12                  # disagreeing points re-evaluated at high precision
MAX_PRECISE = 64              # points where float64 fails, evaluated at 50 digits instead
MIN_PER_BATCH = 50
MIN_POINTS = 10               # a batch smaller than this is refused as too large to check
MEMORY = 1 << 30              # bytes the arrays of one batch may take


@dataclass
class Options:
    samples: int = 2000
    seed: int = 0
    strict: bool = False        # warnings fail too


class Batch:
    """Points drawn at one size assignment, their forward pass and derivatives."""

    def __init__(self, problem: Problem, sizes: dict, n: int, seed: int, kinks: list,
                 symmetric: bool = False):
        self.sizes = sizes
        self.inputs = draw_all(problem.inputs, n, seed, sizes, symmetric)
        self.values = Values(problem, self.inputs, sizes)
        graph = problem.graph
        # a node is defined where it and all its parents are finite: a derivative at a point
        # where the function itself is undefined (log of a negative) proves nothing
        self.defined = {name: np.ones(n, dtype=bool) for name in graph.inputs}
        for name in graph.order:
            mask = per_point(np.isfinite(self.values.env[graph.symbols[name]]))
            for parent in graph.parents(name):
                mask = mask & self.defined[parent]
            self.defined[name] = mask
        self.kink_values = self.values.kinks(kinks)
        keep = np.ones(n, dtype=bool)
        keep_total = keep.copy()
        for values in self.kink_values.values():
            near = np.abs(values) < KINK_EPS * (1.0 + np.abs(values))
            keep &= ~per_point(near, every=False)
            keep_total &= ~per_point(near & (values != 0), every=False)
        self.keep = keep
        # A kink argument exactly 0 is 0 on a whole region (relu(relu(x)) for x < 0): the
        # function is flat there, so a total derivative is defined and compared; only an edge
        # partial (a local claim) sits on the kink itself.
        self.keep_total = keep_total


class ProblemCheck:
    """All claims of one problem, sharing the drawn batches and every sweep."""

    max_precise = MAX_PRECISE

    def __init__(self, problem: Problem, options: Options):
        self.problem = problem
        self.graph = problem.graph
        self.options = options
        assignments = size_assignments(problem.sizes, options.seed) if problem.sizes else [{}]
        self.per_batch = self.batch_size(problem, options, assignments)
        # in the order they appear (never a set's order: that changes from run to run)
        kinks = [k for n in self.graph.order for k in kink_arguments(self.graph.nodes[n].expr)]
        for claim in problem.claims:
            for e in (claim.expr, claim.chain_expr):
                if e is not None:
                    kinks += [k for k in kink_arguments(e) if not _has_dref(k)]
        self.kinks = list(dict.fromkeys(kinks))
        self.kink_symbols = {k: k.free_symbols for k in self.kinks}
        self.batches = [Batch(problem, sizes, self.per_batch, options.seed + i, self.kinks)
                        for i, sizes in enumerate(assignments)]
        self._symmetric: list[Batch] | None = None
        self.diagnosis_ops = self.diagnosis_sweep_ops = 0.0

    def operations(self, kind: str = "ops") -> float:
        """Operations evaluated so far, per sampled point (every batch runs the same code)."""
        return sum(getattr(b.values, kind) for b in self.batches) / len(self.batches)

    @staticmethod
    def batch_size(problem: Problem, options: Options, assignments: list[dict]) -> int:
        """Points a batch draws: the samples asked for, shared among the size assignments, and
        bounded so that every value of the graph (kept for the reverse sweep) fits in memory."""
        from deriv.sampling import concrete
        per_batch = max(MIN_PER_BATCH, options.samples // len(assignments))
        largest = {s: max(a[s] for a in assignments) for s in problem.sizes}
        elements = sum(int(np.prod(concrete(problem.graph.shape(n), largest) or (1,)))
                       for n in problem.graph.symbols)
        fits = MEMORY // (8 * 3 * elements)       # values, adjoints and temporaries
        if fits < MIN_POINTS:
            raise DerivError(f"{problem.id} is too large to check: {elements} numbers a point "
                             f"(at most {MEMORY // (8 * 3 * MIN_POINTS)})", problem.path,
                             problem.line)
        return min(per_batch, fits)

    # --- values -------------------------------------------------------------------------------
    def derivative(self, values: Values, ref: DRef) -> object:
        """What D(a, b) means inside a claim: the edge partial when b is a direct parent of a
        (the chain-rule factor a document writes), the total derivative otherwise."""
        local = ref.wrt in self.graph.parents(ref.of)
        return values.derivative(ref.of, ref.wrt, ref.layout, local)

    def evaluate(self, values: Values, expr: sp.Expr):
        """A claim's expression as written, with each D(a, b) from the adjoint program."""
        extra = {s: self.derivative(values, d) for s in expr.free_symbols if (d := dref_of(s))}
        return values.value(expr, extra)

    def truth(self, values: Values, claim: Claim, layout: str | None = None):
        layout = layout or claim.layout
        if claim.is_value:
            return values.env[self.graph.symbols[claim.of]]
        if claim.update:
            grad = values.derivative(claim.of, claim.wrt, "gradient", claim.local)
            return values.env[self.graph.symbols[claim.wrt]] - \
                values.env[self.graph.symbols[claim.update]] * grad
        return values.derivative(claim.of, claim.wrt, layout, claim.local)

    def target_shape(self, claim: Claim, layout: str | None = None) -> tuple:
        if claim.is_value or claim.update:
            return self.graph.shape(claim.of if claim.is_value else claim.wrt)
        return derivative_shape(self.graph, claim.of, claim.wrt, layout or claim.layout)

    def symmetric_batches(self) -> list[Batch]:
        if self._symmetric is None:
            sizes = {s: 3 for s in self.problem.sizes}
            self._symmetric = [Batch(self.problem, sizes, self.per_batch,
                                     self.options.seed + 7919, self.kinks, symmetric=True)]
        return self._symmetric

    # --- comparing ---------------------------------------------------------------------------
    def valid(self, batch: Batch, claim: Claim, *arrays) -> np.ndarray:
        mask = batch.keep if claim.local else batch.keep_total
        mask = mask & batch.defined[claim.of]
        for a in arrays:
            mask = mask & per_point(np.isfinite(a))
        return mask

    def agree(self, pairs, claim: Claim) -> tuple[bool, list]:
        """Do claim and truth agree at every valid point? (and the disagreeing points)"""
        bad = []
        for batch, c, t, valid in pairs:
            if np.shape(c) != np.shape(t):
                return False, []
            ok = per_point(close(c, t))
            for i in np.flatnonzero(valid & ~ok):
                bad.append((batch, int(i)))
        return not bad, bad

    def precise(self, claim: Claim, expr: sp.Expr, pairs) -> tuple[int, int]:
        """Points where float64 overflows (log(exp(a) + exp(b)) at a = 710) are not undefined:
        up to MAX_PRECISE of them a batch are evaluated at 50 digits instead. Returns how many
        are defined there, how many of those disagree, and how many were tried."""
        import mpmath as mp
        defined = wrong = tried = 0
        for batch, _, _, valid in pairs:
            keep = batch.keep if claim.local else batch.keep_total
            for i in np.flatnonzero(keep & ~valid)[:MAX_PRECISE]:
                tried += 1
                values = self.precise_values(batch, int(i))
                if values is None:
                    continue
                with mp.workdps(50):
                    try:
                        c = mp_flat(self.evaluate(values, expr))
                        t = mp_flat(self.truth(values, claim))
                    except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                        continue
                    if c is None or t is None or len(c) != len(t) or not all(
                            isinstance(x, mp.mpf) and mp.isfinite(x) for x in c + t):
                        continue
                    defined += 1
                    wrong += any(abs(a - b) > 1e-12 + 1e-9 * max(abs(a), abs(b))
                                 for a, b in zip(c, t))
        return defined, wrong, tried

    def precise_values(self, batch: Batch, i: int) -> Values | None:
        """The forward pass at one point at 50 digits (shared by the claims), or None where
        the function itself is undefined (a log of a negative: not an overflow)."""
        import mpmath as mp
        cache = self.__dict__.setdefault("_precise", {})
        key = (id(batch), i)
        if key not in cache:
            point = {k: _mp_point(v, i) for k, v in batch.inputs.items()}
            with mp.workdps(50):
                values = Values(self.problem, point, batch.sizes, backend="mpmath", n=1)
            finite = all(isinstance(x, mp.mpf) and mp.isfinite(x)
                         for v in values.env.values() for x in (mp_flat(v) or [mp.nan]))
            cache[key] = values if finite else None
        return cache[key]

    def confirmed(self, claim: Claim, expr: sp.Expr, bad: list) -> bool:
        """Does a disagreement survive at 50 digits (mpmath)? Round-off never fails a claim."""
        import mpmath as mp
        for batch, i in bad[:RECHECK]:
            point = {k: _mp_point(v, i) for k, v in batch.inputs.items()}
            with mp.workdps(50):
                values = Values(self.problem, point, batch.sizes, backend="mpmath", n=1)
                try:
                    c = self.evaluate(values, expr) if expr is not None else None
                    t = self.truth(values, claim)
                except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                    continue
                c_arr, t_arr = mp_flat(c), mp_flat(t)
                if c_arr is None or t_arr is None or len(c_arr) != len(t_arr):
                    continue
                for a, b in zip(c_arr, t_arr):
                    if abs(a - b) > 1e-12 + 1e-9 * max(abs(a), abs(b)):
                        return True
        return False

    # --- one claim ---------------------------------------------------------------------------
    def check(self, claim: Claim) -> Verdict:
        if claim.unread:             # printed LaTeX deriv could not read: said, never skipped
            return Verdict(self.problem.id, claim, "error", reason=f"unread: {claim.unread}")
        v = Verdict(self.problem.id, claim, "pass")
        findings: list[Finding] = []
        target = None if claim.is_value else claim.target
        written = claim.expr if claim.expr is not None else claim.chain_expr
        want = self.target_shape(claim)
        got = A.shape_of(written)
        pairs = []
        for batch in self.batches:
            t = self.truth(batch.values, claim)
            c = self.evaluate(batch.values, written) if got == want else None
            valid = self.valid(batch, claim, t, *(() if c is None else (c,)))
            v.near_kink += int((~(batch.keep if claim.local else batch.keep_total)).sum())
            v.undefined += int((~valid).sum())
            pairs.append((batch, c, t, valid))
        v.undefined -= v.near_kink
        v.samples = int(sum(p[3].sum() for p in pairs))
        # size settings where nothing could be compared (a singular XᵀAX for wide X): said,
        # never passed over in silence
        v.dropped = tuple(dict(p[0].sizes) for p in pairs if p[3].sum() < 3) \
            if len(pairs) > 1 else ()
        v.branches, v.branches_seen = self.coverage(claim, pairs)
        total = self.per_batch * len(self.batches)
        precise_wrong = 0
        if got == want and v.undefined:
            v.precise, precise_wrong, tried = self.precise(claim, written, pairs)
            # every point tried is defined at 50 digits: the others overflow too, they are not
            # undefined (they are counted, not all evaluated)
            v.overflow = v.undefined if tried and v.precise == tried else v.precise
            v.undefined -= v.overflow
        if got != want:
            v.verdict = "fail"
            findings.extend(Diagnosis(self, claim, written, pairs).shape_mismatch(got, want))
        elif v.samples < 3 and v.precise and precise_wrong == 0:
            pass        # float64 fails at (almost) every point: decided at 50 digits alone
        elif v.samples < max(10, MIN_VALID_FRACTION * total) and not v.precise:
            v.verdict = "error"
            v.reason = "too-few-points"
            return v
        else:
            same, bad = self.agree(pairs, claim)
            if precise_wrong or (not same and self.confirmed(claim, written, bad)):
                v.verdict = "fail"
                before = self.operations(), self.operations("sweep_ops")
                findings.extend(Diagnosis(self, claim, written, pairs).run())
                self.diagnosis_ops += self.operations() - before[0]
                self.diagnosis_sweep_ops += self.operations("sweep_ops") - before[1]
        if claim.chain is not None and not claim.is_value:
            structure = chain_findings(self.graph, claim.chain, claim.of, claim.wrt)
            if not structure and claim.expr is not None and claim.chain_expr is not None:
                chain_pairs = []
                for batch, _, t, valid in pairs:
                    ch = self.evaluate(batch.values, claim.chain_expr)
                    chain_pairs.append((batch, ch, t, valid & per_point(np.isfinite(ch))))
                same, bad = self.agree(chain_pairs, claim)
                if not same and self.confirmed(claim, claim.chain_expr, bad):
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
        v.diagnosis = findings
        if v.verdict == "fail" and not self.options.strict and self.harmless(claim, written):
            v.severity = "warning"
        return v

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
        relevant = [k for k in self.kinks
                    if self.kink_symbols[k] & upstream or any(e.has(k) for e in written)]
        seen = 0
        for k in relevant:
            pos = neg = False
            for batch, _, _, valid in pairs:
                values = batch.kink_values[k]
                values = values.reshape(-1, values.shape[-1]) if values.ndim > 1 else values[None]
                pos = pos or bool(np.any(values[:, valid] > 0))
                neg = neg or bool(np.any(values[:, valid] < 0))
            seen += int(pos) + int(neg)
        return 2 * len(relevant), seen

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
        # "1.0" is printed to one decimal: ±0.05 (its zeros are digits too)
        decimals = len(text.split(".")[1]) if "." in text and "e" not in text.lower() else 0
        tol = 0.5 * 10 ** -decimals if decimals else 1e-9 * max(1.0, abs(truth))
        if abs(truth - claim.value) <= tol + 1e-12:
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


def _has_dref(expr: sp.Expr) -> bool:
    return any(dref_of(s) for s in expr.free_symbols)


def _mp_point(v: np.ndarray, i: int):
    import mpmath as mp
    if v.ndim == 1:
        return mp.mpf(float(v[i]))
    out = np.empty(v.shape[:-1], dtype=object)
    for idx in np.ndindex(*v.shape[:-1]):
        out[idx] = mp.mpf(float(v[idx + (i,)]))
    return out


def check_problem(problem: Problem, options: Options | None = None
                  ) -> tuple[list[Verdict], list[Missing]]:
    options = options or Options()
    with np.errstate(all="ignore"):   # inf − inf, exp overflow: NaNs, counted, not warnings
        pc = ProblemCheck(problem, options)
        verdicts = [pc.check(c) for c in problem.claims]
    covered = {(c.of, c.wrt) for c in problem.claims if not c.unread}
    missing = [Missing(problem.id, a) for a in problem.asks if (a.of, a.wrt) not in covered]
    return verdicts, missing


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


def check(problems: list[Problem], options: Options | None = None, jobs: int | None = None
          ) -> Report:
    """Every claim of every problem. Problems are independent, so with several cores (and a
    platform that forks) they are shared among worker processes; the report is the same."""
    start = time.perf_counter()
    options = options or Options()
    report = Report(problems=list(problems))
    for verdicts, missing in _run_all(problems, options, jobs):
        report.verdicts.extend(verdicts)
        report.missing.extend(missing)
    report.seconds = time.perf_counter() - start
    return report


_WORK: tuple[list[Problem], Options] | None = None   # what forked workers inherit


def _run_all(problems: list[Problem], options: Options, jobs: int | None):
    import multiprocessing as mp
    import os
    jobs = jobs if jobs is not None else min(len(problems), os.cpu_count() or 1, 4)
    if jobs < 2 or len(problems) < 4 or "fork" not in mp.get_all_start_methods():
        return [check_problem(p, options) for p in problems]
    global _WORK
    _WORK = (problems, options)
    try:
        with mp.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_check_one, range(len(problems)), chunksize=1)
    finally:
        _WORK = None
    for problem, (verdicts, _) in zip(problems, results):
        for v in verdicts:          # claims travel as indices: SymPy trees are slow to pickle
            v.claim = problem.claims[v.claim]
    return results


def _check_one(index: int):
    problems, options = _WORK
    problem = problems[index]
    verdicts, missing = check_problem(problem, options)
    position = {id(c): i for i, c in enumerate(problem.claims)}
    for v in verdicts:
        v.claim = position[id(v.claim)]
    return verdicts, missing
