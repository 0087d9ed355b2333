"""The independent oracle: component-wise SymPy derivatives on explicit small matrices.

Every input becomes a SymPy Matrix of entry symbols (W → W_0_0, W_0_1, …); the graph is
evaluated with SymPy's own matrix operations (no adjoint rule is used), and ∂L/∂W_ij is
SymPy's `diff` of the scalar output by each entry. Used by the tests to check the engine.
"""

from __future__ import annotations

import sympy as sp

from deriv.matrix.expr import MExpr


def _fn(name: str, x, extra):
    if name == "relu":
        return sp.Max(x, 0)
    if name == "indicator":
        return sp.Heaviside(x, 0)
    if name == "sigmoid":
        return 1 / (1 + sp.exp(-x))
    if name == "leaky_relu":
        return sp.Piecewise((x, x > 0), (extra[0] * x, True))
    if name == "recip":
        return 1 / x
    if name == "sign":
        return sp.sign(x)
    return {"exp": sp.exp, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh,
            "sqrt": sp.sqrt, "abs": sp.Abs}[name](x)


def evaluate(e: MExpr, env: dict, sizes: dict) -> sp.Matrix:
    """The expression as an explicit SymPy Matrix (scalars are 1×1)."""
    def size(s):
        return s if isinstance(s, int) else sizes[s]

    def ev(x: MExpr) -> sp.Matrix:
        op = x.op
        if op == "var":
            return env[x.data]
        if op == "const":
            return sp.Matrix([[sp.nsimplify(x.data)]])
        if op == "eye":
            return sp.eye(size(x.shape[0]))
        if op == "ones":
            return sp.ones(size(x.shape[0]), size(x.shape[1]))
        v = [ev(a) for a in x.args]
        if op == "add":
            return v[0] + v[1]
        if op == "neg":
            return -v[0]
        if op == "scale":
            return v[0][0, 0] * v[1]
        if op == "div":
            return v[0] / v[1][0, 0]
        if op == "matmul":
            return v[0] * v[1]
        if op == "T":
            return v[0].T
        if op == "had":
            return v[0].multiply_elementwise(v[1])
        if op == "fn":
            extra = [w[0, 0] for w in v[1:]]
            return v[0].applyfunc(lambda z: _fn(x.data, z, extra))
        if op == "pow":
            return sp.Matrix([[v[0][0, 0] ** sp.nsimplify(x.data)]])
        if op == "sum":
            return sp.Matrix([[sum(v[0])]])
        if op == "norm2":
            return sp.Matrix([[sum(z ** 2 for z in v[0])]])
        if op == "norm":
            return sp.Matrix([[sp.sqrt(sum(z ** 2 for z in v[0]))]])
        if op == "trace":
            return sp.Matrix([[v[0].trace()]])
        if op == "det":
            return sp.Matrix([[v[0].det()]])
        if op == "logdet":
            return sp.Matrix([[sp.log(sp.Abs(v[0].det()))]])
        if op == "inv":
            return v[0].inv()
        if op == "diag":
            return sp.diag(*list(v[0]))
        if op == "diagv":
            return sp.Matrix([v[0][i, i] for i in range(v[0].shape[0])])
        raise ValueError(op)
    return ev(e)


def symbols_for(name: str, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}_{j}", real=True))


def gradient(graph, output: str, wrt: str, values: dict, sizes: dict):
    """∂output/∂wrt entry by entry, at `values` (name → NumPy array), as a NumPy array."""
    import numpy as np
    env, subs = {}, {}
    for name, inp in graph.inputs.items():
        r, c = values[name].shape
        m = symbols_for(name, r, c)
        env[name] = m
        subs.update({m[i, j]: sp.Float(values[name][i, j], 30)
                     for i in range(r) for j in range(c)})
    for name in graph.order:
        env[name] = evaluate(graph.nodes[name].expr, env, sizes)
    out = env[output][0, 0]
    target = env[wrt]
    grad = np.zeros(target.shape)
    for i in range(target.shape[0]):
        for j in range(target.shape[1]):
            s = target[i, j]
            if not isinstance(s, sp.Symbol):
                raise ValueError("the oracle differentiates with respect to inputs only")
            grad[i, j] = float(sp.diff(out, s).subs(subs).evalf(20))
    return grad
