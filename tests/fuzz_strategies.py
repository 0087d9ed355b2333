"""Hypothesis strategies for fuzzing deriv's parser and loader (tests/test_fuzz.py, fuzz/run.py).

Three kinds of input, from blind to nearly valid:
  * raw text (any Unicode, or tokens of Python and TOML glued at random);
  * expression trees printed as text: every function, operator and extreme number, nested;
  * problem files as structures (dicts, lists, strings, numbers shaped like problem files),
    written out as TOML, plus the catalog's own files with random edits.
The property is always the same: the call returns, or raises DerivError; nothing else.
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path

import sympy as sp
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from deriv.errors import DerivError
from deriv.parse import DRef
from deriv.primitives import BY_NAME, function_names

# every callable name of the file syntax → its arity (deriv.parse.FUNCTIONS before the rewrite)
FUNCTIONS = {name: BY_NAME[name] for name in function_names()}

# A few hundred examples per target in CI; fuzz/run.py asks for 10⁴ and more.
settings.register_profile(
    "ci", max_examples=int(os.environ.get("DERIV_FUZZ_EXAMPLES", 100)), deadline=None,
    database=None, suppress_health_check=list(HealthCheck), derandomize=False)
CI = settings.get_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
CATALOG_TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "problems").glob("*.toml"))]

# --- names ---------------------------------------------------------------------------------
INPUTS = ["x", "w", "b"]
NODES = ["a", "h", "y"]
HOSTILE_NAMES = ["__import__", "__builtins__", "open", "eval", "exec", "os", "sys", "self",
                 "lambda", "None", "True", "D", "I", "E", "pi", "oo", "zoo", "nan", "Symbol",
                 "\u0445", "\uff45\uff58\uff50", "psi02", "_", "T", "W", "n"]
NAME = st.sampled_from(INPUTS + NODES) | st.sampled_from(HOSTILE_NAMES) | \
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
FUNCTION_NAMES = sorted(FUNCTIONS) + ["D", "foo", "ln", "Exp", "getattr", "__import__", "hadamard",
                                      "norm2", "inv", "sum", "print"]

# --- numbers as written --------------------------------------------------------------------
NUMBER_TEXT = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.integers(0, 10**80).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0", "0.0", "1e308", "1e309", "1e-320", "1e-400", "9" * 59, "9" * 61,
                     "0x10", "0b101", "0o17", "1_000", "1j", "1e999", "0.5", "2.5e-3", ".5",
                     "5.", "00", "1__0", "True", "None", "...", "'1'", "b'1'"]),
)

# --- expressions as trees, printed ---------------------------------------------------------
OPS = ["+", "-", "*", "/", "**"] * 4 + ["//", "%", "@", "^", "&", "|", "<<", " and ", " or ",
                                        " > ", " < ", " == ", " if x else "]


def _call(name: str, args: list[str]) -> str:
    return f"{name}({', '.join(args)})"


def expressions(max_leaves: int = 30) -> st.SearchStrategy[str]:
    leaf = st.one_of(NAME, NAME, NUMBER_TEXT)

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(OPS), inner).map(lambda t: f"{t[0]}{t[1]}{t[2]}"),
            st.tuples(inner, st.sampled_from(OPS), inner).map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
            st.tuples(st.sampled_from(["-", "+", "--", "not ", "~"]), inner)
              .map(lambda t: f"{t[0]}{t[1]}"),
            st.tuples(st.sampled_from(FUNCTION_NAMES), st.lists(inner, min_size=0, max_size=3))
              .map(lambda t: _call(*t)),
            st.tuples(st.sampled_from(["I", "indicator", "heaviside"]), inner,
                      st.sampled_from([">", "<", ">=", "<=", "==", "!="]), inner)
              .map(lambda t: f"{t[0]}({t[1]} {t[2]} {t[3]})"),
            st.tuples(NAME, NAME).map(lambda t: f"D({t[0]}, {t[1]})"),
            st.tuples(inner, st.sampled_from([".T", ".__class__", "[0]", "()", ".real"]))
              .map(lambda t: f"({t[0]}){t[1]}"),
            st.tuples(inner, st.sampled_from(["**", "*"]), st.sampled_from(
                ["10**10**10", "9**9**9", "999", "1000", "1001", "-1001", "0.5", "1/3", "(-1)",
                 "1e300", "10**999", "x"])).map(lambda t: f"({t[0]}){t[1]}{t[2]}"),
        )
    return st.recursive(leaf, extend, max_leaves=max_leaves)


# --- valid expressions: every function with its arity, numbers from tiny to huge ----------
ARITY = {name: entry.arity for name, entry in FUNCTIONS.items()}


def valid_expressions(names: list[str], claim: bool = False) -> st.SearchStrategy[str]:
    return _valid_expressions(tuple(names), claim)


@functools.lru_cache(maxsize=None)   # building a recursive strategy costs more than drawing
def _valid_expressions(names: tuple[str, ...], claim: bool) -> st.SearchStrategy[str]:
    names = list(names)
    leaf = st.sampled_from(names) | st.integers(-5, 5).map(str) | \
        st.sampled_from(["0.5", "1e-3", "2.5", "1e300", "0", "1e-300", "999", "-1000"])
    if claim:
        leaf = leaf | st.tuples(st.sampled_from(names), st.sampled_from(names)).map(
            lambda t: f"D({t[0]}, {t[1]})")

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner)
              .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, st.sampled_from(["2", "3", "-1", "0.5", "-2", "x"]))
              .map(lambda t: f"({t[0]})**{t[1]}"),
            st.tuples(st.sampled_from(sorted(ARITY)), st.lists(inner, min_size=2, max_size=2))
              .map(lambda t: f"{t[0]}({', '.join(t[1][:ARITY[t[0]]])})"),
            st.tuples(inner, inner).map(lambda t: f"I({t[0]} > {t[1]})"),
        )
    return st.recursive(leaf, extend, max_leaves=8)


TOKENS = ["x", "y", "a", "exp", "log", "D", "(", ")", "[", "]", "{", "}", ",", ".", ":", ";",
          "+", "-", "*", "**", "/", "//", "@", "=", "==", ":=", "<", ">", "#", "'", '"', "\\",
          "\n", "\t", " ", "lambda", "for", "in", "if", "else", "yield", "await", "import",
          "__import__", "f'", "{x}", "1", "1e308", "0x1", "9" * 70, "*", "**", "..."]
TOKEN_TEXT = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
EXPRESSION_TEXT = st.one_of(expressions(), TOKEN_TEXT, st.text(max_size=60),
                            valid_expressions(INPUTS + NODES, claim=True))


def derivative(of: str, wrt: str) -> sp.Expr:
    """What a claim's D(a, b) becomes: a placeholder, for names of the graph only."""
    if of not in INPUTS + NODES or wrt not in INPUTS + NODES:
        raise DerivError(f"unknown name in D({of}, {wrt})")
    return DRef(of, wrt).symbol()


SYMBOLS = {n: sp.Symbol(n, real=True) for n in INPUTS + NODES}


# --- problem files as structures -----------------------------------------------------------
SCALAR = st.one_of(
    st.text(max_size=20), st.integers(-2**63, 2**63 - 1), st.integers(-10, 10),
    st.floats(), st.booleans(),
)
ANY = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3) |
                   st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
KIND = st.sampled_from(["real", "positive", "negative", "nonzero", "interval(-1, 2)",
                        "interval(2, 1)", "interval(-1e999, 1)", "interval(0, 1e308)",
                        "vector(3)", "matrix(2, 2)", "matrix(n, n)", "vector(n)", "matrix(2)",
                        "complex", ""]) | SCALAR
GRAPH_LINE = st.tuples(st.sampled_from(NODES) | NAME, st.sampled_from([" = ", "=", " == ", " "]),
                       EXPRESSION_TEXT).map("".join)
PLAIN_LINE = st.tuples(st.sampled_from(NODES), expressions(8)).map(lambda t: f"{t[0]} = {t[1]}")
GRAPH = st.lists(PLAIN_LINE, min_size=1, max_size=4).map("\n".join) | \
    st.lists(GRAPH_LINE, min_size=0, max_size=5).map("\n".join) | \
    st.lists(st.sampled_from(NODES), min_size=1, max_size=3).map(
        lambda ns: "\n".join(f"{n} = exp(x) * {i}" for i, n in enumerate(ns)))
D_TEXT = st.tuples(NAME, NAME).map(lambda t: f"D({t[0]}, {t[1]})")


def _weighted(common, rare, one_in: int):
    # (st.one_of(*[common] * 9, rare) would not do: one_of keeps each strategy once)
    return st.integers(0, one_in - 1).flatmap(lambda k: rare if k == 0 else common)


def _maybe(strategy, other=ANY):
    """Mostly the plausible value, sometimes anything at all."""
    return _weighted(strategy, other, 10)


def _tables(required: dict, optional: dict, junk: dict):
    """Mostly the keys a valid file has (with plausible values), sometimes any subset and
    keys that do not belong."""
    return _weighted(st.fixed_dictionaries(required, optional=optional),
                     st.fixed_dictionaries({}, optional={**required, **optional, **junk}), 5)


CLAIM = _tables({
    "id": _maybe(st.sampled_from(["c1", "c2", "dy/dx", ""])),
    "of": _maybe(st.sampled_from(NODES) | NAME),
}, {
    "wrt": _maybe(st.sampled_from(INPUTS + NODES) | NAME),
    "expr": _maybe(EXPRESSION_TEXT),
    "chain": _maybe(st.lists(st.lists(D_TEXT, min_size=1, max_size=3).map(" * ".join),
                             min_size=1, max_size=3).map(" + ".join) | EXPRESSION_TEXT),
    "value": _maybe(st.floats() | st.sampled_from(["1.5", "nan", "inf", "1e999", "x", " 2 "])),
    "local": _maybe(st.booleans()),
    "expect": _maybe(st.sampled_from(["pass", "fail", "maybe"])),
    "note": _maybe(st.text(max_size=10)),
    "printed": _maybe(st.text(max_size=10)),
    "layout": _maybe(st.sampled_from(["gradient", "derivative", "other"])),
    "update": _maybe(st.sampled_from(["eps", "x"])),
    "shapes": _maybe(st.lists(st.sampled_from(["n x 1", "2 x 2", "1 x n", "q"]), max_size=3)),
}, {"zzz": ANY})

PROBLEM = _tables({
    "id": _maybe(st.sampled_from(["p1", "p2", "problem-7.12", "", "../x"])),
    "inputs": _maybe(st.dictionaries(st.sampled_from(INPUTS + ["W", "v", "n"]) | NAME, KIND,
                                     max_size=4)),
    "graph": _maybe(GRAPH),
}, {
    "title": _maybe(st.text(max_size=10)),
    "output": _maybe(st.sampled_from(NODES) | NAME),
    "mode": _maybe(st.sampled_from(["reverse", "forward", "both", "sideways"])),
    "at": _maybe(st.dictionaries(st.sampled_from(INPUTS) | NAME,
                                 st.floats() | st.integers(-2**63, 2**63 - 1) | SCALAR,
                                 max_size=3)),
    "asks": _maybe(st.lists(D_TEXT | EXPRESSION_TEXT, max_size=3)),
    "display": _maybe(st.dictionaries(NAME, st.text(max_size=5), max_size=2)),
    "section": _maybe(st.text(max_size=5)), "ask": _maybe(st.text(max_size=5)),
    "note": _maybe(st.text(max_size=5)),
    "claim": _maybe(st.lists(CLAIM, max_size=4)),
}, {"zzz": ANY})

DOCUMENT = _tables({
    "problem": _maybe(st.lists(PROBLEM, min_size=1, max_size=3)),
}, {
    "source": _maybe(st.fixed_dictionaries({}, optional={"title": SCALAR, "file": SCALAR})),
}, {"problems": ANY})


# --- writing TOML ----------------------------------------------------------------------------
def toml_string(s: str, multiline: bool = False) -> str:
    if multiline and '"""' not in s and "\\" not in s and not s.endswith('"') and \
            all(c in "\n\t" or (32 <= ord(c) != 127) for c in s):
        return '"""\n' + s + '"""'
    body = json.dumps(s, ensure_ascii=False)[1:-1].replace("\x7f", "\\u007f")
    return '"' + body + '"'


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def key(k: str) -> str:
    return k if k and all(c.isascii() and (c.isalnum() or c in "_-") for c in k) else toml_string(k)


def toml_document(doc: dict, multiline: bool = True) -> str:
    """Problems and claims as [[problem]] / [[problem.claim]] sections when they are tables
    (so deriv's line finder sees them), everything else inline."""
    out = []
    for k, v in doc.items():
        if k == "problem" and isinstance(v, list) and v and all(isinstance(p, dict) for p in v):
            continue
        if isinstance(v, dict) and k == "source":
            out.append(f"[{key(k)}]")
            out += [f"{key(kk)} = {toml_value(vv)}" for kk, vv in v.items()]
        else:
            out.insert(0, f"{key(k)} = {toml_value(v)}")
    problems = doc.get("problem")
    if isinstance(problems, list) and problems and all(isinstance(p, dict) for p in problems):
        for p in problems:
            out.append("\n[[problem]]")
            claims = p.get("claim")
            sections = isinstance(claims, list) and claims and \
                all(isinstance(c, dict) for c in claims)
            for kk, vv in p.items():
                if kk == "claim" and sections:
                    continue
                text = toml_string(vv, multiline) if isinstance(vv, str) and kk == "graph" \
                    else toml_value(vv)
                out.append(f"{key(kk)} = {text}")
            if sections:
                for c in claims:
                    out.append("\n[[problem.claim]]")
                    out += [f"{key(kk)} = {toml_value(vv)}" for kk, vv in c.items()]
    return "\n".join(out) + "\n"


# --- nearly valid files: plausible everywhere, so that loading goes deep --------------------
@st.composite
def valid_problem(draw, index: int = 0) -> dict:
    inputs = draw(st.lists(st.sampled_from(INPUTS), min_size=1, max_size=3, unique=True))
    kinds = st.sampled_from(["real", "real", "positive", "negative", "nonzero", "interval(-1, 2)"])
    nodes = draw(st.lists(st.sampled_from(NODES + ["f1", "f2", "g"]), min_size=1, max_size=4,
                          unique=True))
    lines = []
    for k, node in enumerate(nodes):   # mostly earlier names only; sometimes a forward one
        visible = inputs + nodes[:k] + draw(st.sampled_from([[], [], [], nodes[k:]]))
        lines.append(f"{node} = {draw(valid_expressions(visible))}")
    names = inputs + nodes
    problem = {"id": f"p{index}", "inputs": {i: draw(kinds) for i in inputs},
               "graph": "\n".join(lines)}
    if draw(st.booleans()):
        problem["at"] = {i: draw(st.floats(-3, 3)) for i in inputs}
    if draw(st.booleans()):
        problem["mode"] = draw(st.sampled_from(["reverse", "forward", "both"]))
    claims = []
    for c in range(draw(st.integers(0, 3))):
        claim = {"id": f"c{c}", "of": draw(st.sampled_from(nodes))}
        if draw(st.integers(0, 4)):
            claim["wrt"] = draw(st.sampled_from(names))
        if draw(st.integers(0, 3)):
            claim["expr"] = draw(valid_expressions(names, claim=True))
        if draw(st.booleans()):
            claim["chain"] = " + ".join(
                " * ".join(f"D({a}, {b})" for a, b in draw(st.lists(
                    st.tuples(st.sampled_from(names), st.sampled_from(names)),
                    min_size=1, max_size=3)))
                for _ in range(draw(st.integers(1, 2))))
        if draw(st.integers(0, 3)) == 0:
            claim["value"] = draw(st.floats(-10, 10) | st.sampled_from(["1.25", "3"]))
        if draw(st.integers(0, 4)) == 0:
            claim["local"] = True
        if draw(st.integers(0, 4)) == 0:
            claim.update(expect="fail", note="known")
        claims.append(claim)
    if claims:
        problem["claim"] = claims
    if draw(st.booleans()):
        problem["asks"] = [f"D({draw(st.sampled_from(nodes))}, {draw(st.sampled_from(names))})"]
    return problem


VALID_DOCUMENT = st.integers(1, 3).flatmap(
    lambda n: st.tuples(*(valid_problem(i) for i in range(n)))).map(
        lambda ps: {"source": {"title": "fuzz"}, "problem": list(ps)})

DOCUMENT_TEXT = st.tuples(_weighted(VALID_DOCUMENT, DOCUMENT, 3), st.booleans()).map(
    lambda t: toml_document(*t))


# --- the catalog's own files, edited at random ---------------------------------------------
@st.composite
def mutated_catalog(draw) -> str:
    text = draw(st.sampled_from(CATALOG_TEXTS)) if CATALOG_TEXTS else "[[problem]]\n"
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = min(len(text), i + draw(st.integers(0, 12)))
        insert = draw(st.sampled_from(["", "", "(", ")", '"', "'", "\n", "=", "x", "**9**9",
                                       "[[problem]]\n", "[[problem.claim]]\n", "#", "\u0445",
                                       "__import__('os')", "D(", "1e999", "nan", "\\"]) |
                      st.text(max_size=4))
        text = text[:i] + insert + text[j:]
    return text


LOADER_TEXT = st.one_of(DOCUMENT_TEXT, DOCUMENT_TEXT, mutated_catalog(), st.text(max_size=200),
                        TOKEN_TEXT)
