"""The safe expression parser: Python's `ast` read through a whitelist, never evaluated.

Only numbers, names from a table, the operators + - * / ** @ .T and calls to the registry's
functions (deriv.primitives) get through; every other construct is refused with its line and
column.
Costs are bounded (text length, nesting depth, exponent and literal size) so that a hostile
text is an error, not a hung machine.
"""

from __future__ import annotations

import ast
import functools
import math
import re
import warnings
from dataclasses import dataclass
from typing import Callable, Mapping

import sympy as sp
from sympy.core import basic as _basic      # the canonical order of a sum's terms

from deriv import algebra as A
from deriv import array_calls
from deriv import primitives as P
from deriv.errors import DerivError
from deriv.suggest import function_hint, name_hint

MAX_TEXT = 20_000        # characters in one expression
MAX_DEPTH = 60           # nesting of operations and calls
MAX_EXPONENT = 1_000     # |n| in x**n for a numeric n
MAX_DIGITS = 4_000       # decimal digits of any number the text builds (Python prints
                         # at most 4300 digits of an int: every number must stay printable)
MAX_LITERAL = 60         # characters of one numeric literal
MAX_SIZE = 64            # a numeric size is drawn as given: 9999 × 9999 would fill memory
MAX_TERMS = 1_000        # terms of one written sum
_UNDEFINED = (sp.zoo, sp.nan, sp.oo, sp.S.NegativeInfinity)     # singletons
_UNDEFINED_IDS = frozenset(map(id, _UNDEFINED))                  # (found by identity)

SPECIAL = {"D", "eye", "hadamard"} | array_calls.NAMES   # read by the parser, not the registry
RESERVED = set(P.function_names()) | SPECIAL | {"T"}


@dataclass(frozen=True)
class DRef:
    """D(of, wrt): the derivative of node `of` with respect to node or input `wrt`."""

    of: str
    wrt: str
    layout: str = "gradient"       # or "derivative": the transpose, numerator layout

    def __str__(self) -> str:
        return f"D({self.of}, {self.wrt})"

    def symbol(self, shape: tuple = ()) -> sp.Symbol:
        tail = "" if self.layout == "gradient" else ",derivative"
        return A.symbol(f"D({self.of},{self.wrt}{tail})", shape)


def gradient_name(of: str, wrt: str) -> str:
    """The node that holds D(of, wrt) when it is differentiated again (deriv.second), named
    so that no file's (ASCII) name can collide."""
    return f"∂{of}/∂{wrt}"


def d_names(node: ast.AST) -> tuple[str, str] | None:
    """D(a, b) with a a name or itself D(c, d) (a second derivative): the names, else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "D"
            and len(node.args) == 2 and not node.keywords and isinstance(node.args[1], ast.Name)):
        return None
    first = node.args[0]
    if isinstance(first, ast.Name):
        return first.id, node.args[1].id
    inner = d_names(first) if isinstance(first, ast.Call) else None
    if inner is None or inner[0].startswith("∂"):      # third derivatives are not read
        return None
    return gradient_name(*inner), node.args[1].id


def dref_of(symbol: sp.Symbol) -> DRef | None:
    """The DRef a placeholder symbol stands for, or None for an ordinary symbol."""
    name = symbol.name
    if name.startswith("D(") and name.endswith(")") and "," in name:
        parts = name[2:-1].split(",")
        return DRef(*parts[:3])
    return None


_NOT_ASCII = re.compile(r"[^\x20-\x7e\n\t]")


def _place(text: str) -> tuple[int, int] | None:
    """Line and column of the first character that is not printable ASCII (or None)."""
    found = _NOT_ASCII.search(text)
    if found is None:
        return None
    i = found.start()
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


@functools.lru_cache(maxsize=4096)
def _number(text: str) -> sp.Rational:
    """A literal as an exact number (cached: weight matrices repeat few distinct literals)."""
    return sp.Rational(text)


_scaled = A.scaled


def _negated(term: sp.Expr) -> sp.Expr:
    if term.is_Mul and len(term.args) == 2 and term.args[0].is_Number:
        return _scaled(-term.args[0], term.args[1])
    if term.is_Number:
        return -term
    return _scaled(sp.S.NegativeOne, term)


def _sum(terms: list[sp.Expr]) -> sp.Expr:
    """SymPy's canonical Add of terms (scalars or arrays: SymPy does not tell them apart),
    built without its general flattening when the terms are distinct monomials, as in a
    layer's weighted sum or B + A (tests compare it with sp.Add)."""
    constant, monomials, seen = sp.S.Zero, [], set()
    for term in terms:
        if term.is_Number:
            constant += term
            continue
        rest = term.as_coeff_Mul()[1]
        if term.is_Add or not term.is_commutative or rest in seen:
            return sp.Add(*terms)
        seen.add(rest)
        monomials.append(term)
    if len(monomials) < 2 or not constant.is_finite:
        return sp.Add(*terms)
    try:
        monomials.sort(key=_order_key)
    except (_Unordered, TypeError):     # (a TypeError: SymPy's own, from sp.Add)
        return sp.Add(*terms)
    return sp.Add._from_args(([constant] if constant is not sp.S.Zero else []) + monomials, True)


WIDE_PRODUCT = 16      # factors from which a product of scalars is built in one Mul


class _Unordered(Exception):
    pass


@functools.lru_cache(maxsize=1 << 16)
def _order_key(e: sp.Basic) -> tuple:
    """A sort key that orders as SymPy's `Basic.compare` (the order `Add` sorts its terms in):
    the class by SymPy's table of classes, then the length of the hashable content, then its
    items in turn. One key a term, not a Python comparison per pair: a 10,000-term layer sorts
    in a tenth of the time."""
    content = e._hashable_content()
    items = []
    for item in content:
        if isinstance(item, sp.Basic):
            items.append(_order_key(item))
        elif isinstance(item, frozenset):
            raise _Unordered            # compared as Basic(*items) by SymPy: not worth a key
        else:
            items.append(item)
    return (_class_key(type(e)), len(content), tuple(items))


@functools.lru_cache(maxsize=None)
def _class_key(cls: type) -> tuple:
    """SymPy's `_cmp_name`: a class in its ordering table by position, any other after them
    all, by name."""
    name, table = cls.__name__, _basic.ordering_of_classes
    return (table.index(name) if name in table else len(table) + 1, name)


def _digits(number: sp.Expr) -> float:
    """Decimal digits of a SymPy number's magnitude (cheap: from bit length, no printing)."""
    if number.is_Rational:
        return max(abs(number.p).bit_length(), number.q.bit_length()) * math.log10(2)
    if number.is_Float:
        return abs(float(number)) and abs(math.log10(abs(float(number))))
    return 0.0


class _Reader:
    def __init__(self, names: Mapping[str, sp.Expr], derivative: Callable[[str, str], sp.Expr] | None,
                 line_shift: int, col_shift: int, sizes: frozenset = frozenset()):
        self.names = names
        self.derivative = derivative
        self.sizes = sizes
        self.line_shift = line_shift
        self.col_shift = col_shift

    def fail(self, node: ast.AST, message: str, kind: str = "input") -> DerivError:
        line = getattr(node, "lineno", 1) - self.line_shift
        col = getattr(node, "col_offset", 0) + 1 - (self.col_shift if line == 1 else 0)
        if message.startswith(("shape mismatch", "division by a non-scalar", "** needs scalars")):
            kind = "shape"        # operands that do not fit: a claim written so is wrong
        return DerivError(message, None, max(line, 1), max(col, 1), kind)

    def read(self, node: ast.AST, depth: int = 0) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"expression nested deeper than {MAX_DEPTH} levels")
        method = getattr(self, "read_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"{_describe(node)} is not allowed in an expression")
        if isinstance(node, (ast.Name, ast.Constant)):    # leaves are checked as they are read
            return method(node, depth + 1)
        return self.checked(node, lambda: method(node, depth + 1))

    def checked(self, node: ast.AST, build) -> sp.Expr:
        """What `build` makes for `node`, its shape, finiteness and size checked and placed."""
        try:
            result = build()
            A.shape_of(result)         # a shape mismatch raises here, and is placed
            # SymPy carries ∞̃ and NaN up to the top of what it builds, or one level below
            if id(result) in _UNDEFINED_IDS or any(id(a) in _UNDEFINED_IDS for a in result.args):
                raise self.fail(node, "this expression divides by zero or is not a finite "
                                      "number")
            self.bounded(node, result)
        except A.ShapeError as err:
            raise self.fail(node, f"{err} in `{_unparse(node)}`", "shape") from None
        except (TypeError, ValueError, ArithmeticError) as err:   # SymPy on odd numbers
            raise self.fail(node, f"SymPy cannot evaluate this expression "
                                  f"({type(err).__name__}: {str(err)[:80]})") from None
        return result

    def bounded(self, node: ast.AST, result: sp.Expr):
        """SymPy merges numbers and powers as it builds (10**999 * 10**999, (x**999)**999,
        (10**999*x)**4): bound what it made, not only what was written. Merged numbers and
        powers sit at the top of the result or one level down (2*(x + 1) is 2*x + 2)."""
        for part in (result, *result.args):
            for a in (part, *part.args):
                if a.is_Number and _digits(a) > MAX_DIGITS:
                    raise self.fail(node, f"this expression builds a number of more than "
                                          f"{MAX_DIGITS} digits")
                if a.is_Pow and a.exp.is_Number and abs(a.exp) > MAX_EXPONENT:
                    raise self.fail(node, f"this expression builds a power larger than "
                                          f"{MAX_EXPONENT} ({_short(a.exp)})")
        if result.is_number and result.is_extended_real is False:
            raise self.fail(node, f"this expression is not a real number ({_short(result)})")

    def read_Constant(self, node: ast.Constant, depth: int) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(node, f"{type(value).__name__} literal {value!r:.30} is not allowed; "
                                  "only numbers")
        text = repr(value)
        if len(text) > MAX_LITERAL:
            raise self.fail(node, f"numeric literal longer than {MAX_LITERAL} characters")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(node, "numeric literal is not finite")
        return _number(text)

    def read_Name(self, node: ast.Name, depth: int) -> sp.Expr:
        name = node.id
        if name in self.names:
            return self.names[name]
        if name in RESERVED:
            raise self.fail(node, f"'{name}' is a function; call it as {name}(...)")
        if name in self.sizes:          # a size as a number: 1/n, sqrt(d)
            return A.size_value(name)
        if name == "pi":                # π, where no node is called pi
            return sp.pi
        raise self.fail(node, f"unknown name '{name}'{name_hint(name, self.names)}")

    def read_Attribute(self, node: ast.Attribute, depth: int) -> sp.Expr:
        if node.attr != "T":
            raise self.fail(node, f"attribute .{node.attr} is not allowed (only .T, the transpose)")
        return A.T(self.read(node.value, depth))

    def read_UnaryOp(self, node: ast.UnaryOp, depth: int) -> sp.Expr:
        operand = self.read(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return A.shaped(-operand, A.shape_of(operand))
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.fail(node, f"operator {type(node.op).__name__} is not allowed")

    def sum_terms(self, node: ast.BinOp, depth: int) -> sp.Expr:
        """a + b − c + …, read as one sum (SymPy builds a + b + c pairwise in quadratic time);
        a long sum is one level of nesting, bounded by its number of terms."""
        terms: list[tuple[int, ast.AST]] = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            terms.append((1 if isinstance(node.op, ast.Add) else -1, node.right))
            node = node.left
            if len(terms) > MAX_TERMS:
                raise self.fail(node, f"a sum of more than {MAX_TERMS} terms is too long")
        terms.append((1, node))
        terms.reverse()
        values, each = zip(*(self.term(t, depth) for _, t in terms))
        values, shape = self.broadcast_terms(node, terms, list(values), list(each))
        signed = [v if sign > 0 else -v if A.shape_of(v) else _negated(v)
                  for (sign, _), v in zip(terms, values)] if shape else \
            [v if sign > 0 else _negated(v) for (sign, _), v in zip(terms, values)]
        total = _sum(signed)
        return A.shaped(total, shape)

    def broadcast_terms(self, node, terms, values, each) -> tuple[list, tuple]:
        """Terms broadcast as in NumPy (a scalar, a 1×n row or an m×1 column against a matrix);
        a column b of length n against a matrix of n columns and another number of rows is a
        bias added to every row: bᵀ, written so."""
        shapes = [s for s, v in zip(each, values) if v is not sp.S.Zero]
        try:
            return values, A.broadcast(shapes)
        except A.ShapeError as err:
            first_error = err
        matrices = {s for s in shapes if s and s[0] != 1 and s[1] != 1}
        if len(matrices) == 1:
            (rows, cols), = matrices
            values = [A.T(v) if A.shape_of(v) == (cols, 1) and cols != rows else v
                      for v in values]
            try:
                return values, A.broadcast([A.shape_of(v) for v in values if v is not sp.S.Zero])
            except A.ShapeError:
                pass
        raise self.fail(terms[1][1] if len(terms) > 1 else node, str(first_error))

    def term(self, node: ast.AST, depth: int) -> tuple[sp.Expr, tuple]:
        """A term of a sum and its shape; number·name, of which a layer's sums hold thousands,
        read without the general checks (the literal is checked, and a number times a scalar
        is bounded)."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and \
                isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Name):
            atom = self.names.get(node.right.id)
            if type(atom) is sp.Symbol:          # a scalar name (arrays are ShapedSymbols)
                return _scaled(self.read_Constant(node.left, depth), atom), ()
        value = self.read(node, depth)
        return value, A.shape_of(value)

    def read_BinOp(self, node: ast.BinOp, depth: int) -> sp.Expr:
        if isinstance(node.op, (ast.Add, ast.Sub)):
            return self.sum_terms(node, depth)
        links = [node]      # a * b * c, a chain rule's factors: one level deep, as SymPy's Mul
        while (isinstance(node.op, ast.Mult) and
               isinstance(links[-1].left, ast.BinOp) and type(links[-1].left.op) is type(node.op)):
            links.append(links[-1].left)
            if len(links) >= MAX_TERMS:
                raise self.fail(node, f"a product of more than {MAX_TERMS} factors is too long")
        value = self.read(links[-1].left, depth)
        if len(links) >= WIDE_PRODUCT and isinstance(node.op, ast.Mult):
            factors = [value] + [self.read(link.right, depth) for link in reversed(links)]
            if not any(A.shape_of(f) for f in factors):
                # scalars: one Mul of them all (pairwise, SymPy re-sorted the product so far
                # at each factor: 1,000 factors took 9 s); the result is checked as a whole
                return self.checked(node, lambda: sp.Mul(*factors))
            for link, right in zip(reversed(links), factors[1:]):
                left = value
                value = (self.binary(node, left, right) if link is node else
                         self.checked(link, lambda: self.binary(link, left, right)))
            return value
        for link in reversed(links):
            left, right = value, self.read(link.right, depth)
            value = (self.binary(node, left, right) if link is node else
                     self.checked(link, lambda: self.binary(link, left, right)))
        return value

    def binary(self, node: ast.BinOp, left: sp.Expr, right: sp.Expr) -> sp.Expr:
        op = node.op
        ls, rs = A.shape_of(left), A.shape_of(right)
        if isinstance(op, (ast.Add, ast.Sub)):
            if bool(ls) != bool(rs) and not (left == 0 or right == 0):
                raise self.fail(node, f"shape mismatch for {'+' if isinstance(op, ast.Add) else '-'}"
                                      f": {A.shape_text(ls)} and {A.shape_text(rs)}")
            return left + right if isinstance(op, ast.Add) else left - right
        if isinstance(op, ast.Mult):
            if ls and rs:
                raise self.fail(node, f"shape mismatch for *: {A.shape_text(ls)} and "
                                      f"{A.shape_text(rs)} (use @ for the matrix product, "
                                      "hadamard(a, b) for the elementwise one)")
            if not ls and left.is_Number:       # (an array's Mul with a number is canonical
                return A.shaped(_scaled(left, right), rs)   # the same way: number first)
            if not rs and right.is_Number:
                return A.shaped(_scaled(right, left), ls)
            return A.shaped(left * right, ls or rs)
        if isinstance(op, ast.Div):
            if right == 0:
                raise self.fail(node, "division by zero")
            if rs:              # elementwise, broadcast: exp(Z) / sum(exp(Z), axis=1)
                self.elementwise_shape(node, "/", ls, rs)
                return A.shaped(left * right ** -1, A.broadcast([ls, rs]))
            return A.shaped(left / right, ls)
        if isinstance(op, ast.Pow):
            matrix = [s for s in (ls, rs) if s and s[0] != 1 and s[1] != 1]
            if ls in matrix:
                return self.matrix_power(node, left, right)      # X ** k of a matrix
            if matrix:
                raise self.fail(node, f"** needs scalars, not {A.shape_text(rs)} (use "
                                      "hadamard(a, a), a.T @ a or inv(a))")
            shape = self.elementwise_shape(node, "**", ls, rs)   # a vector's: elementwise
            return A.shaped(self.power(node, left, right), shape)
        if isinstance(op, ast.MatMult):
            return self.matmul(node, left, right)
        names = {ast.Mod: "%", ast.FloorDiv: "//",
                 ast.BitXor: "^ (use ** for powers)", ast.BitAnd: "&", ast.BitOr: "|",
                 ast.LShift: "<<", ast.RShift: ">>"}
        raise self.fail(node, f"operator {names.get(type(op), type(op).__name__)} is not allowed "
                              "here")

    def elementwise_shape(self, node: ast.AST, what: str, *shapes) -> tuple:
        if not any(shapes):
            return A.SCALAR            # scalars alone (A.broadcast's answer, at once)
        try:
            return A.broadcast(shapes, what)
        except A.ShapeError as err:
            raise self.fail(node, str(err), "shape") from None

    def power(self, node: ast.AST, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        if exponent.is_number:
            if exponent.is_extended_real is False:
                raise self.fail(node, f"exponent {_short(exponent)} is not a real number")
            if abs(float(exponent)) > MAX_EXPONENT:
                raise self.fail(node, f"exponent {_short(exponent)} is larger than {MAX_EXPONENT}")
            coefficient = base if base.is_number else base.as_coeff_Mul()[0]  # (10**999*x)**4
            if _digits(coefficient) * abs(float(exponent)) > MAX_DIGITS:
                raise self.fail(node, f"this power would have more than {MAX_DIGITS} digits")
        if base == 0 and exponent.is_number and exponent.is_negative:
            raise self.fail(node, "division by zero (0 to a negative power)")
        return sp.Pow(base, exponent)

    def matrix_power(self, node: ast.AST, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        """X**k of a square matrix and an integer k: X⁰ = I, X⁻ᵏ = (X⁻¹)ᵏ; k is bounded
        because the power's derivative is a sum of k terms."""
        from deriv.matrix_functions import MAX_MATRIX_POWER
        shape = A.shape_of(base)
        if shape[0] != shape[1]:
            raise self.fail(node, f"** of a matrix needs a square matrix, not "
                                  f"{A.shape_text(shape)} (the matrix power X**k; hadamard(X, X) is the "
                                  f"elementwise square)", "shape")
        if not (exponent.is_Integer and abs(int(exponent)) <= MAX_MATRIX_POWER):
            raise self.fail(node, f"a matrix power X**k needs an integer k from "
                                  f"-{MAX_MATRIX_POWER} to {MAX_MATRIX_POWER}, not "
                                  f"{_short(exponent)} (hadamard(X, X) is the elementwise "
                                  "square)")
        k = int(exponent)
        return A.matpow(base if k >= 0 else A.inv(base), abs(k))

    def matmul(self, node: ast.AST, left: sp.Expr, right: sp.Expr) -> sp.Expr:
        ls, rs = A.shape_of(left), A.shape_of(right)
        if not (ls and rs) and (ls or rs) and _fits_as_1x1(ls, rs):
            return A.shaped(left * right, ls or rs)     # u @ (uᵀt): a 1×1 is a scalar
        if not ls or not rs:
            both = "" if (ls or rs) else \
                f" (here both are scalars — a literal 1×1, such as matrix(1, 1), vector(1) or a " \
                f"sum over the other axis of one column, is a scalar: write {_unparse(node.left)}" \
                f" * {_unparse(node.right)})"
            raise self.fail(node, "@ is the matrix product of two arrays; use * with a scalar" +
                            both, "shape")
        try:          # the shapes as written (before eye(n) @ A is simplified to A)
            shape = A.product_shape(A.shape_of(left), A.shape_of(right))
            return A.shaped(A.matmul(left, right), shape)
        except A.ShapeError as err:
            raise self.fail(node, f"{err} in `{_unparse(node)}`", "shape") from None

    def arity(self, node: ast.Call, name: str, arity: int):
        if len(node.args) != arity:
            raise self.fail(node, f"{name} takes {arity} argument{'s' * (arity > 1)}, "
                                  f"got {len(node.args)}")

    def read_Call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, f"calling {_describe(node.func)} is not allowed; only the named "
                                  f"functions may be called ({', '.join(P.function_names())})")
        name = node.func.id
        if name in array_calls.CALLS:          # axis=, constants: their own module
            value = array_calls.read_call(self, node, name, depth)
            if value is not None:
                return value
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, f"{name}(...) takes plain positional arguments only")
        if name == "D":
            return self.read_D(node)
        if name == "eye":
            self.arity(node, name, 1)
            a = node.args[0]
            if isinstance(a, ast.Name) and a.id in self.sizes:
                return A.eye(a.id)
            if isinstance(a, ast.Constant) and type(a.value) is int and 1 < a.value <= MAX_SIZE:
                return A.eye(a.value)
            raise self.fail(node, f"eye takes a size: a size name such as n, or a number 2 to "
                                  f"{MAX_SIZE}")
        if name == "hadamard":
            self.arity(node, name, 2)
            a, b = (self.read(x, depth) for x in node.args)
            if not (A.shape_of(a) and A.shape_of(b)):
                raise self.fail(node, f"shape mismatch for ⊙ (hadamard): "
                                      f"{A.shape_text(A.shape_of(a))} and "
                                      f"{A.shape_text(A.shape_of(b))}")
            shape = self.elementwise_shape(node, "⊙ (hadamard)", A.shape_of(a), A.shape_of(b))
            return A.shaped(a * b, shape)
        entry = P.BY_NAME.get(name) if name[0].isalpha() else None
        if entry is None:
            raise self.fail(node.func, f"unknown function '{name}'{function_hint(name)}")
        self.arity(node, name, entry.arity)
        if entry.comparison and isinstance(node.args[0], ast.Compare):
            difference, inclusive = self.comparison(node.args[0], depth)
            if not inclusive:
                return entry.cls(difference)
            # I(a ≥ b) = 1 − I[b − a > 0]: a tie counts (the argmax itself, in ∂max/∂x)
            shape = A.shape_of(difference)
            return (A.ones(shape) if shape else 1) - entry.cls(-difference)
        args = [self.read(a, depth) for a in node.args]
        wrong = entry.check(A, args) if entry.check is not None else None
        if wrong:
            raise self.fail(node, f"{name} {wrong}")
        if entry.elementwise:          # arguments broadcast as in NumPy
            self.elementwise_shape(node, name, *(A.shape_of(a) for a in args))
        if entry.sympy is not None and not any(a.is_number for a in args):
            # SymPy's own functions (exp, sin, ...) are kept as written: their automatic
            # rewriting asks the assumption system and costs ~2 ms a call on a symbol
            return P.applied(entry.cls, tuple(args), evaluate=False)
        return P.applied(entry.cls, tuple(args))

    def read_List(self, node: ast.List, depth: int) -> sp.Expr:
        return array_calls.literal(self, node, depth)

    def comparison(self, node: ast.Compare, depth: int) -> tuple[sp.Expr, bool]:
        """(d, inclusive): I(a > b) is I[d > 0] with d = a − b, I(a < b) with d = b − a;
        inclusive for >= and <=."""
        if len(node.ops) != 1:
            raise self.fail(node, "only one comparison (a > b or a < b) is allowed")
        left, right = self.read(node.left, depth), self.read(node.comparators[0], depth)
        op = node.ops[0]
        if isinstance(op, (ast.Gt, ast.GtE)):
            return left - right, isinstance(op, ast.GtE)
        if isinstance(op, (ast.Lt, ast.LtE)):
            return right - left, isinstance(op, ast.LtE)
        raise self.fail(node, "the comparison in an indicator must be >, >=, < or <=")

    def read_D(self, node: ast.Call) -> sp.Expr:
        if self.derivative is None:
            raise self.fail(node, "D(...) may be used only in a claim's expr or chain")
        names = d_names(node)
        if names is None:
            raise self.fail(node, "D takes two names, D(of, wrt), or a derivative and a name, "
                                  "D(D(of, x), y)")
        of, wrt = names
        try:
            return self.derivative(of, wrt)
        except DerivError as err:
            raise self.fail(node, err.message) from None


def _unparse(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:      # noqa: BLE001  (a message, not a result)
        return ""
    return text if len(text) < 60 else text[:57] + "..."


def _fits_as_1x1(left: tuple, right: tuple) -> bool:
    """A scalar operand of @ is the 1×1 that uᵀt gives: it fits a column on its left
    (n×1 @ 1×1) or a row on its right (1×1 @ 1×n)."""
    try:
        A.product_shape(left, right)
    except A.ShapeError:
        return False
    return True


def _short(expr: sp.Expr) -> str:
    text = str(expr)
    return text if len(text) < 20 else text[:17] + "..."


def _describe(node: ast.AST) -> str:
    kinds = {
        "Attribute": "attribute access (a.b)", "Lambda": "a lambda", "ListComp": "a comprehension",
        "GeneratorExp": "a generator", "DictComp": "a comprehension", "SetComp": "a comprehension",
        "JoinedStr": "an f-string", "NamedExpr": "an assignment (:=)", "Subscript": "indexing (a[b])",
        "Compare": "a comparison (only inside I(...))", "BoolOp": "and/or", "IfExp": "if/else",
        "List": "a list", "Tuple": "a tuple", "Dict": "a dict", "Set": "a set",
        "Starred": "unpacking (*)", "Await": "await", "Yield": "yield", "Slice": "a slice",
    }
    return kinds.get(type(node).__name__, f"'{type(node).__name__}'")


# What Python's tokenizer warns about: a number run into a letter (1if, 0x1for, 1.5else) and
# escapes in strings. Texts without any of this are parsed without silencing warnings.
_MAY_WARN = re.compile(r"[\"'\\]|(?<![A-Za-z0-9_])[0-9][0-9_.]*[A-Za-z_]")


@functools.lru_cache(maxsize=20_000)     # a graph's lines are read twice: for order, for values
def parse_ast(text: str) -> ast.Expression:
    """Python's parser on the text wrapped in parentheses (so it may span lines); the tree is
    only read, never changed, so it is shared."""
    if len(text) > MAX_TEXT:
        raise DerivError(f"expression longer than {MAX_TEXT} characters", None, 1, 1)
    if not text.strip() or "#" in text and \
            all(not line.strip() or line.lstrip().startswith("#") for line in text.split("\n")):
        raise DerivError("empty expression", None, 1, 1)
    bad = _place(text)
    if bad:
        line, col = bad
        ch = text.split("\n")[line - 1][col - 1]   # not splitlines: \r, \f are characters here
        raise DerivError(f"character {ch!r} (U+{ord(ch):04X}) is not allowed; names and "
                         "operators are ASCII (write psi02, not ψ₀₂)", None, line, col)
    try:
        if _MAY_WARN.search(text) is None:     # (most texts: no warnings to silence)
            return ast.parse("(" + text + "\n)", mode="eval")
        with warnings.catch_warnings():   # "1if x else 2": Python warns, deriv refuses anyway
            warnings.simplefilter("ignore")
            return ast.parse("(" + text + "\n)", mode="eval")
    except SyntaxError as err:
        line = err.lineno or 1
        col = (err.offset or 1) - (1 if line == 1 else 0)
        msg = (err.msg or "invalid syntax").split(" (")[0]
        if msg.startswith("Exceeds the limit"):   # Python's own cap on an int literal
            msg = f"numeric literal longer than {MAX_LITERAL} characters"
        if "was never closed" in msg:       # Python names the wrapper's "(": find the text's
            line, col = _unclosed(text) or (line, col)
        raise DerivError(f"syntax error: {msg}", None, max(line, 1), max(col, 1)) from None
    except (RecursionError, MemoryError, ValueError) as err:
        raise DerivError(f"expression too complex to read ({type(err).__name__})", None, 1, 1) \
            from None


def _unclosed(text: str) -> tuple[int, int] | None:
    """Line and column of the first bracket of `text` never closed."""
    stack = []
    for line, row in enumerate(text.split("\n"), 1):
        for col, ch in enumerate(row, 1):
            if ch in "([{":
                stack.append((line, col))
            elif ch in ")]}" and stack:
                stack.pop()
    return stack[0] if stack else None


def parse_expression(text: str, names: Mapping[str, sp.Expr], *,
                     derivative: Callable[[str, str], sp.Expr] | None = None,
                     sizes: frozenset = frozenset()) -> sp.Expr:
    """Read `text` into a SymPy expression over `names`; D(a, b) goes through `derivative`.

    Raises DerivError with a line and column counted inside `text`.
    """
    tree = parse_ast(text)
    try:
        return _Reader(names, derivative, 0, 1, sizes).read(tree.body)
    except RecursionError:
        raise DerivError("expression too deeply nested", None, 1, 1) from None


def parse_factors(text: str, names: Mapping[str, sp.Expr], *,
                  derivative: Callable[[str, str], sp.Expr] | None = None,
                  sizes: frozenset = frozenset()) -> list[tuple[str, sp.Expr]]:
    """The factors of a top-level product as written, each with the operator before it
    ("*" or "@"): "(-sin(f2))*(omega3)*(2*f3)" gives [-sin(f2), omega3, 2*f3] (SymPy alone
    would merge the constants); "D(l, f) @ h.T" gives [D(l, f), hᵀ]."""
    tree = parse_ast(text)
    reader = _Reader(names, derivative, 0, 1, sizes)
    factors: list[tuple[str, ast.AST]] = []
    node = tree.body
    # a*b@c parses as (a*b)@c: walk down the left side only, so that a written right operand
    # such as (2*f3) stays one factor
    while isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.MatMult)):
        factors.append(("@" if isinstance(node.op, ast.MatMult) else "*", node.right))
        node = node.left
    factors.append(("*", node))
    factors.reverse()
    try:
        return [(op, reader.read(f)) for op, f in factors]
    except RecursionError:
        raise DerivError("expression too deeply nested", None, 1, 1) from None


def product(factors: list[tuple[str, sp.Expr]]) -> sp.Expr:
    """The factors multiplied again, each by its written operator."""
    out = factors[0][1]
    for op, f in factors[1:]:
        out = A.matmul(out, f) if op == "@" else out * f
    return out


def parse_chain(text: str, known: set[str]) -> list[list[DRef]]:
    """A printed chain-rule decomposition: a sum of products of D(a, b) factors.

    Kept as structure (not SymPy) so that D(l, f3) * D(l, f3) stays two factors.
    """
    tree = parse_ast(text)
    reader = _Reader({}, None, 0, 1)

    def factors(node: ast.AST) -> list[DRef]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.MatMult)):
            return factors(node.left) + factors(node.right)
        names = d_names(node)
        if names is not None:
            of, wrt = names
            for name in (of, wrt):
                if name not in known:
                    raise reader.fail(node, f"unknown name '{name}' in D({of}, {wrt})")
            return [DRef(of, wrt)]
        raise reader.fail(node, "a chain is a sum of products of D(a, b) factors")

    def terms(node: ast.AST) -> list[list[DRef]]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return terms(node.left) + terms(node.right)
        return [factors(node)]

    try:
        return terms(tree.body)
    except RecursionError:
        raise DerivError("chain too deeply nested", None, 1, 1) from None
