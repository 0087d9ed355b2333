"""The data model (Problem, Claim) and loading a TOML problem file into it.

Loading validates everything once: a bad file is a DerivError naming file, line and column,
never a traceback. Line numbers are recovered from the raw text, since tomllib keeps none.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import keyword
import math
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sympy as sp

from deriv import algebra as A
from deriv import second
from deriv import constraints
from deriv.domains import outside
from deriv.errors import DerivError
from deriv.graph import Graph, Input, Node, static_order
from deriv.kinds import KEYS as KIND_KEYS, load_spec
from deriv.indexing import Index, IndexedText
from deriv.notation import Notation, from_table
from deriv.escape import printable
from deriv.places import Places
from deriv.parse import MAX_SIZE, RESERVED, DRef, parse_chain, parse_expression

MAX_FILE_BYTES = 2_000_000
MAX_NODES = 5_000
MAX_CLAIMS = 5_000
# A whole file (loading costs ~0.15 ms a node, ~0.15 ms a claim: a file stays a second or two)
MAX_PROBLEMS = 1_000
MAX_FILE_NODES = 10_000
MAX_FILE_CLAIMS = 5_000
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")        # fullmatch: "x\n" is not a name
MODES = ("reverse", "forward", "both")


@dataclass
class Claim:
    """One formula printed in a document, with its provenance."""

    id: str
    of: str
    wrt: str
    printed: str
    expr: sp.Expr | None           # D(a, b) appear as placeholder symbols (see parse.DRef)
    expr_text: str | None = None
    local: bool = False
    chain: list[list[DRef]] | None = None      # the printed products, as structure
    chain_expr: sp.Expr | None = None          # the same chain as an expression (its value)
    chain_text: str | None = None
    value: float | None = None
    value_text: str | None = None
    expect: str = "pass"           # "fail": a known erratum
    note: str | None = None
    line: int | None = None
    layout: str = "gradient"
    update: str | None = None
    shapes: list[str] | None = None
    unread: str = ""               # why `printed` could not be read (then it has no expr)
    place: str | None = None       # file:line:col of an equation read from a sheet
    col: int | None = None         # with expr_line: where the formula (expr, else chain) is
    expr_line: int | None = None   # written
    shape_error: DerivError | None = None   # the formula's operands do not fit: a failed claim
    spec: object = None            # deriv.kinds.Spec: a shape, count, optimum, … claim

    @property
    def kind(self) -> str:
        return self.spec.kind if self.spec is not None else "derivative"

    @property
    def target(self) -> DRef:
        return DRef(self.of, self.wrt)

    @property
    def is_value(self) -> bool:
        """A claim without `wrt` is about a node's forward value, e.g. m = 1 + 2 = 3."""
        return not self.wrt



@dataclass
class Problem:
    id: str
    title: str
    graph: Graph
    output: str
    source_title: str = ""
    source_file: str = ""
    section: str = ""
    ask: str = ""
    mode: str = "reverse"
    at: dict[str, float] = field(default_factory=dict)
    asks: list[DRef] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    display: dict[str, str] = field(default_factory=dict)
    note: str = ""
    path: str | None = None
    line: int | None = None
    notation: Notation = field(default_factory=Notation)
    relations: tuple = ()          # (a, op, b) between sizes: m >= n is ("m", ">=", "n")
    sizes_at: tuple = ()           # (line, col) of its `sizes`, where an unmet relation is told
    unchecked: list = field(default_factory=list)   # deriv.unchecked: printed, not checked

    @property
    def inputs(self):
        return self.graph.inputs

    @property
    def sizes(self) -> tuple[str, ...]:
        return self.graph.sizes

    def requested(self) -> list[DRef]:
        """What the problem asks for, or else ∂output/∂input for every input it depends on."""
        if self.asks:
            return self.asks
        graph = self.graph
        out = []
        for i in graph.inputs:
            try:       # a vector output by a matrix is a tensor: not a derivative deriv shows
                A.derivative_shape(graph.shape(self.output), graph.shape(i))
            except A.ShapeError:
                continue
            if graph.depends(self.output, i):
                out.append(DRef(self.output, i))
        return out


# --- locating lines in the raw text -----------------------------------------------------------
class _Places:
    """(problem index, claim index, key) → line and column in the raw TOML text (deriv.places
    walks it: inline tables, quoted keys, escapes and line continuations included)."""

    def __init__(self, text: str):
        self.lines = text.split("\n")   # TOML's newlines only (not \f, \x85, U+2028, ...)
        self.found = Places(text)

    @staticmethod
    def path(p: int | None, c: int | None, key: str | None = None) -> tuple:
        base = () if p is None else ("problem", p) + (() if c is None else ("claim", c))
        return base + ((key,) if key is not None else ())

    def header(self, p: int, c: int | None = None) -> int | None:
        return self.header_place(p, c)[0]

    def header_place(self, p: int, c: int | None = None) -> tuple[int | None, int | None]:
        """Where a problem's or a claim's table starts (an error about the table as a whole:
        a key missing)."""
        found = self.found.table(self.path(p, c)) or self.found.value(self.path(p, c))
        if found is None and c is not None:
            return self.header_place(p)
        return found if found else ((1, 1) if self.lines else (None, None))

    def value(self, p: int | None, c: int | None, key: str) -> tuple[int | None, int | None]:
        """Line and column where the value of `key` starts (a string: after its quotes)."""
        found = self.found.value(self.path(p, c, key)) or self.found.table(self.path(p, c, key))
        if found:
            return found
        return self.header_place(p, c) if p is not None else (1, 1)

    def place(self, err: DerivError, file: str, p: int | None, c: int | None, key, text: str
              ) -> DerivError:
        """An error at (line, col) inside the string value `key` (text: its decoded value),
        moved to where that character was written."""
        path = self.path(p, c) + (key if isinstance(key, tuple) else (key,))
        if isinstance(text, IndexedText):      # unrolled index notation: placed as written
            err.line, err.col = text.original_place(err.line or 1, err.col)
            text = text.original
        found = self.found.inside(path, text, err.line or 1, err.col or 1)
        if found is None:
            line, col = self.value(p, c, key if isinstance(key, str) else key[0])
            return err.shift(file, line, col)
        err.file = err.file or file
        err.line, err.col = found[0], (found[1] if err.col is not None else None)
        err.shifted = True
        return err


def _kind(value: Any, where) -> tuple[str, tuple[float, float] | None]:
    if not isinstance(value, str):
        raise where(f"an input's kind is a string such as \"real\" or \"positive\", "
                    f"not {value!r:.40}")
    text = value.strip()
    if text in ("real", "positive", "negative", "nonzero"):
        return text, None
    m = re.fullmatch(r"interval\(\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*\)", text)
    if m:
        try:
            lo, hi = float(m[1]), float(m[2])
        except ValueError:
            lo = hi = float("nan")
        if lo < hi and math.isfinite(hi - lo):
            return "interval", (lo, hi)
        if lo < hi and math.isfinite(lo) and math.isfinite(hi):      # (draws are lo + (hi − lo)u)
            raise where(f"input kind '{text}': the interval's width hi − lo overflows a float")
        raise where(f"input kind '{text}': an interval needs finite lo < hi")
    raise where(f"unknown input kind '{text}' (real, positive, negative, nonzero, "
                "interval(lo, hi), vector(n), matrix(m, n))")


ARRAY_KIND = re.compile(r"^\s*(vector|matrix)\((.*)\)\s*$")
SIZE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$|^[1-9][0-9]{0,3}$")


def _array_kind(value: Any, where) -> tuple | None:
    """vector(n) → (n, 1); matrix(m, n) → (m, n); None for a scalar kind."""
    m = ARRAY_KIND.match(value) if isinstance(value, str) else None
    if not m:
        return None
    parts = [p.strip() for p in m[2].split(",")]
    if len(parts) != (1 if m[1] == "vector" else 2):
        raise where(f"{m[1]}({'n' if m[1] == 'vector' else 'm, n'}) takes "
                    f"{'one size' if m[1] == 'vector' else 'two sizes'}, not '{value.strip()}'")
    dims = []
    for text in parts:
        if not SIZE.match(text) or keyword.iskeyword(text):
            raise where(f"a size is a name such as n or D1, or a number; not '{text}'")
        if text.isdigit() and int(text) > MAX_SIZE:
            raise where(f"size {text} is larger than {MAX_SIZE}; use a name (n) for a general size")
        dims.append(int(text) if text.isdigit() else text)
    return A.normal(tuple(dims) + ((1,) if m[1] == "vector" else ()))


def _check_name(name: str, fail, what: str):
    """One rule for every name: an identifier that is neither a keyword nor a function, and
    does not end in _bar or _dot (deriv's names for adjoints and tangents: y_bar is ȳ)."""
    reserved_suffix = name.endswith(("_bar", "_dot"))
    if not NAME.fullmatch(name) or keyword.iskeyword(name) or name in RESERVED or reserved_suffix:
        why = (" (it is a function)" if name in RESERVED else
               " (a name ending in _bar or _dot is deriv's adjoint or tangent)"
               if reserved_suffix else
               " (a Python keyword: write lam for λ)" if name == "lambda" else
               " (a Python keyword)" if keyword.iskeyword(name) else "")
        raise fail(f"'{printable(name)}' cannot be {what}{why}")


_NAME = re.compile(r"(?<![.\w])[A-Za-z_]\w*")


def _reading_order(texts: dict[str, tuple], file, node_lines, node_cols) -> list[str]:
    """Nodes in an order where each comes after the nodes it names (a cycle is an error)."""
    import graphlib
    deps = {}
    for name, (_, text, _) in texts.items():
        # the names an expression uses (not an attribute such as .T, not inside a number);
        # a self-reference is reported as a cycle, and bad syntax later, with its place
        used = set(_NAME.findall(text))
        deps[name] = [n for n in used if n in texts]
    try:
        return static_order(deps)
    except graphlib.CycleError as err:
        cycle = err.args[1]
        raise DerivError("the graph has a cycle: " + " → ".join(cycle), file,
                         node_lines[cycle[0]], node_cols.get(cycle[0])) from None


SIZE_RANGE = (2, 6)         # drawn sizes lie in [2, 5]; the square assignment uses 3
RELATIONS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
             "<": lambda a, b: a < b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def holds(assignment: dict, relations) -> bool:
    """Do the sizes satisfy every relation (a, op, b) (a and b size names or numbers)?"""
    def value(x):
        return assignment[x] if isinstance(x, str) else x
    return all(RELATIONS[op](value(a), value(b)) for a, op, b in relations)


def size_values(relations) -> list[int]:
    """The values sizes are drawn from: 2…5, and the numbers the relations name with their
    neighbours (m == 8, m > 5: 7, 8, 9 and 5, 6), within 1…64."""
    named = {c + d for a, _, b in relations for c in (a, b) if isinstance(c, int)
             for d in (-1, 0, 1)}
    return sorted(set(range(*SIZE_RANGE)) | {v for v in named if 1 <= v <= 64})


_RELATION = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*|\d+)\s*(>=|<=|==|!=|>|<)\s*"
                       r"([A-Za-z][A-Za-z0-9_]*|\d+)\s*")


def _relations(raw, sizes: tuple, where) -> tuple:
    """`sizes = ["m >= n", "k < 4", "square"]`: what every drawn size assignment satisfies
    ("square": every size equal). Read by a pattern, never evaluated."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        raise where('\'sizes\' is a list of relations such as ["m >= n"] or ["square"]')
    out = []
    for text in raw:
        if text.strip() == "square":
            out += [(sizes[0], "==", s) for s in sizes[1:]]
            continue
        m = _RELATION.fullmatch(text)
        if not m:
            raise where(f"a size relation is `m >= n` (>=, >, <=, <, ==, !=) or \"square\", "
                        f"not {printable(text)!r:.60}")
        a, op, b = (int(x) if x.isdigit() else x for x in m.groups())
        for x in (a, b):
            if isinstance(x, str) and x not in sizes:
                raise where(f"'{x}' in {text.strip()!r} is not a size of the problem "
                            f"({', '.join(sizes) or 'none'})")
        out.append((a, op, b))
    named = sorted({x for r in out for x in (r[0], r[2]) if isinstance(x, str)})
    values = size_values(out)
    if len(named) <= 6 and out and len(values) ** len(named) <= 1 << 16 and not any(
            holds(dict(zip(named, drawn)), out)     # (more sizes: found when drawn)
            for drawn in itertools.product(values, repeat=len(named))):
        raise where(f"no sizes from {values[0]} to {values[-1]} satisfy "
                    + ", ".join(printable(r) for r in raw))
    return tuple(out)


def _number(value: Any, where, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where(f"{what} must be a number, not {value!r:.40}")
    try:
        number = float(value)               # an int of 400 digits overflows a float
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):           # TOML has nan and inf
        raise where(f"{what} must be a finite number, not {value!r:.40}")
    return number


def _str(table: dict, key: str, where, default: str | None = None, required=False) -> str | None:
    if key not in table:
        if required:
            raise where(f"missing key '{key}'")
        return default
    value = table[key]
    if not isinstance(value, str):            # (placed at its value, not the table's header)
        raise where(f"'{key}' must be a string, not {type(value).__name__}", key)
    return value


def _check_keys(table: dict, allowed: set[str], where, what: str):
    for key in table:
        if key not in allowed:
            raise where(f"unknown key '{key}' in {what} (allowed: {', '.join(sorted(allowed))})",
                        key)


PROBLEM_KEYS = {"id", "title", "section", "ask", "mode", "inputs", "graph", "output", "at",
                "asks", "claim", "display", "note", "notation", "unchecked",
                "sizes",   # relations between sizes: ["m >= n"], ["square"]
                "index"}   # index ranges: families z[i], sums, repeated lines (deriv.indexing)
CLAIM_KEYS = {"id", "of", "wrt", "local", "printed", "expr", "chain", "value", "expect", "note",
              "layout",   # gradient | derivative (a scalar's is itself either way)
              "update",   # expr is one gradient step wrt − update·∇ (update: the step size)
              "shapes",   # the printed sizes: the claim's, then each D factor's
              "along",    # of = D(L, X): the Hessian applied to this input (deriv.second)
              "notation"}  # what this formula's symbols stand for (as a problem's notation)
CLAIM_KEYS |= KIND_KEYS       # claims of other kinds (deriv.kinds)


def _graph_lines(text: str):
    """(line index in text, column of the expression, name, expression text) per assignment."""
    for k, raw in enumerate(text.split("\n")):   # a stray \r or \f is the parser's to report
        raw = raw.removesuffix("\r")                  # (a "\r\n" line end is a line end)
        stripped = raw.split("#", 1)[0]
        if not stripped.strip():
            continue
        if "=" not in stripped:
            raise DerivError("a graph line is `name = expression`", None, k + 1,
                             len(raw) - len(raw.lstrip()) + 1)
        name_part, expr_part = stripped.split("=", 1)
        if expr_part.startswith("="):
            raise DerivError("a graph line is `name = expression` (== is not assignment)",
                             None, k + 1, len(name_part) + 1)
        if ";" in stripped:
            raise DerivError("one assignment a line: a graph line is `name = expression` (';' "
                             "is not read)", None, k + 1, stripped.index(";") + 1)
        col = len(name_part) + 2 + (len(expr_part) - len(expr_part.lstrip()))
        yield k, len(raw) - len(raw.lstrip()) + 1, name_part.strip(), expr_part.strip(), col


def load_problem(table: dict, *, file: str, places: _Places, index: int, source: dict,
                 notation: Notation | None = None, from_printed: bool = False) -> Problem:
    header = places.header(index)

    def where(message: str, key: str | None = None, claim: int | None = None) -> DerivError:
        line, col = places.value(index, claim, key) if key else \
            places.header_place(index, claim)
        return DerivError(message, file, line, col)

    def name_place(key: str, name: str):
        """Errors at the name `name` itself in the inline table `key` (inputs, sizes)."""
        def fail(message: str) -> DerivError:
            found = places.found.key(places.path(index, None) + (key, name))
            return DerivError(message, file, *(found or places.value(index, None, key)))
        return fail

    def entry_place(key: str, name: str):
        """Errors at the value of `name` in the inline table `key` (inputs, sizes)."""
        def fail(message: str) -> DerivError:
            found = places.found.value(places.path(index, None) + (key, name))
            return DerivError(message, file, *(found or places.value(index, None, key)))
        return fail

    if not isinstance(table, dict):
        raise DerivError("each [[problem]] must be a table", file, header)
    _check_keys(table, PROBLEM_KEYS, where, "[[problem]]")
    pid = _str(table, "id", where, required=True)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", pid or ""):
        raise where(f"problem id {pid!r} may hold only letters, digits, '.', '-' and '_'", "id")

    # inputs: scalars, vectors and matrices alike
    raw_inputs = table.get("inputs", {})
    if not isinstance(raw_inputs, dict):
        raise where("'inputs' is a table such as { x = \"real\", W = \"matrix(m, n)\" }",
                    "inputs")
    indices = Index.from_table(table.get("index"), lambda m: where(m, "index"))
    raw_inputs = indices.inputs(raw_inputs, lambda m: where(m, "inputs"))
    inputs: list[Input] = []
    sizes: list[str] = []
    for name, kind in raw_inputs.items():
        _check_name(name, name_place("inputs", name), "an input name")
        at_kind = entry_place("inputs", name)
        constrained = constraints.split_kind(kind, at_kind) if isinstance(kind, str) else None
        shape = _array_kind(constrained[0] if constrained else kind, lambda m: where(m, "inputs"))
        if constrained:                # one-hot vector(K), positive matrix(m, n), ...
            base, entries, structure = constrained
            constraints.check_structure(structure, shape, kind, at_kind)
            domain, interval = _kind(entries, at_kind) if entries else \
                ("real", None)
            sizes += [s for s in shape if isinstance(s, str) and s not in sizes]
            inputs.append(Input(name, A.symbol(name, shape), domain, interval, kind.strip(),
                                structure))
        elif shape is not None:
            sizes += [s for s in shape if isinstance(s, str) and s not in sizes]
            inputs.append(Input(name, A.symbol(name, shape), "real", None, kind.strip()))
        else:
            domain, interval = _kind(kind, lambda m: where(m, "inputs"))
            inputs.append(Input(name, A.symbol(name), domain, interval, kind.strip()))
    for s in sizes:
        if s in raw_inputs:
            raise name_place("inputs", s)(f"'{s}' names both a size and an input")

    # graph: every name first, then the expressions in dependency order, so that a forward
    # reference works and each expression is read knowing its parents' shapes
    graph_text = _str(table, "graph", where, required=True)

    def in_graph(err: DerivError) -> DerivError:
        return places.place(err, file, index, None, "graph", graph_text)
    try:
        lines = list(itertools.islice(_graph_lines(graph_text), MAX_NODES + 1))  # no more
        lines = indices.graph_lines(lines) if indices else lines
    except DerivError as err:
        raise in_graph(err) from None
    if indices:
        indices.check_names(sizes, lambda m: where(m, "index"))
    if len(lines) > MAX_NODES:
        raise where(f"more than {MAX_NODES} nodes in one graph", "graph")
    if not lines:
        raise where("the graph is empty", "graph")
    node_lines: dict[str, int] = {}
    node_cols: dict[str, int] = {}
    texts: dict[str, tuple] = {}
    for k, name_col, name, text, col in lines:
        at = in_graph(DerivError("", None, k + 1, name_col))
        line, place = at.line, at.col
        _check_name(name, lambda m: DerivError(m, file, line, place), "a node name")
        if name in sizes:
            raise DerivError(f"'{name}' cannot name a node (it is a size)", file, line, place)
        if name in node_lines:
            raise DerivError(f"node '{name}' is defined twice (first at line {node_lines[name]})",
                             file, line, place)
        if name in raw_inputs:
            raise DerivError(f"'{name}' is an input and cannot also be a node", file, line, place)
        node_lines[name] = line
        node_cols[name] = place
        texts[name] = (k, text, col)
    order = _reading_order(texts, file, node_lines, node_cols)
    names: dict[str, sp.Expr] = {i.name: i.symbol for i in inputs}
    exprs: dict[str, sp.Expr] = {}
    for name in order:
        k, text, col = texts[name]
        try:
            exprs[name] = parse_expression(text, names, sizes=frozenset(sizes))
        except DerivError as err:     # a graph line is one line: (1, c) is (k + 1, col + c − 1)
            if isinstance(text, IndexedText):
                err.line, err.col = text.original_place(err.line or 1, err.col)
            err.line, err.col = k + err.line, (col + err.col - 1 if err.line == 1 and err.col
                                                else err.col)
            raise in_graph(err) from None
        names[name] = A.symbol(name, A.shape_of(exprs[name]))
        if A.shape_of(exprs[name]) and A.is_symmetric(exprs[name]):
            names[name].symmetric = True       # eig may take it (S = X + X.T)
    nodes = [Node(name, names[name], exprs[name], texts[name][1], node_lines[name])
             for name in texts]
    graph = Graph(inputs, nodes, file, tuple(sizes))
    twice = second.wanted(table)
    for what, (c, key) in twice:       # ∂L/∂h as nodes, to be differentiated again
        refused = second.refusal(graph, *what)
        if refused:
            raise (where(refused, "asks") if c == "asks" else
                   DerivError(refused, file, *places.value(index, c, key)))
    if twice:
        graph = second.extend(graph, [w for w, _ in twice if len(w) == 2],
                              [w for w, _ in twice if len(w) == 3])

    relations = _relations(table.get("sizes"), tuple(sizes), lambda m: where(m, "sizes"))
    output = _str(table, "output", where, default=nodes[-1].name)
    if indices and output and "[" in output:
        output = indices.resolve_key(output, {}, lambda m: where(m, "output"))
    if output not in graph.nodes:
        raise where(f"output '{output}' is not a node of the graph", "output")
    mode = _str(table, "mode", where, default="reverse")
    if mode not in MODES:
        raise where(f"mode must be one of {', '.join(MODES)}, not '{mode}'", "mode")

    at_table = table.get("at", {})
    if not isinstance(at_table, dict):
        raise where("'at' is a table such as { x = -2, y = 5 }", "at")
    at = {}
    for name, value in at_table.items():
        if name not in graph.inputs:
            raise where(f"'at' names '{name}', which is not an input", "at")
        if graph.shape(name):
            raise where(f"'at' gives scalars; '{name}' is a {graph.inputs[name].kind}, drawn at "
                        "several sizes", "at")
        at[name] = _number(value, lambda m: where(m, "at"), f"at.{name}")
        breaks = outside(graph.inputs[name], at[name])
        if breaks:      # (log x at x = −1 would be checked, and a value claim there pass)
            raise where(f"at.{name} = {at[name]:g}, but '{name}' is declared {breaks}", "at")

    asks = []
    raw_asks = table.get("asks", [])
    if not isinstance(raw_asks, list):
        raise where("'asks' is a list of \"D(of, wrt)\" strings", "asks")
    for a, written in enumerate(raw_asks):
        if not isinstance(written, str):
            raise where("'asks' is a list of \"D(of, wrt)\" strings", "asks")
        try:
            unrolled = indices.asks(written) if indices else [written]
        except DerivError as err:
            raise places.place(err, file, index, None, ("asks", a), written) from None
        for text in unrolled:            # D(L, z[i]) asks for each ∂L/∂zᵢ
            asks.append(_ask(text, graph, lambda err, t=text: places.place(
                err, file, index, None, ("asks", a), t), lambda m: where(m, "asks")))

    display = table.get("display", {})
    if not isinstance(display, dict) or not all(isinstance(v, str) for v in display.values()):
        raise where("'display' is a table of name = \"shown form\"", "display")

    problem = Problem(
        id=pid, title=_str(table, "title", where, default=pid), graph=graph, output=output,
        source_title=str(source.get("title", "")), source_file=str(source.get("file", "")),
        section=_str(table, "section", where, default=""), ask=_str(table, "ask", where, default=""),
        mode=mode, at=at, asks=asks, display=dict(display),
        note=_str(table, "note", where, default=""), path=file, line=header,
        relations=relations, sizes_at=places.value(index, None, "sizes") if relations else ())
    problem.notation = (notation or Notation()).merged(
        from_table(table.get("notation"), lambda m: where(m, "notation"), graph.symbols))

    raw_claims = table.get("claim", [])
    if not isinstance(raw_claims, list):
        raise where("claims are [[problem.claim]] tables", "claim")
    if len(raw_claims) > MAX_CLAIMS:
        raise where(f"more than {MAX_CLAIMS} claims in one problem")
    seen: dict[str, int] = {}
    formulas: dict[tuple, sp.Expr] = {}       # (text, layout) → the expression read
    groups = {}
    if from_printed or any(isinstance(e, dict) and "printed" in e and "expr" not in e and
                           "chain" not in e for e in raw_claims):
        from deriv.latex_reader import printed_groups    # (imported only for such claims)
        groups = printed_groups(raw_claims, from_printed)
    for c, entry in enumerate(raw_claims):
        for one in indices.claims(entry, claim_place(file, places, index, c)[1],
                                  lambda err, key, text: places.place(err, file, index, c,
                                                                      key, text)):
            # index notation in printed LaTeX (p_i − y_i) is not read: such a claim keeps
            # its expr, --from-printed too
            problem.claims.extend(_load_claim(one, problem, file, places, index, c, seen,
                                              groups.get(c) if one is entry else None,
                                              from_printed, formulas))
    if len(problem.claims) > MAX_CLAIMS:
        raise where(f"more than {MAX_CLAIMS} claims in one problem (counting right sides)")
    problem.unchecked = _unchecked(table.get("unchecked", []), file, places, ("problem", index))
    constraints.ranges(problem, fail=lambda m: where(m, "sizes" if "sizes" in table else "graph"))
    return problem


def _unchecked(entries, file, places: _Places, base: tuple) -> list:
    """[[problem.unchecked]] (or a file's [[unchecked]]): printed items deriv does not check."""
    from deriv import unchecked

    def where(message: str, k: int | None, key: str | None) -> DerivError:
        path = base + ("unchecked",) + (() if k is None else (k,))
        found = (places.found.value(path + (key,)) if key else None) or \
            places.found.table(path) or places.found.value(path)
        line, col = found if found else (places.header(base[1]) if base else 1, None)
        return DerivError(message, file, line, col if key else None)
    items = unchecked.load(entries, where)
    for k, item in enumerate(items):
        found = places.found.table(base + ("unchecked", k))
        object.__setattr__(item, "line", found[0] if found else None)
    return items


def _ask(text: str, graph: Graph, place, where) -> DRef:
    try:
        chain = parse_chain(text, set(graph.symbols))
    except DerivError as err:
        raise place(err) from None
    if len(chain) != 1 or len(chain[0]) != 1:
        raise where(f"'asks' entries are single derivatives D(of, wrt), not {text!r}")
    ask = chain[0][0]
    try:
        A.derivative_shape(graph.shape(ask.of), graph.shape(ask.wrt))
    except A.ShapeError as err:
        raise where(f"'asks' names {ask}, which {err}") from None
    return ask


def claim_place(file, places: _Places, p: int, c: int):
    """The claim's header line, and `where(message, key)`: an error at a key's value."""
    line = places.header(p, c)

    def where(message: str, key: str | None = None) -> DerivError:
        return DerivError(message, file, *(places.value(p, c, key) if key else
                                           places.header_place(p, c)))
    return line, where


def derivative_shape(graph: Graph, of: str, wrt: str, layout: str = "gradient") -> tuple:
    """The shape of D(of, wrt) in a layout (deriv.algebra.derivative_shape), or a DerivError
    for a tensor of order 3 or 4."""
    try:
        return A.derivative_shape(graph.shape(of), graph.shape(wrt), layout)
    except A.ShapeError as err:
        raise DerivError(f"D({of}, {wrt}) {err}") from None


def d_reader(graph: Graph, layout: str = "gradient"):
    """What D(a, b) reads as in a claim of this layout: its symbol, shaped as the derivative
    (the loader's, and the diagnoses' when they read a claim's text again)."""
    def symbol(a: str, b: str) -> sp.Expr:
        for n in (a, b):
            if n not in graph.symbols:
                raise DerivError(f"unknown name '{n}' in D({a}, {b})")
        return DRef(a, b, layout).symbol(derivative_shape(graph, a, b, layout))
    return symbol


def _load_claim(entry, problem: Problem, file, places: _Places, p: int, c: int,
                seen: dict[str, int], group: tuple[int, int] | None = None,
                from_printed: bool = False, formulas: dict | None = None) -> list[Claim]:
    graph = problem.graph
    line, where = claim_place(file, places, p, c)
    if not isinstance(entry, dict):
        raise where("each [[problem.claim]] must be a table")
    _check_keys(entry, CLAIM_KEYS, where, "[[problem.claim]]")
    cid = _str(entry, "id", where, required=True)
    if cid in seen:
        raise where(f"claim id '{cid}' is used twice in this problem (also line {seen[cid]})",
                    "id")
    seen[cid] = line
    if entry.get("kind", "derivative") != "derivative":
        return [_kind_claim(entry, cid, problem, line, where, places, p, c)]
    of = _str(entry, "of", where, required=True)
    wrt = _str(entry, "wrt", where, default="")
    along = _str(entry, "along", where)
    pair = second.written_of(of)
    if pair is not None:           # of = "D(L, x)": a second derivative (deriv.second)
        of = second.along_name(*pair, along) if along else second.gradient_name(*pair)
    elif along is not None:
        raise where("'along' gives the direction of a Hessian: 'of' is then D(L, X)", "along")
    if of not in graph.nodes:
        raise where(f"'of' must name a node of the graph; '{of}' is not one", "of")
    if wrt and wrt not in graph.symbols:
        raise where(f"'wrt' must name an input or node; '{wrt}' is neither", "wrt")
    layout = _str(entry, "layout", where, default="gradient")
    if layout not in ("gradient", "derivative"):
        raise where("'layout' is \"gradient\" (the shape of wrt) or \"derivative\" "
                    "(its transpose)", "layout")
    local = entry.get("local", False)
    if not isinstance(local, bool):
        raise where("'local' is true or false", "local")
    if local and wrt not in graph.parents(of):
        raise where(f"a local claim needs '{wrt}' to be a direct parent of '{of}'", "local")
    expect, note = _expectation(entry, where)
    update = _str(entry, "update", where)
    if update == "newton":
        if not wrt or second.gradient_name(of, wrt) not in graph.nodes or \
                len(graph.shape(wrt)) == 2 and graph.shape(wrt)[1] != 1:
            raise where("a Newton step (update = \"newton\") needs a scalar 'of' and a scalar "
                        "or vector 'wrt'", "update")
    elif update is not None:
        if update not in graph.inputs or graph.shape(update):
            raise where("'update' names the scalar input that is the step size", "update")
        if not wrt:
            raise where("an update claim needs 'wrt': the variable it updates", "update")
    if wrt:
        try:
            derivative_shape(graph, of, wrt, layout)
        except DerivError as err:
            raise where(err.message, "wrt") from None

    deriv_symbol = d_reader(graph, layout)

    shape_errors: list[DerivError] = []

    def read(key: str, given: str | None = None):
        text = _str(entry, key, where) if given is None else given
        if text is None:
            return None, None
        # the same formula in the same layout reads as the same expression in every claim
        # of the problem (a file of thousands of claims repeats a few): read once
        formula = (str(text), layout)
        if formulas is not None and formula in formulas:
            return formulas[formula], text
        try:
            expr = parse_expression(text, graph.symbols, derivative=deriv_symbol,
                                    sizes=frozenset(graph.sizes))
            if formulas is not None:
                formulas[formula] = expr
            return expr, text
        except DerivError as err:
            if given is None or isinstance(given, IndexedText):  # the file's own string:
                places.place(err, file, p, c, key, text)               # placed inside it
            else:
                ln, col = places.value(p, c, key)
                err.shift(file, ln, col)
            if err.kind != "shape":
                raise err from None
            shape_errors.append(err)    # a well-formed formula that is wrong: checked, failed
            return None, text

    printed = _str(entry, "printed", where, default="") or ""
    sides, unread = [(_str(entry, "chain", where), _str(entry, "expr", where), None)], ""
    if group is not None:              # read from the printed LaTeX, not from expr/chain
        from deriv.latex_reader import printed_sides
        sides, unread = printed_sides(entry, problem, group, from_printed,
                                      lambda m, key: where(m, key))
    shapes = entry.get("shapes")
    if shapes is not None:
        if not isinstance(shapes, list) or not all(isinstance(x, str) for x in shapes):
            raise where("'shapes' is a list of sizes such as \"D1 x 1\"", "shapes")
        for x in shapes:
            if not re.fullmatch(r"\s*\w+\s*[x×]\s*\w+\s*", x):
                raise where(f"'{x}' is not a size such as \"D1 x D2\"", "shapes")
    value_raw = entry.get("value")
    value = None
    value_text = None
    if value_raw is not None:
        if isinstance(value_raw, str):
            value_text = value_raw.strip()
            try:
                value = float(value_text)
            except ValueError:
                raise where(f"value {value_raw!r:.60} is not a number", "value") from None
            if not math.isfinite(value):
                raise where(f"value must be a finite number, not {value_raw!r:.40}", "value")
        else:
            value = _number(value_raw, lambda m: where(m, "value"), "value")
            value_text = _number_text(places, p, c, value) or repr(value_raw)
    claims = []
    for k, (chain_given, expr_given, value_given) in enumerate(sides or [(None, None, None)]):
        key_expr, key_chain = ("expr", "chain") if group is None else ("printed", "printed")
        shape_errors.clear()
        expr, expr_text = read(key_expr, expr_given) if expr_given is not None else (None, None)
        chain_expr, chain_text = (None, chain_given) if _tensor_chain(graph, chain_given) \
            else read(key_chain, chain_given) if chain_given is not None else (None, None)
        chain = None
        if chain_text is not None:
            try:
                chain = parse_chain(chain_text, set(graph.symbols))
            except DerivError as err:
                if group is None:
                    raise places.place(err, file, p, c, key_chain, chain_text) from None
                ln, col = places.value(p, c, key_chain)
                raise err.shift(file, ln, col) from None
        if expr_text is None and chain is None and not unread and value_given is None:
            raise where("a claim needs an 'expr' or a 'chain' (or both), or a 'printed' "
                        "formula to read them from")
        if not wrt and (chain is not None or local):
            raise where("a claim without 'wrt' is about the value of a node; it takes no chain")
        expr_line, col = places.value(p, c, key_expr if expr_text is not None else key_chain)
        claims.append(Claim(
            id=cid if k == 0 else f"{cid}={k + 1}", of=of, wrt=wrt, printed=printed, expr=expr,
            expr_text=expr_text, local=local, chain=chain, chain_expr=chain_expr,
            chain_text=chain_text, value=float(value_given) if value_given else value,
            value_text=value_given or value_text, expect=expect, note=note, line=line,
            layout=layout, update=update, shapes=shapes, unread=unread, expr_line=expr_line,
            col=col, shape_error=(shape_errors or [None])[0]))
    return claims


def _expectation(entry, where) -> tuple[str, str | None]:
    """A claim's `expect` ("pass", or "fail" for a known erratum, which needs a `note`)."""
    expect = _str(entry, "expect", where, default="pass")
    if expect not in ("pass", "fail"):
        raise where("'expect' is \"fail\" (a known erratum) or \"pass\"", "expect")
    note = _str(entry, "note", where)
    if expect == "fail" and not note:
        raise where("a known erratum (expect = \"fail\") needs a 'note' saying what is wrong",
                    "expect")
    return expect, note


def _kind_claim(entry, cid: str, problem: Problem, line, where, places, p: int, c: int
                ) -> Claim:
    """A claim of another kind (a shape, count, optimum, expectation, values at a point)."""
    spec, of, wrt = load_spec(entry, problem.graph, problem.sizes, where)
    expect, note = _expectation(entry, where)
    layout = _str(entry, "layout", where, default="gradient")
    if layout not in ("gradient", "derivative"):
        raise where("'layout' is \"gradient\" or \"derivative\"", "layout")
    expr_text = entry.get("expr")
    expr_line, col = places.value(p, c, "expr") if "expr" in entry else (line, None)
    return Claim(id=cid, of=of, wrt=wrt, printed=_str(entry, "printed", where, default="") or "",
                 expr=None, expr_text=None if expr_text is None else str(expr_text),
                 expect=expect, note=note, line=line, layout=layout, expr_line=expr_line,
                 col=col, spec=spec)


def _tensor_chain(graph: Graph, text: str | None) -> bool:
    """A printed chain with a factor deriv cannot evaluate (∂g/∂W, a tensor of order 3): its
    links and paths are checked, its value is not (it has no `expr` of its own to compare)."""
    if text is None:
        return False
    try:
        products = parse_chain(text, set(graph.symbols))
    except DerivError:
        return False            # reported, with its place, where the chain is read
    for ref in (r for product in products for r in product):
        try:
            A.derivative_shape(graph.shape(ref.of), graph.shape(ref.wrt))
        except (A.ShapeError, KeyError):
            return True
    return False


def _number_text(places: _Places, p: int, c: int, value: float) -> str | None:
    """A number as the file wrote it (value = 2.50 keeps its trailing zero: the precision
    printed), or None if it cannot be found."""
    line, col = places.value(p, c, "value")
    if not line or not col or line > len(places.lines):
        return None
    m = re.match(r"[-+]?[0-9_.eE+-]+", places.lines[line - 1][col - 1:])
    text = m[0].replace("_", "") if m else ""
    try:
        return text if float(text) == value else None
    except ValueError:
        return None


def _count_lines(graph: str) -> int:
    """Assignments in a graph text, as _graph_lines will find them (an upper bound)."""
    return sum(1 for line in graph.split("\n") if line.split("#", 1)[0].strip())


def load_file(path: str | Path, from_printed: bool = False) -> list[Problem]:
    """Every problem in one TOML file. Raises DerivError for anything wrong with it."""
    path = Path(path)
    file = str(path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):   # a FIFO or /dev/zero would never end
            raise DerivError("not a regular file", file)
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)      # never more, whatever stat said
    except OSError as err:
        raise DerivError(f"cannot read file: {err.strerror or err}", file) from None
    if len(raw) > MAX_FILE_BYTES:
        raise DerivError(f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB (the limit is "
                         "reached on this line)", file, raw.count(b"\n") + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise DerivError(f"file is not UTF-8 (byte {err.start})", file, line, col) from None
    # a byte-order mark (Windows editors write one) is not TOML, but it is not the file's
    # content either
    return load_text(text.removeprefix("\ufeff"), file, from_printed)


def _ints_fit(value: Any) -> bool:
    if isinstance(value, int):
        return -2**63 <= value < 2**63
    if isinstance(value, dict):
        value = value.values()
    if isinstance(value, (list, type({}.values()))):
        return all(_ints_fit(v) for v in value)
    return True


def _too_long(text: str, file: str) -> DerivError:
    m = re.search(r"0x[0-9A-Fa-f_]{17,}|0o[0-7_]{22,}|0b[01_]{64,}|[0-9_]{19,}", text)
    line = text.count("\n", 0, m.start()) + 1 if m else 1
    col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1 if m else None
    return DerivError("invalid TOML: an integer outside the 64-bit range", file, line, col)


@contextlib.contextmanager
def uncollected():
    """Python's cyclic collector paused while files load. Loading allocates ~25 objects a
    node and frees them by reference counts (no cycles to speak of); the collector, run every
    few thousand allocations over everything SymPy holds, took a third of a large graph's
    loading time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_text(text: str, file: str = "<text>", from_printed: bool = False) -> list[Problem]:
    """Every problem of a TOML text; with `from_printed`, every claim is read from its
    `printed` LaTeX (its hand-written expr and chain ignored)."""
    with uncollected():
        return _load_text(text, file, from_printed)


def _load_text(text: str, file: str, from_printed: bool) -> list[Problem]:
    if len(text) > MAX_FILE_BYTES:   # as load_file: TOML alone takes seconds on 20 MB
        raise DerivError(f"text is larger than {MAX_FILE_BYTES // 1_000_000} MB (the limit is "
                         "reached on this line)", file, text.count("\n", 0, MAX_FILE_BYTES) + 1)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        msg = str(err)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        line, col = (int(m[1]), int(m[2])) if m else (None, None)
        if m is None and "end of document" in msg:     # e.g. an unterminated string
            line = text.count("\n") + 1
            col = len(text) - (text.rfind("\n") + 1) + 1
        raise DerivError("invalid TOML: " + re.sub(r"\s*\(at .*\)$", "", msg), file, line, col) \
            from None
    except ValueError:   # Python's cap on int(str): a decimal literal of more than 4300 digits
        raise _too_long(text, file) from None
    except RecursionError:
        lines = text.split("\n")   # the place: the line with the most brackets
        deepest = max(range(len(lines)), key=lambda i: lines[i].count("[") + lines[i].count("{"))
        raise DerivError("invalid TOML: nested too deeply", file, deepest + 1) from None
    if not _ints_fit(data):   # TOML's integers are 64-bit; a bigger one can't even be printed
        raise _too_long(text, file)
    places = _Places(text)
    source = data.get("source", {})
    if not isinstance(source, dict):
        raise DerivError("[source] must be a table", file, 1)
    for key, value in source.items():          # (shown as the document's title and file)
        if not isinstance(value, str):
            found = places.found.value(("source", key))
            raise DerivError(f"'{key}' in [source] must be a string, not "
                             f"{type(value).__name__}", file, *(found or (1,)))
    for key in data:
        if key not in ("source", "problem", "notation", "unchecked"):
            raise DerivError(f"unknown top-level key '{key}' (expected [source], [notation], "
                             "[[problem]] and [[unchecked]] tables)", file,
                             places.value(None, None, key)[0])
    notation = from_table(data.get("notation"), lambda m: DerivError(
        m, file, places.value(None, None, "notation")[0]))
    problems = data.get("problem", [])
    if not isinstance(problems, list) or not problems:
        raise DerivError("no [[problem]] tables in this file", file, 1)
    loaded = []
    ids: dict[str, int | None] = {}
    if len(problems) > MAX_PROBLEMS:
        raise DerivError(f"more than {MAX_PROBLEMS} problems in one file", file,
                         places.header(MAX_PROBLEMS))
    nodes = claims = 0
    for i, table in enumerate(problems):
        # counted before the graph is read: a file over the limit costs no parsing
        graph = table.get("graph") if isinstance(table, dict) else None
        if isinstance(graph, str) and nodes + _count_lines(graph) > MAX_FILE_NODES:
            raise DerivError(f"more than {MAX_FILE_NODES} nodes or {MAX_FILE_CLAIMS} claims in "
                             "one file (this problem passes the limit)", file, places.header(i))
        problem = load_problem(table, file=file, places=places, index=i, source=source,
                               notation=notation, from_printed=from_printed)
        nodes += len(problem.graph.nodes)
        claims += len(problem.claims)
        if nodes > MAX_FILE_NODES or claims > MAX_FILE_CLAIMS:
            raise DerivError(f"more than {MAX_FILE_NODES} nodes or {MAX_FILE_CLAIMS} claims in "
                             "one file (this problem passes the limit)", file, problem.line)
        if problem.id in ids:
            raise DerivError(f"problem id '{problem.id}' is used twice (also line "
                             f"{ids[problem.id]})", file, problem.line)
        ids[problem.id] = problem.line
        loaded.append(problem)
    if "unchecked" in data:      # the document's items outside any problem: with the first
        items = _unchecked(data["unchecked"], file, places, ())
        for item in items:
            object.__setattr__(item, "whole_file", True)
        loaded[0].unchecked[:0] = items
    return loaded
