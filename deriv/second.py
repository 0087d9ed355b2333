"""Second derivatives: the reverse sweep written as nodes of the graph.

For a scalar L, D(L, h) becomes a node ∂L/∂h = Σ over h's children c on the way to L of c's VJP
share with the adjoint ∂L/∂c — the sweep's own lines (Graph.adjoint_share: Z̄Yᵀ, −ZᵀZ̄Zᵀ, …),
written in terms of the forward nodes, never inlined. Differentiating such a node again is an
ordinary derivative of the extended graph — forward over reverse in `solve`'s forward mode,
reverse over reverse in the truth `check` evaluates — so a Hessian is a program run on the
sampled arrays like any derivative, and the extended graph holds at most twice the nodes.

A Hessian of a matrix input is a 4-tensor: a claim gives it applied to a direction V, the
gradient of the scalar node ⟨∂L/∂X, V⟩ (a Hessian-vector product, never the full tensor).
"""

from __future__ import annotations

import ast

import sympy as sp

from deriv import algebra as A
from deriv.errors import DerivError
from deriv.graph import Graph, Node
from deriv.parse import d_names, gradient_name, parse_ast


def along_name(of: str, wrt: str, direction: str) -> str:
    """The scalar node ⟨∂of/∂wrt, V⟩, whose gradient is the Hessian applied to V."""
    return f"⟨{gradient_name(of, wrt)},{direction}⟩"


def split_name(name: str) -> tuple[str, str] | None:
    """(of, wrt) of a gradient node's name ∂of/∂wrt, else None."""
    if name.startswith("∂") and "/∂" in name:
        of, wrt = name[1:].split("/∂", 1)
        return of, wrt
    return None


def nested(text: str) -> list[tuple[str, str]]:
    """The inner D(of, wrt) of each D(D(of, wrt), ·) in an expression, chain or `of` text
    (text that does not parse yields nothing here: the parser reports it, with its place)."""
    if text.count("D") < 2:           # no D(D(…)) (most claims: walked in no time)
        return []
    try:
        tree = parse_ast(text)
    except DerivError:
        return []
    out = []
    for node in ast.walk(tree):
        names = d_names(node) if isinstance(node, ast.Call) else None
        if names is not None and split_name(names[0]):
            out.append(split_name(names[0]))
    return out


def written_of(text: str) -> tuple[str, str] | None:
    """A claim's `of` written as "D(L, x)": (L, x); None for a plain name."""
    if "(" not in text:
        return None
    try:
        body = parse_ast(text).body
    except DerivError:
        return None
    names = d_names(body) if isinstance(body, ast.Call) else None
    return names if names is not None and not split_name(names[0]) else None


def refusal(graph: Graph, of: str, wrt: str, direction: str | None = None) -> str:
    """Why D(D(of, wrt), ·) (along `direction`) cannot be taken, or ''."""
    for n in (of, wrt):
        if n not in graph.symbols:
            return f"unknown name '{n}' in D({of}, {wrt})"
    if of not in graph.nodes or graph.shape(of):
        return (f"D(D({of}, {wrt}), ·): a second derivative is taken of a scalar node; "
                f"'{of}' is {'an input' if of not in graph.nodes else 'not a scalar'}")
    if direction is not None and (direction not in graph.inputs or
                                  graph.shape(direction) != graph.shape(wrt)):
        return (f"'along' names an input of the shape of {wrt} "
                f"({A.shape_text(graph.shape(wrt))}); '{direction}' is not one")
    return ""


def extend(graph: Graph, wanted: list[tuple[str, str]],
           directions: list[tuple[str, str, str]] = ()) -> Graph:
    """The graph with a node ∂of/∂h for each (of, wrt) wanted and every h between wrt and
    of, and a node ⟨∂of/∂wrt, V⟩ for each (of, wrt, V) in `directions`."""
    nodes = list(graph.nodes.values())
    symbols = dict(graph.symbols)
    made: set[str] = set()
    for of, wrt in dict.fromkeys(list(wanted) + [(o, w) for o, w, _ in directions]):
        refused = refusal(graph, of, wrt)
        if refused:
            raise DerivError(refused)
        between = [h for h in list(graph.order) + list(graph.inputs)
                   if h != of and graph.depends(of, h) and graph.depends(h, wrt)]
        position = {n: i for i, n in enumerate(graph.order)}
        between.sort(key=lambda h: -position.get(h, -1))       # output to inputs
        for h in between:
            name = gradient_name(of, h)
            if name in made:
                continue
            terms = []
            for c in graph.children[h]:
                if c == of:
                    terms.append(graph.adjoint_share(c, h, sp.S.One))
                elif c in between:
                    terms.append(graph.adjoint_share(c, h, symbols[gradient_name(of, c)]))
            expr = A.shaped(sp.Add(*terms), graph.shape(h)) if terms else A.zeros(graph.shape(h))
            symbols[name] = A.symbol(name, graph.shape(h))
            nodes.append(Node(name, symbols[name], expr, str(expr)))
            made.add(name)
        name = gradient_name(of, wrt)
        if name not in symbols:       # of does not depend on wrt: its gradient is 0
            symbols[name] = A.symbol(name, graph.shape(wrt))
            nodes.append(Node(name, symbols[name], A.zeros(graph.shape(wrt)), "0"))
    for of, wrt, direction in directions:
        name = along_name(of, wrt, direction)
        refused = refusal(graph, of, wrt, direction)
        if refused:
            raise DerivError(refused)
        if name not in symbols:
            expr = A.total(A.shaped(symbols[gradient_name(of, wrt)] * symbols[direction],
                                    graph.shape(wrt)))
            symbols[name] = A.symbol(name)
            nodes.append(Node(name, symbols[name], expr, str(expr)))
    if len(nodes) == len(graph.nodes):
        return graph
    return Graph(list(graph.inputs.values()), nodes, graph.file, graph.sizes)


def wanted(table: dict) -> list[tuple[tuple, tuple]]:
    """What a [[problem]] table differentiates twice, each with where it is written (a key
    path into the table): D(D(of, wrt), ·) in its asks and claims, claims whose `of` is
    D(of, wrt), Newton steps, and Hessians along a direction — as (of, wrt) or (of, wrt, V).
    Entries of the wrong type are skipped here: the loader reports them with their place."""
    out: list[tuple[tuple, tuple]] = []
    asks = table.get("asks")
    for a, text in enumerate(asks if isinstance(asks, list) else ()):
        if isinstance(text, str):
            out += [(pair, ("asks", a)) for pair in nested(text)]
    claims = table.get("claim")
    for c, entry in enumerate(claims if isinstance(claims, list) else ()):
        if not isinstance(entry, dict):
            continue
        for key in ("expr", "chain"):
            if isinstance(entry.get(key), str):
                out += [(pair, (c, key)) for pair in nested(entry[key])]
        of, wrt, along = entry.get("of"), entry.get("wrt"), entry.get("along")
        pair = written_of(of) if isinstance(of, str) else None
        if pair is not None:
            out.append(((*pair, along) if isinstance(along, str) else pair,
                        (c, "along" if isinstance(along, str) else "of")))
        if entry.get("update") == "newton" and isinstance(of, str) and isinstance(wrt, str):
            out.append(((of, wrt), (c, "update")))
    return out
