"""Index notation and repetition, unrolled into plain names before the safe parser reads a line.

A problem declares its index ranges once (`index = { i = "1..3", t = "1..3" }`); then

    "z[i]" = "real"              an input family: z1, z2, z3 (any kind: "W[l]" = "matrix(n, n)")
    e[i] = exp(z[i])             a graph line declared once, one node per index value: e1, e2, e3
    h[t] = tanh(w*h[t-1] + x[t]) repetition: an index may be shifted by a whole number
    s = sum(e[k], k)             a sum over an index's range: e1 + e2 + e3
    delta(i, j)                  the Kronecker delta: 1 where the indices are equal, else 0
    of = "p[i]", wrt = "z[j]"    a claim with free indices: one claim per value of (i, j)

An entry's name is the family's name followed by its indices (z[2] → z2, W[1, 2] → W12; with
an index of two digits they are joined by _: W[1, 12] → W1_12), shown as z₂ and W₁₂. The
rewriting works on the tree of Python's parser (never on evaluated text): the unrolled
expression is written out again and read by deriv.parse as any other, and an error in it is
placed where the original text wrote the part that is wrong.
"""

from __future__ import annotations

import ast
import copy
import itertools
import keyword
import re
import sys
from dataclasses import dataclass, field

from deriv.errors import DerivError
from deriv.parse import MAX_TERMS, RESERVED, parse_ast

MAX_RANGE = 1_000          # values of one index
MAX_UNROLLED = 5_000      # entries of families, and claims, one problem unrolls to (its limits)
MAX_BUILT = 20_000         # tree nodes of an unrolled expression (its text, read next, may have
                           # at most deriv.parse.MAX_TEXT = 20 000 characters anyway)
ENTRY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*\[(.*)\]\s*$")
RANGE = re.compile(r"^\s*(\d{1,4})\s*\.\.\s*(\d{1,4})\s*$")


def entry_name(family: str, values: tuple[int, ...]) -> str:
    """z, (2,) → z2; W, (1, 2) → W12; W, (1, 12) → W1_12."""
    if len(values) > 1 and any(v > 9 for v in values):
        return family + "_".join(map(str, values))
    return family + "".join(map(str, values))


class IndexedText(str):
    """An unrolled expression's text, which remembers the text as written and how to move a
    place in the unrolled text back to it."""

    original: str
    built: ast.AST

    def __new__(cls, text: str, original: str, built: ast.AST):
        self = super().__new__(cls, text)
        self.original, self.built = original, built
        return self

    def original_place(self, line: int, col: int | None) -> tuple[int, int | None]:
        """(line, col) of deriv.parse's message in this text → the same part as written.
        The unrolled tree keeps its parts' places; its text, parsed again, has the same
        shape, so the two are walked side by side."""
        if col is None:
            return line, col
        wanted = (line, col if line == 1 else col - 1)     # parse wraps the text in "(…)"
        try:
            again = parse_ast(str(self)).body
        except DerivError:
            return 1, 1
        for new, old in zip(ast.walk(again), ast.walk(self.built)):
            if type(new) is not type(old):
                break
            if (getattr(new, "lineno", None), getattr(new, "col_offset", None)) == wanted:
                ln, c = old.lineno, old.col_offset
                return ln, (c if ln == 1 else c + 1)
        return 1, 1


@dataclass
class Index:
    """The index ranges of one problem and the families declared over them."""

    ranges: dict[str, list[int]] = field(default_factory=dict)
    families: dict[str, dict[tuple, str]] = field(default_factory=dict)   # z → {(1,): z1}
    kinds: dict[str, str] = field(default_factory=dict)     # plain input → its kind (messages)
    names: set[str] = field(default_factory=set)            # every input and node name
    count: dict[str, int] = field(default_factory=dict)     # entries and claims unrolled so far

    def __bool__(self) -> bool:
        return bool(self.ranges)

    # --- declarations ---------------------------------------------------------------------
    @classmethod
    def from_table(cls, value, where) -> "Index":
        if value is None:
            return cls()
        if not isinstance(value, dict) or not value:
            raise where("'index' is a table of ranges such as { i = \"1..3\", t = 3 }")
        ranges = {}
        for name, spec in value.items():
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or keyword.iskeyword(name) \
                    or name in RESERVED:
                raise where(f"'{name[:40]}' cannot name an index")
            m = RANGE.match(spec) if isinstance(spec, str) else None
            if isinstance(spec, int) and not isinstance(spec, bool) and 1 <= spec <= MAX_RANGE:
                lo, hi = 1, spec
            elif m and int(m[1]) <= int(m[2]) and int(m[2]) - int(m[1]) < MAX_RANGE:
                lo, hi = int(m[1]), int(m[2])
            else:
                raise where(f"index {name}: a range is \"lo..hi\" (whole numbers, lo ≤ hi, at "
                            f"most {MAX_RANGE} values) or a count n for 1..n, not {spec!r:.40}")
            ranges[name] = list(range(lo, hi + 1))
        return cls(ranges)

    def declared(self, key: str, where) -> tuple[str, list[str | int]] | None:
        """"z[i]" → ("z", ["i"]); "h[0]" → ("h", [0]); a plain name → None."""
        m = ENTRY.match(key)
        if not m:
            return None
        indices: list[str | int] = []
        for part in m[2].split(","):
            part = part.strip()
            if part.isdigit():
                indices.append(int(part))
            elif part in self.ranges:
                indices.append(part)
            elif not self.ranges:
                raise where(f"'{key[:40]}' uses index notation; declare the index first: "
                            "index = { i = \"1..3\" }")
            else:
                raise where(f"unknown index '{part[:20]}' in {key[:40]} (declared: "
                            f"{', '.join(self.ranges)})")
        if len(set(i for i in indices if isinstance(i, str))) < \
                sum(isinstance(i, str) for i in indices):
            raise where(f"an index is repeated in {key[:40]}")
        return m[1], indices

    def unrolled(self, family: str, indices: list[str | int], fail):
        """Each (binding of the index names, entry name) a declaration stands for."""
        names = [i for i in indices if isinstance(i, str)]
        for values in itertools.product(*(self.ranges[n] for n in names)):
            self.counted("entries", "inputs and nodes", fail)
            env = dict(zip(names, values))
            key = tuple(env[i] if isinstance(i, str) else i for i in indices)
            name = entry_name(family, key)
            made = self.__dict__.setdefault("_made", {})     # name → (family, indices)
            other = made.get(name)
            if other is not None and other != (family, key):   # a[12] and a1[2]: both a12
                raise fail(f"{family}[{', '.join(map(str, key))}] and {other[0]}["
                           f"{', '.join(map(str, other[1]))}] would both be named {name}: "
                           "rename one of the families")
            made[name] = (family, key)
            self.families.setdefault(family, {})[key] = name
            yield env, name

    def inputs(self, raw: dict, where) -> dict:
        """The inputs table with each family unrolled: "z[i]" = "real" → z1, z2, z3."""
        out = {}
        for key, kind in raw.items():
            found = self.declared(key, where)
            if found is None:
                out[key] = kind
                self.kinds[key] = kind if isinstance(kind, str) else ""
                continue
            for _, name in self.unrolled(*found, where):
                out[name] = kind
        self.names.update(out)
        return out

    def graph_lines(self, lines: list[tuple]) -> list[tuple]:
        """Graph lines (k, name col, name, text, text col) with each indexed left side unrolled,
        one line per index value; right sides are rewritten once every family is known."""

        def where_at(k, col):
            return lambda message: DerivError(message, None, k + 1, col)
        declared = []
        for k, name_col, name, text, col in lines:
            found = self.declared(name, where_at(k, name_col))
            if found is None:
                declared.append((k, name_col, name, text, col, {}))
                continue
            for env, entry in self.unrolled(*found, where_at(k, name_col)):
                declared.append((k, name_col, entry, text, col, env))
        self.names.update(d[2] for d in declared)
        out = []
        for k, name_col, name, text, col, env in declared:
            try:
                out.append((k, name_col, name, self.text(text, env, "graph"), col))
            except DerivError as err:     # placed inside the line, as deriv.parse's are
                err.col = col + err.col - 1 if err.line == 1 and err.col else err.col
                err.line = k + (err.line or 1)
                raise
        return out

    def check_names(self, sizes, where):
        """An index may not also name an input, a node or a size (i in z[i] must be one thing)."""
        for name in self.ranges:
            if name in self.names or name in sizes:
                raise where(f"'{name}' names both an index and "
                            f"{'a size' if name in sizes else 'an input or node'}")

    def free(self, key: str, where) -> tuple[str, list[str]]:
        """A claim's `of` or `wrt`: the name as written, and its free indices."""
        found = self.declared(key, where) if key else None
        if found is None:
            return key, []
        return key, [i for i in found[1] if isinstance(i, str)]

    def claims(self, entry: dict, where, place) -> list[dict]:
        """A claim with free indices in `of` or `wrt` (p[i], z[j]) → one claim per value of
        its indices, with id "dL/dz[i=1]"; a claim without them is returned as it is."""
        if not isinstance(entry, dict):
            return [entry]
        free: list[str] = []
        for key in ("of", "wrt"):
            if isinstance(entry.get(key), str):
                _, indices = self.free(entry[key], lambda m: where(m, key))
                free += [i for i in indices if i not in free]
        texts = [k for k in ("expr", "chain") if isinstance(entry.get(k), str)]
        if not free:
            if not self or not any(self.uses(entry[k]) for k in texts):
                return [entry]
        elif not texts:
            raise where("a claim with free indices needs an 'expr' or a 'chain' written with "
                        "them (its printed LaTeX is not read)", "of")
        out = []
        total = 1
        for i in free:          # counted before any is built: a file over the limit costs nothing
            total *= len(self.ranges[i])
        self.counted("claims", "claims", lambda m: where(m, "of"), total)
        for values in itertools.product(*(self.ranges[i] for i in free)):
            env = dict(zip(free, values))
            one = dict(entry)
            for key in ("of", "wrt"):
                if isinstance(one.get(key), str) and ENTRY.match(one[key]):
                    one[key] = self.resolve_key(one[key], env, lambda m, k=key: where(m, k))
            for key in texts:
                try:
                    one[key] = self.text(entry[key], env, "claim")
                except DerivError as err:          # placed inside the string, as written
                    raise place(err, key, entry[key]) from None
            if free and isinstance(one.get("id"), str):
                one["id"] = f"{entry['id']}[{', '.join(f'{i}={v}' for i, v in env.items())}]"
            out.append(one)
        return out

    def counted(self, what: str, words: str, fail, n: int = 1):
        self.count[what] = self.count.get(what, 0) + n
        if self.count[what] > MAX_UNROLLED:
            message = f"the index ranges unroll to more than {MAX_UNROLLED} {words}"
            raise fail(message)

    def resolve_key(self, key: str, env: dict, where) -> str:
        family, indices = self.declared(key, where)
        values = tuple(env[i] if isinstance(i, str) else i for i in indices)
        return self.entry(family, values, where)

    def asks(self, text: str) -> list[str]:
        """An `asks` entry D(L, z[i]) → one per value of its indices."""
        if "[" not in text:
            return [text]
        tree = parse_ast(text)
        free = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in self.ranges]
        free = list(dict.fromkeys(free))
        return [self.text(text, dict(zip(free, values)), "asks")
                for values in itertools.product(*(self.ranges[i] for i in free))]

    # --- rewriting one expression ---------------------------------------------------------
    def uses(self, text: str) -> bool:
        return "[" in text or "delta" in text or (
            "sum" in text and any(re.search(rf"\b{i}\b", text) for i in self.ranges))

    def text(self, text: str, env: dict[str, int], context: str) -> str:
        """The expression with every entry, index sum and delta unrolled for the binding
        `env` (an IndexedText), or the text itself where it uses none."""
        if not self.uses(text):
            return text
        tree = parse_ast(text)
        rewriter = _Rewriter(self, context)
        built = rewriter.build(tree.body, env)
        if not rewriter.changed:
            return text
        return IndexedText(_unparsed(built), text, built)

    def entry(self, family: str, values: tuple[int, ...], fail) -> str:
        members = self.families.get(family)
        name = entry_name(family, values)
        if members and values in members:
            return members[values]
        if name in self.names and (members is None or len(next(iter(members))) == len(values)):
            return name                            # h[0] for a plain input h0
        written = f"{family}[{', '.join(map(str, values))}]"
        if members:
            arity = len(next(iter(members)))
            if arity != len(values):
                raise fail(f"{family} takes {arity} ind{'ex' if arity == 1 else 'ices'}, not "
                           f"{len(values)}")
            raise fail(f"index out of range: {written} (declared: {_span(family, members)})")
        if family in self.kinds:
            kind = self.kinds[family].strip()
            if kind.startswith(("vector", "matrix")):
                raise fail(f"'{family}' is a {kind}; index notation applies to families "
                           f"declared with an index, as \"{family}[i]\" = \"real\"")
            raise fail(f"'{family}' is a scalar ({kind}); it takes no index")
        if family in self.names:
            raise fail(f"'{family}' is a scalar node; it takes no index")
        if any(re.fullmatch(re.escape(family) + r"\d+", n) for n in self.names):
            raise fail(f"index out of range: {written} (there is no {name})")
        raise fail(f"unknown name '{family}' in {written}")


def _span(family: str, members: dict[tuple, str]) -> str:
    keys = sorted(members)
    if len(keys[0]) == 1:
        values = [k[0] for k in keys]
        if values == list(range(values[0], values[-1] + 1)) and len(values) > 2:
            return f"{family}[{values[0]}] … {family}[{values[-1]}]"
    shown = [f"{family}[{', '.join(map(str, k))}]" for k in keys[:4]]
    return ", ".join(shown) + (" …" if len(keys) > 4 else "")


class _Rewriter:
    """Builds the unrolled tree; every new node keeps the place of the part it came from."""

    def __init__(self, index: Index, context: str):
        self.index = index
        self.context = context
        self.changed = False
        self.built = 0

    def fail(self, node: ast.AST, message: str) -> DerivError:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0) + (0 if line == 1 else 1)
        return DerivError(message, None, line, max(col, 1))

    def build(self, node: ast.AST, env: dict[str, int]) -> ast.AST:
        self.built += 1
        if self.built > MAX_BUILT:
            raise self.fail(node, f"this expression unrolls to more than {MAX_BUILT} parts")
        if isinstance(node, ast.Subscript):
            return self.subscript(node, env)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "sum" and len(node.args) == 2 and not node.keywords and \
                    isinstance(node.args[1], ast.Name) and node.args[1].id in self.index.ranges:
                return self.index_sum(node, env)
            if node.func.id == "delta" and node.func.id not in self.index.names:
                if len(node.args) != 2 or node.keywords:
                    raise self.fail(node, "delta takes two indices: delta(i, j)")
                a, b = (self.value(x, env) for x in node.args)
                self.changed = True
                return ast.copy_location(ast.Constant(int(a == b)), node)
        if isinstance(node, ast.Name) and node.id in self.index.ranges and \
                node.id not in self.index.names:
            raise self.fail(node, f"the index '{node.id}' stands alone; it may only select an "
                                  f"entry ({node.id} in z[{node.id}]) or be summed over")
        out = copy.copy(node)
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.AST):
                setattr(out, name, self.build(value, env))
            elif isinstance(value, list):
                setattr(out, name, [self.build(v, env) if isinstance(v, ast.AST) else v
                                    for v in value])
        return out

    def subscript(self, node: ast.Subscript, env: dict[str, int]) -> ast.AST:
        if not isinstance(node.value, ast.Name):
            raise self.fail(node, "only a name can be indexed (z[i], W[i, j])")
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        values = tuple(self.value(p, env) for p in parts)
        name = self.index.entry(node.value.id, values, lambda m: self.fail(node, m))
        self.changed = True
        return ast.copy_location(ast.Name(name, ast.Load()), node)

    def value(self, node: ast.AST, env: dict[str, int]) -> int:
        """An index: an index name, a whole number, or an index name ± a whole number."""
        if isinstance(node, ast.Constant) and type(node.value) is int and 0 <= node.value < 10_000:
            return node.value
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id in self.index.ranges:
                where = {"graph": "put it on the left side (e[i] = …) or sum over it "
                                  "(sum(…, i))",
                         "claim": "a claim's free indices are those of its 'of' and 'wrt'",
                         "asks": ""}[self.context]
                raise self.fail(node, f"index '{node.id}' is not bound here"
                                      + (f"; {where}" if where else ""))
            declared = ", ".join(self.index.ranges) or "none"
            raise self.fail(node, f"unknown index '{node.id}' (declared: {declared})")
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) and \
                isinstance(node.right, ast.Constant) and type(node.right.value) is int:
            base = self.value(node.left, env)
            shift = node.right.value if isinstance(node.op, ast.Add) else -node.right.value
            if base + shift < 0:
                raise self.fail(node, f"index out of range: {ast.unparse(node)} is "
                                      f"{base + shift} here")
            return base + shift
        raise self.fail(node, "an index is an index name (i), a whole number, or i ± a whole "
                              "number")

    def index_sum(self, node: ast.Call, env: dict[str, int]) -> ast.AST:
        name = node.args[1].id                      # type: ignore[attr-defined]
        if name in env:
            raise self.fail(node.args[1], f"index '{name}' is already bound here; sum over "
                                          "another index")
        values = self.index.ranges[name]
        if len(values) > MAX_TERMS:
            raise self.fail(node, f"a sum of more than {MAX_TERMS} terms is too long")
        self.changed = True
        terms = [self.build(node.args[0], {**env, name: v}) for v in values]
        total = terms[0]
        for term in terms[1:]:
            total = ast.copy_location(ast.BinOp(total, ast.Add(), term), node)
        return total


def _unparsed(tree: ast.AST) -> str:
    """ast.unparse of an unrolled sum: a chain of up to MAX_TERMS additions a sum (nested sums
    add theirs), which unparse walks recursively, a few frames a level (400 terms passed
    Python's default limit)."""
    depth, stack = 0, [(tree, 1)]
    while stack:                       # the tree's depth, measured without recursion
        node, level = stack.pop()
        depth = max(depth, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 6 * depth + 1000))
    try:
        return ast.unparse(tree)
    finally:
        sys.setrecursionlimit(limit)
