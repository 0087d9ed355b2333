"""The safe matrix-expression parser: Python's `ast` through a whitelist, never evaluated.

Beyond the scalar syntax: `@` (matrix product), `.T` (transpose), `hadamard(a, b)`, `sum`,
`norm2` (‖x‖²), `norm` (‖x‖), `trace`/`tr`, `inv`, `det`, `logdet` (log |det|), `eye(n)`,
`diag`, and the elementwise functions. Every operation checks shapes; a mismatch is a
DerivError naming both shapes, placed at the operation's line and column.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from typing import Callable, Mapping

from deriv.errors import DerivError
from deriv.matrix import expr as E
from deriv.matrix.expr import MExpr, ShapeError
from deriv.parse import MAX_DEPTH, MAX_EXPONENT, MAX_LITERAL, parse_ast

ELEMENTWISE_NAMES = {
    "exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tanh": "tanh", "sqrt": "sqrt",
    "abs": "abs", "relu": "relu", "sigmoid": "sigmoid", "sig": "sigmoid", "I": "indicator",
    "heaviside": "indicator", "indicator": "indicator",
}
REDUCTIONS = {"sum": "sum", "norm2": "norm2", "norm": "norm", "trace": "trace", "tr": "trace",
              "det": "det", "logdet": "logdet"}
OTHER = {"leaky_relu", "hadamard", "inv", "eye", "diag", "D"}
RESERVED = set(ELEMENTWISE_NAMES) | set(REDUCTIONS) | OTHER | {"T"}


class _Reader:
    def __init__(self, names: Mapping[str, MExpr], sizes: set, derivative):
        self.names = names
        self.sizes = sizes
        self.derivative = derivative

    def fail(self, node: ast.AST, message: str) -> DerivError:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0) + 1 - (1 if line == 1 else 0)
        return DerivError(message, None, line, col)

    def shaped(self, node, build, *args):
        try:
            return build(*args)
        except ShapeError as err:
            text = ast.unparse(node) if hasattr(ast, "unparse") else ""
            raise self.fail(node, f"{err} in `{text}`") from None

    def read(self, node: ast.AST, depth: int = 0) -> MExpr:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"expression nested deeper than {MAX_DEPTH} levels")
        method = getattr(self, "read_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"{type(node).__name__} is not allowed in a matrix expression")
        return method(node, depth + 1)

    def read_Constant(self, node, depth):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)) or len(repr(v)) > MAX_LITERAL:
            raise self.fail(node, f"literal {v!r:.30} is not allowed; only numbers")
        return E.const(Fraction(repr(v)) if isinstance(v, float) else v)

    def read_Name(self, node, depth):
        if node.id in self.names:
            return self.names[node.id]
        if node.id in self.sizes:
            raise self.fail(node, f"'{node.id}' is a size; it may appear only in eye({node.id})")
        raise self.fail(node, f"unknown name '{node.id}'")

    def read_Attribute(self, node, depth):
        if node.attr != "T":
            raise self.fail(node, f"attribute .{node.attr} is not allowed (only .T)")
        return E.T(self.read(node.value, depth))

    def read_UnaryOp(self, node, depth):
        x = self.read(node.operand, depth)
        if isinstance(node.op, ast.USub):
            return E.neg(x) if x.op != "const" else E.const(-x.data)
        if isinstance(node.op, ast.UAdd):
            return x
        raise self.fail(node, f"operator {type(node.op).__name__} is not allowed")

    def read_BinOp(self, node, depth):
        a, b = self.read(node.left, depth), self.read(node.right, depth)
        op = node.op
        if isinstance(op, ast.Add):
            return self.shaped(node, E.add, a, b)
        if isinstance(op, ast.Sub):
            return self.shaped(node, E.sub, a, b)
        if isinstance(op, ast.Mult):
            if a.op == "const" and b.op == "const":
                return E.const(a.data * b.data)
            return self.shaped(node, E.scale, a, b)
        if isinstance(op, ast.Div):
            if b.op == "const" and b.data == 0:
                raise self.fail(node, "division by zero")
            if a.op == "const" and b.op == "const":
                return E.const(Fraction(a.data) / Fraction(b.data))
            return self.shaped(node, E.div, a, b)
        if isinstance(op, ast.MatMult):
            return self.shaped(node, E.matmul, a, b)
        if isinstance(op, ast.Pow):
            if b.op != "const":
                raise self.fail(node, "an exponent must be a number")
            if abs(b.data) > MAX_EXPONENT:
                raise self.fail(node, f"exponent larger than {MAX_EXPONENT}")
            if b.data == -1 and not a.scalar:
                raise self.fail(node, "use inv(X) for a matrix inverse")
            if a.op == "const":
                if a.data == 0 and b.data < 0:
                    raise self.fail(node, "division by zero")
                return E.const(Fraction(a.data) ** int(b.data)) if Fraction(b.data).denominator \
                    == 1 else E.const(float(a.data) ** float(b.data))
            return self.shaped(node, E.power, a, b.data)
        raise self.fail(node, f"operator {type(op).__name__} is not allowed")

    def comparison(self, node: ast.Compare, depth) -> MExpr:
        if len(node.ops) != 1:
            raise self.fail(node, "only one comparison (a > b or a < b) is allowed")
        left, right = self.read(node.left, depth), self.read(node.comparators[0], depth)
        if isinstance(node.ops[0], (ast.Lt, ast.LtE)):
            left, right = right, left
        if right.op == "const" and right.data == 0:     # I(x > 0), x any shape
            return left
        if left.op == "const" and left.data == 0:
            return E.neg(right)
        if isinstance(node.ops[0], (ast.Gt, ast.GtE, ast.Lt, ast.LtE)):
            return self.shaped(node, E.sub, left, right)
        if isinstance(node.ops[0], (ast.Gt, ast.GtE)):
            return self.shaped(node, E.sub, left, right)
        if isinstance(node.ops[0], (ast.Lt, ast.LtE)):
            return self.shaped(node, E.sub, right, left)
        raise self.fail(node, "the comparison in an indicator must be >, >=, < or <=")

    def read_Call(self, node, depth):
        if not isinstance(node.func, ast.Name) or node.keywords or \
                any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, "only the named functions may be called, with plain arguments")
        name, args = node.func.id, node.args

        def arity(n):
            if len(args) != n:
                raise self.fail(node, f"{name} takes {n} argument{'s' * (n > 1)}, got {len(args)}")

        if name == "D":
            if self.derivative is None:
                raise self.fail(node, "D(...) may be used only in a claim")
            if len(args) != 2 or not all(isinstance(a, ast.Name) for a in args):
                raise self.fail(node, "D takes two names: D(of, wrt)")
            try:
                return self.derivative(args[0].id, args[1].id)
            except (DerivError, ShapeError) as err:
                raise self.fail(node, getattr(err, "message", str(err))) from None
        if name == "eye":
            arity(1)
            a = args[0]
            if isinstance(a, ast.Name) and a.id in self.sizes:
                return E.eye(a.id)
            if isinstance(a, ast.Constant) and isinstance(a.value, int) and 0 < a.value < 10_000:
                return E.eye(a.value)
            raise self.fail(node, "eye takes a size: a size name such as n, or a number")
        if name in ELEMENTWISE_NAMES:
            arity(1)
            if ELEMENTWISE_NAMES[name] == "indicator" and isinstance(args[0], ast.Compare):
                return E.fn("indicator", self.comparison(args[0], depth))
            return E.fn(ELEMENTWISE_NAMES[name], self.read(args[0], depth))
        if name == "leaky_relu":
            arity(2)
            return self.shaped(node, E.fn, "leaky_relu", self.read(args[0], depth),
                               self.read(args[1], depth))
        if name in REDUCTIONS:
            arity(1)
            return self.shaped(node, E.reduce, REDUCTIONS[name], self.read(args[0], depth))
        if name == "hadamard":
            arity(2)
            return self.shaped(node, E.had, self.read(args[0], depth), self.read(args[1], depth))
        if name == "inv":
            arity(1)
            return self.shaped(node, E.inv, self.read(args[0], depth))
        if name == "diag":
            arity(1)
            return self.shaped(node, E.diag, self.read(args[0], depth))
        raise self.fail(node.func, f"unknown function '{name}'")


def parse_matrix(text: str, names: Mapping[str, MExpr], sizes: set, *,
                 derivative: Callable[[str, str], MExpr] | None = None) -> MExpr:
    """Read `text` into an MExpr; errors carry a line and column counted inside `text`."""
    tree = parse_ast(text)
    try:
        return _Reader(names, sizes, derivative).read(tree.body)
    except RecursionError:
        raise DerivError("expression too deeply nested", None, 1, 1) from None
