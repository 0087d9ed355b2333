"""Evaluating the programs a sweep builds, on batches of sampled points.

The truth `check` compares against is the adjoint program — each node's VJP evaluated on the
arrays of its parents and its own adjoint — never one inlined expression, whose size grows with
the number of paths. Every intermediate is shared, so a sweep costs a small constant times the
forward pass (the cheap-gradient bound). A program is straight-line code, `target = expression`,
compiled once into one Python function (one `exec` for a whole sweep, where one `lambdify` a
node would cost seconds on a large graph); the operations it evaluates are counted, so the
benchmarks report what the commands really do.

Two back-ends: NumPy on batches (a scalar is (S,), an array (rows, cols, S)) and mpmath at one
point (a scalar is an mpf, an array a 2-D object array of mpf) for the high-precision recheck.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np
import sympy as sp

from deriv import algebra as A
from deriv import primitives as P
from deriv.sampling import concrete

RTOL = 1e-6
ATOL = 1e-9
class _Source:
    """Python source for one expression and a backend. Every function is a call into the
    registry's forwards, so the generated code knows no particular primitive either."""

    def __init__(self, names: dict[sp.Symbol, str], backend: str, free: bool = False):
        self.names = names
        self.backend = backend
        self.free = free                   # any symbol by its own name (to count operations)
        self.memo: dict[sp.Expr, str] = {}

    def __call__(self, e: sp.Expr) -> str:
        if e in self.names:
            return self.names[e]
        if self.free and e.is_Symbol:
            return "s"
        text = self.memo.get(e)
        if text is None:
            text = self.memo[e] = self.write(e)
        return text

    def write(self, e: sp.Expr) -> str:
        if isinstance(e, A.SizeConstant):          # eye(n), ones: from the run's sizes
            return f"K({e.constant!r}, {e.dims!r})"
        if e.is_Number:
            return self.number(e)
        if not e.args and not e.is_Symbol:          # π, E, I: a constant, real or undefined
            value = complex(e)
            return "NAN" if value.imag else self.number(sp.Float(value.real, 30))
        if isinstance(e, sp.Add):
            return "(" + " + ".join(self(a) for a in e.args) + ")"
        if isinstance(e, sp.Mul):
            return "(" + "*".join(self(a) for a in e.args) + ")"
        if isinstance(e, sp.Pow):
            base, exponent = e.args
            if exponent == sp.S.Half:
                return f"F_sqrt({self(base)})"
            if exponent == -1:
                return f"(1/{self(base)})"
            return f"({self(base)}**{self(exponent)})"
        entry = P.entry_of(e)
        if entry is not None:
            return f"F_{entry.name}({', '.join(self(a) for a in e.args)})"
        raise ValueError(f"deriv cannot evaluate {type(e).__name__}")

    def number(self, e) -> str:
        if e is sp.nan or e is sp.zoo:                # undefined: NaN, never a value
            return "NAN"
        if e is sp.oo or e is sp.S.NegativeInfinity:
            return "INF" if e is sp.oo else "(-INF)"
        if self.backend == "numpy":
            if e.is_Integer and abs(int(e)) < 2**53:
                return str(int(e))
            value = float(e)               # an exact number beyond a float is ±inf or 0
            return repr(value) if np.isfinite(value) else ("INF" if value > 0 else "(-INF)")
        if e.is_Rational:
            return f"(MPF({int(e.p)})/MPF({int(e.q)}))" if e.q != 1 else f"MPF({int(e.p)})"
        return f"MPF('{e}')"


def _namespace(backend: str) -> dict:
    if backend == "numpy":
        ns = {f"F_{e.name}": e.numpy for e in P.REGISTRY.values()}
        ns.update(NAN=np.nan, INF=np.inf,
                  F_sumall=lambda x: np.sum(x, axis=(0, 1)) if np.ndim(x) == 3 else x)
        return ns
    import mpmath as mp
    ns = {f"F_{k}": v for k, v in P.mpmath_namespace().items()}
    ns.update(NAN=mp.nan, INF=mp.inf, MPF=mp.mpf,
              F_sumall=lambda x: sum(x.flat) if isinstance(x, np.ndarray) else x)
    return ns


class Program:
    """Straight-line code `target = expression`, compiled once per backend into one Python
    function: the forward pass, an adjoint sweep, or one claim's expression."""

    def __init__(self, assignments: list[tuple[sp.Symbol, sp.Expr]], outputs: list[sp.Symbol]):
        assigned = {t for t, _ in assignments}
        free: dict[sp.Symbol, None] = {}
        for _, e in assignments:
            for s in e.free_symbols:
                if s not in assigned and not isinstance(s, A.SizeConstant):
                    free[s] = None
        self.inputs = sorted(free, key=lambda s: s.name)
        self.assignments = assignments
        self.outputs = list(outputs)
        self.ops = sum(count_operations(_Source({}, "numpy", free=True)(e))
                       for _, e in assignments)
        self._compiled: dict[str, Callable] = {}

    def function(self, backend: str) -> Callable:
        fn = self._compiled.get(backend)
        if fn is None:
            names = {s: f"a{k}" for k, s in enumerate(self.inputs)}
            source = _Source(names, backend)
            lines = [f"def program(K, {', '.join(names[s] for s in self.inputs)}):"]
            for k, (target, expr) in enumerate(self.assignments):
                lines.append(f"    v{k} = {source(expr)}")
                names[target] = f"v{k}"
            lines.append(f"    return ({''.join(names[s] + ', ' for s in self.outputs)})")
            namespace = _namespace(backend)
            # generated from SymPy trees that the safe parser built; no text from a file
            exec(compile("\n".join(lines), "<deriv program>", "exec"), namespace)  # noqa: S102
            fn = self._compiled[backend] = namespace["program"]
        return fn


def _programs(graph) -> dict:
    cache = getattr(graph, "_programs", None)
    if cache is None:
        cache = graph._programs = {}
    return cache


def forward_program(graph) -> Program:
    cache = _programs(graph)
    if "forward" not in cache:
        order = graph.order
        cache["forward"] = Program([(graph.nodes[n].symbol, graph.nodes[n].expr) for n in order],
                                   [graph.nodes[n].symbol for n in order])
    return cache["forward"]


_OPERATION = re.compile(r"\*\*|[-+*/]|\w+\(")


def count_operations(code: str) -> int:
    """Operations a line of generated code evaluates: arithmetic operators and calls."""
    return len(_OPERATION.findall(code))


class AdjointProgram:
    """Reverse sweeps as generated code, compiled once per graph: for each node, output to
    inputs, the VJP of its expression written out operation by operation — elementwise
    partials from the registry, structural rules (Z̄Yᵀ, −ZᵀZ̄Zᵀ, ...) from their entries — so
    no symbolic derivative is built and every adjoint is shared. A node's block runs only when
    its adjoint exists, so a sweep from any node (seeded through `S`) costs what it reaches.
    `only` = (child, parent): the edge partial, child's block to that parent alone."""

    def __init__(self, graph, only: tuple[str, str] | None = None):
        self.graph, self.only = graph, only
        self.names = list(graph.symbols)                   # b{i}: the adjoint of names[i]
        self.index = {n: i for i, n in enumerate(self.names)}
        self.block_ops: dict[str, int] = {}
        self._compiled: dict[str, Callable] = {}
        self.function("numpy")                              # also counts each block's ops

    def function(self, backend: str) -> Callable:
        fn = self._compiled.get(backend)
        if fn is None:
            source = _AdjointWriter(self, backend).write()
            namespace = _namespace(backend)
            namespace.update(_partials(backend))
            # generated from SymPy trees that the safe parser built; no text from a file
            exec(compile(source, "<deriv adjoint program>", "exec"), namespace)  # noqa: S102
            fn = self._compiled[backend] = namespace["program"]
        return fn

    def ops(self, bars: list) -> int:
        """Operations a run evaluated: the blocks of the nodes it reached."""
        return sum(self.block_ops.get(n, 0) for n, b in zip(self.names, bars) if b is not None)


class _AdjointWriter:
    def __init__(self, program: AdjointProgram, backend: str):
        self.p = program
        self.graph = program.graph
        self.values = {self.graph.symbols[n]: f"x{k}" for k, n in enumerate(program.names)}
        self.backend = backend
        self.lines: list[str] = []
        self.targets: set[sp.Symbol] = set()

    def tmp(self, code: str) -> str:
        name = f"t{len(self.lines)}"
        self.lines.append(f"{name} = {code}")
        return name

    def write(self) -> str:
        graph, p = self.graph, self.p
        args = ", ".join(f"x{k}" for k in range(len(p.names)))
        out = [f"def program(K, {args}, S):"]
        out += [f"    b{k} = S.get({k})" for k in range(len(p.names))]
        blocks = [p.only[0]] if p.only else [n for n in reversed(graph.order)]
        for name in blocks:
            node = graph.nodes[name]
            self.targets = {graph.symbols[q] for q in node.parents
                            if p.only is None or q == p.only[1]}
            self.lines = []
            self.source = _Source(dict(self.values), self.backend)
            self.emit(node.expr, f"b{p.index[name]}")
            if not self.lines:
                continue
            if self.backend == "numpy":
                p.block_ops[name] = sum(count_operations(line) for line in self.lines)
            out.append(f"    if b{p.index[name]} is not None:")
            out += ["        " + line for line in self.lines]
        out.append(f"    return ({''.join(f'b{k}, ' for k in range(len(p.names)))})")
        return "\n".join(out) + "\n"

    def add(self, target: sp.Symbol, bar: str):
        b = f"b{self.p.index[target.name]}"
        self.lines.append(f"{b} = {bar} if {b} is None else {b} + {bar}")

    def reduce(self, bar: str, outer: sp.Expr, inner: sp.Expr) -> str:
        """A scalar inside an array expression gets the sum of its elementwise adjoints."""
        if not A.shape_of(inner) and A.shape_of(outer):
            return self.tmp(f"F_sumall({bar})")
        return bar

    def emit(self, e: sp.Expr, bar: str):
        """Add to each target's contributions its share of `bar`, e's adjoint."""
        if e in self.targets:
            self.add(e, bar)
            return
        if not e.args or not (e.free_symbols & self.targets):
            return
        src = self.source
        if isinstance(e, sp.Add):
            for a in e.args:
                self.emit(a, self.reduce(bar, e, a))
            return
        if isinstance(e, sp.Mul):
            for i, a in enumerate(e.args):
                if a.free_symbols & self.targets:
                    others = "*".join(src(b) for k, b in enumerate(e.args) if k != i)
                    self.emit(a, self.reduce(self.tmp(f"{bar}*{others}"), e, a))
            return
        if isinstance(e, sp.Pow):
            base, exponent = e.args
            if base.free_symbols & self.targets:
                code = self.tmp(f"{bar}*{src(exponent)}*{src(base ** (exponent - 1))}")
                self.emit(base, self.reduce(code, e, base))
            if exponent.free_symbols & self.targets:
                code = self.tmp(f"{bar}*F_log({src(base)})*{src(e)}")
                self.emit(exponent, self.reduce(code, e, exponent))
            return
        entry = P.entry_of(e)
        if entry is None:
            raise ValueError(f"deriv cannot differentiate {type(e).__name__}")
        args = [src(a) for a in e.args]
        if entry.elementwise:
            for i, a in enumerate(e.args):
                if a.free_symbols & self.targets:
                    code = self.tmp(f"{bar}*D_{entry.name}_{i}({', '.join(args)})")
                    self.emit(a, self.reduce(code, e, a))
            return
        # a structural operation: its rule, written on stand-ins for its arguments
        stand_ins = [A.symbol(f"_arg{i}", A.shape_of(a)) for i, a in enumerate(e.args)]
        out = A.symbol("_out", A.shape_of(e))
        bar_in = A.symbol("_bar", A.shape_of(e))
        names = {s: self.tmp(code) for s, code in zip(stand_ins, args)}
        names[out] = self.tmp(src(e))
        names[bar_in] = bar
        for i, a in enumerate(e.args):
            if a.free_symbols & self.targets:
                rule = entry.vjp(A, tuple(stand_ins), out, bar_in, i)
                rule_source = _Source(names, self.source.backend)
                self.emit(a, self.tmp(rule_source(rule)))


_PARTIALS: dict[str, dict] = {}


def _partials(backend: str) -> dict:
    """D_<name>_<i>: each registry entry's elementwise partials, compiled once per backend."""
    if backend not in _PARTIALS:
        lines = []
        for entry in P.REGISTRY.values():
            zs = [sp.Symbol(f"z{k}", real=True) for k in range(entry.arity)]
            for i, partial in enumerate(entry.partials):
                code = _Source({z: f"z{k}" for k, z in enumerate(zs)}, backend)(
                    sp.sympify(partial(*zs)))
                lines.append(f"def D_{entry.name}_{i}({', '.join(f'z{k}' for k in range(len(zs)))}):"
                             f"\n    return {code}\n")
        namespace = _namespace(backend)
        exec(compile("\n".join(lines), "<deriv partials>", "exec"), namespace)  # noqa: S102
        _PARTIALS[backend] = {k: v for k, v in namespace.items() if k.startswith("D_")}
    return _PARTIALS[backend]


def adjoint_program(graph, only: tuple[str, str] | None = None) -> AdjointProgram:
    key = ("adjoint", only)
    cache = _programs(graph)
    if key not in cache:
        cache[key] = AdjointProgram(graph, only)
    return cache[key]


def expression_program(graph, expr: sp.Expr) -> Program:
    cache = _programs(graph)
    key = ("expr", expr)
    if key not in cache:
        target = A.symbol("_value", A.shape_of(expr))
        cache[key] = Program([(target, expr)], [target])
    return cache[key]


class Values:
    """The forward pass of one problem at a batch of points (one size assignment), and every
    derivative asked of it, computed by evaluating adjoint programs."""

    def __init__(self, problem, inputs: dict[str, object], sizes: dict | None = None,
                 backend: str = "numpy", n: int | None = None):
        self.problem = problem
        self.graph = problem.graph
        self.sizes = dict(sizes or {})
        self.backend = backend
        self.n = n if n is not None else _count(inputs)
        self.ops = 0
        self.env: dict[sp.Symbol, object] = {self.graph.symbols[k]: v for k, v in inputs.items()}
        self._sweeps: dict[tuple, dict[str, object]] = {}
        program = forward_program(self.graph)
        for symbol, value in zip(program.outputs, self.run(program, self.env)):
            self.env[symbol] = value

    # --- running a program -------------------------------------------------------------------
    def run(self, program: Program, env: dict) -> list:
        args = [self.constant]
        for s in program.inputs:
            if s not in env:
                raise KeyError(s.name)
            args.append(env[s])
        self.ops += program.ops
        fn = program.function(self.backend)
        if self.backend != "numpy":
            try:
                out = fn(*args)
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                import mpmath as mp
                out = [mp.nan] * len(program.outputs)
            return [_mp_shaped(v, concrete(A.shape_of(s), self.sizes))
                    for v, s in zip(out, program.outputs)]
        with np.errstate(all="ignore"):
            out = fn(*args)
        return [self._shaped(v, s) for v, s in zip(out, program.outputs)]

    def run_adjoint(self, program: AdjointProgram, of: str, seed) -> dict[str, object]:
        args = [self.env[self.graph.symbols[n]] for n in program.names]
        fn = program.function(self.backend)
        if self.backend != "numpy":
            try:
                out = fn(self.constant, *args, {program.index[of]: seed})
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                import mpmath as mp
                return {n: mp.nan for n in self.graph.ancestors[of]}
            return {n: _mp_shaped(v, concrete(self.graph.shape(n), self.sizes))
                    for n, v in zip(program.names, out) if v is not None and n != of}
        with np.errstate(all="ignore"):
            out = fn(self.constant, *args, {program.index[of]: seed})
        self.ops += program.ops(out)
        return {n: _broadcast(v, concrete(self.graph.shape(n), self.sizes) + (self.n,))
                for n, v in zip(program.names, out) if v is not None and n != of}

    def _shaped(self, v, symbol):
        shape = concrete(A.shape_of(symbol), self.sizes) + (self.n,)
        v = np.asarray(v, dtype=float)
        return v if v.shape == shape else np.broadcast_to(v, shape).copy()

    def shape(self, expr: sp.Expr) -> tuple:
        return concrete(A.shape_of(expr), self.sizes)

    def value(self, expr: sp.Expr, extra: dict | None = None):
        """`expr` at every point, with the shape of its value (samples last)."""
        program = expression_program(self.graph, expr)
        env = self.env if not extra else {**self.env, **extra}
        v = self.run(program, env)[0]
        if self.backend == "numpy":
            return self._shaped(v, expr)
        return v

    def values(self, exprs: list[sp.Expr]) -> list:
        """Several expressions in one program (the kink arguments of a problem)."""
        key = ("exprs", tuple(exprs))
        cache = _programs(self.graph)
        if key not in cache:
            targets = [A.symbol(f"_value{k}", A.shape_of(e)) for k, e in enumerate(exprs)]
            cache[key] = Program(list(zip(targets, exprs)), targets)
        return self.run(cache[key], dict(self.env)) if exprs else []

    def constant(self, kind: str, dims: tuple):
        """eye(n) or the all-ones array at this run's sizes (what generated code calls K)."""
        key = (kind, dims)
        cache = self.__dict__.setdefault("_constants", {})
        if key not in cache:
            cache[key] = self._constant(kind, concrete(dims, self.sizes))
        return cache[key]

    def _constant(self, kind: str, dims: tuple):
        if self.backend == "numpy":
            base = np.eye(dims[0]) if kind == "eye" else np.ones(dims)
            return base[..., None]
        import mpmath as mp
        out = np.full(dims, mp.mpf(0), dtype=object)
        for i in range(dims[0]):
            for j in range(dims[1]):
                out[i, j] = mp.mpf(1 if (kind == "ones" or i == j) else 0)
        return out

    # --- the adjoint program ------------------------------------------------------------------
    def zeros(self, shape: tuple):
        shape = concrete(shape, self.sizes)
        if self.backend == "numpy":
            return np.zeros(shape + (self.n,))
        import mpmath as mp
        return np.full(shape, mp.mpf(0), dtype=object) if shape else mp.mpf(0)

    def adjoints(self, of: str, seed=None, only: str | None = None) -> dict[str, object]:
        """Every adjoint ∂(seed·of)/∂name by one reverse sweep from `of` (seed: 1 for a scalar).
        `only`: the edge partial to that parent alone."""
        key = (of, None if seed is None else id(seed), only)
        if key in self._sweeps:
            return self._sweeps[key]
        if seed is None:
            seed = self.zeros(()) + 1
        program = adjoint_program(self.graph, (of, only) if only is not None else None)
        bars = self.run_adjoint(program, of, seed)
        bars[of] = seed
        if seed is not None and key[1] is None:
            self._sweeps[key] = bars
        return bars

    def derivative(self, of: str, wrt: str, layout: str = "gradient", local: bool = False):
        """D(of, wrt) at every point, in the claim's layout: of a scalar, wrt's shape; of
        vectors, len(wrt) × len(of) (one sweep per component of `of`)."""
        graph = self.graph
        only = wrt if local else None
        if of in graph.inputs:
            return self._identity_or_zero(of, wrt, layout)
        so, sw = graph.shape(of), graph.shape(wrt)
        if not so:
            if of == wrt:
                return self.zeros(()) + 1
            out = self.adjoints(of, None, only).get(wrt)
            out = out if out is not None else self.zeros(sw)
            return out if layout == "gradient" else _transpose(out, self.backend)
        # a vector `of`: one column per component, seeded with eᵢ
        dims = concrete(so, self.sizes)
        columns = []
        for i in range(int(np.prod(dims))):
            seed = self._unit(dims, i)
            if of == wrt:
                columns.append(_flat(seed, self.backend))
                continue
            v = self.adjoints(of, seed, only).get(wrt)
            columns.append(_flat(v if v is not None else self.zeros(sw), self.backend))
        g = _stack(columns, self.backend)
        return g if layout == "gradient" else _transpose(g, self.backend)

    def _identity_or_zero(self, of: str, wrt: str, layout: str):
        from deriv.problem import derivative_shape
        shape = concrete(derivative_shape(self.graph, of, wrt, layout), self.sizes)
        z = self.zeros(shape)
        if of == wrt:
            if not shape:
                return z + 1
            for i in range(min(shape[:2])):
                z[i, i] = z[i, i] + 1
        return z

    def _unit(self, dims: tuple, i: int):
        if self.backend == "numpy":
            seed = np.zeros(dims + (self.n,))
            seed.reshape(-1, self.n)[i] = 1.0
            return seed
        import mpmath as mp
        seed = np.full(dims, mp.mpf(0), dtype=object)
        seed.reshape(-1)[i] = mp.mpf(1)
        return seed


def _broadcast(v, shape):
    v = np.asarray(v, dtype=float)
    return v if v.shape == shape else np.broadcast_to(v, shape).copy()


def _mp_shaped(v, shape):
    import mpmath as mp
    if isinstance(v, np.ndarray):
        return v
    if shape:                                      # a scalar broadcast to an array
        return np.full(shape, v, dtype=object)
    if isinstance(v, mp.mpc):
        return mp.nan if v.imag != 0 else v.real
    try:
        return mp.mpf(v)
    except (TypeError, ValueError):
        return mp.nan


def _count(inputs: dict) -> int:
    for v in inputs.values():
        return int(np.shape(v)[-1]) if np.ndim(v) else 1
    return 1


def _flat(v, backend):
    if backend == "numpy":
        return v.reshape(-1, v.shape[-1]) if v.ndim > 1 else v[None, :]
    return np.asarray(v, dtype=object).reshape(-1) if isinstance(v, np.ndarray) else \
        np.array([v], dtype=object)


def _stack(columns, backend):
    g = np.stack(columns, axis=1)          # (len wrt, len of, S)
    if backend == "numpy":
        return g[0, 0] if g.shape[:2] == (1, 1) else g
    return g[0, 0] if g.shape == (1, 1) else g


def _transpose(g, backend):
    if backend == "numpy":
        return np.swapaxes(g, 0, 1) if g.ndim == 3 else g
    return g.T if isinstance(g, np.ndarray) else g


def close(a, b, rtol: float = RTOL, atol: float = ATOL):
    with np.errstate(all="ignore"):
        return np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b))


def per_point(mask: np.ndarray) -> np.ndarray:
    """An elementwise mask (…, S) → one flag per point (S,): every element must hold."""
    return mask.reshape(-1, mask.shape[-1]).all(axis=0) if mask.ndim > 1 else mask


def forward_operations(problem) -> int:
    """Operations of one forward pass (per point)."""
    return forward_program(problem.graph).ops
