"""Vectors and matrices: shapes with symbolic sizes, matrix adjoint rules, matrix claims.

A separate subsystem from the scalar engine. A problem with any `vector(n)` or
`matrix(m, n)` input is loaded by `deriv.matrix.problem`, checked by `deriv.matrix.check`
and derived by `deriv.matrix.solve`. Nothing here is imported by `deriv --help`.

    expr.py     the expression tree (MExpr): shapes, printing, simplification
    parse.py    the safe parser (Python `ast` through a whitelist), with shape checking
    rules.py    one forward rule and one adjoint rule per operation, side by side
    engine.py   reverse sweeps: symbolic steps with shapes, numeric gradients and Jacobians
    problem.py  loading a matrix problem; check.py: claims; solve.py: `deriv solve`
    oracle.py   component-wise SymPy derivatives on explicit small matrices (tests)
"""
