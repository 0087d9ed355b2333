"""Why a claim is wrong: one set of explanations, tried on the sampled arrays of any kind.

Every explanation is a numeric comparison over the drawn batches (scalars and arrays alike),
tried over a fixed list of candidates, cheapest first — no time limits, so a run says the same
on a loaded machine as on an idle one. The first explanations found (at most two) are kept.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from itertools import combinations

import numpy as np
import sympy as sp

from deriv import algebra as A
from deriv.errors import DerivError
from deriv.findings import Finding
from deriv.matrix_form import reference_form
from deriv import products
from deriv.parse import DRef, dref_of, parse_ast, parse_expression, parse_factors, product
from deriv.problem import d_reader, derivative_shape
from deriv import recheck as R
from deriv.program import RTOL, Values, at_point, close, per_point, transpose_points
from deriv.sweep import reverse

MAX_NUMERATORS = 8          # other numerators tried for "mislabelled"
MAX_DENOMINATORS = 64       # and other variables
MISLABEL_WORK = 20_000      # ... as far as their sweeps reach this many nodes in all
MAX_SUBSET_CHILDREN = 6     # lost paths: subsets of a node's children tried
MAX_UNIT_CHILDREN = 64      # a node read by more: its derivative is not split child by child
MAX_TIDIED_OPS = 60          # a formula shown in a finding is tidied up to this size
MAX_DROP_VARIANTS = 48      # sweeps with some edges left out (each is compiled)
MAX_PATHS = 12              # single paths tried as all a claim keeps
SHORTEST_PATHS = 4          # ... and the shortest ones, always
MAX_FORMULA_NODES = 150     # the right formula of an unexplained claim, on graphs this size
MAX_DROP_NODES = 400        # ... tried on graphs up to this size (beyond, the shortest paths)
MAX_FACTOR_CANDIDATES = 64  # partials tried in place of a printed factor
MAX_RUN = 3                 # neighbouring printed factors tried as one (q·(1 − q))
MAX_TERMS = 8               # terms of a printed sum searched for a wrong factor
SCREEN_POINTS = 32          # points a candidate is screened at before all points
SCREEN_CHUNK = 16           # candidates screened together
SWAP_REACH = 4              # family members this far apart (ψ₀₁ … ψ₀₅) may be swapped
MAX_SCALAR_REFS = 1024      # partials screened at once in place of a scalar factor
MAX_UNNAMED_REFS = 64       # ... of which partials of nodes the claim does not name (each is
                            # a sweep: a thousand of them made a 1,000-step RNN's diagnosis
                            # quadratic)
MAX_SIZE_PAIRS = 6          # products of two sizes tried as a lost factor (a mean's 1/(NK))
MAX_SWAPS = 256             # pairs of symbols tried as exchanged
MAX_SWAP_USED = 12          # symbols of a claim tried pairwise (beyond: neighbours only)
# A claim that is exactly −1 or k times the derivative is explained whole: a wrong factor
# "−cos(h) should be cos(h)" or an "extra factor 2" would only say it again; only another
# derivative it equals (2r is −∂L/∂y and ∂L/∂r) is a second reading still sought.
COMPLETE = ("negated", "constant-multiple")
# Tried only where nothing else explains the claim: beside an explanation they would restate
# it in other symbols (problem 7.2's wrong factor is also a "missing term" of SymPy's).
LAST_RESORT = ("wrong_symbol", "wrong_term", "wrong_part", "exchanged", "symbolic",
               "function_itself",
               "wrong_branch")
MAX_SYMBOLIC_OPS = 24       # formulas compared in SymPy: at most this many operations each
MAX_SYMBOLIC_RESULT = 8     # ... and a difference or ratio this small is an explanation
MAX_GAP_NODES = 64          # ... of both formulas together, atoms counted (every gap found in
                            # the labelled sets had under 40; SymPy's cancel of more took
                            # 20-60 ms and found none)
MAX_TRIALS = 2000           # candidates compared in one diagnosis (the catalog's most: 634),
                            # so a claim of a thousand factors is explained in bounded time


class Diagnosis:
    def __init__(self, pc, claim, written: sp.Expr, pairs):
        self.pc, self.claim, self.written = pc, claim, written
        self.graph = pc.graph
        self.pairs = pairs                       # (batch, claim value, truth, valid) per batch
        self.target = None if claim.is_value else claim.target
        self._screen: list | None = None
        self._terms: list | None = None
        self.scale = R.scale(pairs)              # tolerances follow the values' size
        self.trials = 0                          # candidates compared so far
        self.atol = R.ATOL * self.scale

    # --- comparing -----------------------------------------------------------------------------
    def matches(self, candidate, against=None, pairs=None) -> bool:
        """Does candidate(batch) equal the claim (or against(batch)) at every valid point of
        every batch? (An explanation that is undefined or wrong at some of them — where the
        rest of a product vanishes, say — explains nothing.)"""
        self.trials += 1
        if self.trials > MAX_TRIALS:
            return False
        for k, (batch, c, t, valid) in enumerate(pairs or self.pairs):
            compared = np.count_nonzero(valid)
            if compared < 3:           # (decided before the candidate is evaluated)
                return False
            try:
                values = candidate(batch, k)
            except (KeyError, ValueError, A.ShapeError, ZeroDivisionError):
                return False
            reference = c if against is None else against(batch, k)
            if values is None or reference is None or np.shape(values) != np.shape(reference):
                return False
            if valid.size > SCREEN_POINTS and isinstance(values, np.ndarray):
                # most candidates are wrong at the first points already: compared there
                # first, as screened() does, before all points
                head = _agree(values[..., :SCREEN_POINTS], reference[..., :SCREEN_POINTS],
                              self.atol)
                if not per_point(head)[valid[:SCREEN_POINTS]].all():
                    return False
            agree = _agree(values, reference, self.atol)
            if not (agree.all() if compared == valid.size else per_point(agree)[valid].all()):
                return False
        return True

    def matches_all(self, tests: list):
        """matches(candidate, against) for each (candidate, against) in turn — the same
        answers, counted as the same trials — each candidate first compared with the others
        at the first points of the first batch, all at once: only those that agree there are
        compared everywhere (most of a claim's hundred quantities are wrong at once)."""
        batch, c, _, valid = self.pairs[0]
        head = valid[:SCREEN_POINTS]
        # rejected only where matches would surely say no; anything else is left to it
        plausible = np.full(len(tests), np.count_nonzero(valid) >= 3)
        if plausible.any():
            by_shape: dict[tuple, list] = {}
            for j, (candidate, against) in enumerate(tests):
                try:
                    values = candidate(batch, 0)
                except (KeyError, ValueError, A.ShapeError, ZeroDivisionError):
                    plausible[j] = False
                    continue
                reference = c if against is None else against(batch, 0)
                if isinstance(values, np.ndarray) and isinstance(reference, np.ndarray) and \
                        values.ndim and values.shape == reference.shape:
                    by_shape.setdefault(values.shape, []).append(
                        (j, values[..., :SCREEN_POINTS], reference[..., :SCREEN_POINTS]))
            for group in by_shape.values():
                which, values, references = zip(*group)
                agree = _agree(np.stack(values), np.stack(references), self.atol)
                at_points = agree.reshape(len(which), -1, agree.shape[-1]).all(axis=1)
                plausible[list(which)] = at_points[:, head].all(axis=1)
        for (candidate, against), verdict in zip(tests, plausible):
            if verdict:
                yield self.matches(candidate, against)
            else:                     # (wrong at the first points: counted, as matches does)
                self.trials += 1
                yield False

    def screen(self) -> list:
        """The batches' first points, as pairs (empty where too few of them are valid)."""
        if self._screen is None:
            self._screen = []
            for batch, c, t, valid in self.pairs:
                if valid[:SCREEN_POINTS].sum() < SCREEN_POINTS // 2:
                    self._screen = []           # too few valid points there to decide
                    break
                self._screen.append((_prefix(self.pc, batch), _head(c), _head(t),
                                     valid[:SCREEN_POINTS]))
        return self._screen

    def screened(self, candidate, truth: bool = False) -> bool:
        """Could the candidate match? Tried first at a batch's first points, where a sweep costs
        little: one that disagrees there cannot agree everywhere."""
        screen = self.screen()
        against = (lambda b, k: screen[k][2]) if truth else None
        return not screen or self.matches(candidate, against, pairs=screen)

    def screened_all(self, candidates: list):
        """screened(c) for each candidate in turn — the same answers, counted as the same
        trials — with their values at the screening points compared SCREEN_CHUNK at a time:
        one array operation for many of a claim's other derivatives, where one each cost
        more than the values (shared sweeps), and few evaluated past the one that matches."""
        screen = self.screen()
        if not screen:
            yield from (True for _ in candidates)
            return
        for start in range(0, len(candidates), SCREEN_CHUNK):
            for verdict in self.screen_chunk(candidates[start:start + SCREEN_CHUNK]):
                self.trials += 1
                yield self.trials <= MAX_TRIALS and bool(verdict)

    def screen_chunk(self, candidates: list) -> np.ndarray:
        """Do the candidates agree with the claim at the screening points? (as matches)"""
        plausible = np.ones(len(candidates), dtype=bool)
        for k, (batch, c, _, valid) in enumerate(self.screen()):
            if np.count_nonzero(valid) < 3:
                plausible[:] = False
                break
            stacked, which = [], []
            for j, candidate in enumerate(candidates):
                if not plausible[j]:        # wrong on an earlier batch: as in matches,
                    continue                # not evaluated on this one
                try:
                    values = candidate(batch, k)
                except (KeyError, ValueError, A.ShapeError, ZeroDivisionError):
                    plausible[j] = False
                    continue
                if values is None or np.shape(values) != np.shape(c):
                    plausible[j] = False
                    continue
                stacked.append(values)
                which.append(j)
            if stacked:
                agree = _agree(np.stack(stacked), c, self.atol)
                per_candidate = agree.reshape(len(stacked), -1, agree.shape[-1]).all(axis=1)
                plausible[which] = per_candidate[:, valid].all(axis=1)
        return plausible

    def truth_of(self, of: str, wrt: str, layout: str | None = None):
        layout = layout or self.claim.layout
        return lambda batch, k: batch.values.derivative(of, wrt, layout)

    # --- the order of explanations -------------------------------------------------------------
    def run(self) -> list[Finding]:
        found: list[Finding] = []
        # the ones that need no further sweep first; then those that evaluate more of the
        # problem's derivatives
        for method in (self.transposed, self.negated, self.step, self.product_order,
                       self.transposed_factor, self.wrong_axis, self.lost_path,
                       self.constant_multiple,
                       self.mislabelled, self.swapped, self.wrong_factor, self.factor,
                       self.term, self.elementwise,
                       self.printed_term, self.symmetric_only, self.square_only,
                       self.wrong_symbol, self.wrong_term, self.wrong_part, self.exchanged,
                       self.symbolic,
                       self.function_itself,
                       self.wrong_branch):
            if len(found) >= 2 or found and method.__name__ in LAST_RESORT:
                break
            if any(f.kind in COMPLETE for f in found) and not (
                    method.__name__ == "mislabelled" and
                    len(self.graph.order) <= MAX_FORMULA_NODES):   # (a sweep per candidate)
                continue
            try:
                finding = method()
            except (A.ShapeError, DerivError, ValueError, KeyError, ZeroDivisionError):
                finding = None     # an explanation that does not apply to this claim's shapes
            if finding and finding.kind == "wrong-term":   # (wrong on one side of a kink only:
                finding = self.wrong_branch() or self.sign_of(finding)   # that branch, with a
                                                                         # point there)
            same = next((k for k, f in enumerate(found) if finding and _same(finding, f)), None)
            if finding and same is None:
                found.append(finding)             # (two ways to the same explanation: once,
            elif finding and found[same].derivative is None and finding.derivative is not None:
                found[same] = finding             # named as the partial it is where one is)
        if found and found[0].kind == "wrong-factor" and found[0].derivative is not None and \
                found[0].printed is not None and not found[0].printed.is_Atom:
            # "the factor (y − t)·s ⊙ v should be ∂L/∂a": the part inside it that is wrong
            # (s for σ′ = (1 − s) ⊙ s), where there is one, says more
            finer = self.wrong_part()
            if finer is not None and finer.kind == "wrong-factor" and \
                    finer.expr is not None and not finer.expr.is_Symbol and \
                    _size(finer.printed) < _size(found[0].printed):   # (z for q: the partial
                found[0] = finer                                    # it sits in says more)
            elif finer is not None and finer.kind in ("missing-factor", "extra-factor") and (
                    finer.printed == found[0].printed or
                    finer.printed in sp.Mul.make_args(found[0].printed)):  # "should be ∂L/∂a":
                found[:1] = [finer, found[0]]     # what it misses is the mask 𝕀[a > 0] or M
        if len(found) > 1 and found[0].kind == "wrong-factor" and \
                found[1].kind == "extra-factor" and _printed_in(found[1].expr, self.written):
            found[:2] = found[1::-1]   # (printed factors deleted: a simpler edit than one
        return _one_factor(found) or [self.counterexample()]   # replaced)

    def sign_of(self, finding: Finding) -> Finding:
        """A term that should be its own negative is a term with the wrong sign (u·uᵀw/s for
        −L·u/s, where L = uᵀw): said so, not as the other form it should have."""
        from deriv.parts import negated
        if finding.printed is not None and finding.expr is not None and \
                not isinstance(finding.printed, sp.Tuple) and \
                negated(self, finding.printed, finding.expr):
            return Finding("term-sign", self.target, expr=finding.printed)
        return finding

    def precise_counterexample(self) -> tuple[tuple, tuple]:
        """Where float64 fails everywhere, a point from the 50-digit evaluation (numbers too
        large for a float are kept as text)."""
        import mpmath as mp

        def number(x):
            return float(x) if abs(x) < 1e300 else mp.nstr(x, 8)
        for batch, _, _, valid in self.pairs:
            for i in np.flatnonzero(~valid)[:self.pc.precise_points()]:
                both = self.pc.at_point(batch, int(i), 50, self.claim, self.written)
                if both and len(both[0]) == 1 == len(both[1]):
                    (c,), (t,) = both
                    if abs(c - t) > 1e-12 + 1e-9 * max(abs(c), abs(t)):
                        point = tuple((n, at_point(v, int(i))) for n, v in batch.inputs.items())
                        return point, (number(c), number(t))
        return (), ()

    def counterexample(self) -> Finding:
        """Nothing simple explains the claim: the first point where it is wrong, its value and
        the true one there, and the right formula in the problem's own nodes."""
        claim, graph = self.claim, self.graph
        point: tuple = ()
        values: tuple = ()
        for batch, c, t, valid in self.pairs:
            wrong = np.flatnonzero(valid & ~per_point(close(c, t, atol=self.atol)))
            if len(wrong):
                i = int(wrong[0])
                point = tuple((name, at_point(v, i)) for name, v in batch.inputs.items())
                values = (at_point(c, i), at_point(t, i))
                break
        if not point:
            point, values = self.precise_counterexample()
        formula = self.closed_form()
        formula = reference_form(formula) if formula is not None else None
        return Finding("no-explanation", self.target, point=point, values=values, expr=formula,
                       symbols=(claim.of,), text="step" if claim.update else "")

    def closed_form(self) -> sp.Expr | None:
        """The derivative as one formula in the problem's own nodes, on graphs small enough
        for it (one sweep a numerator, shared by the problem's claims)."""
        claim = self.claim
        if claim.is_value or claim.update or claim.local:
            return None
        return self.formula(claim.of, claim.wrt)

    def formula(self, of: str, wrt: str) -> sp.Expr | None:
        """The total derivative of `of` (a scalar) in wrt, as one formula in the problem's own
        nodes, on graphs small enough for it (one sweep a numerator, shared by the problem's
        claims)."""
        graph = self.graph
        if len(graph.order) > MAX_FORMULA_NODES or graph.shape(of):
            return None
        closed = _shared(self.pc, "closed_forms")
        if of not in closed:
            try:
                closed[of] = reverse(graph, of).closed_forms()
            except DerivError:          # too large to write out (a product of 1,000 factors)
                closed[of] = {}
        return next((e for ref, e in closed[of].items() if ref.wrt == wrt), None)

    def shown_formula(self, of: str, wrt: str) -> sp.Expr | None:
        """The formula a finding shows: in the graph's own nodes where that is much shorter,
        as solve shows it (p₁p₂(v₁ − v₂), not its expansion in e₁, e₂ and exp(s₁)); as derived
        otherwise (w(1 − tanh(x)²) + 1 reads better than −f·tanh(x) + w + 1)."""
        found = self.formula(of, wrt)
        if found is None or A.shape_of(found) or not A.within(found, MAX_TIDIED_OPS):
            return found
        tidied = _shared(self.pc, "tidied_forms")
        if (of, wrt) not in tidied:
            from deriv.textbook import Rewriter
            best = Rewriter(self.graph).best(found)
            tidied[of, wrt] = best if 2 * _size(best) <= _size(found) else found
        return tidied[of, wrt]

    def wrong_branch(self) -> Finding | None:
        from deriv.branches import wrong_branch
        return wrong_branch(self.pairs, self.pc, self.graph, self.written, self.target,
                            self.atol)

    def wrong_part(self) -> Finding | None:
        from deriv.parts import wrong_part
        return wrong_part(self)

    def symbolic(self) -> Finding | None:
        """Last: the derivative's formula against the claim's, in SymPy — in the graph's nodes,
        then in its inputs. Their difference, or their ratio, is one small expression that is
        not a node of the graph — the slope α of a leaky branch left out, a power rule's lost
        1/(v + ε). Tried on small formulas only (sizes counted with an early stop: a formula
        of shared subtrees is not walked in full), and confirmed on the points as every
        explanation is."""
        from deriv.confusions import in_exponentials
        truth, written = self.closed_form(), self.written
        if truth is None or written is None or written == 0 or _has_dref(written) or \
                A.shape_of(truth) != A.shape_of(written):     # (arrays: ⊙ and ÷ elementwise)
            return None
        for inlined in (False, True, "exp"):
            t, w = (self.graph.inline(truth), self.graph.inline(written)) if inlined else \
                (truth, written)
            if not (A.within(t, MAX_SYMBOLIC_OPS) and A.within(w, MAX_SYMBOLIC_OPS)) or \
                    A.high_power(t) or A.high_power(w):
                continue
            if inlined == "exp":     # (σ, tanh written in exps: eᶻ for σ(z))
                t, w = in_exponentials(t), in_exponentials(w)
                if not (A.within(t, 2 * MAX_SYMBOLIC_OPS) and
                        A.within(w, 2 * MAX_SYMBOLIC_OPS)):
                    continue          # (gelu's tanh of a cubic: cancel took 0.6 s)
            if _size(t) + _size(w) > MAX_GAP_NODES:
                continue
            found = self.gap(t, w, inlined == "exp")
            if found:
                return found
        return None

    def claim_terms(self) -> list[sp.Expr]:
        """The claim's printed terms, signed, as expressions (one, if it is not a sum)."""
        if self._terms is not None:
            return self._terms
        claim, graph = self.claim, self.graph
        out = []
        for sign, text in self.printed_terms():
            expr = parse_expression(
                text, graph.symbols, sizes=frozenset(graph.sizes),
                derivative=d_reader(graph, claim.layout))
            out.append(expr if sign > 0 else -expr)
        self._terms = out            # (read by printed_term, then by wrong_term)
        return out

    def wrong_term(self) -> Finding | None:
        """The claim's terms against the derivative's, pair by pair: all but one agree, and
        that one is not the term it stands for (λW₁ for 2λW₁; a backpropagated error without
        its σ′ ⊙), or a term of the derivative has no counterpart. Where the rest agree, the
        term that differs is where the mistake is — for scalars and arrays alike."""
        truth = self.closed_form()
        if truth is None or self.claim.expr_text is None or self.claim.update:
            return None
        known = set(self.graph.symbols.values())
        if any(not (s in known or isinstance(s, products.CONSTANTS)) for s in truth.free_symbols):
            return None
        printed = self.claim_terms()
        readings = [printed]
        if len(printed) == 1 and self.written is not None and not _has_dref(self.written):
            readings += products.term_readings(self.written)[1:]     # p ⊙ (g − Σg) multiplied out
        values: dict[int, dict] = {}
        for written in readings:
            for right in products.term_readings(truth):
                if len(right) <= MAX_TERMS and len(written) + len(right) >= 3:
                    # (one term against one: "the formula should be the derivative" is no news)
                    found = products.matched_terms(self, written, right, values)
                    if found:
                        return found
        return None

    def gap(self, truth: sp.Expr, written: sp.Expr, rewritten: bool = False) -> Finding | None:
        """A difference or ratio smaller than both formulas (truth/claim is always "a factor":
        only one simpler than what it relates explains anything) — than the truth alone where
        it was rewritten in exps (eᶻ is smaller than the 1/(1 + eᶻ) it lost)."""
        from deriv.confusions import lost_inverse
        limit = min(MAX_SYMBOLIC_RESULT, _size(truth) - 1,
                    _size(truth if rewritten else written) - 1)
        def confirmed(kind, expr, fix):
            def fixed(b, k):
                return fix(self.pc.evaluate(b.values, expr), self.pairs[k][1])
            if self.matches(fixed, lambda b, k: self.pairs[k][2]):
                return Finding(kind, self.target, expr=reference_form(expr))
            return None
        difference = sp.expand(truth - written)       # (the cheaper of the two, tried first)
        if difference != 0 and not difference.is_Add and A.within(difference, limit):
            found = confirmed("missing-term", difference, lambda v, c: c + v)
            if found:
                return found
        ratio = sp.cancel(truth / written)
        # the simpler of the two said first: σ(1 − σ)² has an extra factor 1 − σ, rather
        # than "misses a factor −1/(σ − 1)"
        readings = sorted((("missing-factor", ratio, lambda v, c: c * v),
                           ("extra-factor", 1 / ratio, lambda v, c: c / v)),
                          key=lambda r: _size(r[1]) if A.within(r[1], MAX_SYMBOLIC_OPS) else 10**6)
        for kind, factor, fix in readings:
            if not factor.is_number and A.within(factor, limit):
                found = confirmed(kind, factor, fix)
                if found and kind == "extra-factor" and lost_inverse(self, factor):
                    return Finding("missing-factor", self.target, expr=reference_form(ratio))
                if found:
                    return found
        return None

    def shape_mismatch(self, got: tuple, want: tuple) -> list[Finding]:
        """The claim has another shape: the transpose, or another derivative of that shape
        (tried before saying "shape", as for a square claim)."""
        if not self.claim.is_value and not self.claim.update:
            self.pairs = [(b, self.pc.evaluate(b.values, self.written), t, v)
                          for b, _, t, v in self.pairs]
            other = "derivative" if self.claim.layout == "gradient" else "gradient"
            if got == self.pc.target_shape(self.claim, other) and got != want:
                if self.matches(lambda b, k: self.pc.truth(b.values, self.claim, other)):
                    return [Finding("transposed", self.target, shapes=(got, want),
                                    text=self.claim.layout)]
            found = self.mislabelled(got)
            if found:
                return [found]
        return [Finding("shape", self.target, shapes=(got, want), text=self.claim.layout)]

    # --- explanations ---------------------------------------------------------------------------
    def transposed(self) -> Finding | None:
        claim = self.claim
        if claim.is_value or claim.update or not self.pc.target_shape(claim):
            return None
        other = "derivative" if claim.layout == "gradient" else "gradient"
        if self.matches(lambda b, k: self.pc.truth(b.values, claim, other)):
            want = self.pc.target_shape(claim)
            return Finding("transposed", self.target, shapes=(want, want), text=claim.layout)
        return None

    def numerators(self) -> list[str]:
        """The claim's `of`, the output, then nodes of the same family and neighbours."""
        claim, graph = self.claim, self.graph
        stem = _stem(claim.of)
        near = [n for n in graph.order if _stem(n) == stem] + list(graph.parents(claim.of)) + \
            list(graph.children.get(claim.of, ()))
        ofs = [claim.of, self.pc.problem.output] + [n for n in near if n in graph.nodes]
        return list(dict.fromkeys(ofs))[:MAX_NUMERATORS]

    def denominators(self) -> list[str]:
        """The claim's family (w₁ for w₂), its neighbours, the inputs, then the graph's order."""
        claim, graph = self.claim, self.graph
        stem = _stem(claim.wrt)
        near = [n for n in graph.symbols if _stem(n) == stem] + list(graph.parents(claim.wrt)) \
            + list(graph.children.get(claim.wrt, ())) + list(graph.inputs)
        return list(dict.fromkeys(near + list(graph.symbols)))[:MAX_DENOMINATORS]

    def affordable(self, refs: list) -> list:
        """The first candidate derivatives within MISLABEL_WORK node-sweeps: a vector
        numerator's Jacobian takes a sweep per component (the states of a 300-step RNN as
        numerators: 60 Jacobians of 900-node sweeps took seconds)."""
        from deriv.sampling import concrete
        sizes = self.pairs[0][0].sizes if self.pairs else {}
        nodes, spent, out = len(self.graph.order), 0, []
        for ref in refs:
            spent += nodes * int(np.prod(concrete(self.graph.shape(ref.of), sizes)))
            if spent > MISLABEL_WORK and out:
                break
            out.append(ref)
        return out

    def mislabelled(self, want: tuple | None = None) -> Finding | None:
        claim, graph = self.claim, self.graph
        if claim.is_value or claim.update:
            return None
        want = self.pc.target_shape(claim) if want is None else want
        refs = []
        denominators = self.denominators()
        for of in self.numerators():
            for wrt in denominators:
                if (of, wrt) == (claim.of, claim.wrt) or of == wrt or not graph.depends(of, wrt):
                    continue
                try:
                    if derivative_shape(graph, of, wrt, claim.layout) != want:
                        continue
                except Exception:      # noqa: BLE001  (an order-3 tensor: not a candidate)
                    continue
                refs.append(DRef(of, wrt))
        refs = self.affordable(refs)
        candidates = [self.truth_of(ref.of, ref.wrt) for ref in refs]
        for ref, candidate, plausible in zip(refs, candidates, self.screened_all(candidates)):
            if plausible and self.matches(candidate):
                return Finding("mislabelled", self.target, derivative=ref)
        return None

    def units(self) -> list[tuple[str, sp.Expr]]:
        """The terms of ∂of/∂wrt = Σ_children c̄·(∂c/∂wrt)ₑ, split further where one child's
        share is itself a sum (N = AAᵀ reaches A twice: N̄A + N̄ᵀA)."""
        claim, graph = self.claim, self.graph
        shared = _shared(self.pc, "units")
        if (claim.of, claim.wrt) not in shared:
            out = []
            children = [c for c in graph.children.get(claim.wrt, ()) if graph.depends(claim.of, c)]
            for c in children if len(children) <= MAX_UNIT_CHILDREN else ():
                bar = A.symbol(c + "_bar", graph.shape(c))
                share = graph.adjoint_share(c, claim.wrt, bar)
                out += [(c, t) for t in sp.Add.make_args(share)]
            shared[claim.of, claim.wrt] = out
        return shared[claim.of, claim.wrt]

    def unit_value(self, batch, child: str, term: sp.Expr):
        claim, graph, values = self.claim, self.graph, batch.values
        if child == claim.of:
            bar = values.zeros(()) + 1
        else:
            bar = values.derivative(claim.of, child, "gradient")
        v = values.value(term, {A.symbol(child + "_bar", graph.shape(child)): bar})
        return v if claim.layout == "gradient" else transpose_points(v)

    def lost_path(self) -> Finding | None:
        """The claim is some of the terms of ∂of/∂wrt = Σ_children ∂of/∂c·∂c/∂wrt: the paths
        through the others are lost (or one is counted twice)."""
        claim, graph = self.claim, self.graph
        if claim.is_value or claim.update or claim.local:
            return None
        if graph.shape(claim.of):      # a Jacobian: its paths are dropped edges, not terms
            return self.dropped_paths()
        units = self.units()
        if len(units) < 2 or len(units) > MAX_SUBSET_CHILDREN:
            return self.dropped_paths() or self.repeated_path(units)
        for size in range(1, len(units)):
            for kept in combinations(range(len(units)), size):
                def partial_sum(batch, k, kept=kept):
                    return sum(self.unit_value(batch, *units[i]) for i in kept)
                if self.matches(partial_sum):
                    lost = [units[i] for i in range(len(units)) if i not in kept]
                    lost_children = list(dict.fromkeys(c for c, _ in lost))
                    paths = tuple(p for c in lost_children
                                  for p in _paths_via(graph, claim.wrt, c, claim.of))
                    count = sum(graph.count_paths(c, claim.of) for c in lost_children)
                    kept_children = tuple(dict.fromkeys(units[i][0] for i in kept))
                    only_lost = tuple(c for c in lost_children if c not in kept_children)
                    if len(set(c for c, _ in units)) == 1:
                        # one child's terms (x reaches L twice through one edge: xᵀBx): a
                        # term missing, not a path; its weight c̄ is 1 where c is `of`
                        (child,) = {c for c, _ in units}
                        if child != claim.of:
                            break           # (term() says it in the graph's own nodes)
                        missing = sp.Add(*(t for c, t in lost)).xreplace(
                            {A.symbol(child + "_bar", graph.shape(child)): sp.S.One})
                        return Finding("missing-term", self.target,
                                       expr=reference_form(missing))
                    if not only_lost:
                        # every child keeps some of its terms (xᵀAx + bᵀx written Ax + b): a
                        # term of one node's product rule is missing, no path is lost
                        return None        # (term() says it in the graph's own nodes)
                    # (one child's share may have several terms: N = AAᵀ reaches A twice)
                    return Finding("lost-path", self.target, paths=paths[:3], count=count,
                                   expr=sp.Add(*(units[i][1] for i in kept)),
                                   printed=sp.Add(*(t for _, t in units)),
                                   symbols=only_lost or tuple(lost_children),
                                   kept=kept_children if only_lost else ())
        return self.dropped_paths() or self.repeated_path(units)

    def dropped_paths(self) -> Finding | None:
        """The claim is the derivative without the paths through some of one node's children
        (BPTT that keeps the last step, a norm without its statistics): evaluated as a sweep
        with those edges left out, at any node between wrt and of, for any shapes."""
        claim, graph = self.claim, self.graph
        if claim.is_value or claim.update or claim.local:
            return None
        inside = [n for n in graph.order if n != claim.of and graph.depends(claim.of, n) and
                  graph.depends(n, claim.wrt)]
        # wrt's own edges, then those into `of` (the last chain-rule step, where a term is
        # most often left out: nₖ₋₂ → nₖ on a long chain, past the budget in graph order)
        known = set(inside)
        last = [n for n in graph.parents(claim.of) if n in known]
        between = dict.fromkeys([claim.wrt] + last + inside)
        # on a larger graph only the few shortest paths are tried (BPTT of 300 steps)
        budget = max(8, MAX_DROP_VARIANTS * 50 // max(50, len(graph.order))) \
            if len(graph.order) <= MAX_DROP_NODES else 0

        def truth(batch, k):
            return batch.values.derivative(claim.of, claim.wrt, claim.layout)
        total = graph.count_paths(claim.wrt, claim.of)
        # the shortest paths alone as well, whatever the budget left (BPTT of a hundred steps
        # that keeps only the last: its variants come after a thousand subsets of children)
        tried = list(itertools.islice(self.drops(between), budget))
        named = {s.name for s in self.written.free_symbols} if self.written is not None \
            else set()
        # the shortest through each node the claim names, then the shortest of all
        shortest = [graph.shortest_paths(claim.wrt, n, 1)[0] +
                    graph.shortest_paths(n, claim.of, 1)[0][1:]
                    for n in between if n in named and n != claim.wrt]
        shortest = sorted(dict.fromkeys(shortest + graph.shortest_paths(
            claim.wrt, claim.of, SHORTEST_PATHS)), key=len)
        tried += [(drop, finding) for drop, finding in self.path_drops(
            shortest[:SHORTEST_PATHS]) if drop not in {d for d, _ in tried}]
        tests = []          # (its finding, None for lost or whether one path is kept, value)
        for drop, finding in tried:
            def without(batch, k, drop=drop):
                return batch.values.derivative(claim.of, claim.wrt, claim.layout, drop=drop)
            tests.append((finding, None, without))
            # counted twice instead of lost: the lost paths (truth + lost = 2·truth − without)
            # or, where the sweep keeps one path alone, that path (truth + without)
            if total >= 2:      # (one path twice is twice the derivative: a constant multiple)
                tests += [(finding, False, lambda b, k, w=without: 2 * truth(b, k) - w(b, k)),
                          (finding, True, lambda b, k, w=without: truth(b, k) + w(b, k))]
        screened = self.screened_all([candidate for _, _, candidate in tests])
        for (finding, kept_one, candidate), plausible in zip(tests, screened):
            if not (plausible and self.matches(candidate)):
                continue
            if kept_one is None:
                return finding()
            lost = finding()
            if (lost.text == "path") == kept_one and (kept_one or lost.count < total):
                return Finding("repeated-path", self.target, paths=lost.paths[:3], count=2,
                               symbols=lost.symbols)
        return None

    def drops(self, between):
        """Edges a claim may have lost, simplest first, each with its finding: some children
        of one node; one node held constant (a statistic, a normaliser), then two; all but
        one path."""
        claim, graph = self.claim, self.graph
        for node in between:
            children = [c for c in graph.children.get(node, ())
                        if c == claim.of or graph.depends(claim.of, c)]
            if not 2 <= len(children) <= MAX_SUBSET_CHILDREN:
                continue
            for size in range(1, len(children)):
                for kept in combinations(children, size):
                    lost = tuple(c for c in children if c not in kept)

                    def finding(node=node, kept=kept, lost=lost):
                        head = graph.some_paths(claim.wrt, node, 1)[0]
                        paths = tuple(head + p for c in lost
                                      for p in graph.some_paths(c, claim.of, 3))
                        count = graph.count_paths(claim.wrt, node) * sum(
                            graph.count_paths(c, claim.of) for c in lost)
                        # (the edge node → of kept is named by `derivative`: ∂of/∂node)
                        return Finding("lost-path", self.target, paths=paths[:3], count=count,
                                       symbols=lost, kept=kept,
                                       derivative=DRef(claim.of, node)
                                       if node != claim.wrt else None)
                    yield frozenset((c, node) for c in lost), finding
        inner = [n for n in between if n not in (claim.wrt, claim.of)]
        for size in (1, 2):
            for held in combinations(inner, size):
                def constant(held=held):
                    paths = tuple(graph.some_paths(claim.wrt, n, 1)[0] + p[1:] for n in held
                                  for p in graph.some_paths(n, claim.of, 3))
                    count = graph.count_paths(claim.wrt, claim.of) - \
                        graph.count_paths(claim.wrt, claim.of, frozenset(held))
                    return Finding("lost-path", self.target, paths=paths[:3], count=count,
                                   symbols=held, text="constant")
                yield frozenset((n, p) for n in held for p in graph.parents(n)), constant
        yield from self.path_drops(graph.some_paths(claim.wrt, claim.of, MAX_PATHS))

    def path_drops(self, paths):
        """All but one path: each path's variant with every edge off it left out."""
        claim, graph = self.claim, self.graph
        for path in paths:
            on = set(zip(path[1:], path[:-1]))
            drop = frozenset((c, a) for a in path[:-1] for c in graph.children.get(a, ())
                             if (c, a) not in on)
            if not drop:           # the only path: nothing is lost by keeping it
                continue
            yield drop, (lambda path=path: Finding("lost-path", self.target, paths=(path,),
                                                   count=graph.count_paths(claim.wrt, claim.of),
                                                   kept=path, text="path"))

    def repeated_path(self, units) -> Finding | None:
        if len(units) < 2:
            return None
        for child, term in units:
            def twice(batch, k, child=child, term=term):
                return self.pairs[k][2] + self.unit_value(batch, child, term)
            if self.matches(twice):
                paths = tuple(_paths_via(self.graph, self.claim.wrt, child, self.claim.of))
                return Finding("repeated-path", self.target, paths=paths[:3], count=2,
                               expr=term, symbols=(child,))
        return None

    def negated(self) -> Finding | None:
        claim = self.claim
        if claim.update and self.written is not None:
            # a step with the wrong sign (w + ε∇L, uphill): the claim is w reflected, 2w − truth
            w = self.graph.symbols[claim.wrt]
            if self.matches(lambda b, k: 2 * b.values.env[w] - self.pairs[k][2]):
                return Finding("term-sign", self.target, expr=self.written - w)
        if self.matches(lambda b, k: -self.pairs[k][2]):      # (a step: the whole of it)
            return Finding("negated", self.target, text="step" if claim.update else "")
        return None

    def step(self) -> Finding | None:
        from deriv.gradient_steps import wrong_step
        return wrong_step(self)

    def product_order(self) -> Finding | None:
        """AB written BA: one product of the claim reordered (deriv.orders) is right."""
        from deriv.orders import reorderings
        return self.rewritten(reorderings, "product-order")

    def transposed_factor(self) -> Finding | None:
        """One factor of a matrix product written without its transpose (AG for AᵀG), or
        with one it should not have: that factor transposed is right (deriv.orders)."""
        from deriv.orders import transpositions
        return self.rewritten(transpositions, "wrong-factor")

    def wrong_axis(self) -> Finding | None:
        """A sum, mean or softmax taken over the other axis: moved to it, the claim is right
        (deriv.axes)."""
        from deriv.axes import axis_swaps
        return self.rewritten(axis_swaps, "wrong-axis")

    def rewritten(self, rewrites, kind: str) -> Finding | None:
        """The claim with one part rewritten — `rewrites(claim)` gives (the claim rewritten,
        the part as written, as rewritten) — is right: that part is the finding."""
        if self.claim.is_value or self.written is None:
            return None
        for candidate, printed, right in rewrites(self.written):
            def evaluated(batch, k, e=candidate):
                return self.pc.evaluate(batch.values, e)
            if self.matches(evaluated, lambda b, k: self.pairs[k][2]):
                return Finding(kind, self.target, expr=right, printed=printed)
        return None

    def constant_multiple(self) -> Finding | None:
        found = []
        for batch, c, t, valid in self.pairs:
            if c is None or np.shape(c) != np.shape(t):
                return None
            with np.errstate(all="ignore"):
                small = 1e-8 * self.scale
                ok = (np.abs(t) > small) & np.isfinite(c)
                ok = ok & valid if np.ndim(t) == 1 else ok & valid[None, None, :]
                if np.any(np.abs(np.where(np.abs(t) <= small, c, 0)[..., valid]) > small):
                    return None
                found.append((c[ok] / t[ok]).ravel())
        ratios = np.concatenate(found) if found else np.zeros(0)
        if len(ratios) < 10:
            return None
        k = float(np.median(ratios))
        # (a claim off by 3·10⁻⁷ of itself is no "1 times": the multiple must differ from ±1)
        if k == 0 or abs(abs(k) - 1) <= 1e-6 or \
                not np.allclose(ratios, k, rtol=1e-6, atol=1e-12 * abs(k)):
            return None
        return Finding("constant-multiple", self.target, number=k)

    def families(self) -> list[list[sp.Symbol]]:
        groups: dict[tuple, list[sp.Symbol]] = {}
        for name, symbol in self.graph.symbols.items():
            groups.setdefault((_stem(name), A.shape_of(symbol)), []).append(symbol)
        return [v for v in groups.values() if len(v) > 1]

    def swapped(self) -> Finding | None:
        """Exchanging two symbols of one family (ψ₂₁ ↔ ψ₂₂) makes the claim right: evaluated
        by exchanging their arrays, so nothing is recompiled."""
        if self.claim.expr is None:
            return None
        used = self.claim.expr.free_symbols

        for members in self.families():
            # a typo exchanges neighbours (ψ₂₁ ↔ ψ₂₂) or two symbols the claim uses: a family
            # of a thousand nodes is not tried pair by pair
            position = {m: i for i, m in enumerate(members)}
            pairs = []
            written = [m for m in members if m in used]
            for a in written:
                i = position[a]
                near = members[max(0, i - SWAP_REACH):i + SWAP_REACH + 1]
                # any two the claim uses, where it uses a few (a claim of 300 factors: neighbours)
                pairs += [(a, b) for b in dict.fromkeys(near + written[:MAX_SWAP_USED]) if b != a]
            for a, b in itertools.islice(dict.fromkeys(tuple(sorted(p, key=position.get))
                                                       for p in pairs), MAX_SWAPS):
                if self.right_exchanged(a, b):
                    return Finding("swapped", self.target, symbols=(a.name, b.name))
        return None

    def right_exchanged(self, a: sp.Symbol, b: sp.Symbol) -> bool:
        """Is the claim right with a and b exchanged? (Their arrays exchanged: nothing is
        recompiled.)"""
        def exchanged(batch, k):
            env = batch.values.env
            return self.pc.evaluate(batch.values, self.written, {a: env[b], b: env[a]})
        return self.screened(exchanged, truth=True) and \
            self.matches(exchanged, lambda b_, k: self.pairs[k][2])

    def exchanged(self) -> Finding | None:
        """Two of the claim's symbols of one shape and no family exchanged (W ↔ U, a gate's
        two weights) — a last resort: an exchange restates many other mistakes (baᵀ for abᵀ)."""
        if self.claim.expr is None:
            return None
        used = self.claim.expr.free_symbols

        nodes = set(self.graph.symbols.values())
        loose = sorted((s for s in used if s in nodes), key=str)[:MAX_SWAP_USED]
        differences = [set(e.args) for e in sp.preorder_traversal(self.written) if e.is_Add]
        for a, b in itertools.combinations(loose, 2):
            if any({a, -b} <= d or {-a, b} <= d for d in differences):
                continue        # (y − p for p − y: a term's sign, said so by term-sign)
            if A.shape_of(a) == A.shape_of(b) and _stem(a.name) != _stem(b.name) and \
                    self.right_exchanged(a, b):
                return Finding("swapped", self.target, symbols=(a.name, b.name))
        return None

    def wrong_symbol(self) -> Finding | None:
        """A symbol of the claim stands for another node of its shape (y written for n̂ =
        ∂y/∂γ): one symbol, or each member of one family for the member of another family with
        the same index (y₁, y₂, y₃ for n₁, n₂, n₃). Evaluated by giving the symbols the other
        nodes' arrays, so nothing is recompiled."""
        if self.written is None or self.claim.is_value:
            return None
        graph = self.graph
        nodes = set(graph.symbols.values())
        used = sorted((s for s in self.written.free_symbols if s in nodes), key=str)
        families: dict[str, dict[str, sp.Symbol]] = {}
        for name, symbol in graph.symbols.items():
            families.setdefault(_stem(name), {})[name[len(_stem(name)):]] = symbol
        mappings: list[dict] = []
        written_families: dict[str, list] = {}
        for s in used:
            written_families.setdefault(_stem(s.name), []).append(s)
        for stem, members in written_families.items():
            if len(members) < 2:
                continue
            for other, table in families.items():
                mapping = {m: table.get(m.name[len(stem):]) for m in members}
                if other != stem and all(t is not None and A.shape_of(t) == A.shape_of(m)
                                         for m, t in mapping.items()):
                    mappings.append(mapping)
        name_of = {symbol: name for name, symbol in graph.symbols.items()}
        for a in used[:MAX_SWAP_USED]:
            # one symbol for a node next to it — its parents, children, their other parents
            # and children (z for a = σ(z), y for n̂ in y = γn̂ + β) — or of its family
            name = name_of[a]
            near = [*graph.parents(name), *graph.children.get(name, ())]
            near += [m for n in list(near) for m in (*graph.parents(n),
                                                     *graph.children.get(n, ()))]
            near += [n for n in graph.symbols if _stem(n) == _stem(name)]
            mappings += [{a: graph.symbols[n]} for n in dict.fromkeys(near)
                         if n != name and graph.shape(n) == graph.shape(name)
                         ][:MAX_FACTOR_CANDIDATES]
        truth = (lambda b_, k: self.pairs[k][2])
        for mapping in mappings[:MAX_SWAPS]:
            def replaced(batch, k, mapping=mapping):
                env = batch.values.env
                return self.pc.evaluate(batch.values, self.written,
                                        {a: env[b] for a, b in mapping.items()})
            if self.screened(replaced, truth=True) and self.matches(replaced, truth):
                printed, right = tuple(mapping), tuple(mapping.values())
                factor = all(any(a in m.args for m in self.written.atoms(sp.Mul)) or
                             a == self.written for a in printed)
                return Finding("wrong-factor" if factor else "wrong-symbol", self.target,
                               printed=printed[0] if len(printed) == 1 else sp.Tuple(*printed),
                               expr=right[0] if len(right) == 1 else sp.Tuple(*right))
        return None

    def candidates(self) -> list[tuple[object, sp.Expr]]:
        """Quantities a lost or extra factor or term may be: node and input values, and the
        partials (edge and total) along the paths from wrt to of (the same for every claim
        of one derivative: built once a problem)."""
        claim, graph = self.claim, self.graph
        shared = _shared(self.pc, "candidates")
        key = (claim.of, claim.wrt, claim.layout, claim.is_value, claim.update)
        if key in shared:
            return shared[key]
        # on a long graph, the quantities nearest the claim's two ends (a mistake is written
        # in the claim's own terms): bounded by count, whatever the graph's size
        half = MAX_FACTOR_CANDIDATES // 2
        names = list(graph.symbols)
        near = names if len(names) <= 4 * half else list(dict.fromkeys(
            list(graph.inputs) + names[-4 * half:]))
        out: list[tuple[object, sp.Expr]] = [(None, graph.symbols[n]) for n in near]
        # the sizes as numbers (attention's 1/√d, a mean's 1/n): no one multiple at every size
        for name in graph.sizes:
            d = A.size_value(name)
            out += [(SIZE, 1 / sp.sqrt(d)), (SIZE, 1 / d)]
        # ... and a mean over every entry of a matrix: 1/(NK)
        out += [(SIZE, 1 / (A.size_value(a) * A.size_value(b)))
                for a, b in combinations(sorted(graph.sizes), 2)][:MAX_SIZE_PAIRS]
        if not claim.is_value and not claim.update:
            on_paths = [n for n in graph.symbols if n == claim.wrt or (
                graph.depends(claim.of, n) and graph.depends(n, claim.wrt))]
            if len(on_paths) > 2 * half:
                on_paths = on_paths[:half] + on_paths[-half:]
            kept = set(on_paths)
            for a in on_paths:
                for b in graph.parents(a):
                    if b in kept and not graph.shape(a) and not graph.shape(b):
                        out.append((DRef(a, b), graph.local(a, b)))
            # the claim's total derivative by another variable (∂L/∂w₂ added to ∂L/∂w₁)
            out += itertools.islice(((DRef(claim.of, n, claim.layout), None)
                                     for n in graph.symbols
                                     if n not in (claim.of, claim.wrt) and
                                     graph.depends(claim.of, n) and
                                     graph.shape(n) == graph.shape(claim.wrt)),
                                    MAX_FACTOR_CANDIDATES)
        shared[key] = out
        return out

    def printed_terms(self) -> list[tuple[int, str]]:
        """The claim's text as a sum of signed terms (the whole text if it is one)."""
        import ast
        found: list[tuple[int, object]] = []
        stack = [(parse_ast(self.claim.expr_text).body, 1)]   # (a stack: a sum of a thousand
        while stack and len(found) <= MAX_TERMS:               # terms nests a thousand deep)
            node, sign = stack.pop()
            if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
                stack.append((node.right, sign if isinstance(node.op, ast.Add) else -sign))
                stack.append((node.left, sign))
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                stack.append((node.operand, -sign))
            else:
                found.append((sign, node))
        if not 1 < len(found) <= MAX_TERMS or stack:
            return [(1, self.claim.expr_text)]
        try:
            return [(sign, ast.unparse(node)) for sign, node in found]
        except RecursionError:       # (one term a product of a thousand factors)
            return [(1, self.claim.expr_text)]

    def wrong_factor(self) -> Finding | None:
        """One factor of a printed product is not the partial it stands for: find the factor
        and the partial (an edge on a path wrt → of, or a total derivative) that, put in its
        place, makes the claim right — for scalar and matrix products alike, and inside one
        term of a printed sum of scalar products."""
        claim, graph = self.claim, self.graph
        if claim.expr_text is None or claim.is_value or claim.update:
            return None
        on_paths = [n for n in graph.order if graph.depends(claim.of, n)
                    and graph.depends(n, claim.wrt)] + [claim.wrt]
        on = set(on_paths)
        # (not the claim's own derivative, even as an edge: "δ should be ∂L/∂r" explains nothing)
        refs = [DRef(a, b, claim.layout) for a in on_paths for b in graph.parents(a)
                if b in on and (a, b) != (claim.of, claim.wrt)]
        refs += [DRef(claim.of, n, claim.layout) for n in on_paths
                 if n not in (claim.of, claim.wrt)]
        # the partials of the nodes the claim's own factors name first (cos(h₁₄₉) for
        # ∂h₁₅₀/∂h₁₄₉ in a product of hundreds), then the rest, bounded by count
        named = {s.name for s in self.written.free_symbols}
        refs = [r for r in refs if r.of in named or r.wrt in named] + \
            [r for r in refs if not (r.of in named or r.wrt in named)][:MAX_UNNAMED_REFS]
        shapes = {}
        for ref in refs[:MAX_SCALAR_REFS]:
            try:
                shapes[ref] = derivative_shape(graph, ref.of, ref.wrt, ref.layout)
            except Exception:     # noqa: BLE001  (an order-3 tensor: not a candidate)
                continue
        terms = self.printed_terms()
        for sign, text in terms:
            try:
                factors = parse_factors(text, graph.symbols,
                                        derivative=d_reader(graph, claim.layout),
                                        sizes=frozenset(graph.sizes))
            except Exception:    # noqa: BLE001  (it parsed at load: only a shape rebuild fails)
                continue
            if len(factors) < 2:
                continue
            found = self.replaced_factor(factors, shapes, sign, len(terms) == 1)
            if found:
                return found
        return products.wrong_elementwise_factor(self)

    def replaced_factor(self, factors, shapes, sign: int, whole: bool) -> Finding | None:
        """A run of factors of one printed product replaced by a partial; `whole`: the product
        is the claim, else one term of it (the other terms kept as printed)."""
        graph, pc = self.graph, self.pc
        truth = (lambda b, j: self.pairs[j][2])
        scalar = all(op == "*" and A.shape_of(f) == () for op, f in factors)
        if not whole and not scalar:
            return None
        evaluated: dict[int, list] = {}

        def values(k):          # each printed factor's values on batch k, computed once
            if k not in evaluated:
                evaluated[k] = [pc.evaluate(self.pairs[k][0].values, f) for _, f in factors]
            return evaluated[k]
        if whole:
            for k, (op, factor) in enumerate(factors):
                if self.trials >= MAX_TRIALS:
                    return None
                rest = factors[:k] + factors[k + 1:]
                if A.shape_of(factor) == () and op == "*" and (k > 0 or factors[1][0] == "*"):
                    if scalar:      # multiplied as numbers: nothing rebuilt or compiled
                        def without(b, j, k=k):
                            return np.prod(values(j)[:k] + values(j)[k + 1:], axis=0)
                    else:
                        rest_expr = product([("*", rest[0][1])] + rest[1:])

                        def without(b, _, e=rest_expr):
                            return pc.evaluate(b.values, e)
                    if self.matches(without, truth):
                        return Finding("extra-factor", self.target, expr=factor)
        heads: dict = {}

        def plausible(i: int, length: int) -> set:
            """The partials that could stand for factors i … i+length−1, read from the value a
            replacement must have at the first points (the truth over the other factors, by
            prefix and suffix products): a product of hundreds of factors against a thousand
            partials in one pass, each survivor then compared everywhere."""
            if not heads:
                n = np.shape(self.pairs[0][2])
                v = np.array([_head(np.broadcast_to(x, n)) for x in values(0)], dtype=float)
                ones = np.ones((1,) + v.shape[1:])
                heads["before"] = np.concatenate([ones, np.cumprod(v, axis=0)])
                heads["after"] = np.concatenate([np.cumprod(v[::-1], axis=0)[::-1], ones])
                heads["refs"] = [r for r, shape in shapes.items() if shape == ()]
                with np.errstate(all="ignore"):
                    heads["got"] = np.array([_head(np.broadcast_to(np.asarray(
                        pc.derivative(self.pairs[0][0].values, r), dtype=float), n))
                        for r in heads["refs"]]).reshape(len(heads["refs"]), -1)
            before, after = heads["before"], heads["after"]
            rest = before[i] * after[i + length]
            c, t = (_head(np.asarray(x, dtype=float)) for x in self.pairs[0][1:3])
            with np.errstate(all="ignore"):
                need = t / rest if whole else (t - c + sign * before[-1]) / (sign * rest)
                ok = np.isfinite(need) & (np.abs(rest) > 1e-300)
                close_ = np.isclose(heads["got"][:, ok], need[ok], rtol=1e-4,
                                    atol=1e-8 * self.scale) | ~np.isfinite(heads["got"][:, ok])
            return {r for r, yes in zip(heads["refs"], close_.all(axis=1)) if yes}
        # a printed factor may itself be a product (q(1 − q) for ∂q/∂z): every run of up to
        # MAX_RUN neighbouring factors is tried in place of one partial
        for length in range(1, min(MAX_RUN, len(factors) - 1) + 1):
            for i in range(len(factors) - length + 1):
                run = factors[i:i + length]
                try:
                    printed = product([("*", run[0][1])] + run[1:])
                except A.ShapeError:
                    continue
                survivors = plausible(i, length) if scalar else None
                for ref, shape in (shapes.items() if scalar else
                                   itertools.islice(shapes.items(), 2 * MAX_FACTOR_CANDIDATES)):
                    if self.trials >= MAX_TRIALS:
                        return None
                    if shape != A.shape_of(printed) or (scalar and ref not in survivors):
                        continue
                    if scalar:         # numbers multiplied, nothing compiled per candidate
                        def candidate(b, k, i=i, length=length, ref=ref):
                            rest = values(k)[:i] + values(k)[i + length:]
                            term = np.prod(rest, axis=0) * pc.derivative(b.values, ref)
                            if whole:
                                return term
                            return self.pairs[k][1] + sign * (term -
                                                              np.prod(values(k), axis=0))
                    else:
                        replaced = factors[:i] + [(run[0][0], ref.symbol(shape))] + \
                            factors[i + length:]
                        try:
                            e = product(replaced if i else [("*", replaced[0][1])] +
                                        replaced[1:])
                        except A.ShapeError:
                            continue

                        def candidate(b, k, e=e):
                            return pc.evaluate(b.values, e)
                    if self.matches(candidate, truth):
                        expr = graph.local(ref.of, ref.wrt) \
                            if ref.wrt in graph.parents(ref.of) else None
                        if expr is not None and any(s.name == ref.of + "_bar"
                                                    for s in expr.free_symbols):
                            expr = None     # a VJP, no Jacobian formula: the partial's name
                        if expr is not None and expr.is_Number:
                            # (a partial that is a number everywhere, ∂f/∂q = 1, names nothing:
                            # the 2 of 2b is no ∂f/∂q)
                            return Finding("wrong-factor", self.target, printed=printed,
                                           expr=expr)
                        return Finding("wrong-factor", self.target, derivative=ref,
                                       printed=printed,
                                       expr=None if expr is None else reference_form(expr))
        return None

    def factor(self) -> Finding | None:
        """claim / truth is one node, input or partial on the paths (extra), or its inverse —
        a scalar, or an array of the claim's shape (elementwise)."""
        shapes = ((), self.pc.target_shape(self.claim))
        usable = [(ref, expr) for ref, expr in self.candidates()   # (a factor 0 says nothing)
                  if expr is not None and expr != 0 and A.shape_of(expr) in shapes]
        tests = []
        for ref, expr in usable:
            value = self.value_of(ref, expr)
            tests += [(lambda b, k, v=value: self.pairs[k][2] * v(b, k), None),
                      (lambda b, k, v=value: self.pairs[k][1] * v(b, k),
                       lambda b, k: self.pairs[k][2])]
        verdicts = self.matches_all(tests)
        from deriv.confusions import lost_inverse
        for ref, expr in usable:
            if next(verdicts):
                if ref is None and lost_inverse(self, expr):
                    return Finding("missing-factor", self.target, expr=1 / expr)
                return Finding("extra-factor", self.target, derivative=_ref(ref), expr=expr)
            if next(verdicts):
                return Finding("missing-factor", self.target, derivative=_ref(ref), expr=expr)
        return None

    def elementwise(self) -> Finding | None:
        return products.extra_elementwise_factor(self) or products.missing_outer_term(self)

    def function_itself(self) -> Finding | None:
        from deriv.confusions import function_for_derivative
        return function_for_derivative(self)

    def value_of(self, ref, expr):
        if ref is SIZE:
            return lambda b, k: float(expr.xreplace({A.size_value(n): v
                                                     for n, v in b.sizes.items()}))
        if ref is None:
            return lambda b, k: b.values.env[expr]
        if expr is None:                                 # a total derivative
            return lambda b, k: b.values.derivative(ref.of, ref.wrt, ref.layout)
        return lambda b, k: self.pc.derivative(b.values, ref)

    def term(self) -> Finding | None:
        """truth − claim is one node or input value, or one term of the adjoint sum."""
        want = self.pc.target_shape(self.claim)
        usable = [(ref, expr) for ref, expr in self.candidates()
                  if (want if expr is None else A.shape_of(expr)) == want]
        tests = []
        for ref, expr in usable:
            value = self.value_of(ref, expr)
            tests += [(lambda b, k, v=value: self.pairs[k][2] - v(b, k), None),
                      (lambda b, k, v=value: self.pairs[k][2] + v(b, k), None)]
        verdicts = self.matches_all(tests)
        for ref, expr in usable:
            if next(verdicts):
                return Finding("missing-term", self.target, derivative=_ref(ref), expr=expr)
            if next(verdicts):
                if ref is None and not self.has_term(expr):   # σ(z) for σ(z) − y: y is not
                    return Finding("missing-term", self.target, expr=-expr)   # in it, −y is
                return Finding("extra-term", self.target, derivative=_ref(ref), expr=expr)
        return None

    def has_term(self, expr: sp.Expr) -> bool:
        """Is `expr` (a number times it) one of the claim's written terms?"""
        written = self.written
        if written is None:
            return True
        return any((t / expr).is_number for t in sp.Add.make_args(sp.expand(written)))

    def printed_term(self) -> Finding | None:
        """Printed terms of a sum (one, or a run of neighbours: (h₂ − t)) are superfluous — a
        loss term the output does not have — or have the wrong sign: the claim without them,
        or with them negated, is right."""
        claim = self.claim
        if claim.expr_text is None or claim.is_value or claim.update:
            return None
        signed = self.claim_terms()
        if len(signed) < 2:
            return None
        evaluated: dict[int, list] = {}

        def run_value(b, k, i, j):           # terms i … j−1 summed, each evaluated once
            if k not in evaluated:
                evaluated[k] = [self.pc.evaluate(b.values, e) for e in signed]
            return sum(evaluated[k][i:j])
        truth = (lambda b, k: self.pairs[k][2])
        n = len(signed)
        for length in range(1, n):
            for i in range(n - length + 1):
                j = i + length
                run = sp.Add(*signed[i:j], evaluate=False) if length > 1 else signed[i]
                if self.matches(lambda b, k: self.pairs[k][1] - run_value(b, k, i, j), truth):
                    return Finding("extra-term", self.target, expr=run)
                if self.matches(lambda b, k: self.pairs[k][1] - 2 * run_value(b, k, i, j),
                                truth):
                    return Finding("term-sign", self.target, expr=run)
        return None

    def symmetric_only(self) -> Finding | None:
        if not any(len(i.shape) == 2 and i.shape[0] == i.shape[1] and i.shape[0] != 1
                   for i in self.graph.inputs.values()):
            return None
        # drawn symmetric at the sizes of a setting where it fails (right at all of them:
        # not a matter of symmetry)
        failing = [b.sizes for b, c, t, valid in self.pairs if c is None or
                   np.shape(c) != np.shape(t) or
                   not per_point(close(c, t, atol=self.atol))[valid].all()]
        if not failing:
            return None
        sizes = failing[0]

        def right_when_symmetric(only=None) -> bool:
            for batch in self.pc.symmetric_batches(only, sizes):
                c = self.pc.evaluate(batch.values, self.written)
                t = self.pc.truth(batch.values, self.claim)
                valid = self.pc.valid(batch, self.claim, c, t)
                if valid.sum() < 3 or not per_point(close(c, t, atol=self.atol))[valid].all():
                    return False
            return True
        if not right_when_symmetric():
            return None
        square = [n for n, i in self.graph.inputs.items()
                  if len(i.shape) == 2 and i.shape[0] == i.shape[1] and i.shape[0] != 1]
        # which matrix must be symmetric: one alone, if one suffices
        alone = [n for n in square if right_when_symmetric(frozenset([n]))]
        return Finding("symmetric-only", self.target, symbols=tuple(alone[:1] or square))

    def square_only(self) -> Finding | None:
        if not self.pc.problem.sizes or len(self.pairs) < 2:
            return None
        square = [p for p in self.pairs if len(set(p[0].sizes.values())) == 1]
        other = [p for p in self.pairs if len(set(p[0].sizes.values())) > 1]
        if not square or not other:
            return None
        for _, c, t, valid in square:
            if c is None or not per_point(close(c, t, atol=self.atol))[valid].all():
                return None
        return Finding("square-only", self.target)


def _printed_in(factor, written) -> bool:
    """Are the factors of `factor` all factors of the printed product (p(1 − p) in
    x(p − y)p(1 − p)), not a ratio that merely comes out so?"""
    from collections import Counter
    if factor is None or written is None:
        return False
    have = Counter(sp.Mul.make_args(written))
    want = Counter(sp.Mul.make_args(factor))
    return all(have[f] >= k for f, k in want.items())


def _same(a: Finding, b: Finding) -> bool:
    try:
        if a.kind == b.kind == "wrong-factor" and a.printed is not None and \
                a.printed == b.printed and a.expr is not None and a.expr == b.expr:
            return True         # W₁ for W₁ᵀ, named as the partial ∂a/∂x = W₁ᵀ or not: once
        return bool(a == b)
    except (ValueError, TypeError):     # a field holding an array: not compared, kept apart
        return False


def _one_factor(found: list[Finding]) -> list[Finding]:
    """A lost factor is one explanation whatever the graph's form: where the claim is a
    constant multiple of the derivative, the lost path that makes it so (AAᵀ's two uses of
    A, one counted) is its detail, not a second finding — trace(X @ X), which has no such path,
    reads the same."""
    multiple = next((f for f in found if f.kind == "constant-multiple"), None)
    if multiple is not None:        # (XᵀX's product rule, one of its equal terms missing)
        found = [f for f in found if f.kind not in ("missing-term", "extra-term")]
    lost = next((f for f in found if f.kind == "lost-path"), None)
    if multiple is None or lost is None:
        return found
    merged = dataclasses.replace(multiple, paths=lost.paths, count=lost.count,
                                 expr=lost.expr, printed=lost.printed, symbols=lost.symbols,
                                 kept=lost.kept)
    return [merged if f is multiple else f for f in found if f is not lost]


class _Prefix:
    """A batch's first points, with their own forward pass (for screening candidates)."""

    def __init__(self, problem, batch, n: int):
        self.values = Values(problem, {k: _head(v, n) for k, v in batch.inputs.items()},
                             batch.sizes)


def _shared(pc, what: str) -> dict:
    """A table the diagnoses of all a problem's claims share, kept by its check: what it holds
    depends on the problem and the key alone (a closed form, a derivative's candidates)."""
    return pc.__dict__.setdefault("_diagnosis_" + what, {})


def _prefix(pc, batch) -> _Prefix:
    """The screening points of a batch, one per batch of a problem's check: the sweeps run
    there (∂L/∂· for another numerator, or with some edges dropped) are kept by its Values
    and shared by every claim diagnosed, as the batch's own sweeps are."""
    prefixes = _shared(pc, "prefixes")
    if batch not in prefixes:
        prefixes[batch] = _Prefix(pc.problem, batch, SCREEN_POINTS)
    return prefixes[batch]


def _agree(values, reference, atol: float) -> np.ndarray:
    """Elementwise: both finite and close (program.close) — in half the array operations,
    for it is the diagnosis's innermost test: a difference is finite exactly where both are
    and it does not overflow, and where it overflows they are not close."""
    with np.errstate(all="ignore"):
        d = values - reference
        return np.isfinite(d) & (np.abs(d) <= atol + RTOL * np.maximum(np.abs(values),
                                                                         np.abs(reference)))


def _head(values, n: int = SCREEN_POINTS):
    """A batch's first n points (samples are the last axis)."""
    return values[..., :n] if isinstance(values, np.ndarray) else values


SIZE = "size"            # a candidate factor that is a size used as a number


def _ref(ref):
    return None if ref is SIZE else ref


def _stem(name: str) -> str:
    return re.sub(r"[\d_]+$", "", name)


def _paths_via(graph, src: str, via: str, dst: str) -> list[tuple[str, ...]]:
    return [(src,) + p for p in graph.some_paths(via, dst, 3)]


def _has_dref(expr: sp.Expr) -> bool:
    return any(dref_of(s) for s in expr.free_symbols)



def _size(expr: sp.Expr) -> int:
    """Operations and atoms of a small formula (one already bounded by A.within)."""
    return sum(1 for _ in sp.preorder_traversal(expr))
