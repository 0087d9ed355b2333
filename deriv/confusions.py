"""A function written for its derivative: the claim is the value of the node whose derivative
it claims to be (softplus(z) for softplus′(z) = σ(z), relu(a) for 𝕀[a > 0]), as a whole. Inside
a product the wrong-factor search finds the same slip; a claim of one factor is no product, and
"the formula should be the derivative" would say nothing — "it is s itself" says what happened.
"""

from __future__ import annotations

from deriv.findings import Finding
from deriv.parse import DRef


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
