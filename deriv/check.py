"""`deriv check` as a library: every claim of a problem against the engine's derivative.

Sampling is vectorised (lambdify to NumPy); points near kinks are dropped; disagreements are
re-evaluated with mpmath before a claim is called wrong; a failing claim is explained.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from deriv.chains import chain_findings
from deriv.findings import Finding, Missing, Report, Verdict
from deriv.functions import kink_arguments
from deriv.names import partial, pretty
from deriv.numeric import evaluate, evaluate_mp
from deriv.parse import DRef, dref_of, parse_factors
from deriv.problem import Claim, Problem
from deriv.render.notation import text as math
from deriv.sampling import draw_all
from deriv.simplify import TimedOut, time_limit
from deriv.sweep import Derivatives

RTOL = 1e-6
ATOL = 1e-9
KINK_EPS = 1e-6
MIN_VALID_FRACTION = 0.2
RECHECK = 12                  # disagreeing points re-evaluated at high precision
DIAGNOSIS_SECONDS = 0.3       # per symbolic attempt; numeric explanations come first
DIAGNOSIS_BUDGET = 2.0        # per explanation tried (mislabelled is quadratic in a deep graph)
SYMBOLIC_MAX_OPS = 80         # larger inlined expressions are not simplified at all


@dataclass
class Options:
    samples: int = 2000
    seed: int = 0


def close(a: np.ndarray, b: np.ndarray, rtol: float = RTOL, atol: float = ATOL) -> np.ndarray:
    return np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b))


class ProblemCheck:
    """All claims of one problem, sharing one set of samples and one cache of derivatives."""

    def __init__(self, problem: Problem, options: Options):
        self.problem = problem
        self.graph = problem.graph
        self.display = problem.display
        self.options = options
        self.truth = Derivatives(self.graph)
        drawn = draw_all(problem.inputs, options.samples, options.seed)
        self.env: dict[sp.Symbol, np.ndarray] = {self.graph.symbols[n]: v for n, v in drawn.items()}
        # A node is defined where its value and all its parents' are finite: a derivative
        # at a point where the function itself is undefined (log of a negative) proves nothing.
        self.defined: dict[str, np.ndarray] = {n: np.ones(options.samples, dtype=bool)
                                               for n in self.graph.inputs}
        for name in self.graph.order:
            node = self.graph.nodes[name]
            self.env[node.symbol] = evaluate(node.expr, self.env, options.samples)
            mask = np.isfinite(self.env[node.symbol])
            for parent in node.parents:
                mask = mask & self.defined[parent]
            self.defined[name] = mask
        self._arrays: dict[sp.Expr, np.ndarray] = {}
        kinks = {k for n in self.graph.order for k in kink_arguments(self.graph.nodes[n].expr)}
        for claim in problem.claims:
            if claim.expr is not None:
                kinks |= set(kink_arguments(self.resolve(claim.expr)))
        self.kinks = sorted(kinks, key=sp.default_sort_key)
        self.kink_values = {k: self.array(k) for k in self.kinks}
        keep = np.ones(options.samples, dtype=bool)
        keep_total = keep.copy()
        for k, values in self.kink_values.items():
            scale = 1.0 + np.abs(values)
            near = np.abs(values) < KINK_EPS * scale
            keep &= ~near
            keep_total &= ~(near & (values != 0))
        self.keep = keep
        # A kink argument exactly 0 at a sampled point is 0 on a whole region (relu(relu(x))
        # for x < 0): the function is flat there, so a total derivative is defined and is
        # compared (dropping the region once passed exp(relu(x)) for exp(relu(x))·I[x > 0]);
        # only an edge partial (a local claim) sits on the kink itself.
        self.keep_total = keep_total

    # --- evaluation -------------------------------------------------------------------------
    def array(self, expr: sp.Expr) -> np.ndarray:
        if expr not in self._arrays:
            self._arrays[expr] = evaluate(expr, self.env, self.options.samples)
        return self._arrays[expr]

    def resolve(self, expr: sp.Expr) -> sp.Expr:
        """A claim's expression with each D(a, b) replaced by the engine's derivative."""
        refs = {s: self.truth.reference(d) for s in expr.free_symbols if (d := dref_of(s))}
        return expr.xreplace(refs) if refs else expr

    def truth_of(self, claim: Claim) -> sp.Expr:
        if claim.is_value:
            return self.graph.symbols[claim.of]
        if claim.local:
            return self.graph.local(claim.of, claim.wrt)
        return self.truth.total(claim.of, claim.wrt)

    def point_env(self, index: int, dps: int = 50) -> dict:
        """One sample recomputed with mpmath: inputs exact, nodes at `dps` digits."""
        import mpmath as mp
        env = {}
        with mp.workdps(dps):
            for name in self.graph.inputs:
                s = self.graph.symbols[name]
                env[s] = mp.mpf(float(self.env[s][index]))
            for name in self.graph.order:
                node = self.graph.nodes[name]
                env[node.symbol] = evaluate_mp(node.expr, env, dps)
        return env

    def confirmed(self, claim_expr: sp.Expr, truth_expr: sp.Expr, indices: np.ndarray) -> list[int]:
        """Of the disagreeing points, those that still disagree at high precision."""
        import mpmath as mp
        real = []
        for i in indices[:RECHECK]:
            env = self.point_env(int(i))
            with mp.workdps(50):
                c = evaluate_mp(claim_expr, env)
                t = evaluate_mp(truth_expr, env)
                if mp.isnan(c) or mp.isnan(t):
                    continue
                if abs(c - t) > 1e-12 + 1e-9 * max(abs(c), abs(t)):
                    real.append(int(i))
        return real

    # --- one claim ---------------------------------------------------------------------------
    def check(self, claim: Claim) -> Verdict:
        v = Verdict(self.problem.id, claim, "pass")
        truth_expr = self.truth_of(claim)
        findings: list[Finding] = []
        if claim.expr is not None:
            claim_expr = self.resolve(claim.expr)
        else:
            claim_expr = self.chain_expr(claim)
        c, t = self.array(claim_expr), self.array(truth_expr)
        finite = np.isfinite(c) & np.isfinite(t) & self.defined[claim.of]
        for symbol in claim_expr.free_symbols:
            if symbol.name in self.defined:
                finite &= self.defined[symbol.name]
        keep = self.keep if claim.local else self.keep_total
        valid = finite & keep
        v.near_kink = int((~keep).sum())
        v.undefined = int((~finite & keep).sum())
        v.samples = int(valid.sum())
        relevant = set(kink_arguments(claim_expr)) | set(kink_arguments(truth_expr))
        relevant |= {k for k in self.kinks if k.free_symbols & self._upstream(claim)}
        v.branches = 2 * len(relevant)
        v.branches_seen = sum(int(np.any(self.kink_values[k][valid] > 0)) +
                              int(np.any(self.kink_values[k][valid] < 0))
                              for k in relevant if k in self.kink_values)
        if v.samples < max(10, MIN_VALID_FRACTION * self.options.samples):
            v.verdict = "error"
            v.reason = (f"evaluable at only {v.samples} of {self.options.samples} points "
                        f"({v.undefined} undefined, {v.near_kink} near a kink); "
                        "is an input's domain missing (e.g. positive)?")
            return v
        agree = close(c, t)
        bad = np.flatnonzero(valid & ~agree)
        if bad.size:
            real = self.confirmed(claim_expr, truth_expr, bad)
            if real:
                v.verdict = "fail"
                v.max_error = float(np.max(np.abs(c[bad] - t[bad])))
                findings.extend(Diagnosis(self, claim, claim_expr, truth_expr, valid).run())
        if claim.chain is not None and not claim.is_value:
            structure = chain_findings(self.graph, claim.chain, claim.of, claim.wrt,
                                       self.display)
            if not structure and claim.expr is not None:
                ch = self.array(self.chain_expr(claim))
                ok = close(ch, t) | ~(np.isfinite(ch) & valid)
                if not ok.all():
                    structure.append(Finding("chain-value", "the printed chain does not evaluate "
                                             f"to {partial(claim.of, claim.wrt, self.display)}"))
            if structure:
                v.verdict = "fail"
                findings.extend(structure)
        if claim.value is not None:
            finding = self.value_finding(claim, truth_expr)
            if finding:
                v.verdict = "fail"
                findings.append(finding)
        v.diagnosis = findings
        return v

    def _upstream(self, claim: Claim) -> set[sp.Symbol]:
        names = self.graph.ancestors.get(claim.of, frozenset()) | {claim.of}
        return {self.graph.symbols[n] for n in names}

    def chain_expr(self, claim: Claim) -> sp.Expr:
        return sp.Add(*(sp.Mul(*(self.truth.reference(f) for f in product))
                        for product in claim.chain or []))

    def value_finding(self, claim: Claim, truth_expr: sp.Expr) -> Finding | None:
        if not self.problem.at or set(self.problem.at) != set(self.graph.inputs):
            return Finding("value", "a printed value needs the document's point: the problem's "
                                    "`at` must give every input")
        from deriv.solve import node_values
        env = node_values(self.problem, self.problem.at)
        truth = float(evaluate(truth_expr, env, 1)[0])
        text = claim.value_text or repr(claim.value)
        if not np.isfinite(truth):   # never a pass: inf is within any relative tolerance of inf
            return Finding("value", f"printed value {text} at {self.at_text()}, where it "
                                    f"evaluates to {truth:g}: the value cannot be confirmed")
        decimals = len(text.split(".")[1].rstrip("0")) if "." in text and "e" not in text.lower() \
            else 0
        tol = 0.5 * 10 ** -decimals if decimals else 1e-9 * max(1.0, abs(truth))
        if abs(truth - claim.value) <= tol + 1e-12:
            return None
        return Finding("value", f"printed value {text} at {self.at_text()}, "
                                f"but it is {truth:.6g}")

    def at_text(self) -> str:
        return ", ".join(f"{pretty(k, self.display)} = {v:g}" for k, v in self.problem.at.items())


class Diagnosis:
    """Why a claim is wrong: cheapest explanation first, each confirmed on the samples."""

    def __init__(self, pc: ProblemCheck, claim: Claim, claim_expr: sp.Expr, truth_expr: sp.Expr,
                 valid: np.ndarray):
        self.pc, self.claim = pc, claim
        self.d = pc.display
        self.claim_expr, self.truth_expr = claim_expr, truth_expr
        self.valid = valid
        self.c = pc.array(claim_expr)
        self.t = pc.array(truth_expr)

    def matches(self, values: np.ndarray, reference: np.ndarray | None = None) -> bool:
        """Do `values` equal the claim (or `reference`) wherever both are defined?"""
        reference = self.c if reference is None else reference
        ok = self.valid & np.isfinite(values) & np.isfinite(reference)
        return ok.sum() >= 0.5 * self.valid.sum() and bool(close(reference[ok], values[ok]).all())

    def run(self) -> list[Finding]:
        """Up to two numeric explanations, cheapest first; the slow symbolic ones only when no
        numeric one explained the claim."""
        found: list[Finding] = []
        numeric = (self.mislabelled, self.negated, self.constant_multiple, self.swapped,
                   self.wrong_factor, self.chain_term)
        for method in numeric + (self.factor, self.difference):
            if len(found) >= 2 or (found and method not in numeric):
                break
            try:
                with time_limit(DIAGNOSIS_BUDGET):
                    finding = method()
            except (TimedOut, RecursionError, ZeroDivisionError, ValueError, TypeError):
                finding = None
            if finding:
                found.append(finding)
        return found or [Finding("no-explanation", "no simple explanation found")]

    def target(self) -> str:
        return partial(self.claim.of, self.claim.wrt, self.d)

    def mislabelled(self) -> Finding | None:
        claim, pc = self.claim, self.pc
        if claim.is_value:
            return None
        ofs = dict.fromkeys([claim.of, pc.problem.output])
        for of in ofs:
            for wrt in pc.graph.symbols:
                if (of, wrt) == (claim.of, claim.wrt) or of == wrt or not pc.graph.depends(of, wrt):
                    continue
                if self.matches(pc.array(pc.truth.total(of, wrt))):
                    return Finding("mislabelled", f"equals {partial(of, wrt, self.d)}, not {self.target()}",
                                   equals=str(DRef(of, wrt)))
        if not claim.local and claim.wrt in pc.graph.parents(claim.of):
            local = pc.graph.local(claim.of, claim.wrt)
            if self.matches(pc.array(local)):
                others = [p for p in pc.graph.paths(claim.wrt, claim.of) if len(p) > 2]
                via = " (lost: " + ", ".join(" → ".join(pretty(n, self.d) for n in p)
                                              for p in others[:2]) + ")" if others else ""
                return Finding("lost-path", f"equals the edge partial {self.target()} alone; "
                                            f"the paths through other nodes are lost{via}")
        return None

    def negated(self) -> Finding | None:
        if self.matches(-self.t):
            return Finding("negated", "has the wrong sign: it is the negative of "
                                      f"{self.target()}")
        return None

    def constant_multiple(self) -> Finding | None:
        ok = self.valid & (np.abs(self.t) > 1e-8) & np.isfinite(self.c)
        if ok.sum() < 10:
            return None
        ratio = self.c[ok] / self.t[ok]
        k = float(np.median(ratio))
        if k == 0 or not np.allclose(ratio, k, rtol=1e-6, atol=1e-12):
            return None
        frac = Fraction(k).limit_denominator(1000)
        shown = str(frac) if abs(float(frac) - k) < 1e-9 * abs(k) else f"{k:.6g}"
        if abs(k) > 1:
            return Finding("constant-multiple", f"is {shown} times {self.target()} "
                                                f"(an extra factor {shown})")
        return Finding("constant-multiple", f"is {shown} times {self.target()} (a lost factor "
                                            f"{Fraction(1) / frac if frac else 1 / k})")

    def families(self) -> dict[str, list[sp.Symbol]]:
        import re
        groups: dict[str, list[sp.Symbol]] = {}
        for name, symbol in self.pc.graph.symbols.items():
            stem = re.sub(r"[\d_]+$", "", name)
            groups.setdefault(stem, []).append(symbol)
        return {k: v for k, v in groups.items() if len(v) > 1}

    def swapped(self) -> Finding | None:
        """Exchanging two symbols of one family (ψ₂₁ ↔ ψ₂₂) makes the claim right: evaluated
        by exchanging their sample arrays, so no expression is rebuilt or recompiled."""
        if self.claim.expr is None:
            return None
        used = self.claim.expr.free_symbols
        env = self.pc.env
        for members in self.families().values():
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    if a not in used and b not in used:
                        continue
                    exchanged = dict(env)
                    exchanged[a], exchanged[b] = env[b], env[a]
                    values = evaluate(self.claim_expr, exchanged, self.pc.options.samples)
                    if self.matches(values, self.t):
                        return Finding("swapped", f"{pretty(a.name, self.d)} and "
                                                  f"{pretty(b.name, self.d)} are swapped: "
                                                  "exchanging them makes it right")
        return None

    def chain_terms(self):
        """The engine's chain-rule terms for this derivative (reverse and forward views)."""
        pc, claim = self.pc, self.claim
        if claim.is_value or claim.local:
            return []
        terms = []
        step = pc.truth.step(claim.of, claim.wrt)
        if step:
            terms += step.terms
        from deriv.sweep import forward
        if claim.wrt in pc.graph.symbols:
            fstep = forward(pc.graph, claim.wrt).step(claim.of, claim.wrt)
            if fstep:
                terms += fstep.terms
        return terms

    def wrong_factor(self) -> Finding | None:
        """One factor of a printed product is not the partial it stands for: find the factor
        and the partial (an edge on a path wrt → of, or a total derivative) it should be."""
        if self.claim.expr_text is None or self.claim.is_value:
            return None
        graph, pc = self.pc.graph, self.pc
        factors = parse_factors(self.claim.expr_text, graph.symbols,
                                derivative=lambda a, b: DRef(a, b).symbol)
        if len(factors) < 2:
            return None
        on_paths = {n for p in graph.paths(self.claim.wrt, self.claim.of) for n in p}
        candidates = [(DRef(a, b), graph.local(a, b)) for a in on_paths for b in graph.parents(a)
                      if b in on_paths]
        candidates += [(DRef(self.claim.of, n), pc.truth.total(self.claim.of, n))
                       for n in on_paths if n not in (self.claim.of,)]
        for k, factor in enumerate(factors):
            rest = pc.array(pc.resolve(sp.Mul(*(factors[:k] + factors[k + 1:]))))
            if self.matches(rest, self.t):
                return Finding("extra-factor", f"has an extra factor {math(factor, self.d)}")
            with np.errstate(all="ignore"):
                needed = np.where(np.abs(rest) > 1e-12, self.t / rest, np.nan)
            for ref, expr in candidates:
                if self.matches(pc.array(expr), needed):
                    return Finding("wrong-factor", f"the factor {math(factor, self.d)} should be "
                                   f"{partial(ref.of, ref.wrt, self.d)} = {math(sp.factor_terms(expr), self.d)}")
        return None

    def chain_term(self) -> Finding | None:
        """Equal to the truth but for one of the engine's chain-rule terms (a lost path)?"""
        for term in self.chain_terms():
            values = self.pc.array(term.expr)
            if self.matches(self.t - values):
                return Finding("missing-term", f"misses the term {self.term_text(term)}")
            if self.matches(self.t + values):
                return Finding("extra-term", f"counts the term {self.term_text(term)} twice")
        return None

    def difference(self) -> Finding | None:
        """The difference from the truth simplifies to a single term."""
        claim, truth = self.inlined()
        with time_limit(DIAGNOSIS_SECONDS):
            diff = sp.simplify(claim - truth)
        if diff.is_Add or diff == 0 or sp.count_ops(diff) > 12:
            return None
        if not self.matches(self.t + self.pc.array(diff)):
            return None
        if diff.could_extract_minus_sign():
            return Finding("missing-term", f"misses the term {math(-diff, self.d)}")
        return Finding("extra-term", f"has an extra term {math(diff, self.d)}")

    def term_text(self, term) -> str:
        factors = "·".join(partial(f.of, f.wrt, self.d) for f in term.factors)
        via = [f.of for f in term.factors if f.of not in (self.claim.of,)] + \
              [f.wrt for f in term.factors if f.wrt not in (self.claim.wrt,)]
        through = sorted(set(via) - {self.claim.of, self.claim.wrt})
        return factors + (f" (the path through {', '.join(pretty(n, self.d) for n in through)})"
                          if through else "")

    def inlined(self) -> tuple[sp.Expr, sp.Expr]:
        graph = self.pc.graph
        # Inlining a graph with shared nodes can grow exponentially with its depth (a ladder
        # of diamonds): bounded in time, and measured by a walk that stops early.
        with time_limit(DIAGNOSIS_SECONDS):
            claim, truth = graph.inline(self.claim_expr), graph.inline(self.truth_expr)
            for e in (claim, truth):
                if any(k > 4 * SYMBOLIC_MAX_OPS for k, _ in enumerate(sp.preorder_traversal(e))):
                    raise TimedOut()
            if sp.count_ops(claim) + sp.count_ops(truth) > SYMBOLIC_MAX_OPS:
                raise TimedOut()
        return claim, truth

    def factor(self) -> Finding | None:
        """The ratio to the truth simplifies to one factor (extra) or its reciprocal (missing)."""
        claim, truth = self.inlined()
        with time_limit(DIAGNOSIS_SECONDS):
            ratio = sp.factor(sp.simplify(claim / truth))
        if ratio.is_number or sp.count_ops(ratio) > 12:
            return None
        with np.errstate(all="ignore"):
            if not self.matches(self.t * self.pc.array(ratio)):
                return None
        num, den = sp.fraction(ratio)
        if num in (1, -1):
            return Finding("missing-factor", f"misses a factor {math(den * num, self.d)}")
        if den == 1:
            return Finding("extra-factor", f"has an extra factor {math(num, self.d)}")
        return None


def check_problem(problem: Problem, options: Options | None = None) -> tuple[list[Verdict],
                                                                             list[Missing]]:
    options = options or Options()
    if getattr(problem, "is_matrix", False):    # vectors and matrices: deriv.matrix checks it
        from deriv.matrix.check import check_matrix_problem
        return check_matrix_problem(problem, options)
    with np.errstate(all="ignore"):   # inf − inf, exp overflow: NaNs, counted, not warnings
        pc = ProblemCheck(problem, options)
        verdicts = [pc.check(c) for c in problem.claims]
    covered = {(c.of, c.wrt) for c in problem.claims}
    missing = [Missing(problem.id, str(a)) for a in problem.asks if (a.of, a.wrt) not in covered]
    return verdicts, missing


def check(problems: list[Problem], options: Options | None = None, jobs: int | None = None
          ) -> Report:
    """Every claim of every problem. Problems are independent, so with several cores (and a
    platform that forks) they are shared among worker processes; the report is the same."""
    start = time.perf_counter()
    options = options or Options()
    report = Report()
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
