"""Constraints on inputs and the sizes they are drawn at, as a file and the command line
write them.

    inputs = { y = "one-hot vector(K)", P = "probability matrix(N, K)",
               S = "symmetric matrix(n, n)", C = "positive definite matrix(n, n)",
               v = "positive vector(n)", U = "interval(0, 1) matrix(m, n)" }
    deriv check FILE --size K=4 --size n=2:8     # fixed, or drawn from LO:HI (inclusive)

A scalar kind (positive, negative, nonzero, interval(lo, hi)) before vector(…) or matrix(…)
applies to every entry; symmetric and positive definite need a square matrix; one-hot and
probability apply to a vector, or to each row of a matrix (a batch of targets). A file
states its sizes as relations (`sizes = ["K == 3"]`, deriv.problem); the command line may fix
any size 1 to 64 or bound its draws.
"""

from __future__ import annotations

import re

from deriv import algebra as A
from deriv.errors import DerivError

STRUCTURES = {"symmetric": "symmetric", "positive definite": "posdef", "one-hot": "onehot",
              "probability": "simplex"}
ENTRYWISE = re.compile(r"(positive|negative|nonzero|interval\([^)]*\))$")
ARRAY = re.compile(r"^\s*(?P<words>.*?)\s*(?P<base>(?:vector|matrix)\(.*\))\s*$")
MAX_SIZE = 64
DEFAULT_RANGE = (2, 5)        # sizes drawn where nothing is said (inclusive)
SIZE_TEXT = re.compile(r"^\s*([0-9]{1,3})\s*(?::\s*([0-9]{1,3})\s*)?$")


def split_kind(text: str, fail) -> tuple[str, str, str] | None:
    """"one-hot vector(K)" → ("vector(K)", "", "onehot"); "positive matrix(m, n)" →
    ("matrix(m, n)", "positive", ""); None where the kind has no words before an array (the
    loader reads it as before). A structure word on a scalar is an error."""
    words = text.strip()
    m = ARRAY.match(text)
    if not m:
        for word in STRUCTURES:
            if words.startswith(word):
                raise fail(f"'{word}' needs a vector or a matrix, not a scalar (write "
                           f"\"{word} vector(n)\")")
        return None
    words = m["words"].strip()
    if not words:
        return None
    structure = ""
    for word, name in STRUCTURES.items():
        if words.startswith(word) or words.endswith(word):
            structure = name
            words = (words[len(word):] if words.startswith(word) else words[:-len(word)]).strip()
            break
    if words and not ENTRYWISE.fullmatch(words):
        raise fail(f"unknown constraint '{words}' in '{text.strip()}' (before vector(…) or "
                   "matrix(…): positive, negative, nonzero, interval(lo, hi), symmetric, "
                   "positive definite, one-hot, probability)")
    if words and structure in ("onehot", "simplex", "posdef"):
        raise fail(f"'{text.strip()}': {words} and {_word(structure)} do not combine "
                   f"({_word(structure)} fixes the entries' signs)")
    return m["base"], words, structure


def _word(structure: str) -> str:
    return next(w for w, s in STRUCTURES.items() if s == structure)


def check_structure(structure: str, shape: tuple, text: str, fail):
    """symmetric and positive definite need a square matrix: a constraint on the wrong kind."""
    if structure in ("symmetric", "posdef") and not (len(shape) == 2 and shape[0] == shape[1]
                                                      and shape[0] != 1):
        raise fail(f"'{_word(structure)}' needs a square matrix such as matrix(n, n), not "
                   f"'{text.strip()}'")


# --- sizes ---------------------------------------------------------------------------------------

def size_range(value, fail, example: str) -> tuple[int, int]:
    """3 → (3, 3); "2:6" → (2, 6); sizes 1 to 64, LO ≤ HI."""
    text = str(value) if type(value) is int else value if isinstance(value, str) else None
    m = SIZE_TEXT.match(text) if text is not None else None
    lo, hi = (int(m[1]), int(m[2] or m[1])) if m else (0, 0)
    if not m or not 1 <= lo <= hi <= MAX_SIZE:
        raise fail(f"a size is a number 1 to {MAX_SIZE} or a range LO:HI with LO ≤ HI "
                   f"({example}), not {value!r:.30}")
    return lo, hi


def parse_size_options(values) -> dict[str, tuple[int, int]]:
    """--size n=3, --size n=2:6 (a usage error otherwise)."""
    out = {}
    for item in values:
        name, sep, value = item.partition("=")

        def fail(message, item=item):
            return DerivError(f"--size {item}: {message}")
        if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name.strip()):
            raise DerivError(f"--size takes NAME=N or NAME=LO:HI (--size n=3), not {item!r}")
        out[name.strip()] = size_range(value, fail, f"{name.strip()}=3 or {name.strip()}=2:6")
    return out


def minimums(problem) -> dict[str, int]:
    """The least value of each size that the problem's constants need (onehot(3, n): n ≥ 3)."""
    return {d: k for d, (k, _) in _needs(problem).items()}


def _needs(problem) -> dict[str, tuple[int, str]]:
    """Each size's least value and what needs it: onehot(3, n), eig(S, -2) (the second
    largest eigenvalue of an n × n matrix: n ≥ 2)."""
    from deriv import primitives as P
    out: dict[str, tuple[int, str]] = {}
    eigen = tuple(e.cls for e in P.REGISTRY.values() if e.shape == "eigen")

    def need(d, k: int, what: str):
        if isinstance(d, str) and k > out.get(d, (1, ""))[0]:
            out[d] = (k, what)
    exprs = [problem.graph.nodes[n].expr for n in problem.graph.order] + \
        [e for c in problem.claims for e in (c.expr, c.chain_expr) if e is not None]
    for e in exprs:
        for c in e.atoms(A.SizeConstant):
            if c.constant.startswith("onehot"):
                k = int(c.constant[len("onehot"):])
                for d in c.dims:
                    need(d, k, f"onehot({k}, {d})")
        for call in e.atoms(*eigen) if eigen else ():
            shape, k = A.shape_of(call.args[0]), call.args[1]
            if shape and k.is_Integer:
                need(shape[0], abs(int(k)), f"{P.entry_of(call).name}(…, {int(k)})")
    return out


def ranges(problem, overrides: dict | None = None, fail=None) -> dict[str, tuple[int, int]]:
    """Each size's range: the command line's, else the default, raised to what the
    constants need; {} where nothing differs from the default (the draws stay as they always
    were; the file's size relations apply to every assignment either way)."""
    overrides = {k: (v, v) if isinstance(v, int) else tuple(v)
                 for k, v in (overrides or {}).items() if k in problem.sizes}
    given = overrides
    needs = _needs(problem) if problem.sizes else {}     # (no sizes: no constants need any)
    need = {d: k for d, (k, _) in needs.items()}
    out = {}
    for s in problem.sizes:
        lo, hi = given.get(s, DEFAULT_RANGE)
        if need.get(s, 1) > hi:
            message = f"size {s} = {hi} is too small: {needs[s][1]} needs {s} ≥ {need[s]}"
            raise (fail(message) if fail else DerivError(message))
        lo = max(lo, need.get(s, 1))
        if (lo, hi) != DEFAULT_RANGE:
            out[s] = (lo, hi)
    return out
