"""Evaluating the programs a sweep builds, on batches of sampled points.

The truth `check` compares against is the adjoint program — each node's VJP evaluated on the
arrays of its parents and its own adjoint — never one inlined expression, whose size grows with
the number of paths. Every intermediate is shared, so a sweep costs a small constant times the
forward pass (the cheap-gradient bound). A program is straight-line code, `target = expression`,
run as steps whose shapes are compiled once (deriv.templates: a 5,000-node chain repeats a few,
where one `lambdify` a node, or one function a program, would cost seconds); the operations it
evaluates are counted, so the benchmarks report what the commands really do.

Two back-ends: NumPy on batches (a scalar is (S,), an array (rows, cols, S)) and mpmath at one
point (a scalar is an mpf, an array a 2-D object array of mpf) for the high-precision recheck.
"""

from __future__ import annotations

import functools
import re
from typing import Callable

import numpy as np
import sympy as sp

from deriv import algebra as A
from deriv import primitives as P
from deriv import templates as T
from deriv.sampling import concrete

RTOL = 1e-9
ATOL = 1e-9
class _Source:
    """Python source for one expression and a backend. Every function is a call into the
    registry's forwards, so the generated code knows no particular primitive either."""

    def __init__(self, names: dict[sp.Symbol, str], constants: dict):
        self.names = names
        self.constants = constants         # number → its index in the table C the code reads
        self.memo: dict[sp.Expr, str] = {}

    def __call__(self, e: sp.Expr) -> str:
        if e in self.names:
            return self.names[e]
        text = self.memo.get(e)
        if text is None:
            text = self.memo[e] = self.write(e)
        return text

    def write(self, e: sp.Expr) -> str:
        if isinstance(e, A.SizeConstant):          # eye(n), ones: from the run's sizes
            return f"K({e.constant!r}, {e.dims!r})"
        if isinstance(e, A.SizeValue):             # a size as a number: the run's
            return f"K('size', {e.name!r})"
        if isinstance(e, A.ArrayLiteral):
            return self.number(e)
        if e.is_Number:
            return self.number(e)
        if not e.args and not e.is_Symbol:          # π, E, I: a constant, real or undefined
            value = complex(e)
            return self.number(sp.nan if value.imag else e)   # exact: each back-end rounds
        if isinstance(e, sp.Add) and len(e.args) >= LINEAR_TERMS:
            weighted = self.weighted(e)
            if weighted is not None:
                constant, coefficients, names = weighted
                return f"LIN(C[{self.vector((constant, *coefficients))}], {', '.join(names)})"
        if isinstance(e, sp.Add):         # a − b, not a + (−1·b): what a person would write
            text = ""
            for a in e.args:
                c = a.args[0] if isinstance(a, sp.Mul) else None
                if text and c is not None and c.is_Rational and c.p < 0:
                    rest = [self(r) for r in a.args[1:]]     # (−c)·rest, without building it
                    text += " - " + ("*".join(rest) if c == -1 else
                                     "(" + "*".join([self(-c)] + rest) + ")")
                else:
                    text += (" + " if text else "") + self(a)
            return "(" + text + ")"
        if isinstance(e, sp.Mul):
            if e.args[0] == -1:
                return "(-" + self(sp.Mul(*e.args[1:])) + ")"
            gates = [a for a in e.args if getattr(P.entry_of(a), "gate", False)]
            if gates and len(gates) < len(e.args):     # relu′ = 0 times a path's ∞ is 0:
                rest = [a for a in e.args if a not in gates]    # √relu(x) is flat where x < 0
                return f"GATE({self(sp.Mul(*gates))}, {self(sp.Mul(*rest))})"
            return "(" + "*".join(self(a) for a in e.args) + ")"
        if isinstance(e, sp.Pow):
            base, exponent = e.args
            if exponent == sp.S.Half:
                return f"F_sqrt({self(base)})"
            if exponent == -1:
                return f"(1/{self(base)})"
            if not exponent.is_Number:       # (xʸ in mpmath: bounded, as exp is)
                return f"POW({self(base)}, {self(exponent)})"
            return f"({self(base)}**{self(exponent)})"
        entry = P.entry_of(e)
        if entry is not None:
            return f"F_{entry.name}({', '.join(self(a) for a in e.args)})"
        raise ValueError(f"deriv cannot evaluate {type(e).__name__}")

    def weighted(self, e: sp.Add):
        """A layer's c₀ + Σ cᵢ·xᵢ over named values: (c₀, the cᵢ, the names' code), written as
        one call on a vector of coefficients (a tenth of the code to compile); None otherwise."""
        constant, coefficients, names = sp.S.Zero, [], []
        for a in e.args:
            if a.is_Number:
                constant = a
                continue
            c, x = (a.args if isinstance(a, sp.Mul) and len(a.args) == 2 and a.args[0].is_Number
                    else (sp.S.One, a))
            name = self.names.get(x)
            if name is None or A.shape_of(x):
                return None
            coefficients.append(c)
            names.append(name)
        return constant, coefficients, names

    def vector(self, numbers: tuple) -> int:
        return self.constants.setdefault(("vector", numbers), len(self.constants))

    def number(self, e) -> str:
        """A number is read from the table C, filled per back-end: floats for NumPy, exact
        for mpmath — so one generated code serves both."""
        return f"C[{self.constants.setdefault(e, len(self.constants))}]"


class Program:
    """Straight-line code `target = expression`, compiled once per backend into one Python
    function: the forward pass, an adjoint sweep, or one claim's expression."""

    def __init__(self, assignments: list[tuple[sp.Symbol, sp.Expr]], outputs: list[sp.Symbol],
                 inputs: list[sp.Symbol] | None = None):
        if inputs is None:
            assigned = {t for t, _ in assignments}
            free: dict[sp.Symbol, None] = {}
            for _, e in assignments:
                for s in A.free(e):
                    if s not in assigned and not isinstance(s, A.CONSTANT_SYMBOLS):
                        free[s] = None
            inputs = list(free)
        self.inputs = sorted(inputs, key=lambda s: s.name)
        self.assignments = assignments
        self.outputs = list(outputs)
        self.ops = 0                       # counted from the generated code
        self._compiled: dict[str, Callable] = {}
        self._steps: list | None = None
        self._outputs: list[int] = []
        self.shapes: dict[tuple, list] = {}      # sizes, points → each output's array shape
        self._constants: dict = {}
        self.names_in_code: tuple | None = None   # (expression → its name in sweep code, kinds)

    def function(self, backend: str) -> Callable:
        fn = self._compiled.get(T.key(backend))
        if fn is None:
            if self._steps is None:
                self._write()
            bound = T.bind(self._steps, backend)
            table = T.table(self._constants, backend)
            blank = [None] * len(self.assignments)
            outputs = self._outputs

            def fn(K, *inputs):
                store = [*inputs, *blank, *table]
                T.run(bound, store, K)
                return tuple(store[o] for o in outputs)
            self._compiled[T.key(backend)] = fn
        return fn

    def _write(self):
        """The code, one step a line: inputs a0 … and values v0 … in the store, then the
        table of numbers C."""
        names = {s: f"a{k}" for k, s in enumerate(self.inputs)}
        source = _Source(names, self._constants)
        lines = []
        for k, (target, expr) in enumerate(self.assignments):
            lines.append(f"v{k} = {source(expr)}")
            names[target] = names[expr] = f"v{k}"   # later code reads the stored value
        self.ops = sum(count_operations(line) for line in lines)
        inputs, values = len(self.inputs), len(lines)

        def slot(token: str) -> int:
            if token[0] == "C":
                return inputs + values + int(token[2:-1])
            return int(token[1:]) + (inputs if token[0] == "v" else 0)
        self._steps = [T.step([line], slot, [f"v{k}"]) for k, line in enumerate(lines)]
        self._outputs = [slot(names[s]) for s in self.outputs]


def forward_program(graph) -> Program:
    """The forward pass, keeping every argument of a function (relu's z, the W@x of
    relu(W@x + b)) as a stored intermediate: the kinks and the reverse sweep read them
    instead of computing them again — the tape of reverse mode."""
    cache = graph.programs
    if "forward" not in cache:
        assignments: list[tuple[sp.Expr, sp.Expr]] = []
        stored: set[sp.Expr] = set()
        for name in graph.order:
            node = graph.nodes[name]
            for part in _intermediates(node.expr):
                if part not in stored:
                    stored.add(part)
                    assignments.append((part, part))
            assignments.append((node.symbol, node.expr))
        # its inputs: the graph's inputs that nodes read (their parents: known, not searched)
        used = {p for name in graph.order for p in graph.nodes[name].parents
                if p in graph.inputs}
        cache["forward"] = Program(assignments, [t for t, _ in assignments],
                                   [graph.symbols[p] for p in used])
    return cache["forward"]


def _intermediates(expr: sp.Expr) -> list[sp.Expr]:
    """The compound arguments of the functions in expr, innermost first."""
    out: list[sp.Expr] = []

    def walk(e):
        for a in e.args:
            walk(a)
        if P.entry_of(e) is not None:
            out.extend(a for a in e.args if a.args and not isinstance(a, A.SizeConstant))
    walk(expr)
    return out


_OPERATION = re.compile(r"\*\*|[-+*/]|\b\w+\(")


_WEIGHTED = re.compile(r"\b(LIN|SCATTER)\(([^()]*)\)")
LINEAR_TERMS = 6            # a sum of this many weighted names is written as one LIN call


def count_operations(code: str) -> int:
    """Operations a line of generated code evaluates: arithmetic operators and calls; a
    weighted sum of n names (LIN) is n products and n sums, its adjoint (SCATTER) n products
    and at most n sums."""
    return len(_OPERATION.findall(code)) + \
        sum(2 * (args.count(",") - (call == "SCATTER")) - 1
            for call, args in _WEIGHTED.findall(code))


class AdjointProgram:
    """Reverse sweeps as generated code, compiled once per graph: for each node, output to
    inputs, the VJP of its expression written out operation by operation — elementwise
    partials from the registry, structural rules (Z̄Yᵀ, −ZᵀZ̄Zᵀ, ...) from their entries — so
    no symbolic derivative is built and every adjoint is shared. A node's block runs only when
    its adjoint exists, so a sweep from any node (seeded through `S`) costs what it reaches.
    `only` = (child, parent): the edge partial, child's block to that parent alone.
    `droppable`: each share is guarded by its edge's number, so one compiled program evaluates
    a derivative without any set of edges (`D`, the paths a wrong claim lost) given at run time."""

    def __init__(self, graph, only: tuple[str, str] | None = None, droppable: bool = False):
        self.graph, self.only, self.droppable = graph, only, droppable
        self.names, self.index = _numbered(graph)           # b{i}: the adjoint of names[i]
        self.returned: list[str] = []                      # the adjoints a run returns
        self.forward = forward_program(graph)               # its values are the inputs
        self.block_ops: dict[str, int] = {}
        self._compiled: dict[str, Callable] = {}
        self._constants: dict = {}
        self._literals: list[int] = []                      # the edge numbers guards read
        self._steps = _AdjointWriter(self).write()          # (also counts each block's ops)

    def function(self, backend: str) -> Callable:
        """program(K, X, V, S, D): the forward pass's inputs X and values V, the seeds S
        (adjoint's number → value), the edges D left out → the returned adjoints."""
        fn = self._compiled.get(T.key(backend))
        if fn is None:
            bound = T.bind(self._steps, backend)
            tail = T.table(self._constants, backend) + self._literals
            count = len(self.names)
            returned = [self._bars + self.index[n] for n in self.returned]

            def fn(K, X, V, S, D=()):
                store = [*X, *V, *[S.get(i) for i in range(count)], *tail]
                T.run(bound, store, K, D)
                return tuple(store[r] for r in returned)
            self._compiled[T.key(backend)] = fn
        return fn

    def source(self) -> str:
        """Its code: the shape of each step, as compiled."""
        return "\n".join(shape for _, shape, _, _ in self._steps)

    def edge(self, child: str, parent: str) -> int:
        """An edge's number in the guards of a droppable program."""
        return self.index[child] * len(self.names) + self.index[parent]

    def ops(self, bars: list) -> int:
        """Operations a run evaluated: the blocks of the nodes it reached."""
        return sum(self.block_ops.get(n, 0) for n, b in zip(self.returned, bars) if b is not None)


PREFIX_FACTORS = 8      # factors holding a target from which a product's partials share
                        # prefix and suffix products


def _numbered(graph) -> tuple[list[str], dict[str, int]]:
    """The graph's names in order and each one's number, made once a graph."""
    if "numbered" not in graph.programs:
        names = list(graph.symbols)
        graph.programs["numbered"] = names, {n: i for i, n in enumerate(names)}
    return graph.programs["numbered"]


class _AdjointWriter:
    def __init__(self, program: AdjointProgram):
        self.p = program
        self.graph = program.graph
        forward = program.forward
        if forward.names_in_code is None:             # shared by every sweep of the graph
            names = {s: f"x{k}" for k, s in enumerate(forward.inputs)}
            names.update({t: f"v{k}" for k, (t, _) in enumerate(forward.assignments)})
            names.update({e: f"v{k}" for k, (_, e) in enumerate(forward.assignments)})
            # (with the functions whose values are stored: an edge's program is one block,
            # and must not cost a pass over a 5,000-node graph)
            forward.names_in_code = names, {type(e) for e in names}
        self.values, self.kinds = forward.names_in_code
        self.lines: list[str] = []
        self.targets: set[sp.Symbol] = set()
        self.shares: dict[str, int] = {}       # adjoint → how many shares it receives
        self.templates: dict[tuple, list[str]] = {}   # a partial's code, its names left out

    def tmp(self, code: str) -> str:
        name = f"t{len(self.lines)}"
        self.lines.append(f"{name} = {code}")
        return name

    def write(self) -> str:
        graph, p = self.graph, self.p
        out: list[tuple] = []
        blocks = [p.only[0]] if p.only else [n for n in reversed(graph.order)]
        blocks_lines = []
        for name in blocks:
            node = graph.nodes[name]
            self.targets = {graph.symbols[q] for q in node.parents
                            if p.only is None or q == p.only[1]}
            self.lines = []
            self.reached: dict[sp.Expr, bool] = {}
            self.source = _Source(self.values, self.p._constants)
            self.emit(node.expr, f"b{p.index[name]}")
            if not self.lines:
                continue
            blocks_lines.append((name, _inlined(self.lines)))
        seen: set[str] = set()
        for name, lines in blocks_lines:
            ops, written, targets = 0, [], []
            for line in lines:
                target, code = line.split(" = ", 1)
                targets += [t for t in target.split(", ") if t[0] == "b"]
                share = code[len(f"ACC({target}, "):-1] if code.startswith("ACC(") else None
                if share is not None and self.shares[target] == 1:
                    code = share         # one share in the whole sweep: assigned, not added
                # an adjoint's first share is an assignment, each later one an addition (an
                # upper bound: the first share's block may not run)
                ops += count_operations(code if share is None else share) + \
                    (share is not None and target in seen)
                seen.update(target.split(", "))
                guard = f"if {p.edge(name, p.names[int(target[1:])])} not in D: " \
                    if p.droppable and target[0] == "b" else ""
                written.append(f"{guard}{target} = {code}")
            p.block_ops[name] = ops
            out.append((name, written, list(dict.fromkeys(targets))))
        # the adjoints the blocks use are returned (an edge program uses a few)
        used = {int(b[1:]) for _, lines, _ in out
                for b in _ADJOINT.findall("\n".join(lines))}
        used.update(p.index[name] for name, _, _ in out)
        p.returned = [p.names[b] for b in sorted(used)]
        # the store: the forward pass's inputs and values, the adjoints, the numbers C, the
        # edge numbers the guards read
        inputs, values = len(p.forward.inputs), len(p.forward.assignments)
        p._bars = inputs + values
        table = p._bars + len(p.names)
        literals = table + len(p._constants)
        numbers: dict[str, int] = {}
        offset = {"x": 0, "v": inputs, "b": p._bars}

        def slot(token: str) -> int | None:
            kind = token[0]
            if kind == "t":
                return None                           # a temporary of its block
            if kind == "C":
                return table + int(token[2:-1])
            if kind.isdigit():
                if token not in numbers:
                    numbers[token] = literals + len(p._literals)
                    p._literals.append(int(token))
                return numbers[token]
            return int(token[1:]) + offset[kind]
        return [T.step(lines, slot, targets, slot(f"b{p.index[name]}"))
                for name, lines, targets in out]

    def add(self, target: sp.Symbol, bar: str):
        b = f"b{self.p.index[target.name]}"
        self.shares[b] = self.shares.get(b, 0) + 1
        self.lines.append(f"{b} = ACC({b}, {bar})")

    def scattered(self, e: sp.Add, bar: str) -> list[sp.Expr]:
        """A layer's weighted sum Σ cᵢ·xᵢ gives each target xᵢ its share cᵢ·x̄ in one SCATTER
        call (the adjoint of LIN); returns the terms left to emit one by one."""
        if self.p.droppable or len(e.args) < LINEAR_TERMS or A.shape_of(e):
            return list(e.args)
        shares, rest = [], []
        for a in e.args:
            c, x = (a.args if isinstance(a, sp.Mul) and len(a.args) == 2 and a.args[0].is_Number
                    else (sp.S.One, a))
            (shares.append((c, x)) if x in self.targets and not A.shape_of(x)
             else rest.append(a))
        if len(shares) < LINEAR_TERMS:
            return list(e.args)
        names = [f"b{self.p.index[x.name]}" for _, x in shares]
        for b in names:
            self.shares[b] = self.shares.get(b, 0) + 1
        k = self.source.vector((sp.S.Zero, *(c for c, _ in shares)))
        self.lines.append(f"{', '.join(names)} = SCATTER({bar}, C[{k}], {', '.join(names)})")
        return rest

    def reduce(self, bar: str, outer: sp.Expr, inner: sp.Expr) -> str:
        """A scalar inside an array expression gets the sum of its elementwise adjoints."""
        si, so = A.shape_of(inner), A.shape_of(outer)
        if not si and so:
            return self.tmp(f"F_sumall({bar})")
        for axis in (0, 1):          # a row or a column broadcast against a matrix
            if si and so and si[axis] == 1 and so[axis] != 1:
                bar = self.tmp(f"F_total{axis}({bar})")
        return bar

    def reaches(self, e: sp.Expr) -> bool:
        """Does e contain a target? (memoised bottom-up: free_symbols at every level of a
        deep expression would cost its size times its depth)"""
        known = self.reached.get(e)
        if known is None:
            known = self.reached[e] = e in self.targets or any(self.reaches(a) for a in e.args)
        return known

    def emit(self, e: sp.Expr, bar: str):
        """Add to each target's contributions its share of `bar`, e's adjoint."""
        if e in self.targets:
            self.add(e, bar)
            return
        if not e.args or not self.reaches(e):
            return
        src = self.source
        if isinstance(e, sp.Add):
            for a in self.scattered(e, bar):
                self.emit(a, self.reduce(bar, e, a))
            return
        if isinstance(e, sp.Mul):
            coefficient, factors = e.as_coeff_mul()
            scaled = bar if coefficient == 1 else self.tmp(f"{bar}*{src(coefficient)}")
            reaching = [i for i, a in enumerate(factors) if self.reaches(a)]
            if len(reaching) > PREFIX_FACTORS:
                others = self.others(factors)
                for i in reaching:
                    code = self.tmp("*".join([scaled] + others[i]))
                    self.emit(factors[i], self.reduce(code, e, factors[i]))
                return
            for i in reaching:
                a = factors[i]
                others = [src(b) for k, b in enumerate(factors) if k != i]
                code = self.tmp("*".join([scaled] + others)) if others else scaled
                self.emit(a, self.reduce(code, e, a))
            return
        if isinstance(e, sp.Pow):
            base, exponent = e.args
            if self.reaches(base):
                code = self.tmp(f"{bar}*{src(exponent)}*{src(base ** (exponent - 1))}")
                self.emit(base, self.reduce(code, e, base))
            if self.reaches(exponent):
                code = self.tmp(f"{bar}*F_log({src(base)})*{src(e)}")
                self.emit(exponent, self.reduce(code, e, exponent))
            return
        entry = P.entry_of(e)
        if entry is None:
            raise ValueError(f"deriv cannot differentiate {type(e).__name__}")
        args = [src(a) for a in e.args]
        if entry.elementwise:          # the registry's partial, written on stand-ins
            for i, a in enumerate(e.args):
                if self.reaches(a):
                    partial = self.partial_code(entry, e, i, args)
                    code = self.tmp(f"GATE({partial}, {bar})" if _gated(entry, i, len(e.args))
                                    else f"{bar}*{partial}")
                    self.emit(a, self.reduce(code, e, a))
            return
        # a structural operation: its rule, written on stand-ins for its arguments
        # (a number argument, a matrix power's k, stays itself: its rule expands over it)
        stand_ins = [a if a.is_Number else A.symbol(f"_arg{i}", A.shape_of(a))
                     for i, a in enumerate(e.args)]
        out = A.symbol("_out", A.shape_of(e))
        bar_in = A.symbol("_bar", A.shape_of(e))
        names = {s: self.tmp(code) for s, code in zip(stand_ins, args) if not s.is_Number}
        names[out] = self.tmp(src(e))
        names[bar_in] = bar
        for i, a in enumerate(e.args):
            if self.reaches(a):
                rule = entry.vjp(A, tuple(stand_ins), out, bar_in, i)
                rule_source = _Source(names, self.p._constants)
                self.emit(a, self.tmp(rule_source(rule)))

    def others(self, factors) -> list[list[str]]:
        """For each factor, the product of all the others as the product of those before it
        and of those after it (prefix and suffix products: 3n multiplications, where each
        factor's own product of the others was n² for a product of 1,000 factors)."""
        values = [self.source(b) for b in factors]
        last = len(values) - 1
        before, running = [], None
        for i, v in enumerate(values):
            before.append(running)
            if i < last:                 # (the product of them all is no factor's others)
                running = v if running is None else self.tmp(f"{running}*{v}")
        after, running = [None] * len(values), None
        for i in range(last, -1, -1):
            after[i] = running
            if i > 0:
                running = values[i] if running is None else self.tmp(f"{values[i]}*{running}")
        return [[x for x in pair if x is not None] for pair in zip(before, after)]

    def partial_code(self, e_entry, e: sp.Expr, i: int, args: list[str]) -> str:
        """The code of e's i-th partial on e's arguments, reading the values the forward pass
        stored (tanh′ reads tanh). The partial is written once per primitive, argument and
        set of stored values, as a template its names are put into: a SymPy tree a node
        would cost seconds on a long chain."""
        arity = len(e.args)
        stand_ins = _stand_ins(arity)
        partial = _partial(e_entry, i, arity)
        calls = _calls(partial)
        stored = [self.values.get(e) if call.func is e.func and call.args == stand_ins else
                  self.values.get(call.func(*(e.args[stand_ins.index(s)] for s in call.args),
                                            evaluate=False)) if call.func in self.kinds else
                  None for call in calls]
        key = (e_entry.name, i, arity, tuple(v is not None for v in stored))
        template = self.templates.get(key)
        if template is None:
            names = {s: f"\0{k}\0" for k, s in enumerate(stand_ins)}
            names.update({call: f"\0{arity + k}\0" for k, (call, v) in
                          enumerate(zip(calls, stored)) if v is not None})
            text = _Source(names, self.p._constants)(partial)
            template = self.templates[key] = text.split("\0")
        fill = args + stored
        return "".join(part if k % 2 == 0 else fill[int(part)]
                       for k, part in enumerate(template))


_ADJOINT, _TEMPORARY = re.compile(r"\bb\d+\b"), re.compile(r"\bt\d+\b")


def _inlined(lines: list[str]) -> list[str]:
    """A temporary used once, by the accumulation on the next line, written into it: half
    the lines for Python to compile on a wide graph."""
    if len(lines) == 1:
        return lines
    uses: dict[str, int] = {}
    for line in lines:
        for name in set(_TEMPORARY.findall(line.split(" = ", 1)[1])):
            uses[name] = uses.get(name, 0) + 1
    out: list[str] = []
    for line in lines:
        target, code = line.split(" = ", 1)
        previous = out[-1].split(" = ", 1) if out else None
        if previous and uses.get(previous[0]) == 1 and code == f"ACC({target}, {previous[0]})":
            out[-1] = f"{target} = ACC({target}, {previous[1]})"
        else:
            out.append(line)
    return out


@functools.lru_cache(maxsize=None)
def _calls(partial: sp.Expr) -> tuple:
    """The function calls in a partial whose arguments are all stand-ins (tanh(_arg0) in
    1 − tanh(_arg0)²): values the forward pass may have stored."""
    return tuple(s for s in sp.preorder_traversal(partial)
                 if isinstance(s, sp.Function) and s.args and
                 all(a.is_Symbol and a.name.startswith("_arg") for a in s.args))


@functools.lru_cache(maxsize=None)
def _stand_ins(arity: int) -> tuple[sp.Symbol, ...]:
    return tuple(sp.Symbol(f"_arg{i}", real=True) for i in range(arity))


@functools.lru_cache(maxsize=None)
def _partial(entry, i: int, arity: int) -> sp.Expr:
    """An elementwise primitive's i-th partial, on stand-ins for its arguments."""
    return (entry.code_partials or entry.partials)[i](*_stand_ins(arity))


def _gated(entry, i: int, arity: int) -> bool:
    """The partial is a gate, or a product with one (relu′ = 𝕀[z > 0]): where it is 0, the
    path carries 0 whatever reaches it — √relu(x) is flat, not undefined, where x < 0."""
    partial = _partial(entry, i, arity)
    factors = partial.args if isinstance(partial, sp.Mul) else (partial,)
    return any(getattr(P.entry_of(f), "gate", False) for f in factors)


def adjoint_program(graph, only: tuple[str, str] | None = None,
                    droppable: bool = False) -> AdjointProgram:
    key = ("adjoint", only, droppable)
    cache = graph.programs
    if key not in cache:
        cache[key] = AdjointProgram(graph, only, droppable)
    return cache[key]


def expression_program(graph, expr: sp.Expr) -> Program:
    cache = graph.programs
    key = ("expr", expr)
    if key not in cache:
        target = A.symbol("_value", A.shape_of(expr))
        cache[key] = Program([(target, expr)], [target])
    return cache[key]


SWEEP_MEMORY = 192 << 20      # bytes of adjoints a batch keeps for later claims


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
        self.ops = 0                       # operations evaluated per point, in all
        self.sweep_ops = 0                 # of which in reverse sweeps (the truth)
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
        fn = program.function(self.backend)
        self.ops += program.ops
        if self.backend != "numpy":
            try:
                out = fn(*args)
            except (ZeroDivisionError, ValueError, OverflowError, TypeError, MemoryError):
                # (MemoryError: mpmath's exp of a number with a 700-digit exponent would need
                # an integer of that many bits — beyond any float, as an overflow is)
                import mpmath as mp
                out = [mp.nan] * len(program.outputs)
            return [_mp_shaped(v, concrete(A.shape_of(s), self.sizes))
                    for v, s in zip(out, program.outputs)]
        with np.errstate(all="ignore"):
            out = fn(*args)
        key = (tuple(sorted(self.sizes.items())), self.n)   # every output's shape, once
        shapes = program.shapes.get(key)
        if shapes is None:
            shapes = program.shapes[key] = [concrete(A.shape_of(s), self.sizes) + (self.n,)
                                             for s in program.outputs]
        return [v if type(v) is np.ndarray and v.shape == shape and v.dtype == float else
                _broadcast(v, shape) for v, shape in zip(out, shapes)]

    def run_adjoint(self, program: AdjointProgram, of: str, seed,
                    drop: frozenset = frozenset()) -> dict[str, object]:
        forward = program.forward
        dropped = frozenset(program.edge(c, p) for c, p in drop)
        args = [self.env[s] for s in forward.inputs], [self.env[t] for t in forward.outputs]
        fn = program.function(self.backend)
        if self.backend != "numpy":
            try:
                out = fn(self.constant, *args, {program.index[of]: seed}, dropped)
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                import mpmath as mp
                return {n: mp.nan for n in self.graph.ancestors[of]}
            return {n: _mp_shaped(v, concrete(self.graph.shape(n), self.sizes))
                    for n, v in zip(program.returned, out) if v is not None and n != of}
        with np.errstate(all="ignore"):
            out = fn(self.constant, *args, {program.index[of]: seed}, dropped)
        self.ops += program.ops(out)
        if program.only is None and not drop:
            self.sweep_ops += program.ops(out)
        shapes = self.__dict__.setdefault("_shapes", {})
        for n in program.returned:
            if n not in shapes:
                shapes[n] = concrete(self.graph.shape(n), self.sizes) + (self.n,)
        return {n: v if type(v) is np.ndarray and v.shape == shapes[n] and v.dtype == float
                else _broadcast(v, shapes[n])
                for n, v in zip(program.returned, out) if v is not None and n != of}

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

    def kinks(self, exprs: list[sp.Expr]) -> dict:
        """Kink arguments, read from the forward pass's stored intermediates where they are
        there (relu's argument), computed otherwise."""
        out, missing = {}, []
        for k in exprs:
            if k in self.env:
                out[k] = self.env[k]
            elif -k in self.env:
                out[k] = -self.env[-k]
            else:
                missing.append(k)
        out.update(zip(missing, self.values(missing)))
        return out

    def values(self, exprs: list[sp.Expr]) -> list:
        """Several expressions in one program (the kink arguments of a problem)."""
        key = ("exprs", tuple(exprs))
        cache = self.graph.programs
        if key not in cache:
            targets = [A.symbol(f"_value{k}", A.shape_of(e)) for k, e in enumerate(exprs)]
            cache[key] = Program(list(zip(targets, exprs)), targets)
        return self.run(cache[key], dict(self.env)) if exprs else []

    def constant(self, kind: str, dims: tuple):
        """eye(n) or the all-ones array at this run's sizes (what generated code calls K)."""
        key = (kind, dims)
        cache = self.__dict__.setdefault("_constants", {})
        if key not in cache:
            if kind == "size":
                n = self.sizes[dims] if isinstance(dims, str) else dims
                import mpmath as mp
                cache[key] = float(n) if self.backend == "numpy" else mp.mpf(n)
            else:
                cache[key] = self._constant(kind, concrete(dims, self.sizes))
        return cache[key]

    def _constant(self, kind: str, dims: tuple):
        """eye, ones, zeros, and onehot{k} (the k-th unit vector, k from 1, or its row)."""
        table = np.eye(dims[0]) if kind == "eye" else np.full(dims, 0.0 if kind == "zeros"
                                                              else 1.0)
        if kind.startswith("onehot"):
            k = int(kind[len("onehot"):]) - 1
            table = np.zeros(dims)
            table.reshape(-1)[k] = 1.0
        if self.backend == "numpy":
            return table[..., None]
        import mpmath as mp
        return np.vectorize(mp.mpf, otypes=[object])(table)

    # --- the adjoint program ------------------------------------------------------------------
    def zeros(self, shape: tuple):
        shape = concrete(shape, self.sizes)
        if self.backend == "numpy":
            return np.zeros(shape + (self.n,))
        import mpmath as mp
        return np.full(shape, mp.mpf(0), dtype=object) if shape else mp.mpf(0)

    def adjoints(self, of: str, seed=None, only: str | None = None,
                 drop: frozenset = frozenset()) -> dict[str, object]:
        """Every adjoint ∂(seed·of)/∂name by one reverse sweep from `of` (seed: 1 for a scalar).
        `only`: the edge partial to that parent alone."""
        key = (of, None if seed is None else id(seed), only, drop)
        if key in self._sweeps:
            return self._sweeps[key]
        if seed is None:
            seed = self.zeros(()) + 1
        program = adjoint_program(self.graph, (of, only) if only is not None else None,
                                  droppable=bool(drop))
        bars = self.run_adjoint(program, of, seed, drop)
        bars[of] = seed
        if key[1] is None:                 # a unit seed of a vector is used once
            self._sweeps[key] = bars
            self._keep_sweeps_small()
        return bars

    def _keep_sweeps_small(self):
        """The oldest sweeps are let go past SWEEP_MEMORY (computed again if asked again):
        99 claims at as many depths of a 1,000-node chain held 2.4 GB of adjoints."""
        sizes = self.__dict__.setdefault("_sweep_bytes", {})
        key = next(reversed(self._sweeps))
        sizes[key] = sum(getattr(v, "nbytes", 8) for v in self._sweeps[key].values())
        self._swept = getattr(self, "_swept", 0) + sizes[key]
        while len(self._sweeps) > 1 and self._swept > SWEEP_MEMORY:
            oldest = next(iter(self._sweeps))
            del self._sweeps[oldest]
            self._swept -= sizes.pop(oldest, 0)

    def derivative(self, of: str, wrt: str, layout: str = "gradient", local: bool = False,
                   drop: frozenset = frozenset()):
        """D(of, wrt) at every point, in the claim's layout: of a scalar, wrt's shape; of
        vectors, len(wrt) × len(of) (one sweep per component of `of`); without the edges in
        `drop`."""
        graph = self.graph
        only = wrt if local else None
        if of in graph.inputs:
            return self._identity_or_zero(of, wrt, layout)
        so, sw = graph.shape(of), graph.shape(wrt)
        if not so:
            if of == wrt:
                return self.zeros(()) + 1
            out = self.adjoints(of, None, only, drop).get(wrt)
            out = out if out is not None else self.zeros(sw)
            return out if layout == "gradient" else transpose_points(out)
        # a vector `of`: one column per component, seeded with eᵢ
        dims = concrete(so, self.sizes)
        columns = []
        for i in range(int(np.prod(dims))):
            seed = self._unit(dims, i)
            if of == wrt:
                columns.append(_flat(seed, self.backend))
                continue
            v = self.adjoints(of, seed, only, drop).get(wrt)
            columns.append(_flat(v if v is not None else self.zeros(sw), self.backend))
        g = _stack(columns)
        if not sw and len(dims) == 2 and 1 not in dims:     # a matrix by a scalar: its shape
            return g.reshape(dims + g.shape[2:])
        return g if layout == "gradient" else transpose_points(g)

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


def _stack(columns):
    g = np.stack(columns, axis=1)          # (len wrt, len of, S), or (len wrt, len of) in mpmath
    return g[0, 0] if g.shape[:2] == (1, 1) else g


def close(a, b, rtol: float = RTOL, atol: float = ATOL):
    with np.errstate(all="ignore"):
        return np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b))


def at_point(values, i: int):
    """One point of a batched array (samples last): a float, or an array of floats."""
    v = np.asarray(values)[..., i]
    return float(v) if v.ndim == 0 else v


def per_point(mask: np.ndarray, every: bool = True) -> np.ndarray:
    """An elementwise mask (…, S) → one flag per point (S,): every element must hold (or,
    with every=False, any)."""
    if np.ndim(mask) <= 1:
        return mask
    flat = mask.reshape(-1, mask.shape[-1])
    return flat.all(axis=0) if every else flat.any(axis=0)


def transpose_points(v):
    """Each point's matrix transposed (samples stay last; an mpmath point is 2-D)."""
    return np.swapaxes(v, 0, 1) if np.ndim(v) >= 2 else v


def forward_operations(problem) -> int:
    """Operations of one forward pass (per point)."""
    program = forward_program(problem.graph)
    program.function("numpy")
    return program.ops


def mp_flat(v):
    """An mpmath value (or array) as a list of real numbers, or None if any is not finite."""
    import mpmath as mp
    items = list(np.ravel(v)) if isinstance(v, np.ndarray) else [v]
    out = []
    for x in items:
        if isinstance(x, mp.mpc):
            if x.imag != 0:
                return None
            x = x.real
        x = mp.mpf(x)
        if mp.isnan(x) or mp.isinf(x):
            return None
        out.append(x)
    return out


def mp_point(v: np.ndarray, i: int):
    """The value of point i of a batch's array, as mpf (an object array of them for arrays)."""
    import mpmath as mp
    if v.ndim == 1:
        return mp.mpf(float(v[i]))
    out = np.empty(v.shape[:-1], dtype=object)
    for idx in np.ndindex(*v.shape[:-1]):
        out[idx] = mp.mpf(float(v[idx + (i,)]))
    return out
