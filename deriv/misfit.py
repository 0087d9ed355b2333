"""An ill-shaped claim made to fit: (2(P − Y)/N) @ Hᵀ for Hᵀ @ (2(P − Y)/N), or G @ W for
G @ Wᵀ. The claim's text is read again with one matrix product's operands exchanged, one of
them transposed (or its transpose taken off), or both; a reading that has the derivative's
shape and is right at every sampled point names the mistake. Each reading goes through the
same whitelisting parser as the file; the text was parsed (bounded) when the file loaded.
"""

from __future__ import annotations

import ast

import sympy as sp

from deriv import algebra as A
from deriv.errors import DerivError
from deriv.parse import parse_expression
from deriv.problem import d_reader

MAX_PRODUCTS = 8        # matrix products of a claim rewritten, each in four ways
MAX_REFITS = 24         # readings tried, at most


def readings(text: str) -> list[str]:
    """The claim's text with one product a @ b written b @ a, aᵀ @ b, a @ bᵀ or bᵀ @ aᵀ."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError):
        return []
    products = [n for n in ast.walk(tree)
                if isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult)]
    out = []
    for node in products[:MAX_PRODUCTS]:
        left, right = node.left, node.right
        for a, b in ((right, left), (_transposed(left), right), (left, _transposed(right)),
                     (_transposed(right), _transposed(left))):
            node.left, node.right = a, b
            out.append(ast.unparse(tree))
        node.left, node.right = left, right
    return list(dict.fromkeys(out))[:MAX_REFITS]


def _transposed(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return node.value
    return ast.Attribute(value=node, attr="T", ctx=ast.Load())


def refit(pc, claim) -> sp.Expr | None:
    """The first reading of an ill-shaped claim that fits and is right, or None."""
    graph = pc.graph
    text = claim.expr_text
    if text is None or claim.is_value or claim.update:
        return None
    want = pc.target_shape(claim)
    derivative = d_reader(graph, claim.layout)
    for reading in readings(str(text)):
        try:
            expr = parse_expression(reading, graph.symbols, derivative=derivative,
                                    sizes=frozenset(graph.sizes))
        except (DerivError, A.ShapeError):
            continue
        if A.shape_of(expr) != want:
            continue
        pairs = pc.pairs(claim, expr, True)
        if pc.agree(pairs, claim, expr) == "agree":
            return expr
    return None
