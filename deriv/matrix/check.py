"""Checking matrix claims: several concrete sizes, random non-symmetric draws, layouts.

Each claim is evaluated at several size assignments (one square, the others with distinct
sizes where the sizes are free) and several random draws per assignment. Draws where an
inverse or determinant meets a nearly singular matrix, or where a kink argument (relu, 𝕀,
|·|) is within ε of zero, are redrawn, never reported. Truth is the engine's derivative
(matrix adjoint rules evaluated numerically), in the claim's layout.

A failing claim is explained, cheapest first: transposed (matches only the other layout),
negated, a constant multiple, mislabelled (another derivative), right only for symmetric
matrices, right only for square sizes, a shape that is neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from deriv.findings import Finding, Missing, Verdict
from deriv.matrix import expr as E
from deriv.matrix.engine import Engine
from deriv.matrix.problem import MClaim, MProblem, derivative_shape
from deriv.matrix.rules import Evaluator, Singular
from deriv.names import partial, pretty
from deriv.check import KINK_EPS, close as scalar_close
from deriv.sampling import draw

ASSIGNMENTS = 4
MAX_TRIES = 50
SIZE_RANGE = (2, 6)          # sizes drawn in [2, 5]; the square assignment uses 3


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """The scalar checker's tolerance, over whole arrays of one shape."""
    return a.shape == b.shape and bool(np.all(scalar_close(a, b)))


class Redraw(Exception):
    pass


def size_assignments(sizes: list, seed: int, count: int = ASSIGNMENTS) -> list[dict]:
    """One square assignment (every size 3), then random ones, the first all distinct."""
    rng = np.random.default_rng(seed)
    out = [{s: 3 for s in sizes}]
    if not sizes:
        return out
    lo, hi = SIZE_RANGE
    for k in range(count - 1):
        if k == 0 and len(sizes) <= hi - lo:
            values = rng.permutation(np.arange(lo, hi))[: len(sizes)]
        else:
            values = rng.integers(lo, hi, len(sizes))
        out.append({s: int(v) for s, v in zip(sizes, values)})
    return out


@dataclass
class Point:
    sizes: dict
    values: dict
    symmetric: bool = False
    cache: dict = field(default_factory=dict)


class MatrixCheck:
    def __init__(self, problem: MProblem, options):
        self.problem = problem
        self.graph = problem.graph
        self.engine = Engine(self.graph, problem.output)
        self.options = options
        # matrix draws are evaluated one by one in Python: 10 per size setting at the default
        # 2000 samples (4 settings: 40 points a claim), up to 20 when more are asked for
        self.per_assignment = max(3, min(20, options.samples // 200))
        self.redrawn = 0
        self.points = self.draw_points(symmetric=False)
        self._sym_points = None

    # --- drawing ------------------------------------------------------------------------------
    def draw_points(self, symmetric: bool) -> list[Point]:
        rng = np.random.default_rng(self.options.seed + (7919 if symmetric else 0))
        points = []
        for sizes in size_assignments(self.problem.sizes, self.options.seed):
            if symmetric:
                sizes = {s: 3 for s in self.problem.sizes}
            made = 0
            for _ in range(self.per_assignment * MAX_TRIES):
                if made >= self.per_assignment:
                    break
                point = self.draw_point(sizes, rng, symmetric)
                if point is None:
                    self.redrawn += 1
                    continue
                points.append(point)
                made += 1
        return points

    def draw_point(self, sizes: dict, rng, symmetric: bool) -> Point | None:
        values = {}
        for name, inp in self.graph.inputs.items():
            if E.is_scalar(inp.shape):
                values[name] = draw(inp, 1, rng).reshape(1, 1)
            else:
                r, c = (s if isinstance(s, int) else sizes[s] for s in inp.shape)
                m = rng.uniform(-2.0, 2.0, (r, c))
                if symmetric and r == c:
                    m = (m + m.T) / 2
                values[name] = m
        try:
            values, ev = self.engine.forward(values, sizes)
        except (Singular, FloatingPointError):
            return None
        if ev.min_kink < KINK_EPS or not all(np.all(np.isfinite(v)) for v in values.values()):
            return None
        return Point(sizes, values, symmetric)

    # --- evaluation ---------------------------------------------------------------------------
    def derivative(self, point: Point, of: str, wrt: str, layout: str, local: bool = False):
        key = (of, wrt, layout, local)
        if key not in point.cache:
            point.cache[key] = self.engine.derivative(point.values, point.sizes, of, wrt, layout,
                                                      local, memo=point.cache)
        return point.cache[key]

    def evaluate(self, point: Point, e: E.MExpr) -> np.ndarray:
        def leaf(x):
            if x.op == "var":
                return point.values[x.data]
            if x.op == "dref":
                of, wrt, layout = x.data
                return self.derivative(point, of, wrt, layout, wrt in self.graph.parents(of))
            raise ValueError(x.op)
        ev = Evaluator(leaf, point.sizes)
        v = ev(e)
        if ev.min_kink < KINK_EPS:
            raise Redraw()
        return np.asarray(v, dtype=float)

    def truth(self, point: Point, claim: MClaim, layout: str | None = None) -> np.ndarray:
        layout = layout or claim.layout
        if claim.is_value:
            return point.values[claim.of]
        if claim.update:
            grad = self.derivative(point, claim.of, claim.wrt, "gradient", claim.local)
            return point.values[claim.wrt] - point.values[claim.update][0, 0] * grad
        return self.derivative(point, claim.of, claim.wrt, layout, claim.local)

    def target_shape(self, claim: MClaim, layout: str | None = None) -> tuple:
        if claim.is_value or claim.update:
            return self.graph.shape(claim.of if claim.is_value else claim.wrt)
        return derivative_shape(self.graph, claim.of, claim.wrt, layout or claim.layout)

    def pairs(self, claim: MClaim, e: E.MExpr, points=None, truth=None):
        """(claim value, truth) at each usable point."""
        out = []
        for point in points if points is not None else self.points:
            try:
                c = self.evaluate(point, e)
                t = truth(point) if truth else self.truth(point, claim)
            except (Redraw, Singular):
                continue
            if np.all(np.isfinite(c)) and np.all(np.isfinite(t)):
                out.append((c, t, point))
        return out

    # --- one claim ------------------------------------------------------------------------------
    def check(self, claim: MClaim) -> Verdict:
        v = Verdict(self.problem.id, claim, "pass")
        v.near_kink = self.redrawn
        findings: list[Finding] = []
        exprs = [e for e in (claim.expr, claim.chain) if e is not None]
        for e in exprs:
            pairs = self.pairs(claim, e)
            v.samples = max(v.samples, len(pairs))
            if len(pairs) < 3:
                v.verdict = "error"
                v.reason = (f"evaluable at only {len(pairs)} drawn points "
                            f"({self.redrawn} redrawn: singular or at a kink)")
                return v
            bad = [(c, t) for c, t, _ in pairs if not close(c, t)]
            if bad:
                v.verdict = "fail"
                v.max_error = max(float(np.max(np.abs(c - t))) if c.shape == t.shape
                                  else float("inf") for c, t in bad)
                findings.extend(self.diagnose(claim, e, pairs))
                break
        if claim.chain is not None and not claim.is_value:
            found = self.chain_links(claim)
            if found:
                v.verdict = "fail"
                findings.extend(found)
        v.branches, v.branches_seen = self.coverage(claim)
        if claim.shapes:
            found = self.shape_findings(claim)
            if found:
                v.verdict = "fail"
                findings.extend(found)
        v.diagnosis = findings
        return v

    def chain_links(self, claim: MClaim) -> list[Finding]:
        """Each product of D factors must telescope from wrt to of (right to left in the
        derivative layout, left to right in the gradient layout)."""
        out = []
        for term in signed_terms(claim.chain):
            factors = _factors(term)
            if not factors or any(f.op not in ("dref", "const") for f in factors):
                continue
            refs = [f.data[:2] for f in factors if f.op == "dref"]
            if claim.layout == "derivative":
                refs = refs[::-1]
            at = claim.wrt
            for of, wrt in refs:
                if wrt != at or not self.graph.depends(of, wrt):
                    d = self.problem.display
                    out.append(Finding("broken-link", f"the chain does not link: "
                                                      f"{partial(of, wrt, d)} follows "
                                                      f"{pretty(at, d)}"))
                    break
                at = of
            else:
                if at != claim.of:
                    out.append(Finding("broken-link", f"the chain ends at {pretty(at)}, not at "
                                                      f"{pretty(claim.of)}"))
        return out

    def coverage(self, claim: MClaim) -> tuple[int, int]:
        """Each kink argument (relu, 𝕀, |·|) upstream of the claim: both signs seen?"""
        names = {claim.of} | self.graph.ancestors.get(claim.of, set())
        kinks = [k for n in self.graph.order if n in names
                 for k in E.kink_args(self.graph.nodes[n].expr)]
        for e in (claim.expr, claim.chain):
            if e is not None:
                kinks += [k for k in E.kink_args(e) if not E.drefs(k)]
        kinks = list(dict.fromkeys(kinks))
        seen = 0
        for k in kinks:
            pos = neg = False
            for point in self.points:
                try:
                    v = self.evaluate(point, k)
                except (Redraw, Singular):
                    continue
                pos, neg = pos or bool(np.any(v > 0)), neg or bool(np.any(v <= 0))
            seen += int(pos) + int(neg)
        return 2 * len(kinks), seen

    def target(self, claim: MClaim) -> str:
        if claim.is_value:
            return claim.of
        return partial(claim.of, claim.wrt, self.problem.display)

    def diagnose(self, claim: MClaim, e: E.MExpr, pairs) -> list[Finding]:
        target = self.target(claim)
        want = self.target_shape(claim)
        got = e.shape
        all_match = (lambda f: all(c.shape == f(t, p).shape and close(c, f(t, p))
                                   for c, t, p in pairs))
        if not claim.is_value and not claim.update:
            other = "derivative" if claim.layout == "gradient" else "gradient"
            if all_match(lambda t, p: self.truth(p, claim, other)):
                if claim.layout == "gradient":
                    msg = (f"is transposed: it equals ({target})ᵀ, the derivative layout; the "
                           f"gradient {target} has the shape of {claim.wrt}, "
                           f"{E.shape_text(want)}")
                else:
                    msg = (f"is transposed: it equals the gradient, ({target})ᵀ; in the "
                           f"derivative layout {target} is {E.shape_text(want)}")
                return [Finding("transposed", msg)]
        if tuple(got) != tuple(want):
            return [Finding("shape", f"has shape {E.shape_text(got)}, but {target} is "
                                     f"{E.shape_text(want)} in the {claim.layout} layout")]
        if all_match(lambda t, p: -t):
            return [Finding("negated", f"has the wrong sign: it is the negative of {target}")]
        found = self.lost_term(claim, pairs)
        if found:
            return [found]
        k = self.constant_ratio(pairs)
        if k is not None:
            frac = Fraction(k).limit_denominator(1000)
            shown = str(frac) if abs(float(frac) - k) < 1e-9 * abs(k) else f"{k:.6g}"
            lost = "an extra factor" if abs(k) > 1 else "a lost factor"
            inv = shown if abs(k) > 1 else str(1 / frac if frac else 1 / k)
            return [Finding("constant-multiple", f"is {shown} times {target} ({lost} {inv})")]
        found = self.missing_term(claim, pairs)
        if found:
            return [found]
        found = self.mislabelled(claim, pairs)
        if found:
            return [found]
        found = self.special(claim, e, pairs)
        if found:
            return [found]
        return [Finding("no-explanation", "no simple explanation found")]

    def constant_ratio(self, pairs) -> float | None:
        ratios = []
        for c, t, _ in pairs:
            if c.shape != t.shape:
                return None
            mask = np.abs(t) > 1e-8
            if not mask.any():
                continue
            ratios.extend((c[mask] / t[mask]).ravel().tolist())
            if np.any(np.abs(c[~mask]) > 1e-8):
                return None
        if len(ratios) < 3:
            return None
        k = float(np.median(ratios))
        if k == 0 or k == 1 or not np.allclose(ratios, k, rtol=1e-6, atol=1e-12):
            return None
        return k

    def lost_term(self, claim: MClaim, pairs) -> Finding | None:
        """The claim is one term of the adjoint sum alone: the other paths are lost."""
        if claim.is_value or claim.update or claim.local or \
                not E.is_scalar(self.graph.shape(claim.of)):
            return None
        engine = Engine(self.graph, claim.of)
        step = next((s for s in engine.steps() if s.target.wrt == claim.wrt), None)
        terms = signed_terms(step.program) if step else []
        if len(terms) < 2:
            return None
        adjs = {}
        for term in terms:
            ok = True
            for c, t, point in pairs:
                key = id(point)
                if key not in adjs:
                    adjs[key] = engine.adjoints(point.values, point.sizes, claim.of,
                                                np.ones((1, 1)))
                a = adjs[key]
                ev = Evaluator(lambda x: point.values[x.data] if x.op == "var" else a[x.data[1]],
                               point.sizes)
                v = ev(term)
                if not close(c, v if claim.layout == "gradient" else v.T):
                    ok = False
                    break
            if ok:
                d = self.problem.display
                return Finding("lost-path", f"counts only the term {E.show(term, d)} of "
                                            f"{self.target(claim)} = {E.show(step.program, d)}; "
                                            "the other paths are lost")
        return None

    def missing_term(self, claim: MClaim, pairs) -> Finding | None:
        """The difference from the truth is one input or node: a term lost or added."""
        for name in self.graph.symbols:
            if all(c.shape == t.shape and close(t - c, p.values[name]) for c, t, p in pairs):
                return Finding("missing-term", f"misses the term {pretty(name, self.problem.display)}")
            if all(c.shape == t.shape and close(c - t, p.values[name]) for c, t, p in pairs):
                return Finding("extra-term", f"has an extra term {pretty(name, self.problem.display)}")
        return None

    def mislabelled(self, claim: MClaim, pairs) -> Finding | None:
        if claim.is_value or claim.update:
            return None
        for wrt in self.graph.symbols:
            if wrt in (claim.wrt, claim.of) or not self.graph.depends(claim.of, wrt):
                continue
            try:
                derivative_shape(self.graph, claim.of, wrt, claim.layout)
            except E.ShapeError:
                continue
            if all(close(c, self.derivative(p, claim.of, wrt, claim.layout)) for c, _, p in pairs):
                other = partial(claim.of, wrt, self.problem.display)
                return Finding("mislabelled", f"equals {other}, not {self.target(claim)}",
                               equals=f"D({claim.of}, {wrt})")
        return None

    def special(self, claim: MClaim, e: E.MExpr, pairs) -> Finding | None:
        """Right only for symmetric matrices, or only at square sizes."""
        has_square_input = any(not E.is_scalar(i.shape) and i.shape[0] == i.shape[1]
                               for i in self.graph.inputs.values())
        if has_square_input:
            if self._sym_points is None:
                self._sym_points = self.draw_points(symmetric=True)
            sym = self.pairs(claim, e, self._sym_points)
            if len(sym) >= 3 and all(close(c, t) for c, t, _ in sym):
                return Finding("symmetric-only", "is right only for symmetric matrices: it "
                                                 "agrees when every square input is symmetric "
                                                 "and fails on non-symmetric draws")
        if self.problem.sizes:
            square = [(c, t) for c, t, p in pairs
                      if len(set(p.sizes.values())) == 1]
            other = [(c, t) for c, t, p in pairs if len(set(p.sizes.values())) > 1]
            if square and other and all(close(c, t) for c, t in square):
                return Finding("square-only", "is right only when all sizes are equal; it "
                                              "fails at non-square sizes")
        return None

    def shape_findings(self, claim: MClaim) -> list[Finding]:
        """Compare the printed sizes with deriv's shape inference: the claim, then each D."""
        printed = [tuple(_size(x) for x in re.split(r"\s*[x×]\s*", s.strip()))
                   for s in claim.shapes]
        source = claim.chain if claim.chain is not None else claim.expr
        shapes = [(self.target(claim), self.target_shape(claim))]
        shapes += [(partial(d.data[0], d.data[1], self.problem.display), d.shape)
                   for d in E.drefs(source)]
        out = []
        if len(printed) != len(shapes):
            out.append(Finding("shape", f"prints {len(printed)} sizes for {len(shapes)} terms"))
        for (what, inferred), p in zip(shapes, printed):
            if tuple(inferred) != p:
                out.append(Finding("shape", f"the printed size of {what} is "
                                            f"{E.shape_text(p)}, but it is "
                                            f"{E.shape_text(inferred)}"))
        return out


def signed_terms(e: E.MExpr) -> list[E.MExpr]:
    if e.op == "add":
        return signed_terms(e.args[0]) + signed_terms(e.args[1])
    if e.op == "neg":
        return [E.neg(t) for t in signed_terms(e.args[0])]
    return [e]


def _factors(e: E.MExpr) -> list[E.MExpr]:
    if e.op in ("matmul", "scale"):
        return _factors(e.args[0]) + _factors(e.args[1])
    if e.op == "neg":
        return _factors(e.args[0])
    return [e]


def _size(text: str):
    return int(text) if text.isdigit() else text


def check_matrix_problem(problem: MProblem, options) -> tuple[list[Verdict], list[Missing]]:
    mc = MatrixCheck(problem, options)
    verdicts = [mc.check(c) for c in problem.claims]
    covered = {(c.of, c.wrt) for c in problem.claims}
    missing = [Missing(problem.id, str(a)) for a in problem.asks if (a.of, a.wrt) not in covered]
    return verdicts, missing
