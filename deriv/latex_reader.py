"""Derivative claims read from LaTeX, into the same expressions a hand-written `expr` gives.

A lark LALR grammar reads one part of an equation (the text between two `=`); the tree is
turned into a Python `ast` expression built node by node from a small set of node types (names,
numbers, + − * / ** @, .T and calls of the registry's functions and D), which deriv.parse reads
through its whitelist like any `expr`. No text is ever evaluated.

What a sheet's symbols mean comes from a Notation (deriv.notation): a[·] may be relu, u(·) the
Heaviside step, σ a sigmoid or a constant, ℓ the node l.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

from deriv import algebra as A
from deriv import latex_text
from deriv.errors import DerivError
from deriv.notation import Notation
from deriv.parse import DRef, parse_expression

MAX_PART = 6_000          # characters of one part of an equation
MAX_NESTING = 40          # braces, brackets and parentheses inside one another

GRAMMAR = r"""
?start: sum
?sum: term
    | sum "+" term          -> add
    | sum "-" term          -> sub
    | "-" term              -> neg
    | "+" term
?term: juxt
    | term TIMES juxt       -> times
    | term "/" juxt         -> divide
    | term ODOT juxt        -> hadamard
juxt: postfix+
?postfix: primary
    | postfix "^" script    -> sup
    | postfix "_" script    -> subscript
    | postfix PRIME         -> prime
?script: NUMBER             -> number
    | LETTER                -> letter
    | CMD                   -> command
    | "{" [sum] "}"         -> brace
    | "{" sum "=" sum "}"   -> range
    | FONT "{" [sum] "}"    -> font
    | "-" script            -> negscript
?primary: NUMBER            -> number
    | LETTER                -> letter
    | CMD                   -> command
    | "{" [sum] "}"         -> brace
    | "(" args ")"          -> paren
    | "[" args "]"          -> bracket
    | LVERT sum RVERT       -> abs
    | LNORM sum RNORM       -> norm
    | FRAC script script    -> frac
    | SQRT script           -> sqrt
    | FONT "{" [sum] "}"    -> font
args: arg ("," arg)*
?arg: sum
    | sum REL sum           -> compare
FRAC.3: /\\[dt]?frac(?![A-Za-z])/
SQRT.3: /\\sqrt(?![A-Za-z])/
TIMES.3: /\\(cdot|times|ast)(?![A-Za-z])/ | "*"
ODOT.3: /\\(odot|circ|otimes)(?![A-Za-z])/
FONT.3: /\\(mathbf|boldsymbol|bm|mathit|mathrm|mathsf|mathcal|mathbb|mathnormal|operatorname|text|textrm|textbf|hat|widehat|vec|mathbfit)(?![A-Za-z])/
LVERT.3: /\\lvert(?![A-Za-z])/
RVERT.3: /\\rvert(?![A-Za-z])/
LNORM.3: /\\lVert(?![A-Za-z])/
RNORM.3: /\\rVert(?![A-Za-z])/
REL.3: /\\(geq|leq|ge|le|gt|lt)(?![A-Za-z])/ | ">" | "<" | ">=" | "<="
CMD: /\\[A-Za-z]+/
LETTER: /[A-Za-z]/
NUMBER: /[0-9]+(\.[0-9]+)?/
PRIME: "'"
%ignore /\s+/
%ignore /\\[ ,;:!](?![A-Za-z])/
"""


@functools.lru_cache(maxsize=1)
def _parser():
    from lark import Lark
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


class Unread(Exception):
    """A part of a sheet that deriv cannot read, with the reason (said to the user)."""


# --- the values a tree reads into, before they become expressions ---------------------------
@dataclass
class Sym:
    base: str                  # psi, x, f, L, ell
    src: str                   # how it was written (for notation and messages)
    subs: list = field(default_factory=list)
    sups: list = field(default_factory=list)
    hat: bool = False


@dataclass
class Cmd:
    name: str                  # partial, nabla, sum, exp, sigma, cases, …
    subs: list = field(default_factory=list)
    sups: list = field(default_factory=list)
    word: bool = False         # written as a word, \\mathrm{uf}: a function or else a name


@dataclass
class Group:
    kind: str                  # paren, bracket, brace
    items: list                # one value per comma-separated argument


@dataclass
class Compare:
    left: object
    op: str
    right: object


@dataclass
class Raw:                     # a tree node to be read later (juxt, sup on an expression, …)
    kind: str
    items: list


GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
         "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
         "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
         "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega", "ell"}
TRANSPOSE = {"T", "top", "intercal", "mathsf{T}", "tr", "t"}
NOT_READ = {"cases": "a case split (\\begin{cases}) is not read",
            "ldots": "an ellipsis (…) is not read", "cdots": "an ellipsis (…) is not read",
            "dots": "an ellipsis (…) is not read", "prod": "a product sign ∏ is not read",
            "int": "an integral is not read", "lim": "a limit is not read",
            "infty": "∞ is not read", "in": "set membership is not read"}


def _read_tree(tree) -> object:
    """The lark tree as values. A long sum a + b − c … (a left-leaning chain) is walked, not
    recursed into; other nesting is bounded before parsing."""
    from lark import Token
    if isinstance(tree, Token):
        return tree
    kind = tree.data
    if kind in ("add", "sub"):
        terms = []
        while not isinstance(tree, Token) and tree.data in ("add", "sub"):
            terms.append((tree.data, tree.children[1]))
            tree = tree.children[0]
        out = _read_tree(tree)
        for op, term in reversed(terms):
            out = Raw(op, [out, _read_tree(term)])
        return out
    kids = [_read_tree(c) for c in tree.children]
    if kind == "number":
        return Raw("number", [str(kids[0])])
    if kind == "letter":
        return Sym(str(kids[0]), str(kids[0]))
    if kind == "command":
        name = str(kids[0])[1:]
        if name in GREEK:
            return Sym(name, "\\" + name)
        return Cmd(name)
    if kind == "brace":
        return Group("brace", [kids[0]] if kids else [])
    if kind in ("paren", "bracket"):
        return Group(kind, kids[0])
    if kind == "args":
        return kids
    if kind == "font":
        return _font(str(kids[0])[1:], kids[1] if len(kids) > 1 else None)
    if kind == "compare":
        return Compare(kids[0], str(kids[1]), kids[2])
    if kind in ("sup", "subscript"):
        base, script = kids
        if isinstance(base, (Sym, Cmd)):
            (base.sups if kind == "sup" else base.subs).append(script)
            return base
        return Raw(kind, [base, script])
    if kind == "range":                   # \sum_{i=1}
        return Raw("range", kids)
    if kind == "negscript":
        return Raw("neg", [kids[0]])
    if kind in ("times", "divide", "hadamard"):
        return Raw(kind, [kids[0], kids[2] if kind != "divide" else kids[1]])
    if kind == "juxt" and len(kids) == 1:
        return kids[0]
    if kind in ("add", "sub", "neg", "juxt", "abs", "norm", "frac", "sqrt", "prime"):
        items = [k for k in kids if not isinstance(k, Token) or kind == "juxt"]
        if kind in ("abs", "norm"):
            items = [kids[1]]
        if kind in ("frac", "sqrt"):
            items = kids[1:]
        if kind == "prime":
            items = [kids[0]]
        return Raw(kind, items)
    raise Unread(f"cannot read {kind}")


def _word(value) -> str | None:
    """The letters of a value written as a word (\\mathrm{ReLU} → ReLU), else None."""
    if isinstance(value, Sym) and not value.subs and not value.sups and len(value.base) == 1:
        return value.base
    if isinstance(value, Raw) and value.kind == "juxt" and all(
            isinstance(v, Sym) and len(v.base) == 1 and not v.subs and not v.sups
            for v in value.items):
        return "".join(v.base for v in value.items)
    return None


def _font(font: str, inner) -> object:
    if inner is None:
        return Group("brace", [])
    word = _word(inner)
    if font in ("hat", "widehat") and isinstance(inner, Sym):
        inner.hat, inner.src = True, f"\\hat{{{inner.src}}}"
        return inner
    if font in ("operatorname", "mathrm", "text", "textrm") and word and len(word) > 1:
        return Cmd(word, word=True)
    if font in ("mathrm", "text") and word == "d":
        return Cmd("d")
    if font == "mathbb" and isinstance(inner, Raw) and inner.items == ["1"]:
        return Sym("mathbb1", "\\mathbb{1}")
    if font in ("mathbf", "boldsymbol", "bm", "vec", "mathbfit") and \
            isinstance(inner, Raw) and inner.items == ["1"]:
        return Sym(ONES, f"\\{font}{{1}}")            # the all-ones vector 𝟏
    if isinstance(inner, Sym):
        inner.src = f"\\{font}{{{inner.src}}}"
        if font == "mathcal" or font == "mathbb":
            inner.base = inner.base if font == "mathcal" else "mathbb" + inner.base
        return inner
    return inner


# --- names ----------------------------------------------------------------------------------
def _script_text(value) -> str:
    """A subscript or superscript as name characters: {02} → 02, {k-1} → km1, (4) → 4."""
    if isinstance(value, Raw) and value.kind == "number":
        return value.items[0]
    if isinstance(value, Sym):
        return value.base + "".join(_script_text(s) for s in value.subs)
    if isinstance(value, Group):
        inner = "".join(_script_text(v) for v in value.items)
        return inner
    if isinstance(value, Raw) and value.kind == "neg":
        return "m" + _script_text(value.items[0])
    if isinstance(value, Raw) and value.kind in ("juxt", "add", "sub"):
        sep = {"add": "p", "sub": "m"}.get(value.kind, "")          # k-1 → km1, t+1 → tp1
        return sep.join(_script_text(v) for v in value.items)
    if isinstance(value, Cmd):
        return value.name
    if isinstance(value, Raw) and value.kind == "range":
        return _script_text(value.items[0]) + "=" + _script_text(value.items[1])
    raise Unread("a subscript that is not a name or number")


def _is_transpose(script) -> bool:
    if isinstance(script, Group) and len(script.items) == 1:
        script = script.items[0]
    if isinstance(script, Sym) and script.base == "T" and not script.subs:
        return True
    if isinstance(script, Cmd) and script.name in ("top", "intercal", "T"):
        return True
    return False


def _index_sup(script) -> str | None:
    """x^{(4)} → "4": a parenthesised superscript is part of the name (a layer, a step)."""
    if isinstance(script, Group) and script.kind == "brace" and len(script.items) == 1:
        script = script.items[0]
    if isinstance(script, Raw) and script.kind == "juxt" and script.items:
        script = script.items[0]                   # x^{(4)\top}
    if isinstance(script, Group) and script.kind == "paren" and len(script.items) == 1:
        try:
            return _script_text(script.items[0])
        except Unread:
            return None
    return None


def _sup_rest(script):
    """What follows the index in x^{(4)\top}: the transpose; None when nothing does."""
    if isinstance(script, Group) and script.kind == "brace" and len(script.items) == 1:
        script = script.items[0]
    if isinstance(script, Raw) and script.kind == "juxt" and len(script.items) > 1:
        return Raw("juxt", script.items[1:]) if len(script.items) > 2 else script.items[1]
    return None


TIME = {"t", "tp1", "tm1", "k", "kp1"}         # W_t, W^{(t+1)}: the step of an iteration


@dataclass
class Context:
    """What a reading needs to know about the problem: its symbols and their shapes."""

    symbols: Mapping[str, object]                 # graph.symbols
    notation: Notation
    sizes: frozenset = frozenset()
    derivative: Callable[[str, str], object] | None = None
    arrays: bool = False                          # any input a vector or a matrix
    target: DRef | None = None
    definitions: Mapping[str, object] = field(default_factory=dict)   # node → its expression
    bind: Mapping[str, str] = field(default_factory=dict)   # W_i in a claim about W_1: i = 1

    def shape(self, node: ast.expr) -> tuple:
        if not self.arrays:
            return ()
        if any(_pending_ones(n) for n in ast.walk(node)):
            raise Unread(ONES_UNSIZED)
        try:
            return A.shape_of(parse_expression(ast.unparse(node), self.symbols,
                                               derivative=self.derivative, sizes=self.sizes))
        except DerivError as err:
            raise Unread(err.message) from None


def _candidates(sym: Sym, bind: Mapping[str, str]) -> list[str]:
    stem = sym.base + ("hat" if sym.hat else "")
    subs = [_bound(s, bind) for s in sym.subs]
    indices = [t for t in (_index_sup(s) for s in sym.sups) if t is not None]
    names = []
    for drop_time in (False, True):
        sub = "".join(x for x in subs if not (drop_time and x in TIME))
        index = "".join(x for x in indices if not (drop_time and x in TIME))
        names += [stem + index + sub, stem + sub + index, stem + index + ("_" + sub if sub else "")]
        if sub and re.fullmatch(r"[ijkntb]+", sub):
            names.append("~" + stem + index)      # l_i: the i-th example's l (scalars only)
        if not sub and "i" in bind:
            names.append(stem + index + "_" + bind["i"])   # W^{(1)} in a claim about unit 1
    alias = {"ell": "l", "varphi": "phi", "epsilon": "eps", "varepsilon": "eps", "lambda": "lam",
             "vartheta": "theta"}.get(sym.base)
    if alias:
        names += [alias + "".join(indices) + "".join(subs)]
    return names


def _bound(script, bind: Mapping[str, str]) -> str:
    text = _script_text(script)
    return bind.get(text, text)


def resolve(sym: Sym, ctx: Context) -> str:
    """The problem's name for a written symbol, or Unread."""
    key = ctx.notation.name(sym.src, sym.base)
    if key and not sym.subs and not [s for s in sym.sups if _index_sup(s)]:
        if key in ctx.symbols:
            return key
    for name in _candidates(sym, ctx.bind):
        scalar_only = name.startswith("~")
        name = name.lstrip("~")
        if name in ctx.symbols and (not scalar_only or not A.shape_of(ctx.symbols[name])):
            return name
        mapped = ctx.notation.name(name, name)
        if mapped in ctx.symbols:
            return mapped
    for name in _candidates(sym, ctx.bind):       # w_i for W_i: a sheet's case slip
        same = [n for n in ctx.symbols if n.lower() == name.lstrip("~").lower()]
        if len(same) == 1 and not name.startswith("~") and len(name) > 2:
            return same[0]
    if sym.base in ctx.sizes and not sym.subs and not sym.sups:    # a size is a number (1/N)
        return sym.base
    raise Unread(f"unknown symbol {_shown(sym)}")


def _shown(sym: Sym) -> str:
    text = sym.src
    for s in sym.subs:
        text += "_" + (_safe_script(s))
    return text


def _safe_script(s) -> str:
    try:
        return "{" + _script_text(s) + "}"
    except Unread:
        return "{…}"


# --- building the expression ----------------------------------------------------------------
ONES = "𝟏"                 # a written 𝟏, never a problem's (ASCII) name
ONES_UNSIZED = "𝟏 (the all-ones vector) where the formula does not fix its length"


def _pending_ones(node: ast.expr) -> tuple[ast.Call, bool] | None:
    """A written 𝟏 or 𝟏ᵀ whose length is not known yet: its ones(·) call, and whether it is
    transposed (a row)."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        inner = _pending_ones(node.value)
        return (inner[0], not inner[1]) if inner else None
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name) and \
            node.args[0].id == ONES:
        return node, False
    return None


def _size_ones(call: ast.Call, size) -> None:
    if isinstance(size, str):
        call.args = [_name(size)]
    elif isinstance(size, int) and size > 0:
        call.args = [ast.Constant(size)]
    else:
        raise Unread(ONES_UNSIZED)


def _name(n: str) -> ast.expr:
    return ast.Name(n, ast.Load())


def _call(fn: str, *args: ast.expr) -> ast.expr:
    return ast.Call(_name(fn), list(args), [])


def _bin(op, a: ast.expr, b: ast.expr) -> ast.expr:
    return ast.BinOp(a, op, b)


def _d(of: str, wrt: str) -> ast.expr:
    return _call("D", _name(of), _name(wrt))


def _is_d(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "D"


class Builder:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.elementwise = False      # inside Σ_i …: x_i y_i is an element's product, x ⊙ y

    def product(self, a: ast.expr, b: ast.expr) -> ast.expr:
        """Juxtaposition: @ between two arrays, * otherwise; ⊙ between elements (Σ_i w_i x_i)."""
        if self.ctx.arrays:
            self.ones_length(a, b)
        if self.ctx.arrays and self.ctx.shape(a) and self.ctx.shape(b):
            if self.elementwise:
                return _call("hadamard", a, b)
            return _bin(ast.MatMult(), a, b)
        return _bin(ast.Mult(), a, b)

    def ones_length(self, a: ast.expr, b: ast.expr) -> None:
        """𝟏ᵀB and A𝟏: the length of 𝟏 is what the product needs (B's rows, A's columns)."""
        left, right = _pending_ones(a), _pending_ones(b)
        if left and left[1] and not right:
            shape = self.ctx.shape(b)
            if shape:
                _size_ones(left[0], shape[0])
        if right and not right[1] and not left:
            shape = self.ctx.shape(a)
            if shape:
                _size_ones(right[0], shape[-1])

    def sized(self, node: ast.expr) -> ast.expr:
        """A whole side: a 𝟏 no product sized is the claim's vector ((𝟏ᵀx)𝟏 for ∇ of a
        function of Σx), else the side is unread."""
        pending = [p for n in ast.walk(node) if (p := _pending_ones(n)) and
                   isinstance(n, ast.Call)]
        if not pending:
            return node
        target = self.ctx.target
        shape = self.ctx.shape(_d(target.of, target.wrt)) if target and target.wrt else ()
        if len(pending) > 1 or len(shape) != 2 or 1 not in shape:
            raise Unread(ONES_UNSIZED)
        _size_ones(pending[0][0], shape[0] if shape[1] == 1 else shape[1])
        return node

    def expr(self, v) -> ast.expr:
        if isinstance(v, Sym):
            return self.symbol(v)
        if isinstance(v, Group):
            if v.kind == "brace" and not v.items:
                raise Unread("an empty group {}")
            if len(v.items) != 1:
                raise Unread("a list where one expression was expected")
            return self.expr(v.items[0])
        if isinstance(v, Cmd):
            return self.command(v, None)
        if isinstance(v, Compare):
            raise Unread("a comparison outside an indicator 𝕀[·]")
        if isinstance(v, Raw):
            return getattr(self, "raw_" + v.kind)(v)
        raise Unread(f"cannot read {type(v).__name__}")

    def symbol(self, v: Sym) -> ast.expr:
        if v.base == "mathbbI" or v.base == "mathbb1":
            raise Unread("an indicator 𝕀 without its argument [·]")
        if v.base == ONES:
            if v.subs:
                raise Unread(f"{v.src} with a subscript")
            ones = _call("ones", _name(ONES)) if self.ctx.arrays else ast.Constant(1)
            return self.scripts(ones, v.sups)
        try:
            node = _name(resolve(v, self.ctx))
        except Unread:
            if v.base == "I" and not v.subs and self.ctx.target and self.ctx.target.wrt \
                    and self.ctx.arrays:
                return self.identity()
            if v.base == "e" and not v.subs and v.sups and _index_sup(v.sups[0]) is None \
                    and not _is_transpose(v.sups[0]):
                # e^{x}: Euler's number, where the problem names nothing e
                return self.scripts(self.apply("exp", v.sups[0]), v.sups[1:])
            raise
        rest = [s if _index_sup(s) is None else _sup_rest(s) for s in v.sups]
        return self.scripts(node, [s for s in rest if s is not None])

    def identity(self) -> ast.expr:
        shape = self.ctx.shape(_d(self.ctx.target.of, self.ctx.target.wrt))
        if len(shape) == 2 and shape[0] == shape[1]:
            n = shape[0]
            return _call("eye", _name(n) if isinstance(n, str) else ast.Constant(n))
        raise Unread("𝐈 where the derivative is not square")

    def scripts(self, node: ast.expr, sups: list) -> ast.expr:
        for s in sups:
            node = self.power(node, s)
        return node

    def power(self, node: ast.expr, script) -> ast.expr:
        if _is_transpose(script):
            return ast.Attribute(node, "T", ast.Load())
        inner = script.items[0] if isinstance(script, Group) and len(script.items) == 1 else script
        if isinstance(inner, Raw) and inner.kind == "neg" and _is_transpose(inner.items[0]):
            return ast.Attribute(_call("inv", node), "T", ast.Load())      # K^{-T}
        exponent = self.expr(script)
        shape = self.ctx.shape(node) if self.ctx.arrays else ()
        if self.elementwise and 1 in shape:       # Σ_i x_i²: a vector's elements squared
            return _bin(ast.Pow(), node, exponent)
        if shape:
            if ast.unparse(exponent) in ("-1", "(-1)"):
                return _call("inv", node)
            raise Unread("a power of a matrix")
        return _bin(ast.Pow(), node, exponent)

    def command(self, v: Cmd, arg) -> ast.expr:
        if v.name in NOT_READ:
            raise Unread(NOT_READ[v.name])
        fn = self.ctx.notation.function("\\" + v.name, v.name)
        if fn is None and v.word and v.name in self.ctx.symbols:   # \mathrm{uf}: a name
            sym = Sym(v.name, f"\\mathrm{{{v.name}}}", v.subs)
            return self.scripts(_name(resolve(sym, self.ctx)), v.sups)
        if fn is None:
            raise Unread(f"unknown command \\{v.name}")
        if arg is None:
            raise Unread(f"\\{v.name} without its argument")
        return self.apply(fn, arg, v.sups)

    def apply(self, fn: str, arg, sups=()) -> ast.expr:
        args = arg.items if isinstance(arg, Group) and arg.kind != "brace" else [arg]
        if fn in ("I", "indicator", "heaviside") and len(args) == 1 and isinstance(args[0], Compare):
            c = args[0]
            op = {">": ast.Gt(), "<": ast.Lt(), ">=": ast.GtE(), "<=": ast.LtE(), "\\geq": ast.GtE(),
                  "\\ge": ast.GtE(), "\\leq": ast.LtE(), "\\le": ast.LtE(), "\\gt": ast.Gt(),
                  "\\lt": ast.Lt()}[c.op.strip()]
            node = _call(fn, ast.Compare(self.expr(c.left), [op], [self.expr(c.right)]))
        elif fn in ("I", "indicator", "heaviside") and len(args) == 1:
            node = _call(fn, ast.Compare(self.expr(args[0]), [ast.Gt()], [ast.Constant(0)]))
        else:
            if fn == "max" and len(args) == 2 and ast.unparse(self.expr(args[0])) == "0":
                return self.scripts(_call("relu", self.expr(args[1])), list(sups))
            node = _call(fn, *(self.expr(a) for a in args))
            if fn == "exp" and self.ctx.arrays and _square(self.ctx.shape(node.args[0])):
                raise Unread("e^X of a square matrix (the matrix exponential, or each "
                             "element's?) is not read; a problem file writes expm(X)")
        return self.scripts(node, list(sups))

    # raw tree nodes
    def raw_number(self, v: Raw) -> ast.expr:
        text = v.items[0]
        return ast.Constant(float(text) if "." in text else int(text))

    def raw_add(self, v: Raw) -> ast.expr:
        return self.sum(v)

    def raw_sub(self, v: Raw) -> ast.expr:
        return self.sum(v)

    def sum(self, v: Raw) -> ast.expr:
        """a + b − c …, left to right without recursing down the chain."""
        chain = []
        while isinstance(v, Raw) and v.kind in ("add", "sub"):
            chain.append((v.kind, v.items[1]))
            v = v.items[0]
        out = self.expr(v)
        if len(chain) < 100:
            for op, term in reversed(chain):
                out = _bin(ast.Add() if op == "add" else ast.Sub(), out, self.expr(term))
            return out
        # a long sum as a balanced tree (a − b as a + −b): Python's own printer and parser
        # recurse once per level of a left-leaning chain
        terms = [out] + [self.expr(t) if op == "add" else ast.UnaryOp(ast.USub(), self.expr(t))
                         for op, t in reversed(chain)]
        while len(terms) > 1:
            terms = [_bin(ast.Add(), *terms[i:i + 2]) if i + 1 < len(terms) else terms[i]
                     for i in range(0, len(terms), 2)]
        return terms[0]

    def raw_subscript(self, v: Raw) -> ast.expr:
        raise Unread("an element [·]ᵢⱼ or subscript of an expression (index notation)")

    def raw_neg(self, v: Raw) -> ast.expr:
        return ast.UnaryOp(ast.USub(), self.expr(v.items[0]))

    def raw_times(self, v: Raw) -> ast.expr:
        return self.product(self.expr(v.items[0]), self.expr(v.items[1]))

    def raw_hadamard(self, v: Raw) -> ast.expr:
        return _call("hadamard", self.expr(v.items[0]), self.expr(v.items[1]))

    def raw_divide(self, v: Raw) -> ast.expr:
        top, bottom = v.items
        d = self.derivative(top, bottom)
        if d is not None:
            return d
        return _bin(ast.Div(), self.expr(top), self.expr(bottom))

    def raw_frac(self, v: Raw) -> ast.expr:
        return self.raw_divide(Raw("divide", v.items))

    def raw_sqrt(self, v: Raw) -> ast.expr:
        return _call("sqrt", self.expr(v.items[0]))

    def raw_abs(self, v: Raw) -> ast.expr:
        inner = self.expr(v.items[0])
        if self.ctx.arrays and _square(self.ctx.shape(inner)):   # the Cookbook's |X| is det X
            raise Unread("|X| of a square matrix (its determinant, or each element's |·|?) "
                         "is not read: write \\det X")
        return _call("abs", inner)

    def raw_norm(self, v: Raw) -> ast.expr:
        return _call("norm", self.expr(v.items[0]))

    def raw_prime(self, v: Raw) -> ast.expr:
        raise Unread("a derivative written with a prime (f′) of something not a function")

    def prime(self, fn: str, arg) -> ast.expr:
        """f′(x) for a function f the notation names: its derivative, elementwise."""
        if fn not in PRIMES:
            raise Unread(f"the derivative {fn}′ is not known to the reader")
        inner = self.expr(arg)
        derivative = PRIMES[fn](inner)
        if isinstance(derivative, ast.BinOp) and isinstance(derivative.op, ast.Mult) and \
                self.ctx.shape(inner):          # σ′(z) of a vector z: σ(z) ⊙ (1 − σ(z))
            return _call("hadamard", derivative.left, derivative.right)
        return derivative

    def raw_sup(self, v: Raw) -> ast.expr:
        base, script = v.items
        if isinstance(base, Raw) and base.kind == "norm":
            inner = script.items[0] if isinstance(script, Group) and len(script.items) == 1 \
                else script
            if isinstance(inner, Raw) and inner.kind == "number" and inner.items[0] == "2":
                return _call("norm2", self.expr(base.items[0]))
        return self.power(self.expr(base), script)

    def derivative(self, top, bottom) -> ast.expr | None:
        """∂a/∂b, da/db, d a / d b → D(a, b); None when top/bottom is not a derivative."""
        a, b = self.differential(top), self.differential(bottom)
        if a is None or b is None:
            return None
        if a == ():
            raise Unread("∂/∂x applied to an expression is a rule, not a claim about the graph")
        of, wrt = self.node(self.expr(a)), self.node(self.expr(b))
        if not (isinstance(of, ast.Name) and isinstance(wrt, ast.Name)):
            raise Unread("a derivative of something that is not a node of the graph")
        return _d(of.id, wrt.id)

    def node(self, node: ast.expr) -> ast.expr:
        """∂ sig[z]: the node the graph defines as sig(z), when one is."""
        if isinstance(node, ast.Name) or not self.ctx.definitions:
            return node
        try:
            written = parse_expression(ast.unparse(node), self.ctx.symbols, sizes=self.ctx.sizes)
        except DerivError:
            return node
        for name, expr in self.ctx.definitions.items():
            if expr == written:
                return _name(name)
        return node

    def differential(self, v):
        """∂x, \\partial x, dx, \\mathrm{d}x → the x value; () for a lone ∂; else None."""
        if isinstance(v, Group) and v.kind == "brace" and len(v.items) == 1:
            v = v.items[0]
        if isinstance(v, Cmd) and v.name == "partial" and not v.subs and not v.sups:
            return ()
        if isinstance(v, Raw) and v.kind == "juxt" and len(v.items) >= 2:
            head, rest = v.items[0], v.items[1:]
            is_d = (isinstance(head, Cmd) and head.name in ("partial", "d") or
                    isinstance(head, Sym) and head.base == "d" and not head.subs
                    and not head.sups and head.src == "d")
            if is_d:
                if len(rest) == 2 and isinstance(rest[0], Sym) and isinstance(rest[1], Group) \
                        and rest[1].kind == "bracket":
                    rest = rest[:1]              # ∂f[x, φ]: the node f
                if len(rest) == 1:
                    return rest[0]
                return Raw("juxt", rest)
        return None

    def raw_juxt(self, v: Raw) -> ast.expr:
        word = _word(v)
        m = re.fullmatch(r"d(\w+?)d(\w+)", word or "")
        if m and m[1] in self.ctx.symbols and m[2] in self.ctx.symbols:
            return _d(m[1], m[2])                 # dfdz: code's name for ∂f/∂z
        items = [i for i in v.items if not (isinstance(i, Cmd) and i.name in ("bf", "rm", "it"))]
        factors: list[ast.expr] = []
        i = 0
        while i < len(items):
            item = items[i]
            nxt = items[i + 1] if i + 1 < len(items) else None
            if isinstance(item, Cmd) and item.name == "partial":
                raise Unread("∂ outside a fraction ∂a/∂b")
            if isinstance(item, Cmd) and item.name == "nabla":
                if not item.subs or nxt is None:
                    raise Unread("∇ without its variable (∇_W L)")
                of, wrt = self.expr(nxt), self.expr(item.subs[0])
                if not (isinstance(of, ast.Name) and isinstance(wrt, ast.Name)):
                    raise Unread("∇ of something that is not a node of the graph")
                factors.append(_d(of.id, wrt.id))
                i += 2
                continue
            if isinstance(item, Raw) and item.kind == "frac" and nxt is not None and \
                    self.differential(item.items[0]) == ():
                wrt = self.differential(item.items[1])
                rest = items[i + 1:]
                applied = self.expr(rest[0] if len(rest) == 1 else Raw("juxt", rest))
                of, wrt = self.node(applied), self.expr(wrt) if wrt else None
                if not (isinstance(of, ast.Name) and isinstance(wrt, ast.Name)):
                    raise Unread("∂/∂x applied to a formula that is no node of the graph: a "
                                 "rule, not a claim about it")
                factors.append(_d(of.id, wrt.id))
                break
            if isinstance(item, Cmd) and item.name == "sum":
                factors.append(self.index_sum(item, items[i + 1:]))
                break
            if isinstance(item, Raw) and item.kind == "prime" and nxt is not None:
                head = self.function_head(item.items[0], nxt)
                if head is None:
                    raise Unread("a derivative written with a prime (f′) of an unnamed function")
                factors.append(self.prime(head, nxt))
                i += 2
                continue
            fn = self.function_head(item, nxt)
            if fn is not None and nxt is not None:
                arg, sups, i = self.argument(items, i + 1, single=fn in ONE_FACTOR)
                powers = _function_powers(item)
                if powers and all(_is_prime(p) for p in powers):     # σ^{\prime}(z) = σ′(z)
                    if len(powers) > 1:
                        raise Unread("a second derivative f′′ of a function is not read")
                    factors.append(self.scripts(self.prime(fn, arg), sups))
                    continue
                factors.append(self.apply(fn, arg, sups + powers))
                continue
            if isinstance(item, Sym) and isinstance(nxt, Group) and nxt.kind == "bracket":
                factors.append(self.expr(item))     # f[x, φ]: the node f, a function of x, φ
                i += 2
                continue
            factors.append(self.expr(item))
            i += 1
        out = factors[0]
        for f in factors[1:]:
            out = self.product(out, f)
        return out

    def argument(self, items: list, j: int, single: bool = False) -> tuple[object, list, int]:
        """The argument of a function written at items[j - 1], the powers written after a
        parenthesised one (\\exp[x]^2, σ(z)²), and where the rest begins. Without parentheses
        the argument is the implicit product of numbers and symbols that follows (\\sin 2x =
        sin(2x)), up to another function or operator (\\sin x \\cos x), or the function
        applied next (\\log \\sigma(z)); `single`: one factor (\\det X X^{-T})."""
        nxt = items[j]
        if isinstance(nxt, Group) or isinstance(nxt, Raw) and nxt.kind in _ONE_ARGUMENT:
            return nxt, [], j + 1
        if isinstance(nxt, Raw) and nxt.kind == "sup" and isinstance(nxt.items[0], Group):
            return nxt.items[0], [nxt.items[1]], j + 1          # \exp[x]^2
        after = items[j + 1] if j + 1 < len(items) else None
        if self.function_head(nxt, after) is not None and after is not None:
            _, _, end = self.argument(items, j + 1)
            inner = items[j:end]
            return Raw("juxt", inner), [], end
        end = j
        while end < len(items) and _is_factor(items[end]) and not (single and end > j) and not (
                end > j and self.function_head(items[end], items[end + 1]
                                               if end + 1 < len(items) else None)):
            end += 1
        if end == j:
            return nxt, [], j + 1
        return (items[j] if end == j + 1 else Raw("juxt", items[j:end])), [], end

    def function_head(self, item, nxt) -> str | None:
        """The registry function a written head stands for, when an argument follows it."""
        if isinstance(item, Cmd) and not item.subs:
            if item.name in NOT_READ:
                raise Unread(NOT_READ[item.name])
            return self.ctx.notation.function("\\" + item.name, item.name)
        if isinstance(nxt, Raw) and nxt.kind == "sup":
            nxt = nxt.items[0]                              # σ(z)^2
        if isinstance(item, Sym) and item.base == ONES and isinstance(nxt, Group) and \
                nxt.kind == "bracket":                  # 𝟏[z > 0]: the indicator, as CS231n
            if len(nxt.items) != 1 or not isinstance(nxt.items[0], Compare):
                raise Unread(f"{item.src}[…] without a condition such as z > 0")
            return "I"
        if isinstance(item, Sym) and not item.subs and isinstance(nxt, Group) and \
                nxt.kind in ("paren", "bracket"):
            fn = self.ctx.notation.function(item.src, item.base)
            known = getattr(self.ctx.symbols, "known", self.ctx.symbols.__contains__)
            if fn and known(item.base) and item.base not in self.ctx.notation.functions:
                return None            # a node named like a function (sigma) is the node
            return fn
        return None

    def index_sum(self, item: Cmd, body: list) -> ast.expr:
        if not item.subs or not body:
            raise Unread("a sum ∑ without its index or body")
        index = _script_text(item.subs[0]).split("=")[0]
        index = re.match(r"[a-z]", index)
        if not index:
            raise Unread("a sum ∑ whose index is not a letter")
        i = index.group()
        _whole_range(item, i)
        contracted = [_contract(v, i) for v in body]
        if all(c is not None for c in contracted) and any(c is not v for c, v in
                                                          zip(contracted, body)
                                                          if isinstance(v, Sym) and len(
                                                              _safe_script(v.subs[-1]) if v.subs
                                                              else "") == 4):
            return self.raw_juxt(Raw("juxt", contracted))     # Σ_j Ω_ij h_j = (Ω h)_i
        stripped = [_drop_index(v, i) for v in body]
        if any(s is None for s in stripped):
            raise Unread("a sum ∑ over an index that is not the last subscript "
                         "(index notation is not read here)")
        # 𝟏 does not vary with the index: Σ_i x_i 𝟏 = (Σ_i x_i)𝟏, the vector, not Σ(x ⊙ 𝟏)
        ones = [v for v in stripped if isinstance(v, Sym) and v.base == ONES]
        stripped = [v for v in stripped if not (isinstance(v, Sym) and v.base == ONES)]
        if not stripped:
            raise Unread("a sum ∑ of 𝟏 alone")
        outer, self.elementwise = self.elementwise, True
        try:
            node = self.raw_juxt(Raw("juxt", stripped)) if len(stripped) > 1 \
                else self.expr(stripped[0])
        finally:
            self.elementwise = outer
        node = _call("sum", node)
        for v in ones:
            node = self.product(node, self.expr(v))
        return node


def _whole_range(item: Cmd, index: str) -> None:
    """A sum is read as over its index's whole range — Σ_i, Σ_{i=1}^{n}, Σ_{i=0}^{n-1} — and
    any other bounds (Σ_{i=2}^{n}, Σ_{j≠1}, Σ_{i=1}^{3}) are unread, never dropped."""
    def single(v):
        while isinstance(v, Group) and len(v.items) == 1:
            v = v.items[0]
        return v
    lower = _script_text(item.subs[0])
    lower = lower[len(index):]
    upper = single(item.sups[0]) if item.sups else None
    whole = (lower in ("", "=1") and (upper is None or isinstance(upper, Sym) and not upper.subs)
             or lower == "=0" and isinstance(upper, Raw) and upper.kind == "sub" and
             isinstance(single(upper.items[0]), Sym) and
             _script_text(upper.items[1]) == "1")
    if not whole or len(item.subs) > 1 or len(item.sups) > 1:
        raise Unread("a sum over part of its index's range (bounds other than all of it) is "
                     "not read")


def _square(shape: tuple) -> bool:
    """A square matrix: |X| may be its determinant and e^X its exponential, so neither is
    read as elementwise (of an N × K matrix, elementwise is their only meaning)."""
    return len(shape) == 2 and shape[0] == shape[1] and shape[0] != 1


_ONE_ARGUMENT = ("abs", "norm", "frac", "sqrt")       # \log|x|, \exp\frac{x}{2}
ONE_FACTOR = {"det"}                                  # \det X X^{-\top}: det(X)·X⁻ᵀ


def _is_prime(script) -> bool:
    if isinstance(script, Group) and len(script.items) == 1:
        script = script.items[0]
    return isinstance(script, Cmd) and script.name == "prime"


def _is_factor(v) -> bool:
    """A number or a symbol, with its scripts: what a function without parentheses takes."""
    if isinstance(v, Raw) and v.kind in ("sup", "subscript"):
        v = v.items[0]
    return isinstance(v, Sym) or isinstance(v, Raw) and v.kind == "number"


def _function_powers(head) -> list:
    """The powers written on a function's name (\\tanh^2 x, σ²(z)): of its value. Not an
    index (σ^{(1)}), and never f^{-1} (an inverse function, not read)."""
    if not isinstance(head, (Cmd, Sym)):
        return []
    sups = [s for s in head.sups if _index_sup(s) is None]
    for s in sups:
        inner = s.items[0] if isinstance(s, Group) and len(s.items) == 1 else s
        if isinstance(inner, Raw) and inner.kind == "neg":
            raise Unread("a function with a negative power on its name (f^{-1}: an inverse "
                         "function?) is not read")
    return sups


def _contract(v, index: str):
    """Ω_{ij} → Ω and h_j → h, for Σ_j Ω_ij h_j (a matrix times a vector); else None."""
    if not isinstance(v, Sym) or not v.subs:
        return None
    text = _safe_script(v.subs[-1]).strip("{}")
    if text == index or (len(text) == 2 and text[1] == index and text[0] != index):
        return Sym(v.base, v.src, v.subs[:-1], v.sups, v.hat)
    if len(text) == 2 and text[0] == index and text[1] != index:     # Σ_j Ω_ji h_j = (Ωᵀh)_i
        return Sym(v.base, v.src, v.subs[:-1], [Sym("T", "T")] + list(v.sups), v.hat)
    return None


PRIMES = {   # f′ written in a sheet, for the functions whose derivative is one expression
    "anyf": lambda z: _call("anyf1", z),          # deriv.generic: f′ of a generic f
    "relu": lambda z: _call("I", ast.Compare(z, [ast.Gt()], [ast.Constant(0)])),
    "exp": lambda z: _call("exp", z), "sin": lambda z: _call("cos", z),
    "cos": lambda z: ast.UnaryOp(ast.USub(), _call("sin", z)),
    "log": lambda z: _bin(ast.Div(), ast.Constant(1), z),
    "sigmoid": lambda z: _bin(ast.Mult(), _call("sigmoid", z),
                              _bin(ast.Sub(), ast.Constant(1), _call("sigmoid", z))),
    "tanh": lambda z: _bin(ast.Sub(), ast.Constant(1),
                           _bin(ast.Pow(), _call("tanh", z), ast.Constant(2))),
}


def _drop_index(v, index: str):
    """x_i → x (a vector's elements summed); None when the index sits elsewhere."""
    if isinstance(v, Sym):
        if v.subs and _script_text(v.subs[-1]) == index:
            return Sym(v.base, v.src, v.subs[:-1], v.sups, v.hat)
        return v if not any(index in _script_text(s) for s in v.subs) else None
    if isinstance(v, Group):
        items = [_drop_index(x, index) for x in v.items]
        return None if any(x is None for x in items) else Group(v.kind, items)
    if isinstance(v, Raw) and v.kind != "number":
        items = [_drop_index(x, index) if not isinstance(x, str) else x for x in v.items]
        return None if any(x is None for x in items) else Raw(v.kind, items)
    return v


# --- one part of an equation ----------------------------------------------------------------
_VERT = re.compile(r"\\left\s*\||\\right\s*\||\\[lr]vert(?![A-Za-z])|\|")
_NORM = re.compile(r"\\\||\\[lr]Vert(?![A-Za-z])|\\Vert(?![A-Za-z])")


def _pair_bars(text: str) -> str:
    """|·| and ‖·‖ as open/close tokens, alternately (LaTeX writes both sides alike)."""
    count = [0]

    def norm(m):
        count[0] += 1
        return r"\lVert " if count[0] % 2 else r"\rVert "
    text = _NORM.sub(norm, text)
    count[0] = 0

    def vert(m):
        count[0] += 1
        return r"\lvert " if count[0] % 2 else r"\rvert "
    return _VERT.sub(vert, text)


_TAKES_ARGUMENTS = re.compile(r"\\(?:[dt]?frac|sqrt)(?![A-Za-z])")


def _digit_arguments(text: str) -> str:
    """\\frac12 as \\frac{1}{2}: in TeX an argument without braces is ONE token, so a bare
    digit is one digit (\\frac123 is ½·3, \\sqrt 2x is √2·x); the lexer would read 12 as one
    number."""
    digits = set()                 # where a bare digit is an argument: wrapped in braces
    for m in _TAKES_ARGUMENTS.finditer(text):
        i = m.end()
        for _ in range(2 if "frac" in m.group() else 1):
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text):
                break
            if text[i].isdigit():
                digits.add(i)
                i += 1
            elif text[i] == "{":
                depth = 0
                while i < len(text):
                    depth += (text[i] == "{") - (text[i] == "}")
                    i += 1
                    if depth == 0:
                        break
            elif text[i] == "\\":
                i += re.match(r"\\(?:[A-Za-z]+|.?)", text[i:]).end()
            else:
                i += 1
    return "".join("{" + ch + "}" if i in digits else ch for i, ch in enumerate(text))


def parse_part(text: str):
    """The lark tree of one part, as values; Unread with the reason when it cannot be read."""
    from lark.exceptions import LarkError, UnexpectedInput
    text = text.strip().rstrip(".,;:").strip()
    if not text:
        raise Unread("an empty side")
    if len(text) > MAX_PART:
        raise Unread(f"a formula of more than {MAX_PART} characters")
    depth = deepest = 0
    for ch in text:
        depth += ch in "{[("
        depth -= ch in "}])"
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise Unread(f"nested deeper than {MAX_NESTING} levels")
    text = _pair_bars(_digit_arguments(text))
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as err:
        near = text[max(err.pos_in_stream or 0, 0):][:20] if err.pos_in_stream is not None else ""
        raise Unread(f"cannot parse the LaTeX near {near!r}" if near else
                     "cannot parse the LaTeX (unbalanced?)") from None
    except (LarkError, RecursionError) as err:
        raise Unread(f"cannot parse the LaTeX ({type(err).__name__})") from None
    try:
        return _read_tree(tree)
    except RecursionError:
        raise Unread("nested too deeply") from None


def read_part(text: str, ctx: Context) -> ast.expr:
    """One side of an equation as a Python expression tree for deriv.parse."""
    value = parse_part(text)
    try:
        builder = Builder(ctx)
        return builder.sized(builder.expr(value))
    except RecursionError:
        raise Unread("nested too deeply") from None


def chain_of(node: ast.expr) -> list[list[ast.expr]] | None:
    """A sum of products of D(a, b) (products of sums distributed), or None."""
    if _is_d(node):
        return [[node]]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = chain_of(node.left), chain_of(node.right)
        return a + b if a is not None and b is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.MatMult)):
        a, b = chain_of(node.left), chain_of(node.right)
        if a is None or b is None or len(a) * len(b) > 64:
            return None
        return [x + y for x in a for y in b]
    return None


# --- equations ------------------------------------------------------------------------------
@dataclass
class Side:
    text: str                  # deriv syntax (ast.unparse of the tree built here)
    offset: int                # in the repaired display
    chain: bool = False        # a sum of products of D(a, b): a chain-rule decomposition
    relation: str = "="        # what stands before it: =, \\approx, …
    part: int = 0              # which part of the equation it is
    printed: str = ""          # as written (a number keeps its printed digits)


@dataclass
class Reading:
    """One equation of a display: what it claims, or why it is not read."""

    kind: str                  # derivative, value, unread
    of: str = ""
    wrt: str = ""
    sides: list[Side] = field(default_factory=list)
    offset: int = 0            # of the equation in the repaired display
    printed: str = ""          # the equation as written
    reason: str = ""           # unread: why
    skipped: list[str] = field(default_factory=list)    # right sides not read, with why
    scalar: bool = True        # a scalar derivative (a number can be its value at a point)

    @property
    def chains(self) -> list[Side]:
        return [s for s in self.sides if s.chain]

    @property
    def exprs(self) -> list[Side]:
        return [s for s in self.sides if not s.chain]


def _chain_text(terms: list[list[ast.expr]], builder: Builder) -> str:
    out = None
    for term in terms:
        prod = term[0]
        for f in term[1:]:
            prod = builder.product(prod, f)
        out = prod if out is None else _bin(ast.Add(), out, prod)
    return ast.unparse(out)


def read_equation(eq: latex_text.Equation, ctx: Context, display: str,
                  target: DRef | None = None) -> Reading | None:
    """A derivative or value equation, Unread ones with their reason; None for others."""
    printed = display[eq.offset:eq.parts[-1].end]
    printed = re.sub(r"(\s*(\\end\{\w+\*?\}|\\\\|\$))+\s*$", "", printed).strip()
    reading = Reading("unread", offset=eq.offset, printed=printed)
    if eq.continued:
        if target is None:
            return None
        reading.kind = "derivative" if target.wrt else "value"
        reading.of, reading.wrt = target.of, target.wrt
    else:
        lhs = eq.parts[0].text
        try:
            node = read_part(lhs, dataclasses.replace(ctx, target=None))
        except Unread as err:
            element = re.fullmatch(r"\s*\\?(?:mathbf\{)?([A-Za-z]+)\}?_\{?([a-z])\}?\s*", lhs)
            if element and element[1] in ctx.symbols and A.shape_of(ctx.symbols[element[1]]):
                node = _name(element[1])       # z_i = Σ_j Ω_ij h_j: the vector z, elementwise
            elif "\\partial" in lhs or re.search(r"\\nabla|frac\{d", lhs):
                reading.reason = f"left side: {err}"
                return reading
            else:
                return None
        if _is_d(node):
            reading.kind = "derivative"
            reading.of, reading.wrt = (a.id for a in node.args)   # type: ignore[attr-defined]
        elif isinstance(node, ast.Name) and node.id in ctx.symbols:
            reading.kind, reading.of = "value", node.id
        else:
            return None
    if eq.condition:
        reading.kind = "unread"
        reading.reason = (f"a formula that holds only under a condition ({eq.condition[:40]}) "
                          "is not read; a case split \\begin{cases} is")
        return reading
    ctx = dataclasses.replace(ctx, target=DRef(reading.of, reading.wrt) if reading.wrt else None)
    if reading.kind == "derivative" and ctx.arrays:
        try:
            reading.scalar = not ctx.shape(_d(reading.of, reading.wrt))
        except Unread:
            reading.scalar = False
    builder = Builder(ctx)
    for k, part in enumerate(eq.parts[1:], 1):
        try:
            node = read_part(part.text, ctx)
            text = ast.unparse(node)
            parse_expression(text, ctx.symbols, derivative=ctx.derivative, sizes=ctx.sizes)
        except DerivError as err:
            if err.kind != "shape":
                reading.skipped.append(err.message)
                continue
            # read in full, and its operands do not fit (W₂ᵀ ∂L/∂Z₂): a claim that is wrong,
            # checked and failed as ill-shaped, as the same formula in `expr` is
        except RecursionError:
            reading.skipped.append("nested too deeply")
            continue
        except Unread as err:
            reading.skipped.append(str(err))
            continue
        terms = chain_of(node) if reading.kind == "derivative" else None
        is_chain = terms is not None and any(len(t) > 1 for t in terms)
        if reading.kind == "derivative" and _is_d(node) and \
                (node.args[0].id, node.args[1].id) == (reading.of, reading.wrt):  # type: ignore
            continue              # ∂y/∂x = ∂y/∂x …: says nothing
        relation = eq.relations[k - 1] if k - 1 < len(eq.relations) else "="
        reading.sides.append(Side(_chain_text(terms, builder) if is_chain else text,
                                  part.offset, is_chain, relation, k, part.text.strip()))
    if not reading.sides:
        reading.kind = "unread"
        reading.reason = "; ".join(dict.fromkeys(reading.skipped)) or "no right side"
    return reading


def read_display(display: str, ctx: Context, target: DRef | None = None
                 ) -> tuple[list[Reading], list[str]]:
    """Every equation of one display (raw text): readings, and notes on damaged LaTeX."""
    repaired = latex_text.repair(display)
    try:
        eqs = latex_text.equations(repaired.text, frozenset(dict.keys(ctx.symbols)))
    except ValueError as err:
        return [Reading("unread", reason=str(err), printed=display[:80])], repaired.notes
    out = []
    for eq in eqs:
        r = read_equation(eq, ctx, repaired.text, target)
        if r is not None:
            r.offset = repaired.origin[min(r.offset, len(repaired.origin) - 1)]
            out.append(r)
    return out, repaired.notes


def context(problem, layout: str = "gradient", target: DRef | None = None) -> Context:
    """The reading context of a problem: its symbols, sizes and notation."""
    graph = problem.graph

    def symbol(a: str, b: str):
        for n in (a, b):
            if n not in graph.symbols:
                raise DerivError(f"unknown name '{n}' in D({a}, {b})")
        try:
            shape = A.derivative_shape(graph.shape(a), graph.shape(b), layout)
        except A.ShapeError as err:
            raise DerivError(f"D({a}, {b}) {err}") from None
        return DRef(a, b, layout).symbol(shape)
    return Context(graph.symbols, problem.notation, frozenset(graph.sizes), symbol,
                   bool(graph.sizes) or any(A.shape_of(s) for s in graph.symbols.values()),
                   target, {n: node.expr for n, node in graph.nodes.items()})


def pairs(reading: Reading, at: Mapping[str, float] | None = None
          ) -> list[tuple[str | None, str | None, str | None]]:
    """A reading's right sides as (chain, expr, value) claims: the first chain goes with the
    first formula; every other side is a claim of its own. Where a problem has a point
    (`at`), a value equation's number (m = 1 + 2 = 3) is the node's value printed there, and
    a scalar derivative's number (∂y/∂x = 2h(1 − h²)w = 1.28) its value there, going with the
    formula before it; `≈ 1.28` is a value even without a point (which the check asks for)."""
    values = {id(s): v for s in reading.sides if reading.kind == "derivative" and
              reading.scalar and (v := _value_at_point(s, at)) is not None}
    chains = reading.chains
    exprs = [s for s in reading.exprs if id(s) not in values]
    out = [[chains[0].text if chains else None, exprs[0].text if exprs else None, None]]
    owner = {id(s): 0 for s in chains[:1] + exprs[:1]}
    for s in chains[1:] + exprs[1:]:
        owner[id(s)] = len(out)
        out.append([s.text, None, None] if s.chain else [None, s.text, None])
    if values and out == [[None, None, None]]:
        out = []
    for s in reading.sides:            # a number at the point goes with the formula before it
        if id(s) in values:
            before = [o for o in reading.sides if o.part == s.part - 1 and id(o) in owner]
            claim = out[owner[id(before[0])]] if before else None
            if claim is not None and claim[2] is None:
                claim[2] = values[id(s)]
            else:
                out.append([None, None, values[id(s)]])
    if reading.kind == "value" and at:
        out = [[c, *_printed_value(reading.of, e)] for c, e, _ in out]
    return [tuple(claim) for claim in out]


_NUMBER = re.compile(r"[-+]?\s*\d+(\.\d+)?")


def _value_at_point(side: Side, at) -> str | None:
    """A derivative's right side that is a number printed at the document's point (`≈ 1.28`,
    or `= 1.28` where the problem has a point), as printed; else None (a formula)."""
    if side.chain or not (at or side.relation == "\\approx"):
        return None
    try:
        number = parse_expression(side.text, {})
    except DerivError:
        return None
    if not number.is_number:
        return None
    printed = side.printed.rstrip(".,;:").strip()
    if _NUMBER.fullmatch(printed):
        return printed.replace(" ", "").lstrip("+")
    return ast.unparse(ast.Constant(float(number))).removesuffix(".0")


def _printed_value(of: str, expr: str | None) -> tuple[str | None, str | None]:
    try:
        number = parse_expression(expr, {}) if expr else None
    except DerivError:
        return expr, None
    if number is None or not number.is_number:
        return expr, None
    return of, ast.unparse(ast.Constant(float(number))).removesuffix(".0")


_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\[(.+?)\\\]|\\\((.+?)\\\)", re.S)


def math_of(text: str) -> list[str]:
    """The math of a text: its $…$, $$…$$, \\[…\\] and \\(…\\) parts, or all of it."""
    found = [next(g for g in m.groups() if g is not None) for m in _MATH.finditer(text)]
    return found or [text]


def claim_sides(printed: str, problem, of: str, wrt: str, layout: str = "gradient",
                update: str | None = None, notation: Notation | None = None
                ) -> tuple[list[tuple[str | None, str | None, str | None]], str]:
    """The (chain, expr) texts a claim's printed LaTeX gives for D(of, wrt) (or the value of
    `of`, or of `wrt` for an update step), or the reason it gives none."""
    target = DRef(of, wrt or "")
    index = re.search(r"_(\d+)$", wrt or of)
    binds = [{}] + ([{"i": index[1]}] if index else [])
    readings: list[Reading] = []
    for bind in binds:
        ctx = dataclasses.replace(context(problem, layout, target), bind=bind)
        if notation is not None:
            ctx = dataclasses.replace(ctx, notation=ctx.notation.merged(notation))
        readings = [r for display in math_of(printed) for r in read_display(display, ctx, target)[0]]
        if update:
            wanted = [r for r in readings if r.kind == "value" and r.of == wrt]
        else:
            wanted = [r for r in readings if r.kind != "unread" and r.of == of and r.wrt == wrt
                      and r.kind == ("derivative" if wrt else "value")]
        if not wanted and wrt:           # ∂g/∂y = ∂g/∂x = 1: a claim about ∂g/∂x too
            name = ast.unparse(_d(of, wrt))
            for r in readings:
                texts = [x.text for x in r.sides]
                if name in texts and texts.index(name) + 1 < len(texts):
                    wanted.append(dataclasses.replace(
                        r, of=of, wrt=wrt, sides=r.sides[texts.index(name) + 1:]))
        if wanted:
            return [p for r in wanted for p in pairs(r, problem.at)], ""
    unread = [r.reason for r in readings if r.kind == "unread"]
    if unread:
        return [], unread[0]
    others = [r for r in readings if r.kind != "unread"]
    if others:
        r = others[0]
        return [], (f"the printed equation is about D({r.of}, {r.wrt})" if r.wrt else
                    f"the printed equation is about the value of {r.of}")
    return [], "no equation in the printed text"


def printed_groups(raw_claims: list, from_printed: bool) -> dict[int, tuple[int, int]]:
    """Claims to read from their `printed` text: (k, n) for the k-th of n claims sharing one
    printed text and target (a line the hand transcription split into several claims)."""
    from collections import Counter
    keys = {c: (e["printed"], e.get("of"), e.get("wrt", "")) for c, e in enumerate(raw_claims)
            if isinstance(e, dict) and isinstance(e.get("printed"), str)
            and e.get("kind", "derivative") == "derivative"
            and (from_printed or ("expr" not in e and "chain" not in e))}
    size, seen, out = Counter(keys.values()), Counter(), {}
    for c, key in keys.items():
        out[c] = (seen[key], size[key])
        seen[key] += 1
    return out


def printed_sides(entry: dict, problem, group: tuple[int, int], from_printed: bool, where
                  ) -> tuple[list[tuple[str | None, str | None, str | None]], str]:
    """(chain, expr, value) texts read from a claim's printed LaTeX: the k-th of n claims
    sharing the text takes the k-th right side (the last claim all that remain); or why none.
    A printed-only claim of a user's file that cannot be read is an error at its place."""
    from deriv.notation import from_table
    own = from_table(entry.get("notation"), lambda m: where(m, "notation"),
                     problem.graph.symbols)
    sides, unread = claim_sides(entry["printed"], problem, entry["of"], entry.get("wrt", ""),
                                entry.get("layout", "gradient"), entry.get("update"), own)
    k, n = group
    if not unread and n > 1:
        if k >= len(sides):
            sides, unread = [], f"the printed text has {len(sides)} right side(s) for {n} claims"
        else:
            sides = sides[k:] if k == n - 1 else [sides[k]]
    if unread and not from_printed:
        raise where(f"printed: cannot read it: {unread}", "printed")
    return sides, unread
