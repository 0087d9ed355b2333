"""Loading a problem with vector or matrix inputs (routed here by deriv.problem).

The records mirror deriv.problem's Problem and Claim, so `deriv list`, `deriv show` and the
check report render them unchanged. Claim keys beyond the scalar ones:

    layout = "gradient"     # (default) D(L, W) has the shape of W; "derivative": its transpose
    update = "eps"          # expr is one gradient-descent step wrt ← wrt − eps·∇ (eps an input)
    shapes = ["D1 x 1", "D1 x D1", ...]   # the printed sizes: the claim's, then each D factor's
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deriv.errors import DerivError
from deriv.matrix import expr as E
from deriv.matrix.expr import MExpr, ShapeError
from deriv.matrix.parse import RESERVED, parse_matrix
from deriv.parse import DRef
from deriv.problem import (CLAIM_KEYS, MODES, NAME, PROBLEM_KEYS, _check_keys, _graph_lines,
                           ProblemQueries, _kind, _str, claim_common,
                           claim_place)

MATRIX_CLAIM_KEYS = CLAIM_KEYS | {"layout", "update", "shapes"}
KIND = re.compile(r"^\s*(vector|matrix)\((.*)\)\s*$")
SIZE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$|^[1-9][0-9]{0,3}$")
MAX_SIZE = 64      # a numeric size is evaluated as given: 9999 × 9999 draws would fill memory


def is_matrix_kind(kind) -> bool:
    return isinstance(kind, str) and bool(KIND.match(kind))


@dataclass
class MInput:
    name: str
    shape: tuple
    domain: str = "real"             # for a matrix input: its kind text, e.g. matrix(m, n)
    interval: tuple | None = None


@dataclass
class MNode:
    name: str
    expr: MExpr
    text: str
    line: int | None = None
    parents: tuple = ()


class MGraph:
    def __init__(self, inputs: list[MInput], nodes: list[MNode]):
        self.inputs = {i.name: i for i in inputs}
        self.nodes = {n.name: n for n in nodes}
        self.order = [n.name for n in nodes]          # a node may name only earlier ones
        self.symbols = {i.name: E.var(i.name, i.shape) for i in inputs}
        self.symbols.update({n.name: E.var(n.name, n.expr.shape) for n in nodes})
        self.children: dict[str, list[str]] = {name: [] for name in self.symbols}
        for n in nodes:
            n.parents = tuple(p for p in self.symbols if p in E.names(n.expr))
            for p in n.parents:
                self.children[p].append(n.name)
        self.ancestors: dict[str, set] = {name: set() for name in self.inputs}
        for n in nodes:
            acc = set()
            for p in n.parents:
                acc |= {p} | self.ancestors[p]
            self.ancestors[n.name] = acc

    def shape(self, name: str) -> tuple:
        return self.symbols[name].shape

    def parents(self, name: str) -> tuple:
        return self.nodes[name].parents if name in self.nodes else ()

    def depends(self, of: str, wrt: str) -> bool:
        return of == wrt or wrt in self.ancestors.get(of, ())

    def is_input(self, name: str) -> bool:
        return name in self.inputs


@dataclass
class MClaim:
    id: str
    of: str
    wrt: str
    printed: str
    expr: MExpr | None
    expr_text: str | None = None
    local: bool = False
    chain: MExpr | None = None
    chain_text: str | None = None
    value: float | None = None
    value_text: str | None = None
    expect: str = "pass"
    note: str | None = None
    line: int | None = None
    layout: str = "gradient"
    update: str | None = None
    shapes: list[str] | None = None

    @property
    def target(self) -> DRef:
        return DRef(self.of, self.wrt)

    @property
    def is_value(self) -> bool:
        return not self.wrt


@dataclass
class MProblem(ProblemQueries):
    id: str
    title: str
    graph: MGraph
    output: str
    sizes: list[str] = field(default_factory=list)
    source_title: str = ""
    source_file: str = ""
    section: str = ""
    ask: str = ""
    mode: str = "reverse"
    at: dict = field(default_factory=dict)
    asks: list[DRef] = field(default_factory=list)
    claims: list[MClaim] = field(default_factory=list)
    display: dict = field(default_factory=dict)
    note: str = ""
    path: str | None = None
    line: int | None = None
    is_matrix: bool = True


def numel(shape):
    """The length of a vector shape (n×1 or 1×n); None for a matrix."""
    r, c = shape
    if c == 1:
        return r
    if r == 1:
        return c
    return None


def derivative_shape(graph: MGraph, of: str, wrt: str, layout: str) -> tuple:
    """The shape of D(of, wrt): gradient layout (of scalar: wrt's shape; of and wrt vectors:
    len(wrt) × len(of)), or its transpose in derivative layout."""
    so, sw = graph.shape(of), graph.shape(wrt)
    if E.is_scalar(so):
        shape = sw
    else:
        no, nw = numel(so), numel(sw)
        if no is None or nw is None:
            raise ShapeError(f"D({of}, {wrt}) of a {E.shape_text(so)} by a {E.shape_text(sw)} "
                             "is a tensor of order 3 or 4; deriv handles D(a, b) with a scalar, "
                             "or with a and b vectors")
        shape = (nw, no)
    return shape if layout == "gradient" else (shape[1], shape[0])


def parse_size(text: str, where):
    text = text.strip()
    if not SIZE.match(text):
        raise where(f"a size is a name such as n or D1, or a number; not '{text}'")
    if text.isdigit() and int(text) > MAX_SIZE:
        raise where(f"size {text} is larger than {MAX_SIZE}; use a name (n) for a general size")
    return int(text) if text.isdigit() else text


def matrix_kind(text: str, where) -> tuple:
    m = KIND.match(text)
    parts = [p for p in m[2].split(",")]
    if m[1] == "vector":
        if len(parts) != 1:
            raise where(f"vector(n) takes one size, not '{text}'")
        return (parse_size(parts[0], where), 1)
    if len(parts) != 2:
        raise where(f"matrix(m, n) takes two sizes, not '{text}'")
    return (parse_size(parts[0], where), parse_size(parts[1], where))


def load_matrix_problem(table: dict, *, file: str, places, index: int, source: dict) -> MProblem:
    header = places.header(index)

    def where(message: str, key: str | None = None, claim: int | None = None) -> DerivError:
        if key:
            line, col = places.value(index, claim, key)
        else:
            line, col = places.header(index, claim), None
        return DerivError(message, file, line, col)

    _check_keys(table, PROBLEM_KEYS, where, "[[problem]]")
    pid = _str(table, "id", where, required=True)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", pid or ""):
        raise where(f"problem id {pid!r} may hold only letters, digits, '.', '-' and '_'", "id")
    raw_inputs = table.get("inputs", {})
    inputs: list[MInput] = []
    sizes: list = []
    for name, kind in raw_inputs.items():
        if not NAME.match(name) or name in RESERVED:
            raise where(f"'{name}' cannot be an input name", "inputs")
        if is_matrix_kind(kind):
            shape = matrix_kind(kind, lambda m: where(m, "inputs"))
            for s in shape:
                if isinstance(s, str) and s not in sizes:
                    sizes.append(s)
            inputs.append(MInput(name, shape, kind.strip()))
        else:
            domain, interval = _kind(kind, lambda m: where(m, "inputs"))
            inputs.append(MInput(name, E.SCALAR, domain, interval))
    for s in sizes:
        if s in raw_inputs:
            raise where(f"'{s}' names both a size and an input", "inputs")

    graph_text = _str(table, "graph", where, required=True)
    g_line, g_col = places.value(index, None, "graph")
    try:
        lines = list(_graph_lines(graph_text))
    except DerivError as err:
        raise err.shift(file, g_line, g_col) from None
    if not lines:
        raise where("the graph is empty", "graph")
    names: dict[str, MExpr] = {i.name: E.var(i.name, i.shape) for i in inputs}
    nodes: list[MNode] = []
    for k, name_col, name, text, col in lines:
        line = g_line + k if g_line else None
        if not NAME.match(name) or name in RESERVED or name in sizes:
            why = " (it is a size)" if name in sizes else " (it is a function)" \
                if name in RESERVED else ""
            raise DerivError(f"'{name}' cannot name a node{why}", file, line, name_col)
        if name in names:
            raise DerivError(f"'{name}' is defined twice", file, line, name_col)
        try:
            expr = parse_matrix(text, names, set(sizes))
        except DerivError as err:
            first = g_col if (k == 0 and g_col) else 1
            raise err.shift(file, (g_line or 1) + k, first + col - 1) from None
        nodes.append(MNode(name, expr, text, line))
        names[name] = E.var(name, expr.shape)
    graph = MGraph(inputs, nodes)

    output = _str(table, "output", where, default=nodes[-1].name)
    if output not in graph.nodes:
        raise where(f"output '{output}' is not a node of the graph", "output")
    mode = _str(table, "mode", where, default="reverse")
    if mode not in MODES:
        raise where(f"mode must be one of {', '.join(MODES)}", "mode")
    if table.get("at"):
        raise where("'at' is for scalar problems; a matrix problem is evaluated at drawn "
                    "sizes and values", "at")
    asks = []
    for text in table.get("asks", []):
        m = re.fullmatch(r"\s*D\(\s*(\w+)\s*,\s*(\w+)\s*\)\s*", text) if isinstance(text, str) \
            else None
        if not m or m[1] not in graph.symbols or m[2] not in graph.symbols:
            raise where(f"'asks' entries are D(of, wrt) over the graph's names, not {text!r}",
                        "asks")
        asks.append(DRef(m[1], m[2]))
    display = table.get("display", {})
    if not isinstance(display, dict):
        raise where("'display' is a table of name = \"shown form\"", "display")
    problem = MProblem(
        id=pid, title=_str(table, "title", where, default=pid), graph=graph, output=output,
        sizes=sizes, source_title=str(source.get("title", "")),
        source_file=str(source.get("file", "")), section=_str(table, "section", where, default=""),
        ask=_str(table, "ask", where, default=""), mode=mode, asks=asks, display=dict(display),
        note=_str(table, "note", where, default=""), path=file, line=header)
    seen: dict[str, int] = {}
    for c, entry in enumerate(table.get("claim", [])):
        problem.claims.append(_load_claim(entry, problem, file, places, index, c, seen))
    return problem


def _load_claim(entry, problem: MProblem, file, places, p: int, c: int, seen) -> MClaim:
    graph = problem.graph
    line, where = claim_place(file, places, p, c)
    common = claim_common(entry, graph, where, line, seen, MATRIX_CLAIM_KEYS)
    of, wrt, layout = common["of"], common["wrt"], common["layout"]
    update = _str(entry, "update", where)
    if update is not None:
        if update not in graph.inputs or not E.is_scalar(graph.shape(update)):
            raise where("'update' names the scalar input that is the step size", "update")
        if not wrt:
            raise where("an update claim needs 'wrt': the variable it updates", "update")
    if wrt:
        try:
            derivative_shape(graph, of, wrt, layout)
        except ShapeError as err:
            raise where(str(err), "wrt") from None

    def deriv_ref(a: str, b: str) -> MExpr:
        for n in (a, b):
            if n not in graph.symbols:
                raise DerivError(f"unknown name '{n}' in D({a}, {b})")
        if a not in graph.nodes:
            raise DerivError(f"D({a}, {b}): '{a}' is an input; D needs a node first")
        return E.dref(a, b, layout, derivative_shape(graph, a, b, layout))

    def read(key: str):
        text = _str(entry, key, where)
        if text is None:
            return None, None
        try:
            return parse_matrix(text, graph.symbols, set(problem.sizes), derivative=deriv_ref), \
                text
        except DerivError as err:
            ln, col = places.value(p, c, key)
            raise err.shift(file, ln, col) from None

    expr, expr_text = read("expr")
    chain, chain_text = read("chain")
    if expr is None and chain is None:
        raise where("a claim needs an 'expr' or a 'chain' (or both)")
    shapes = entry.get("shapes")
    if shapes is not None:
        if not isinstance(shapes, list) or not all(isinstance(s, str) for s in shapes):
            raise where("'shapes' is a list of sizes such as \"D1 x 1\"", "shapes")
        for s in shapes:
            if not re.fullmatch(r"\s*\w+\s*[x×]\s*\w+\s*", s):
                raise where(f"'{s}' is not a size such as \"D1 x D2\"", "shapes")
    return MClaim(**common, expr=expr, expr_text=expr_text, chain=chain, chain_text=chain_text,
                  update=update, shapes=shapes)
