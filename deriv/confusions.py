"""A function written for its derivative: the claim is the value of the node whose derivative
it claims to be (log(1 + eᶻ) for its σ(z), relu(a) for 𝕀[a > 0]), as a whole. Inside
a product the wrong-factor search finds the same slip; a claim of one factor is no product, and
"the formula should be the derivative" would say nothing — "it is s itself" says what happened.
"""

from __future__ import annotations

from itertools import islice

import sympy as sp

from deriv import primitives as P
from deriv.findings import Finding
from deriv.parse import DRef

MAX_INLINED_NODES = 150     # graphs small enough to write a claim out in their inputs
MAX_WALKED = 2000           # ... and the claim so written, in subexpressions walked


def function_for_derivative(d) -> Finding | None:
    """`d`: the Diagnosis. The claim equals the forward value of `of` (a node, not an input)
    at every point: a wrong factor, the value s where ∂s/∂wrt stands."""
    claim, graph = d.claim, d.graph
    if claim.is_value or claim.update or d.written is None or claim.of in graph.inputs or \
            d.pc.target_shape(claim) != graph.shape(claim.of):
        return None
    node = graph.symbols[claim.of]
    if not d.matches(lambda b, k: b.values.env[node]):
        return None
    ref = DRef(claim.of, claim.wrt, claim.layout)
    expr = d.closed_form() if not graph.shape(claim.of) else None
    return Finding("wrong-factor", d.target, derivative=ref, printed=d.written, expr=expr)


def lost_inverse(d, symbol) -> bool:
    """The claim is q times the derivative, yet never multiplies by q — written out in the
    inputs, no q but in a denominator or inside a step 𝕀[·] or sign (relu(a) does multiply
    by a; the dropout mask 𝕀[q > u] does not): it lost the graph's 1/q (−a/b for −a/b², m ⊙ g
    for m ⊙ g/q), better said so than as "an extra factor q"."""
    if d.written is None or len(d.graph.order) > MAX_INLINED_NODES:
        return False
    written, q = d.graph.inline(d.written), d.graph.inline(symbol)   # (a node: its formula)
    parts = list(islice(sp.preorder_traversal(written), MAX_WALKED + 1))
    if len(parts) > MAX_WALKED:      # (a formula of shared subtrees, written out: too long)
        return False
    scale_free = {e: sp.Dummy() for e in parts
                  if getattr(P.entry_of(e), "name", None) in ("indicator", "sign") or
                  (e.is_Pow and e.base == q and e.exp.is_negative)}
    return not written.xreplace(scale_free).has(q)


def in_exponentials(expr: sp.Expr) -> sp.Expr:
    """The functions that have an exp form (the registry's `exp_form`: σ; SymPy's tanh) written
    with exp, so that a derivative misremembered in exps (eᶻ for σ(z) = 1/(1 + e⁻ᶻ)) leaves a
    small ratio: its lost factor 1/(1 + eᶻ)."""
    rewrite = {}
    for e in sp.preorder_traversal(expr):
        entry = P.entry_of(e)
        if entry is not None and entry.exp_form is not None:
            rewrite[e] = entry.exp_form(*e.args)
        elif isinstance(e, sp.tanh):
            rewrite[e] = e.rewrite(sp.exp)
    return expr.xreplace(rewrite) if rewrite else expr
