"""What makes `deriv solve` fast on large graphs gives the same results as the plain way:
an edge's partial from its primitive's template, memoised expression sizes, printers that
print each subexpression once, and a solve whose output and work grow linearly."""

from __future__ import annotations

import random

import sympy as sp
from click.testing import CliRunner

import deriv
from deriv import algebra as A
from deriv import primitives as P
from deriv.cli import main
from deriv.render import latex
from deriv.render.notation import SourcePrinter, TextPrinter


def _plain_local(expr, wrt, out):
    """∂f(g)/∂wrt the plain way: f's partial called on g itself, SymPy's diff of g."""
    (arg,) = expr.args
    d = P.entry_of(expr).partials[0](arg) * sp.diff(arg, wrt)
    return d if d == expr else d.xreplace({expr: out})


def _unary_entries():
    return [e for e in P.REGISTRY.values() if e.arity == 1 and e.elementwise and e.partials]


def test_a_unary_edge_partial_from_its_template_equals_the_derived_one():
    x, y, out = sp.symbols("h3 w h4", real=True)
    entries = _unary_entries()
    assert len(entries) > 10
    arguments = [x, 3 * x / 2 + sp.Rational(1, 5), x * y, x ** 2 + 1, -x, y, x - y,
                 sp.sin(x), 4 * x, sp.tanh(x) * y - 2]
    tried = 0
    for entry in entries:
        for arg in arguments:
            expr = P.call(entry.name, arg)
            if P.entry_of(expr) is not entry:
                continue                          # (evaluated to something else)
            for _ in range(2):                    # the template, then the memoised one
                assert A.local(expr, x, out) == _plain_local(expr, x, out), expr
                assert A.local(expr, y, out) == _plain_local(expr, y, out), expr
            tried += 1
    assert tried > 10 * len(arguments)


def test_the_template_is_not_used_where_assumptions_differ():
    """A size used as a number (positive integer) is not the real placeholder: derived plainly."""
    n, x, out = A.size_value("n"), sp.Symbol("x", real=True), sp.Symbol("h", real=True)
    for expr in (sp.tanh(n * x), P.call("relu", x - n), sp.Abs(n + x), sp.log(n * x)):
        assert A.local(expr, x, out) == _plain_local(expr, x, out), expr


def test_the_template_tells_a_node_in_its_partial():
    """tanh′ = 1 − h² in the node's own symbol; exp′ is the expression itself."""
    x, out = sp.Symbol("a", real=True), sp.Symbol("h", real=True)
    assert A.local(sp.tanh(x), x, out) == 1 - out ** 2
    assert A.local(sp.exp(x), x, out) == sp.exp(x)
    assert A.local(sp.sin(x), x, out) == sp.cos(x)


def _random_expr(rng: random.Random, symbols, depth: int):
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(symbols + [sp.Integer(rng.randint(2, 5))])
    op = rng.choice(["add", "mul", "pow", "tanh", "sin", "relu"])
    a = _random_expr(rng, symbols, depth - 1)
    if op in ("tanh", "sin"):
        return getattr(sp, op)(a)
    if op == "relu":
        return P.call("relu", a)
    if op == "pow":
        return a ** rng.randint(2, 3)
    b = _random_expr(rng, symbols, depth - 1)
    return a + b if op == "add" else a * b


def test_memoised_size_counts_as_the_traversal():
    rng = random.Random(4)
    symbols = list(sp.symbols("a b c d", real=True))
    for _ in range(300):
        e = _random_expr(rng, symbols, 6)
        assert A.size(e) == sum(1 for s in sp.preorder_traversal(e) if s.args), e
    deep = symbols[0]
    for k in range(3000):       # deeper than Python's recursion limit (and preorder_traversal's)
        deep = sp.sin(deep) if k % 2 else deep + symbols[k % 4] * 2
    count, stack = 0, [deep]
    while stack:
        e = stack.pop()
        count += bool(e.args)
        stack.extend(e.args)
    assert A.size(deep) == count > 3000


def test_memoised_printers_print_as_fresh_ones():
    """A subexpression printed before, at any depth, prints the same as in a new printer."""
    rng = random.Random(7)
    symbols = list(sp.symbols("f1 f2 x y", real=True)) + [sp.Float(0.125)]
    shared = [TextPrinter(), SourcePrinter(), latex.LatexPrinter()]
    fresh = [TextPrinter, SourcePrinter, latex.LatexPrinter]
    exprs = [_random_expr(rng, symbols, 5) for _ in range(200)]
    for e in exprs + exprs[::-1] + [a for e in exprs for a in e.args]:
        for printer, make in zip(shared, fresh):
            assert printer.doprint(e) == make().doprint(e), e


def test_a_memo_that_fills_up_starts_again():
    printer = TextPrinter()
    printer.MEMO_SIZE = 5
    x = sp.Symbol("x", real=True)
    for k in range(1, 20):
        assert printer.doprint(sp.sin(x + k)) == f"sin({k} + x)"
    assert len(printer._memo) <= 5


def _chain(n: int) -> str:
    graph = "\n".join(["h0 = x"] + [f"h{i} = tanh(h{i - 1})" for i in range(1, n)])
    return (f'[[problem]]\nid = "chain"\ninputs = {{ x = "real" }}\ngraph = """\n{graph}\n"""\n'
            f'[[problem.claim]]\nid = "local"\nof = "h{n - 1}"\nwrt = "h{n - 2}"\n'
            f'expr = "1 - h{n - 1}**2"\n')


def test_solve_of_a_chain_grows_linearly_in_every_format(tmp_path):
    """Output bytes per node stay flat from 150 to 600 nodes (the steps are bounded in size),
    and the shown steps still equal the derivative at the point."""
    sizes = {}
    for n in (150, 600):
        path = tmp_path / f"chain{n}.toml"
        path.write_text(_chain(n))
        for fmt in ("text", "json", "latex", "markdown"):
            result = CliRunner().invoke(main, ["solve", str(path), "--format", fmt])
            assert result.exit_code == 0, result.output
            sizes[n, fmt] = len(result.output)
        forward = CliRunner().invoke(main, ["solve", str(path), "--mode", "forward"])
        assert forward.exit_code == 0, forward.output
        sizes[n, "forward"] = len(forward.output)
    for fmt in ("text", "json", "latex", "markdown", "forward"):
        assert sizes[600, fmt] / 600 < 1.3 * sizes[150, fmt] / 150, (fmt, sizes)

    problem = deriv.load(_chain(150))
    solution = deriv.solve(problem, at={"x": 0.3})
    env = {problem.graph.symbols[f.name]: f.value for f in solution.forward_pass}
    env[problem.graph.symbols["x"]] = 0.3
    bars = {}                 # a long step is written with an earlier step's adjoint (h̄)
    for step in solution.sweeps[0].steps:
        shown = solution.shown[("reverse", step.target)]
        value = float(shown.xreplace(bars).xreplace(env))
        assert abs(value - solution.values[("reverse", step.target)]) < 1e-9 * max(1, abs(value))
        bars[step.program_symbol] = sp.Float(solution.values[("reverse", step.target)])


def test_the_adjoint_share_of_a_sum_of_names_is_the_general_one():
    """B + A (and x + A, broadcast) passes Ā on as the general VJP does; the general way,
    diff and structural parts, is what the fast path skips."""
    mat, row = A.symbol("A", ("n", "n")), A.symbol("r", (1, "n"))
    other, x = A.symbol("B", ("n", "n")), sp.Symbol("x", real=True)
    bar = A.symbol("C_bar", ("n", "n"))
    for expr, wrt in ((other + mat, mat), (other + mat, other), (x + mat, x), (x + mat, mat),
                      (row + mat, row), (other + mat + x, x)):
        general = A.unbroadcast(bar * A.diff(expr, wrt), A.shape_of(wrt))
        assert A.vjp(expr, bar, wrt) == general, (expr, wrt)
    assert A.vjp(other + mat, bar, x) == 0


def test_forward_mode_over_many_inputs_shows_a_bounded_number_of_tangent_steps(tmp_path):
    """One tangent sweep an input: a chain with a weight at each of 120 nodes would show
    7,000 steps. The sweeps stop at MAX_TANGENT_STEPS in all; every asked derivative still has
    its result, its formula from a reverse sweep, right at the point; every format says so."""
    from deriv.problem import load_text
    from deriv.program import Values
    from deriv.solution import MAX_TANGENT_STEPS, solve
    n = 120
    graph = "\n".join(["h0 = tanh(w0*x)"] + [f"h{i} = tanh(w{i}*h{i - 1})" for i in range(1, n)])
    inputs = ", ".join(["x = \"real\""] + [f'w{i} = "real"' for i in range(n)])
    text = (f'[[problem]]\nid = "weights"\ninputs = {{ {inputs} }}\noutput = "h{n - 1}"\n'
            f'mode = "forward"\ngraph = """\n{graph}\n"""\n')
    (p,) = load_text(text, "weights.toml")
    sol = solve(p)
    shown = sum(len(s.steps) for s in sol.sweeps)
    assert sol.omitted and shown <= MAX_TANGENT_STEPS + n
    assert {r.target.wrt for r in sol.results} == set(p.inputs)
    import numpy as np
    out = p.graph.symbols[p.output]

    def at(point):
        return float(Values(p, {k: np.array([v]) for k, v in point.items()}).env[out][0])
    for r in sol.results:           # a central difference agrees with each value shown
        if r.target.wrt in sol.omitted[::17]:
            step = {**sol.point, r.target.wrt: sol.point[r.target.wrt] + 1e-6}
            back = {**sol.point, r.target.wrt: sol.point[r.target.wrt] - 1e-6}
            assert abs((at(step) - at(back)) / 2e-6 - r.value) < 1e-5
            assert r.expr is not None and r.expr != 0
    path = tmp_path / "weights.toml"
    path.write_text(text)
    for fmt in ("text", "json", "latex", "markdown"):
        result = CliRunner().invoke(main, ["solve", str(path), "--format", fmt])
        assert result.exit_code == 0, result.output
        assert ("omitted_tangent_sweeps" if fmt == "json" else "are not shown") in result.output


def test_the_adjoint_share_of_a_wide_sum_reads_only_the_terms_holding_wrt(tmp_path):
    """Σₖ sum(tanh(kX)) over hundreds of nodes: each edge's share from its own term equals the
    general VJP, and the solve's output grows linearly (rows were padded to the widest)."""
    X = A.symbol("X", ("m", "n"))
    ys = [A.symbol(f"Y{k}", ("m", "n")) for k in range(20)]
    expr = sp.Add(*(P.call("total", y) for y in ys)) + sp.Symbol("c", real=True)
    bar = sp.Symbol("L_bar", real=True)
    for wrt in (ys[0], ys[7]):
        narrow = A.vjp(expr, bar, wrt)
        parts = A._structural_parts(expr, wrt)
        general = sp.Add(*(A.vjp(t, bar, wrt) for t in expr.args if t.has(wrt)))
        assert narrow == general and len(parts) == 1, (narrow, general)
    sizes = []
    for n in (100, 200):
        path = tmp_path / f"fan{n}.toml"
        graph = "\n".join(f"Y{k} = tanh(X * {k + 1}/{n})" for k in range(n))
        path.write_text(f'[[problem]]\nid = "fan"\ninputs = {{ X = "matrix(m, n)" }}\n'
                        f'graph = """\n{graph}\nL = ' +
                        " + ".join(f"sum(Y{k})" for k in range(n)) + '\n"""\n')
        result = CliRunner().invoke(main, ["solve", str(path)])
        assert result.exit_code == 0, result.output
        sizes.append(len(result.output))
    assert sizes[1] < 2.3 * sizes[0]
