"""Results in textbook form: each step of `deriv solve` written in the problem's own nodes
wherever that is shorter — ∂L/∂z₁ = p₁ − y₁, not the expansion of a softmax; (h₃ − y)(1 − h₃²),
not −(−h₃ + y)(h₃ − 1)(h₃ + 1).

The rule is measurable: of the forms a small search finds, the one with the fewest written
operations (`operations`: each + − · / power, negation and function call) is shown; a tie
keeps the form found first, the derivation's own. The search moves by identities only —
expand, factor, together, cancel, a node written out as its definition (y₃ → 1 − y₁ − y₂) —
and after every move folds each node's definition back into the node (e₁/s → p₁, tanh(a₂) →
h₂), so every form is equal to the derivative. Steps are rewritten in order, each one's form
substituted into the later ones, so the forms stay small. Bounded by counts, never a clock:
steps larger than MAX_OPS are not searched, and one solution spends at most MOVES moves (a
1000-node chain stays linear in its output and in its time).
"""

from __future__ import annotations

import sympy as sp

from deriv import algebra as A
from deriv.graph import Graph
from deriv.parse import DRef
from deriv.sweep import Sweep

MAX_OPS = 40            # a step larger than this (deriv.algebra.size) is shown as derived
MOVES = 150             # what one solution may spend: a fold costs 1, a move 1 + its size / 8
DEPTH, BEAM = 2, 2      # moves in a row, and the forms kept after each
FACTOR_MAX_OPS, FACTOR_MAX_SYMBOLS = 24, 6    # full factoring only up to this size
MAX_EXPANDED = 32       # terms an expansion may have
INLINED = 2             # nodes tried written out as their definitions, per form


def operations(expr: sp.Expr, in_sum: bool = False) -> int:
    """The operations a person writes: each + − · / power and call; a negation, except as
    a term of a sum (a − b is one operation). sympy.count_ops counts alike but asks SymPy's
    assumptions at every node: on a deep chain it costs a hundred times more."""
    if not expr.args:
        return 0
    if expr.is_Add:
        return len(expr.args) - 1 + sum(operations(a, True) for a in expr.args)
    if expr.is_Mul:
        coefficient, factors = expr.as_coeff_mul()
        count = len(factors) - 1 + sum(operations(f) for f in factors)
        count -= sum(1 for f in factors if f.is_Pow and f.exp.is_negative)   # x/s: one op
        if coefficient.is_negative and not in_sum:
            count += 1                                      # −x
        if abs(coefficient) != 1:
            count += 1                                      # 2·x, x/2
        return count
    if expr.is_Pow:
        exponent = expr.exp
        written = 1 if exponent in (-1, sp.S.Half) else 2 if exponent.is_negative else 1
        return written + operations(expr.base)              # 1/x, √x, x², 1/x²
    return 1 + sum(operations(a) for a in expr.args)        # a call: exp(x), relu(x)


def _factored(expr: sp.Expr) -> sp.Expr:
    """sp.factor with function applications held whole (exp(a + b) stays as written); on a
    larger form only the common factors are taken out (factoring a polynomial in many
    variables can take seconds)."""
    if A.size(expr) > FACTOR_MAX_OPS or len(expr.free_symbols) > FACTOR_MAX_SYMBOLS:
        return sp.factor_terms(expr)
    hidden: dict[sp.Expr, sp.Dummy] = {}

    def hide(e):
        if isinstance(e, sp.Function):
            return hidden.setdefault(e, sp.Dummy())
        return e.func(*(hide(a) for a in e.args)) if e.args else e
    return sp.factor(hide(expr)).xreplace({d: e for e, d in hidden.items()})


class Rewriter:
    """Rewrites the scalar steps of one solution; `moves` counts what it may still spend."""

    def __init__(self, graph: Graph, moves: int = MOVES):
        self.graph = graph
        self.moves = moves
        self.memo: dict[sp.Expr, sp.Expr] = {}        # forward sweeps repeat their steps
        self.position = {graph.symbols[n]: k for k, n in enumerate(graph.order)}
        self.names = {graph.symbols[n]: n for n in graph.symbols}
        # a node is folded where its whole definition appears; a bare name or number is not
        self.definition = {graph.symbols[n]: graph.nodes[n].expr for n in graph.order
                           if not graph.shape(n) and graph.nodes[n].expr.args}
        # written out only where that can cancel: a rational definition (y₃ = 1 − y₁ − y₂);
        # tanh(a₂) for h₂ would only be folded back
        self.rational = {s for s, d in self.definition.items() if _rational(d)}

    def spend(self, n: int = 1) -> bool:
        self.moves -= n
        return self.moves >= 0

    def fold(self, expr: sp.Expr) -> sp.Expr:
        """Each node whose definition appears in expr, written as the node (latest first):
        exactly (tanh(a₂) → h₂), among a sum's terms (w·h₁ + u·x₂ + b + … → a₂ + …) or among
        a product's factors (e₁·y₁/s² → p₁·y₁/s). One walk over expr, no SymPy pattern
        matching: cheap enough for every form the search finds."""
        for _ in range(3):
            present = expr.free_symbols
            candidates = {self.graph.symbols[c] for s in present if s in self.names
                          for c in self.graph.children.get(self.names[s], ())}
            folds = sorted((c for c in candidates if c in self.definition
                            and self.definition[c].free_symbols <= present),
                           key=lambda c: -self.position[c])
            if not folds or not self.spend():
                return expr
            before = expr
            expr = _fold(expr, [(node, self.definition[node]) for node in folds])
            if expr == before:
                break
        return expr

    def neighbours(self, expr: sp.Expr):
        products = [e for e in sp.preorder_traversal(expr) if e.is_Mul or e.is_Pow]
        if any(a.is_Add for e in products for a in e.args) and \
                _expanded_terms(expr) <= MAX_EXPANDED:
            yield sp.expand(expr)     # only a product to expand, and never 2ᵏ terms of k sums
        if expr.is_Add:
            yield _factored(expr)                   # only a sum has factors to take out
        if any(e.is_Pow and e.exp.is_negative for e in products):
            yield sp.together(expr)                 # only where there is a denominator
        nodes = sorted((s for s in expr.free_symbols if s in self.rational),
                       key=lambda s: -self.position[s])
        for node in nodes[:INLINED]:
            yield expr.xreplace({node: self.definition[node]})

    def best(self, expr: sp.Expr) -> sp.Expr:
        """The form of expr with the fewest operations that the bounded search finds."""
        if expr.is_Atom or self.moves <= 0:
            return expr
        if A.size(expr) > MAX_OPS or not expr.free_symbols <= set(self.names):
            return self.fold(expr)       # in earlier steps' symbols (x̄): only folded
        if expr not in self.memo:
            self.memo[expr] = self.search(expr)
        return self.memo[expr]

    def search(self, expr: sp.Expr) -> sp.Expr:
        found = {expr: 0}
        frontier = [expr]
        try:
            folded = self.fold(expr)
            found.setdefault(folded, len(found))
            if operations(folded) <= 2:        # nothing shorter to find
                raise StopIteration
            frontier.append(folded)
            for _ in range(DEPTH):
                fresh = []
                for form in frontier:
                    for move in self.neighbours(form):
                        if not self.spend(1 + A.size(form) // 8):
                            raise StopIteration
                        if A.size(move) > 4 * MAX_OPS:
                            continue
                        move = self.fold(move)
                        if move not in found:
                            found[move] = len(found)
                            fresh.append(move)
                frontier = sorted(fresh, key=operations)[:BEAM]
        except (StopIteration, sp.PolynomialError, RecursionError):
            pass
        return min(found, key=lambda f: (operations(f), found[f]))


def _rational(expr: sp.Expr) -> bool:
    """A rational function of its symbols: no function, each power of a symbol integral
    (SymPy's is_rational_function asks each power about every symbol: a sum of a thousand
    squares took seconds)."""
    return not expr.atoms(sp.Function) and all(
        p.exp.is_Integer or not p.free_symbols for p in expr.atoms(sp.Pow))


def _expanded_terms(expr: sp.Expr) -> int:
    """How many terms sp.expand would write (a bound, computed without expanding)."""
    if expr.is_Add:
        return sum(_expanded_terms(a) for a in expr.args)
    if expr.is_Mul:
        count = 1
        for a in expr.args:
            count *= _expanded_terms(a)
            if count > MAX_EXPANDED:
                return count
        return count
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 1:
        return min(_expanded_terms(expr.base) ** int(expr.exp), 10 * MAX_EXPANDED)
    return 1


def _fold(expr: sp.Expr, folds: list[tuple[sp.Symbol, sp.Expr]]) -> sp.Expr:
    """expr with each (node, definition) folded, bottom up."""
    memo: dict[sp.Expr, sp.Expr] = {}
    # a sum, power or product may be folded in part, by a definition of its own kind; anything
    # else only where it is a definition (found by hash: every node's definition compared with
    # every sub-expression took 13 s on a graph of 2,000 nodes)
    exact: dict[sp.Expr, sp.Symbol] = {}
    for node, definition in reversed(folds):
        exact[definition] = node
    kinds = {kind: [(n, d) for n, d in folds if getattr(d, kind)]
             for kind in ("is_Add", "is_Pow", "is_Mul")}

    def walk(e: sp.Expr) -> sp.Expr:
        if not e.args:
            return e
        if e in memo:
            return memo[e]
        out = e.func(*(walk(a) for a in e.args))
        kind = next((k for k in kinds if getattr(out, k)), None)
        if kind is None:
            memo[e] = out = exact.get(out, out)
            return out
        for node, definition in kinds[kind]:
            if out.is_Atom or not getattr(out, kind):
                break
            if out == definition:
                out = node
                break
            if out.is_Add and definition.is_Add:
                out = _fold_sum(out, node, definition)
            elif out.is_Pow and definition.is_Pow and out.base == definition.base:
                ratio = out.exp / definition.exp        # 1/sd for sd = √(v + ε)
                if ratio.is_Integer:
                    out = node ** ratio
                    break
            elif out.is_Mul and definition.is_Mul:
                out = _fold_product(out, node, definition)
        if not out.is_Atom and not getattr(out, kind):
            out = exact.get(out, out)          # (a sum folded down to one function)
        memo[e] = out
        return out
    return walk(expr)


def _fold_sum(total: sp.Expr, node: sp.Symbol, definition: sp.Expr) -> sp.Expr:
    """c·(a + b + d) + rest → c·node + rest where every term of the definition is in the sum
    with one common coefficient c."""
    terms = total.as_coefficients_dict()
    wanted = definition.as_coefficients_dict()
    scale = None
    for term, coefficient in wanted.items():
        if term not in terms:
            return total
        ratio = terms[term] / coefficient
        if scale is None:
            scale = ratio
        elif ratio != scale:
            return total
    return total - scale * definition + scale * node


def _fold_product(product: sp.Expr, node: sp.Symbol, definition: sp.Expr) -> sp.Expr:
    """e₁·y₁·s⁻² → p₁·y₁·s⁻¹ for p₁ = e₁·s⁻¹: the definition's factors all in the product,
    each to a power of the same sign at least as large."""
    have = product.as_powers_dict()
    wanted = definition.as_powers_dict()
    for base, power in wanted.items():
        got = have.get(base, sp.S.Zero)
        if not (power.is_Number and got.is_Number) or got * power <= 0 or abs(got) < abs(power):
            return product
    return product / definition * node


def closed_forms(sweep: Sweep, rewriter: Rewriter, max_ops: int) -> dict[DRef, sp.Expr]:
    """Each step of a scalar sweep in node symbols, in its shortest form (Sweep.closed_forms
    with every step rewritten before the later steps use it); a step longer than `max_ops`
    keeps the earlier steps' symbols, so the output grows linearly with the graph."""
    closed: dict[sp.Symbol, sp.Expr] = {}
    out: dict[DRef, sp.Expr] = {}
    for step in sweep.steps:
        # what substitution would add, counted before it is built (an input read by every
        # node of a 1,500-node chain: its step is a sum of 1,500 closed forms)
        present = [s for s in step.program.free_symbols if s in closed]
        # (SymPy's flattening and powers shrink a substituted product: twice the bound is
        # past what any of them wins back)
        large = A.size(step.program) + sum(A.size(closed[s]) for s in present) > 2 * max_ops
        expr = step.program.xreplace(closed) if present and not large else step.program
        if large or A.size(expr) > max_ops:
            expr = rewriter.best(step.program)
        else:
            expr = rewriter.best(expr)
            closed[step.program_symbol] = expr
        out[step.target] = expr
    return out
