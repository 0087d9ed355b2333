"""The file syntax of reductions over an axis, constants and literals, read for the parser.

    sum(X, axis=0)   mean(X)   mean(X, axis=1)   max(X)   max(X, axis=1)   min(...)
    logsumexp(x)     logsumexp(X, axis=1)        softmax(z)   softmax(Z, axis=1)
    norm(X, axis=1)  norm2(X, axis=1)   norm1(x)   outer(a, b)   dot(a, b)
    ones(n)  ones(m, n)  zeros(m, n)  onehot(k, n)   [1, 2, 3]   [[1, 2], [3, 4]]

An axis keeps its place with size 1 (NumPy's keepdims): over axis 0 an m×n matrix gives the
1×n row of column sums, over axis 1 the m×1 column of row sums, and either broadcasts back
against the matrix. mean, norm, outer and dot are written with the registry's primitives
(sum / n, √sum(X²), a @ bᵀ, aᵀ @ b), so their derivatives need no rule of their own.
"""

from __future__ import annotations

import ast

import sympy as sp

from deriv import algebra as A
from deriv import reductions

AXIS_CALLS = {"sum", "mean", "max", "min", "logsumexp", "softmax", "norm", "norm2"}
CALLS = AXIS_CALLS | {"norm1", "outer", "dot", "ones", "zeros", "onehot"}
NAMES = {"mean", "softmax", "logsumexp", "norm1", "outer", "dot", "ones", "zeros", "onehot"}
MAX_SIZE = 64
AXIS_HELP = "axis is 0 (down each column: one result per column) or 1 (along each row)"


def read_call(reader, node: ast.Call, name: str, depth: int) -> sp.Expr | None:
    """The call's value, or None where it is an ordinary call (max(a, b), sum(x))."""
    axis_kw = [k for k in node.keywords if k.arg == "axis"]
    if any(k.arg != "axis" for k in node.keywords) or \
            any(isinstance(a, ast.Starred) for a in node.args):
        raise reader.fail(node, f"{name}(...) takes plain positional arguments only"
                                + (" and axis=" if name in AXIS_CALLS else ""))
    if axis_kw and name not in AXIS_CALLS:
        raise reader.fail(axis_kw[0].value, f"{name} takes no axis")
    if name in ("ones", "zeros", "onehot"):
        return constant(reader, node, name)
    if not axis_kw and len(node.args) == (2 if name in ("max", "min") else 1) and \
            name in ("max", "min", "sum", "norm", "norm2"):
        return None                         # max(a, b), min(a, b), sum(x): the registry's own
    args = [reader.read(a, depth) for a in node.args]
    arity = 2 if name in ("outer", "dot") else 1
    if len(args) != arity:
        more = " (an axis is given as axis=0 or axis=1)" if name in AXIS_CALLS else ""
        raise reader.fail(node, f"{name} takes {arity} argument{'s' * (arity > 1)}, "
                                f"got {len(args)}{more}")
    if name in ("outer", "dot"):
        return products(reader, node, name, *args)
    (x,) = args
    shape = A.shape_of(x)
    axis = read_axis(reader, axis_kw[0].value) if axis_kw else None
    if not shape:
        raise reader.fail(node, f"{name}{' over an axis' if axis is not None else ''} needs a "
                                "vector or a matrix, not a scalar")
    if name == "softmax" and axis is None:
        if shape[0] != 1 and shape[1] != 1:
            raise reader.fail(node, "softmax of a matrix needs an axis: axis=1 for each row, "
                                    "axis=0 for each column")
        axis = 0 if shape[1] == 1 else 1
    if name == "mean":
        return A.total(x, axis) / count(shape, axis)
    if name == "norm2":
        return A.total(x ** 2, axis)
    if name == "norm":
        return sp.sqrt(A.total(x ** 2, axis))
    if name == "norm1":
        return A.total(sp.Abs(x), None)
    if name == "sum":
        return A.total(x, axis)
    if axis is not None and shape[axis] == 1:       # one entry along the axis
        return {"softmax": A.ones(shape)}.get(name, x)
    if axis is not None and shape[1 - axis] == 1:   # a vector along its length: all entries
        axis = None if name != "softmax" else axis
    return reductions.axis_entry(name, axis).cls(x)


def read_axis(reader, node: ast.AST) -> int:
    value = node.operand.value if isinstance(node, ast.UnaryOp) and \
        isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) else \
        node.value if isinstance(node, ast.Constant) else None
    if isinstance(node, ast.UnaryOp) and value is not None:
        value = -value
    if type(value) is not int or value not in (0, 1, -1, -2):
        raise reader.fail(node, f"unknown axis {ast.unparse(node)[:20]!r}: {AXIS_HELP}")
    return value % 2


def count(shape: tuple, axis) -> sp.Expr:
    """How many entries a mean divides by: a size's own value where it is a name."""
    dims = shape if axis is None else (shape[axis],)
    return sp.Mul(*(A.size_value(d) if isinstance(d, str) else sp.Integer(d) for d in dims))


def products(reader, node, name: str, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    sa, sb = A.shape_of(a), A.shape_of(b)
    if not sa and not sb:          # vectors of one entry (vector(1) is a number)
        return a * b
    if not (sa and sa[1] == 1 and sb and sb[1] == 1):
        raise reader.fail(node, f"{name} takes two column vectors, not "
                                f"{A.shape_text(sa)} and {A.shape_text(sb)}", "shape")
    if name == "dot" and sa != sb:
        raise reader.fail(node, f"shape mismatch for dot: {A.shape_text(sa)} and "
                                f"{A.shape_text(sb)}", "shape")
    return A.matmul(a, A.T(b)) if name == "outer" else A.matmul(A.T(a), b)


def size_arg(reader, node: ast.AST, what: str):
    if isinstance(node, ast.Name) and node.id in reader.sizes:
        return node.id
    if isinstance(node, ast.Constant) and type(node.value) is int and 1 <= node.value <= MAX_SIZE:
        return node.value
    raise reader.fail(node, f"{what} takes sizes: a size name such as n, or a number 1 to "
                            f"{MAX_SIZE}")


def constant(reader, node: ast.Call, name: str) -> sp.Expr:
    if name == "onehot":
        if len(node.args) != 2:
            raise reader.fail(node, "onehot takes a class and a size: onehot(k, n) is the k-th "
                                    "unit vector of length n (k from 1)")
        k, n = node.args
        n_value = size_arg(reader, n, "onehot")
        if not (isinstance(k, ast.Constant) and type(k.value) is int and
                1 <= k.value <= (n_value if isinstance(n_value, int) else MAX_SIZE)):
            raise reader.fail(k, "onehot(k, n): k is a number from 1 to n")
        return A.SizeConstant(f"onehot{k.value}", (n_value, 1))
    if not 1 <= len(node.args) <= 2:
        raise reader.fail(node, f"{name} takes one size (a vector) or two (a matrix)")
    dims = tuple(size_arg(reader, a, name) for a in node.args)
    dims = dims + (1,) if len(dims) == 1 else dims
    return A.ones(A.normal(dims)) if name == "ones" else A.zeros(A.normal(dims))


def literal(reader, node: ast.List, depth: int) -> sp.Expr:
    """[1, 2, 3] is a column vector; [[1, 2], [3, 4]] a matrix, row by row."""
    rows = node.elts
    nested = [isinstance(r, ast.List) for r in rows]
    if not rows or (any(nested) and not all(nested)):
        raise reader.fail(node, "a literal is [a, b, …] (a column vector) or [[a, b], [c, d]] "
                                "(a matrix, row by row)")
    table = [r.elts for r in rows] if all(nested) else [[r] for r in rows]
    width = len(table[0])
    if len(table) > MAX_SIZE or width > MAX_SIZE or width == 0:
        raise reader.fail(node, f"a literal has 1 to {MAX_SIZE} rows and columns")
    values = []
    for row, r in zip(table, rows):
        if len(row) != width:
            raise reader.fail(r, f"the rows of a matrix literal have one length ({width})")
        out = []
        for item in row:
            v = reader.read(item, depth)
            if not (v.is_Number and v.is_finite and v.is_real):
                raise reader.fail(item, "the entries of a literal are numbers (a node or an "
                                        "input is not a constant)")
            out.append(v)
        values.append(tuple(out))
    if len(values) == 1 and width == 1:
        return values[0][0]
    return A.ArrayLiteral(tuple(values))
