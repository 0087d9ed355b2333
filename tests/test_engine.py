"""The engine against an independent oracle: every derivative of every scalar catalog problem,
from the reverse sweep and the forward sweep (their closed forms) and from the adjoint program
evaluated numerically (deriv.program.Values.derivative), equals SymPy's diff of the inlined
expression, evaluated by sympy.lambdify at sampled points.

The oracle never calls deriv's rules: deriv's own functions (relu, sigmoid, indicator, ...) are
first rewritten into SymPy built-ins (Piecewise, exp), so SymPy differentiates them itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from deriv import generic
from deriv import primitives as P
from deriv.catalog import load_catalog
from deriv.problem import load_text
from deriv.program import Values
from deriv.sampling import draw_all
from deriv.sweep import forward, reverse

N = 64


def _scalar(problem) -> bool:
    g = problem.graph
    return all(not g.shape(n) for n in list(g.inputs) + list(g.order))


# The oracle inlines the graph: problem-7.11's fifty nested layers exceed Python's recursion
# limit in SymPy (the engine never inlines; its sweeps of that graph are tested elsewhere).
ORACLE_DEPTH = 40
CATALOG = [p for p in load_catalog() if _scalar(p) and len(p.graph.order) <= ORACLE_DEPTH]


def H(z):
    """The step 𝕀[z > 0] as SymPy's own Heaviside (0 at 0, as deriv's indicator)."""
    return sp.Heaviside(z, 0)


# deriv's functions as SymPy built-ins: SymPy, not deriv's partials, differentiates them
# (Heaviside rather than Piecewise: lambdify prints nested Piecewise very slowly)
BUILTIN = {
    "relu": lambda z: z * H(z),
    "indicator": H,
    "sigmoid": lambda z: 1 / (1 + sp.exp(-z)),
    "softplus": lambda z: sp.log(1 + sp.exp(z)),
    "rect": lambda z: sp.Heaviside(z, 1) * sp.Heaviside(1 - z, 1),
    "maximum": lambda a, b: a + (b - a) * H(b - a),
    "minimum": lambda a, b: a - (a - b) * H(a - b),
    # the generic smooth f and its derivatives, written out as their sums of sinusoids
    **{f"anyf{k or ''}": (lambda z, k=k: generic.sympy_form(k, z)) for k in range(generic.ORDERS)},
}


def builtin(expr: sp.Expr) -> sp.Expr:
    for name, rewrite in BUILTIN.items():
        cls = P.REGISTRY[name].cls
        if cls is not None and expr.has(cls):
            expr = expr.replace(cls, rewrite)
    leftover = {type(f).__name__ for f in expr.atoms(sp.Function)
                if type(f).__module__.startswith("deriv")}
    assert not leftover, f"the oracle would use deriv's rules for {leftover}"
    return expr


def diff(expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """SymPy's derivative, almost everywhere: the Dirac deltas of steps are dropped (they sit
    on a set of measure zero, a kink, where no derivative is compared)."""
    d = sp.diff(builtin(expr), x)
    return d.replace(sp.DiracDelta, lambda *a: sp.S.Zero) if d.has(sp.DiracDelta) else d


def oracle(graph, of: str, wrt: str) -> sp.Expr:
    """d(of)/d(wrt) by SymPy on the flat expression; wrt may be a node (held as a symbol)."""
    if wrt in graph.inputs:
        return diff(graph.inline(graph.symbols[of]), graph.symbols[wrt])
    cut: dict = {}          # inline everything but wrt, which stays a free symbol
    for name in graph.order:
        if name != wrt:
            cut[graph.symbols[name]] = graph.nodes[name].expr.xreplace(cut)
    return diff(graph.symbols[of].xreplace(cut), graph.symbols[wrt])


_GT, _GE = sp.Function("step_gt"), sp.Function("step_ge")
_STEPS = [{"step_gt": lambda z: np.where(np.asarray(z) > 0, 1.0, 0.0),
           "step_ge": lambda z: np.where(np.asarray(z) >= 0, 1.0, 0.0)}, "numpy"]


def numeric(expr: sp.Expr, env: dict) -> np.ndarray:
    """expr at every point, by plain lambdify on NumPy (SymPy built-ins only)."""
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    # SymPy's NumPy printer writes Heaviside as nested selects, very slowly: a plain step
    steps = {h: (_GT if h.args[1] == 0 else _GE)(h.args[0]) for h in expr.atoms(sp.Heaviside)}
    fn = sp.lambdify(free, expr.xreplace(steps) if steps else expr, modules=_STEPS)
    with np.errstate(all="ignore"):
        out = np.asarray(fn(*(env[s] for s in free)), dtype=float)
    return np.broadcast_to(out, (N,)).copy()


def forward_env(problem, seed: int = 7) -> tuple[Values, dict]:
    values = Values(problem, draw_all(problem.inputs, N, seed=seed))
    return values, values.env


def assert_close(got, expected, what):
    ok = np.isfinite(expected)
    assert ok.sum() >= N // 4, f"{what}: the oracle is undefined almost everywhere"
    assert np.allclose(got[ok], expected[ok], rtol=1e-8, atol=1e-10), \
        (what, got[ok][:4], expected[ok][:4])


def engine_closed(expr: sp.Expr, env: dict) -> np.ndarray:
    return numeric(builtin(expr), env)


@pytest.mark.parametrize("problem", CATALOG, ids=lambda p: p.id)
def test_sweeps_and_program_equal_the_oracle(problem):
    graph = problem.graph
    values, env = forward_env(problem)
    ofs = dict.fromkeys([problem.output] + [c.of for c in problem.claims
                                           if c.of in graph.nodes])
    compared = 0
    for of in ofs:
        rev = reverse(graph, of)
        closed = rev.closed_forms(max_ops=10**6)
        for step in rev.steps[1:]:
            wrt = step.target.wrt
            expected = numeric(oracle(graph, of, wrt), env)
            what = f"D({of}, {wrt})"
            assert_close(engine_closed(closed[step.target], env), expected, "reverse " + what)
            assert_close(np.asarray(values.derivative(of, wrt), dtype=float), expected,
                         "program " + what)
            compared += 1
        for wrt in graph.inputs:
            fwd = forward(graph, wrt)
            step = fwd.step(of, wrt)
            if step is None:
                assert not graph.depends(of, wrt)
                assert oracle(graph, of, wrt) == 0
                continue
            expected = numeric(oracle(graph, of, wrt), env)
            got = engine_closed(fwd.closed_forms(max_ops=10**6)[step.target], env)
            assert_close(got, expected, f"forward D({of}, {wrt})")
            compared += 1
    assert compared > 0


def test_the_oracle_is_not_the_engine():
    """The comparison above can fail: a wrong derivative is told apart from the oracle."""
    (p,) = [p for p in CATALOG if p.id == "problem-7.13"]
    _, env = forward_env(p)
    truth = numeric(oracle(p.graph, "y", "x"), env)
    closed = reverse(p.graph, "y").closed_forms(max_ops=10**6)
    (target,) = [t for t in closed if (t.of, t.wrt) == ("y", "x")]
    with pytest.raises(AssertionError):
        assert_close(engine_closed(2 * closed[target], env), truth, "doubled")
    with pytest.raises(AssertionError):
        assert_close(engine_closed(closed[target] + 1, env), truth, "shifted")


def test_reverse_order_is_the_documents_order():
    (p,) = [p for p in CATALOG if p.id == "problem-7.12"]
    order = [s.target.wrt for s in reverse(p.graph, "y").steps[1:]]
    assert order == ["f5", "f4", "f3", "f2", "f1", "x"]


def test_forward_order_and_agreement_for_7_13():
    (p,) = [p for p in CATALOG if p.id == "problem-7.13"]
    fwd = forward(p.graph, "x")
    assert [s.target.of for s in fwd.steps] == ["f1", "f2", "f3", "f4", "f5", "y"]
    _, env = forward_env(p)
    f = fwd.closed_forms(max_ops=10**6)[fwd.step("y", "x").target]
    r = reverse(p.graph, "y").closed_forms(max_ops=10**6)
    r = r[reverse(p.graph, "y").step("y", "x").target]
    expected = numeric(oracle(p.graph, "y", "x"), env)
    assert_close(engine_closed(f, env), expected, "forward")
    assert_close(engine_closed(r, env), expected, "reverse")


def test_edge_partials_are_sympys_partials():
    """graph.local (an edge partial, other parents fixed) against SymPy's diff of the node."""
    (p,) = [p for p in CATALOG if p.id == "problem-7.1"]
    graph = p.graph
    _, env = forward_env(p)
    for child in graph.order:
        for parent in graph.parents(child):
            expected = numeric(diff(graph.nodes[child].expr, graph.symbols[parent]), env)
            assert_close(engine_closed(graph.local(child, parent), env), expected,
                         f"∂{child}/∂{parent}")


def test_relu_derivative_is_the_indicator():
    relu, indicator = P.REGISTRY["relu"].cls, P.REGISTRY["indicator"].cls
    z = sp.Symbol("z", real=True)
    assert sp.diff(relu(z), z) == indicator(z)
    assert sp.diff(indicator(z), z) == 0
    # and SymPy's own derivative of the built-in reading agrees, away from the kink
    for v in (-1.5, -0.1, 0.2, 3.0):
        assert float(diff(relu(z), z).subs(z, v)) == (1.0 if v > 0 else 0.0)


def test_program_form_is_linear_in_depth():
    lines = ["h0 = x"] + [f"h{i} = sin(h{i - 1}) * h{i - 1}" for i in range(1, 201)]
    (p,) = load_text('[[problem]]\nid = "deep"\ninputs = { x = "real" }\ngraph = """\n' +
                     "\n".join(lines) + '\n"""\n')
    sweep = reverse(p.graph, "h200")
    ops = sum(sp.count_ops(step.program) for step in sweep.steps)
    assert ops < 20 * 200
    # and the program it evaluates is the derivative: against the oracle at a depth of 6
    (q,) = load_text('[[problem]]\nid = "deep"\ninputs = { x = "real" }\ngraph = """\n' +
                     "\n".join(lines[:7]) + '\n"""\n')
    values, env = forward_env(q)
    assert_close(np.asarray(values.derivative("h6", "x"), dtype=float),
                 numeric(oracle(q.graph, "h6", "x"), env), "D(h6, x)")


def test_fast_sums_are_sympys_canonical_sums():
    """The parser builds a weighted sum without SymPy's general flattening; the result must be
    the very expression sp.Add builds (same arguments, order and hash), or caching, equality
    and printing would differ with how a sum was written."""
    import random

    from deriv.parse import _scaled, _sum
    x, y, z = sp.symbols("x y z", real=True)
    atoms = [x, y, z, x**2, sp.exp(x), x * y, sp.Rational(3, 2), sp.Integer(-2), sp.sin(z)]
    rng = random.Random(3)
    for _ in range(2000):
        terms = [_scaled(sp.S(rng.choice([1, -1, 2, sp.Rational(1, 3), 0])), rng.choice(atoms))
                 for _ in range(rng.randint(1, 6))]
        fast, canonical = _sum(terms), sp.Add(*terms)
        assert sp.srepr(fast) == sp.srepr(canonical) and hash(fast) == hash(canonical), terms
        for term in terms:
            assert not term.args or sp.srepr(term) == sp.srepr(term.func(*term.args)), term


def test_fast_sums_of_arrays_are_sympys_canonical_sums():
    """Sums of arrays (B + A, X @ Y + b, 2*X - eye(n)) take the same fast path: the very
    expression sp.Add builds, or sp.Add's own error (names alike but for their sizes)."""
    import random

    from deriv import algebra as A
    from deriv.parse import _sum
    x = sp.Symbol("x", real=True)
    X, Y, B = (A.symbol(n, ("n", "n")) for n in ("X", "Y", "B10"))
    b, v = A.symbol("b", ("n", 1)), A.symbol("v", (3, 1))
    atoms = [X, Y, B, b, v, A.matmul(X, Y), A.T(X), A.T(b), A.eye("n"), A.ones(("n", 1)),
             A.zeros(("n", "n")), A.symbol("X", (3, 3)), x * X, X * Y, sp.exp(X),
             A.inv(X), A.ArrayLiteral(((1, 2), (3, 4))), sp.Integer(2), sp.Rational(1, 3)]
    rng = random.Random(7)

    def outcome(build):
        try:
            e = build()
        except TypeError as err:
            return "TypeError", str(err)
        return sp.srepr(e), hash(e)
    for _ in range(3000):
        terms = [sp.S(rng.choice([1, -1, 3, sp.Rational(1, 2)])) * rng.choice(atoms)
                 for _ in range(rng.randint(1, 5))]
        assert outcome(lambda: _sum(terms)) == outcome(lambda: sp.Add(*terms)), terms


def test_functions_built_fast_are_the_ones_sympy_builds():
    """primitives.applied builds f(args) without SymPy's per-call machinery: for every
    registered function, arguments of each kind and each `evaluate`, the same object (class,
    arguments, hash, nargs) or the same error as the class called itself."""
    from deriv import algebra as A
    from deriv import primitives as P
    x = sp.Symbol("x", real=True)
    kinds = [x, x + 1, A.symbol("X", (3, 3)), A.symbol("v", ("n", 1)), sp.Integer(3),
             sp.Float(1.5), sp.S.NaN, sp.Rational(-1, 2)]

    def outcome(build):
        try:
            e = build()
        except Exception as err:      # noqa: BLE001  (compared, not hidden)
            return type(err).__name__
        return type(e), sp.srepr(e), hash(e), e.args, getattr(e, "nargs", None)
    checked = 0
    for entry in P.REGISTRY.values():
        for arg in kinds:
            args = (arg,) * entry.arity
            for evaluate in (None, True, False):
                direct = outcome(lambda: entry.cls(*args) if evaluate is None else
                                 entry.cls(*args, evaluate=evaluate))
                assert outcome(lambda: P.applied(entry.cls, args, evaluate)) == direct, \
                    (entry.name, args, evaluate)
                checked += isinstance(direct, tuple)
    assert checked > 500
    assert type(P.applied(sp.tanh, (x,), False).nargs) is type(sp.tanh(x).nargs)


def test_topological_order_is_graphlibs():
    """graph.static_order gives graphlib's order (the order nodes are read in decides which
    error a file with several is reported by) and graphlib's CycleError, with its cycle."""
    import graphlib
    import random

    from deriv.graph import static_order
    rng = random.Random(11)

    def outcome(order):
        try:
            return list(order())
        except graphlib.CycleError as err:
            return "cycle", err.args[1]
    cycles = 0
    for _ in range(3000):
        names = [f"n{i}" for i in range(rng.randint(1, 9))]
        rng.shuffle(names)
        deps = {n: [rng.choice(names + ["x", "y"]) for _ in range(rng.randint(0, 3))]
                for n in names}
        expected = outcome(lambda: graphlib.TopologicalSorter(deps).static_order())
        assert outcome(lambda: static_order(deps)) == expected, deps
        cycles += expected[0] == "cycle"
    assert 100 < cycles < 2900


def test_claims_repeating_a_formula_read_as_each_alone():
    """A problem's claims that repeat a formula are read once per layout: each claim's
    expression is the one it gets in a file of its own (D(y, a) differs by layout), and a
    repeated claim whose operands do not fit is failed with its own place, every time."""
    head = '''
[[problem]]
id = "p"
inputs = { x = "real", v = "vector(n)" }
graph = """
a = sin(x)
y = a * exp(a)
w = v * a
"""
'''

    def claim(cid, expr, layout="gradient", wrt="x"):
        return (f'[[problem.claim]]\nid = "{cid}"\nof = "y"\nwrt = "{wrt}"\n'
                f'layout = "{layout}"\nexpr = "{expr}"\n')
    claims = [claim("g1", "D(y, a) * cos(x)"), claim("d1", "D(y, a) * cos(x)", "derivative"),
              claim("g2", "D(y, a) * cos(x)"), claim("d2", "D(y, a) * cos(x)", "derivative"),
              claim("s1", "cos(x) + v @ v"), claim("s2", "cos(x) + v @ v")]
    together = {c.id: c for c in load_text(head + "".join(claims), "t.toml")[0].claims}
    for k, text in enumerate(claims):
        (alone,) = load_text(head + text, "t.toml")[0].claims
        both = together[alone.id]
        assert sp.srepr(both.expr) == sp.srepr(alone.expr), alone.id
        assert (both.shape_error is None) == (alone.shape_error is None), alone.id
    assert together["g1"].expr == together["g2"].expr != together["d1"].expr
    first, second = together["s1"].shape_error, together["s2"].shape_error
    assert first is not None and second is not None and first is not second
    assert (first.line, second.line) == (first.line, first.line + 6)


def test_texts_python_warns_about_are_parsed_with_warnings_silenced():
    """parse_ast skips silencing warnings only for texts its pattern clears: every text on
    which Python's parser warns (1if, 0x1for, "\\d", …) must match the pattern."""
    import ast
    import random
    import warnings

    from deriv.parse import _MAY_WARN
    pieces = ["1", "0", ".", "e", "j", "x", "_", "if", "else", "or", "in", "is", "not", " ",
              "(", ")", "+", "*", "0x", "0b", "1_0", "a", "f", "\\", '"', "'", "\n", "#"]
    rng = random.Random(2)
    warned = 0
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 7)))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ast.parse("(" + text + "\n)", mode="eval")
            except SyntaxError:
                pass
        if caught:
            warned += 1
            assert _MAY_WARN.search(text), text
    assert warned > 100
    assert not _MAY_WARN.search("relu(0.244*x1 - 0.2*h1_0 + x10) @ W.T")


def test_a_derivative_without_some_edges_sums_the_remaining_paths():
    """Values.derivative(drop=…) (one droppable adjoint program, the edges given at run time)
    against the path sums of SymPy's edge partials over the paths that avoid those edges."""
    p = load_text('''
[[problem]]
id = "diamond"
inputs = { x = "real" }
graph = """
a = sin(x)
b = x**2
c = a * b
y = c + exp(a)
"""
''', "diamond.toml")[0]
    graph = p.graph
    values = Values(p, draw_all(p.inputs, N, 1))
    env = {graph.symbols[n]: values.env[graph.symbols[n]] for n in graph.symbols}

    def partial(child, parent):
        return numeric(diff(graph.nodes[child].expr, graph.symbols[parent]), env)

    paths = [("y", "c", "a", "x"), ("y", "c", "b", "x"), ("y", "a", "x")]
    for drop in [frozenset(), {("c", "a")}, {("y", "a")}, {("y", "a"), ("c", "b")},
                 {("c", "a"), ("c", "b"), ("y", "a")}]:
        kept = [q for q in paths if not any(e in drop for e in zip(q, q[1:]))]
        expected = sum((np.prod([partial(c, a) for c, a in zip(q, q[1:])], axis=0)
                        for q in kept), np.zeros(N))
        assert_close(values.derivative("y", "x", drop=frozenset(drop)), expected, str(drop))
    # the droppable program is compiled once for all the sets of edges
    assert sum(1 for key in graph.programs if key[0] == "adjoint" and key[2]) == 1


def test_the_order_key_orders_as_sympys_compare():
    """parse._order_key sorts a sum's terms as SymPy's Basic.compare does, for the terms the
    fast sum builds (numbers of every class times symbols, functions and powers)."""
    import functools
    import random

    from deriv.parse import _order_key, _scaled
    names = [sp.Symbol(n, real=True) for n in ("x", "x1", "x10", "x2", "h1_0", "W", "b")]
    numbers = [sp.Integer(3), sp.Integer(-1), sp.Rational(1, 2), sp.Rational(-7, 3),
               sp.Float("0.244"), sp.Float("-1.025"), sp.Float("0.5"), sp.Integer(12)]
    atoms = names + [n**2 for n in names[:3]] + [sp.exp(names[0]), sp.tanh(names[4])]
    rng = random.Random(5)
    by_compare = functools.cmp_to_key(sp.Basic.compare)
    for _ in range(300):
        terms = list({_scaled(rng.choice(numbers), rng.choice(atoms)) for _ in range(12)})
        assert sorted(terms, key=_order_key) == sorted(terms, key=by_compare), terms


def test_weighted_sums_are_one_call_with_the_same_values_and_counts():
    """A layer's weighted sums are written as LIN (forward) and SCATTER (adjoint) calls on a
    vector of coefficients: the derivative equals SymPy's diff of the inlined graph, and the
    operations counted equal those of the sum spelled out (2 per term)."""
    from deriv.program import AdjointProgram, count_operations, forward_program
    rng = np.random.default_rng(2)
    xs = [f"x{i}" for i in range(8)]

    def layer(prefix, inputs, width):
        return [f"{prefix}{j} = tanh(" + " + ".join(f"{rng.normal():.3f}*{x}" for x in inputs)
                + f" + {rng.normal():.3f})" for j in range(width)]
    hidden = layer("h", xs, 3)
    lines = hidden + ["y = " + " - ".join(f"{k + 2}*h{k}" for k in range(3)) + " + " +
                      " + ".join(f"0.5*{x}" for x in xs)]
    p = load_text('[[problem]]\nid = "layer"\ninputs = { ' +
                  ", ".join(f'{x} = "real"' for x in xs) + ' }\ngraph = """\n' +
                  "\n".join(lines) + '\n"""\n', "layer.toml")[0]
    graph = p.graph
    values, env = forward_env(p)
    inlined = graph.nodes["y"].expr.xreplace({graph.symbols[f"h{k}"]: graph.nodes[f"h{k}"].expr
                                             for k in range(3)})
    for x in xs:
        assert_close(values.derivative("y", x), numeric(diff(inlined, graph.symbols[x]), env),
                     f"dy/d{x}")
    forward = forward_program(graph)
    forward.function("numpy")
    adjoint = AdjointProgram(graph)
    source = adjoint.source()
    assert "SCATTER(" in source
    # h0..h2: 8 products and 8 sums each (the bias is c₀); y: 11 of each
    assert forward.ops == 3 * (16 + 1) + 22
    assert count_operations("v = LIN(C[0], a, b, c)") == \
        count_operations("v = (C[0] + (C[1]*a) + (C[2]*b) + (C[3]*c))")


def test_an_edge_is_bypassed_where_another_parent_reaches_its_parent():
    """graph.bypassed(child, parent) (one bit of the other parents' ancestors) against its
    definition: another path from parent to child besides the edge."""
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "p"\ninputs = { x = "real", y = "real" }\ngraph = """\n'
            'a = sin(x)\nb = a*x\nc = b + y\nd = c*a + x\ne = y**2 + d\n"""\n')
    (p,) = load_text(text, "p.toml")
    graph = p.graph
    for child in graph.order:
        for parent in graph.parents(child):
            defined = any(graph.depends(q, parent) for q in graph.parents(child) if q != parent)
            assert graph.bypassed(child, parent) == defined, (child, parent)
    assert graph.bypassed("b", "x") and graph.bypassed("d", "a") and not graph.bypassed("c", "y")


def test_the_partials_of_a_wide_product_share_prefix_and_suffix_products():
    """A product of 12 factors holding inputs (past PREFIX_FACTORS): each partial is the
    product of the factors before and after it, equal to SymPy's diff, and exact at a zero
    factor (no division by the product)."""
    import numpy as np
    import sympy as sp
    from deriv.problem import load_text
    from deriv.program import PREFIX_FACTORS, Values, adjoint_program
    names = [f"x{i}" for i in range(12)]
    inputs = ", ".join(f'{n} = "real"' for n in names)
    product = "*".join(f"({n} + {i})" for i, n in enumerate(names)) + "*sin(x1)"
    text = f'[[problem]]\nid = "p"\ninputs = {{ {inputs} }}\ngraph = """\ny = {product}\n"""\n'
    (p,) = load_text(text, "p.toml")
    assert len(p.graph.nodes["y"].expr.args) > PREFIX_FACTORS
    rng = np.random.default_rng(1)
    points = {n: rng.uniform(-2, 2, 50) for n in names}
    points["x3"][0] = -3.0                       # the factor (x3 + 3) is 0 at the first point
    values = Values(p, points)
    symbols = [p.graph.symbols[n] for n in names]
    expr = p.graph.nodes["y"].expr
    for n, s in zip(names, symbols):
        truth = sp.lambdify(symbols, sp.diff(expr, s))(*(points[m] for m in names))
        got = values.derivative("y", n)
        assert np.allclose(got, truth, rtol=1e-10, atol=1e-12), n
    assert adjoint_program(p.graph).block_ops["y"] < 13 * 12     # not each factor's 12 others


def test_a_piecewise_constant_primitive_is_known_by_its_rule_not_by_one_node():
    """heaviside's partial is 0 whatever its argument; max's is not, even where a node such as
    max(x, x) comes first (its own 𝕀[x > x] is 0)."""
    from deriv.problem import load_text
    text = ('[[problem]]\nid = "t"\ninputs = { x = "real" }\ngraph = """\nz = max(x, x)\n'
            'w = max(x, 2*x)\na = heaviside(x)\ny = w + a\n"""\n')
    (p,) = load_text(text, "t.toml")
    assert p.graph.carries("y", "x") and p.graph.carries("w", "x")
    assert not p.graph.carries("a", "x")
