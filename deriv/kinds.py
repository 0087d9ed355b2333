"""Claims that are not a derivative formula: a printed shape, a count or arithmetic result, an
optimum, an expectation, values at a stated point. A [[problem.claim]] with `kind` is read
here into a Spec (data); deriv.kind_check checks it. Every formula goes through the safe
parser (deriv.parse): exact integers and rationals, nothing evaluated as code.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import sympy as sp

from deriv.errors import DerivError
from deriv.parse import DRef, parse_expression

KINDS = ("shape", "count", "optimum", "expectation", "at")
KEYS = {"kind", "shape", "order", "count", "relation", "sizes", "optimum", "random", "point"}
RELATIONS = ("=", "<", "<=", ">", ">=")
DISTRIBUTIONS = {"normal": "normal(mean, sd)", "uniform": "uniform(lo, hi)"}
QUANTITIES = ("stored", "recomputed", "evaluations", "peak")   # of a checkpointing plan
MAX_CHECKPOINT = 10_000


@dataclass(frozen=True)
class Spec:
    """What a claim of another kind says, as data (which fields are set depends on the kind)."""

    kind: str
    shape: tuple = ()          # shape: the printed sizes, e.g. ("n", "n", "n")
    order: int | None = None   # shape: the printed order of a tensor ("a 3-D tensor")
    formula: object = None     # the printed formula (SymPy, exact numbers)
    value: object = None       # count: the printed result (SymPy)
    value_text: str = ""
    relation: str = "="        # count: formula REL value
    measure: tuple = ()        # count: ("entries", names) or ("checkpoint", every, quantity)
    sizes: tuple = ()          # count: ((size, number), ...) the formula is evaluated at
    optimum: str = ""          # optimum: "min" or "max" (argmin, argmax)
    random: tuple = ()         # expectation: ((input, distribution, (parameters)), ...)
    point: tuple = ()          # at: ((input, number), ...), the stated point
    pairs: tuple = ()          # at: ((of, wrt), ...) each checked there ("" wrt: the value)

    @property
    def targets(self) -> tuple:
        return tuple(DRef(o, w) for o, w in self.pairs)


def size_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def _names(value, where, key: str) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise where(f"'{key}' is a name or a list of names", key)


def _dims(text, where, key: str) -> tuple:
    if not isinstance(text, str) or not text.strip():
        raise where(f"'{key}' is a size such as \"n x n x n\"", key)
    if text.strip().lower() in ("scalar", "1"):       # (as the derived one is said)
        return ()
    parts = [p.strip() for p in re.split(r"[x×]", text.strip())]
    if not all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*|[0-9]{1,4}", p) for p in parts) or \
            len(parts) > 4:
        raise where(f"'{text[:40]}' is not a size such as \"n x n\" (up to 4 sizes)", key)
    return tuple(int(p) if p.isdigit() else p for p in parts)


def load_spec(entry: dict, graph, sizes: tuple, where) -> tuple[Spec, str, str]:
    """The Spec of a claim with `kind`, and the (of, wrt) it is filed under."""
    kind = entry["kind"]
    if kind not in KINDS:
        raise where(f"unknown claim kind '{str(kind)[:30]}' (derivative, "
                    f"{', '.join(KINDS)})", "kind")
    for key in KEYS - {"kind"}:
        if key in entry and key not in _ALLOWED[kind]:
            raise where(f"'{key}' does not belong to a claim of kind '{kind}'", key)
    names = dict(graph.symbols)
    size_names = {s: size_symbol(s) for s in sizes}

    def read(key: str, extra: dict | None = None, required: bool = True):
        text = entry.get(key)
        if text is None and not required:
            return None
        if isinstance(text, bool) or not isinstance(text, (str, int, float)):
            raise where(f"'{key}' is a formula in deriv's syntax", key)
        try:
            expr = parse_expression(str(text), {**names, **(extra or {})},
                                    sizes=frozenset(sizes))
        except DerivError as err:
            raise where(f"'{key}': {err.message}", key) from None
        if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise where(f"'{key}' is not finite (a division by zero?)", key)
        return expr

    ofs = _names(entry.get("of", ""), where, "of")
    wrts = _names(entry.get("wrt", ""), where, "wrt")
    for n in ofs:
        if n not in graph.nodes and not (kind == "shape" and n in graph.symbols):
            raise where(f"'of' must name a node of the graph; '{n}' is not one", "of")
    for n in wrts:
        if n not in graph.symbols:
            raise where(f"'wrt' must name an input or node; '{n}' is neither", "wrt")
    if kind != "at" and (len(ofs) > 1 or len(wrts) > 1):
        raise where(f"a claim of kind '{kind}' is about one 'of' and one 'wrt'", "of")
    if kind in ("shape", "optimum", "expectation", "at") and not ofs:
        raise where(f"a claim of kind '{kind}' needs 'of'", "kind")
    of, wrt = (ofs or [""])[0], (wrts or [""])[0]

    if kind == "shape":
        if ("shape" in entry) == ("order" in entry):
            raise where("a shape claim gives 'shape' (\"n x n\") or 'order' (3 for a 3-D "
                        "tensor)", "kind")
        order = entry.get("order")
        if order is not None and (isinstance(order, bool) or not isinstance(order, int)
                                  or not 0 <= order <= 4):
            raise where("'order' is a whole number from 0 to 4", "order")
        shape = _dims(entry["shape"], where, "shape") if "shape" in entry else ()
        return Spec(kind, shape=shape, order=order), of, wrt

    if kind == "count":
        measure = _measure(entry.get("count"), graph, where)
        table = entry.get("sizes", {})
        if not isinstance(table, dict):
            raise where("'sizes' is a table such as { n = 8 }", "sizes")
        given = []
        for k, v in table.items():
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 10**9:
                raise where(f"sizes.{k} is a whole number below 10⁹", "sizes")
            if k in graph.symbols:
                raise where(f"sizes.{k}: '{k}' is an input or node, not a size", "sizes")
            given.append((k, v))
        extra = {**size_names, **{k: size_symbol(k) for k, _ in given}}
        formula = read("expr", extra)
        relation = entry.get("relation", "=")
        if relation not in RELATIONS:
            raise where(f"'relation' is one of {' '.join(RELATIONS)}", "relation")
        value = read("value", extra, required=False)
        if value is None and not measure:
            raise where("a count claim needs a 'value' (the printed result) or a 'count' "
                        "(what it counts)", "kind")
        free = {s.name for s in formula.free_symbols | (value.free_symbols if value is not None
                                                         else set())} - set(dict(given))
        if value is not None and free:
            raise where(f"the formula names {', '.join(sorted(free))}: give their numbers in "
                        "'sizes'", "expr")
        return Spec(kind, formula=formula, value=value, value_text=str(entry.get("value", "")),
                    relation=relation, measure=measure, sizes=tuple(given)), of, wrt

    if kind == "optimum":
        if entry.get("optimum") not in ("min", "max"):
            raise where("'optimum' is \"min\" (argmin) or \"max\" (argmax)", "optimum")
        if not wrt or wrt not in graph.inputs:
            raise where("an optimum claim needs 'wrt': the input it optimises over", "wrt")
        if graph.shape(of):
            raise where("an optimum's objective ('of') is a scalar node", "of")
        formula = read("expr")
        if graph.symbols[wrt] in formula.free_symbols:
            raise where(f"the claimed optimum names '{wrt}' itself", "expr")
        from deriv.algebra import shape_of
        if shape_of(formula) != graph.shape(wrt):
            raise where(f"the claimed optimum has another shape than '{wrt}'", "expr")
        return Spec(kind, formula=formula, optimum=entry["optimum"]), of, wrt

    if kind == "expectation":
        table = entry.get("random")
        if not isinstance(table, dict) or not table:
            raise where("'random' is a table such as { a = \"normal(0, sigma)\" }", "random")
        random = []
        for name, text in table.items():
            if name not in graph.inputs or graph.shape(name):
                raise where(f"random.{name}: a random variable is a scalar input", "random")
            m = re.fullmatch(r"\s*(\w+)\s*\((.*)\)\s*", text) if isinstance(text, str) else None
            if not m or m[1] not in DISTRIBUTIONS:
                raise where(f"random.{name} is one of {', '.join(DISTRIBUTIONS.values())}",
                            "random")
            try:
                params = tuple(parse_expression(p, names) for p in m[2].split(","))
            except DerivError as err:
                raise where(f"random.{name}: {err.message}", "random") from None
            if len(params) != 2 or any(p.free_symbols & {graph.symbols[r] for r in table}
                                       for p in params):
                raise where(f"random.{name}: {DISTRIBUTIONS[m[1]]}, its parameters in the "
                            "other inputs", "random")
            random.append((name, m[1], params))
        if graph.shape(of):
            raise where("an expectation claim is about a scalar node", "of")
        formula = read("expr")
        if formula.free_symbols & {graph.symbols[r] for r in table}:
            raise where("the claimed expectation names a random variable", "expr")
        return Spec(kind, formula=formula, random=tuple(random)), of, wrt

    # at: derivatives (or values) at a stated point
    table = entry.get("point")
    if not isinstance(table, dict) or not table:
        raise where("'point' is a table such as { W1 = 0, b1 = 0 }", "point")
    point = []
    for name, v in table.items():
        if name not in graph.inputs:
            raise where(f"point.{name}: not an input", "point")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                not math.isfinite(float(v) if abs(v) < 1e300 else math.inf):
            raise where(f"point.{name} is a finite number (an array: every entry)", "point")
        point.append((name, sp.Rational(str(v))))
    formula = read("expr")
    pairs = tuple((o, w) for o in ofs for w in (wrts or [""]))
    if len(pairs) > 200:
        raise where("at most 200 (of, wrt) pairs in one claim", "of")
    return Spec(kind, formula=formula, point=tuple(point), pairs=pairs), of, wrt


_ALLOWED = {"shape": {"shape", "order"}, "count": {"count", "relation", "sizes"},
            "optimum": {"optimum"}, "expectation": {"random"}, "at": {"point"}}


def _measure(text, graph, where) -> tuple:
    """`count`: what the formula counts — entries(W1, W2) (their number of entries, from the
    shapes the engine derives) or checkpoint(K, stored|recomputed|evaluations|peak)."""
    if text is None:
        return ()
    m = re.fullmatch(r"\s*(entries|checkpoint)\s*\((.*)\)\s*", text) \
        if isinstance(text, str) else None
    if not m:
        raise where("'count' is entries(W1, b1, …) or checkpoint(K, stored|recomputed|"
                    "evaluations|peak)", "count")
    args = [a.strip() for a in m[2].split(",")]
    if m[1] == "entries":
        for a in args:
            if a not in graph.symbols:
                raise where(f"entries({a}): '{a}' is not an input or node", "count")
        return ("entries", tuple(args))
    if len(args) != 2 or not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_CHECKPOINT \
            or args[1] not in QUANTITIES:
        raise where("checkpoint(K, quantity): K from 1 to 10000, quantity one of "
                    f"{', '.join(QUANTITIES)}", "count")
    return ("checkpoint", int(args[0]), args[1])
