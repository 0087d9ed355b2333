"""The sentences a finding is read as, for every output format.

A finding is data (deriv.findings); `sentence(finding, math)` writes it, with `math` the
format's writer of symbols, derivatives, expressions and numbers (Unicode text, LaTeX). So the
terminal, LaTeX and Markdown say the same thing, and none parses another's output.
"""

from __future__ import annotations

from fractions import Fraction

from deriv.escape import printable


class UnicodeMath:
    """Math as the terminal shows it: ψ₀₂, ∂y/∂f₃, exp(f₃)·x."""

    def __init__(self, display=None):
        from deriv.render.notation import number
        self.display = display or {}
        self.number = number

    def name(self, name: str) -> str:
        from deriv.names import pretty
        return pretty(name, self.display)

    def partial(self, ref) -> str:
        from deriv.names import partial
        return partial(ref.of, ref.wrt, self.display)

    def expr(self, expr) -> str:
        from deriv.render.notation import text
        return text(expr, self.display)

    def shape(self, shape) -> str:
        from deriv.algebra import shape_text
        return shape_text(shape) if shape else "scalar"

    def path(self, path) -> str:
        return " → ".join(self.name(n) if n is not None else "…" for n in shortened(path))

    def transpose(self, text: str) -> str:
        return f"({text})ᵀ"


LONGEST_PATH = 10    # nodes of a path shown in full; a longer one keeps its ends


def _count(n: int) -> str:
    """1,779,979,416,004,714,189 paths as about 1.8·10¹⁸."""
    if n < 10 ** 6:
        return str(n)
    exponent = len(str(n)) - 1
    sup = str(exponent).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"about {n / 10 ** exponent:.1f}·10{sup}"


def shortened(path) -> list:
    """x → n₀ → n₂ → … → n₈₈ → n₉₀: a path through a hundred nodes by its first and last
    four (None stands for the nodes left out)."""
    path = list(path)
    return path if len(path) <= LONGEST_PATH else path[:4] + [None] + path[-4:]


def _ratio(k: float) -> tuple[str, str]:
    frac = Fraction(k).limit_denominator(1000)
    shown = str(frac) if abs(float(frac) - k) < 1e-9 * abs(k) else f"{k:.6g}"
    inverse = str(1 / frac) if frac and abs(float(frac) - k) < 1e-9 * abs(k) else f"{1 / k:.6g}"
    return shown, inverse


def _number(v) -> str:
    """A value of a counterexample: a number, or an array's values (short)."""
    import numpy as np
    if isinstance(v, str):                 # beyond a float (a 50-digit value)
        return v
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    text = np.array2string(a, precision=4, separator=", ", threshold=12, edgeitems=2)
    return " ".join(text.split())


def _names(m, names) -> str:
    shown = [m.name(n) for n in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def sentence(f, m) -> str:
    """One finding in words; `m` writes the math (UnicodeMath, or the LaTeX writer)."""
    target = m.partial(f.target) if f.target is not None else "the value"
    kind = f.kind
    if kind == "mislabelled":
        return f"equals {m.partial(f.derivative)}, not {target}"
    if kind == "transposed":
        got, want = f.shapes
        other = "derivative" if f.text == "gradient" else "gradient"
        return (f"is transposed: it equals {m.transpose(target)}, the {other} layout; in the "
                f"{f.text} layout {target} is {m.shape(want)}")
    if kind == "shape":
        got, want = f.shapes
        return f"has shape {m.shape(got)}, but {target} is {m.shape(want)} in the {f.text} layout"
    if kind == "ill-shaped":
        fits = f"; as {m.expr(f.expr)} it would be right" if f.expr is not None else ""
        return f"is not defined: {f.text}{fits}"
    if kind == "negated":
        whole = f"the updated {m.name(f.target.wrt)}" if f.text == "step" else target
        return f"has the wrong sign: it is the negative of {whole}"
    if kind == "product-order":
        return (f"multiplies in the wrong order: {m.expr(f.printed)} should be "
                f"{m.expr(f.expr)}")
    if kind == "wrong-axis":
        if type(f.printed).__name__ == "Tuple":             # every reduction at once
            return ("reduces over the wrong axis each time: " +
                    ", ".join(m.expr(p) for p in f.printed) + " should be " +
                    ", ".join(m.expr(e) for e in f.expr))
        return f"reduces over the wrong axis: {m.expr(f.printed)} should be {m.expr(f.expr)}"
    if kind == "constant-multiple":
        shown, inverse = _ratio(f.number)
        if abs(f.number) > 1:
            return f"is {shown} times {target} (an extra factor {shown})"
        said = f"is {shown} times {target} (a lost factor {inverse})"
        if f.paths:                 # the lost path behind it, where the graph shows one
            said += f": it misses the path{'s' * (len(f.paths) > 1)} " + \
                ", ".join(m.path(p) for p in f.paths)
            if f.expr is not None and f.printed is not None:
                said += f" (it counts only {m.expr(f.expr)} of {target} = {m.expr(f.printed)})"
        return said
    if kind == "swapped":
        a, b = f.symbols
        return f"{m.name(a)} and {m.name(b)} are swapped: exchanging them makes it right"
    if kind in ("wrong-factor", "wrong-symbol") and f.derivative is None:
        what = "factor" if kind == "wrong-factor" else "symbol"
        if type(f.printed).__name__ == "Tuple":             # one family for another
            printed = ", ".join(m.expr(p) for p in f.printed)
            right = ", ".join(m.expr(e) for e in f.expr)
            return f"the {what}s {printed} should be {right}"
        return f"the {what} {m.expr(f.printed)} should be {m.expr(f.expr)}"
    if kind == "wrong-factor":
        right = m.partial(f.derivative)
        if f.expr is not None:
            right += f" = {m.expr(f.expr)}"
        return f"the factor {m.expr(f.printed)} should be {right}"
    if kind == "wrong-term":
        return f"the term {m.expr(f.printed)} should be {m.expr(f.expr)}"
    if kind == "term-sign":
        return f"the term {m.expr(f.expr)} has the wrong sign"
    if kind in ("extra-factor", "missing-factor", "missing-term", "extra-term"):
        what = m.expr(f.expr) if f.derivative is None else m.partial(f.derivative) if \
            f.expr is None else f"{m.partial(f.derivative)} = {m.expr(f.expr)}"
        if f.expr is not None and f.derivative is not None and f.target is not None and \
                (f.derivative.of, f.derivative.wrt) == (f.target.of, f.target.wrt):
            # the edge partial, not the claim's own total derivative under the same name
            what = (f"{m.expr(f.expr)} (the partial along the edge {m.name(f.target.wrt)} → "
                    f"{m.name(f.target.of)} alone)")
        if f.text == "step":          # of a gradient step, w − ε·∇L
            step = f"the step it takes from {m.name(f.target.wrt)}"
            return {"extra-factor": f"{step} has an extra factor {what}",
                    "missing-factor": f"{step} misses a factor {what}",
                    "missing-term": f"the gradient in {step} misses the term {what}",
                    "extra-term": f"the gradient in {step} has an extra term {what}"}[kind]
        if kind == "missing-factor" and f.printed is not None:     # inside a matrix product
            import sympy as sp
            return (f"misses a factor {what}: {m.expr(f.printed)} should be "
                    f"{m.expr(sp.Mul(f.printed, f.expr if f.expr is not None else 1))}")
        return {"extra-factor": f"has an extra factor {what}",
                "missing-factor": f"misses a factor {what}",
                "missing-term": f"misses the term {what}",
                "extra-term": f"has an extra term {what}"}[kind]
    if kind == "lost-path" and f.text == "constant":
        paths = ", ".join(m.path(p) for p in f.paths)
        more = f", … {_count(f.count)} in all" if f.count and f.count > len(f.paths) else ""
        them = "it" if len(f.symbols) == 1 else "them"
        return (f"treats {_names(m, f.symbols)} as constant{'s' * (len(f.symbols) > 1)}: "
                f"misses the paths through {them} ({paths}{more})")
    if kind == "lost-path" and f.text == "path":
        return (f"keeps only the path {m.path(f.paths[0])}, one of the {f.count} paths from "
                f"{m.name(f.target.wrt)} to {m.name(f.target.of)}")
    if kind == "lost-path" and f.kept:
        paths = ", ".join(m.path(p) for p in f.paths)
        more = f", … {_count(f.count)} in all" if f.count and f.count > len(f.paths) else ""
        def through(names, many=False):     # a child that is `of` is the direct edge
            direct = [n for n in names if f.target is not None and n == f.target.of]
            said = [f"the path{'s' * (many or len(names) - len(direct) > 1)} through "
                    f"{_names(m, [n for n in names if n not in direct])}"] if \
                len(direct) < len(names) else []
            if direct:
                start = f.derivative.wrt if f.derivative is not None else f.target.wrt
                said.append(f"the direct edge {m.name(start)} → {m.name(f.target.of)}")
            return " and ".join(said)
        head = f"keeps only {through(f.kept)}; misses {through(f.symbols, (f.count or 0) > 1)}"
        if f.expr is not None:
            head += f" (it is the term {m.expr(f.expr)} of {target} = {m.expr(f.printed)})"
        return head + (f": {paths}{more}" if paths else "")
    if kind == "lost-path":
        paths = ", ".join(m.path(p) for p in f.paths)
        head = f"counts only the term {m.expr(f.expr)} of {target} = {m.expr(f.printed)}" \
            if f.expr is not None else f"equals part of {target}"
        more = f", … {_count(f.count)} in all" if f.count and f.count > len(f.paths) else ""
        return head + (f"; the other paths are lost ({paths}{more})" if paths else
                       "; the other paths are lost")
    if kind == "repeated-path":
        if f.expr is None:
            return f"counts {f.count} paths from {m.name(f.target.wrt)} to " \
                   f"{m.name(f.target.of)} twice" if not f.paths else \
                   f"path {m.path(f.paths[0])} counted {f.count} times"
        paths = ", ".join(m.path(p) for p in f.paths)
        return f"counts the term {m.expr(f.expr)} twice (the path {paths})"
    if kind == "symmetric-only":
        if f.symbols:
            names = _names(m, f.symbols)
            one = len(f.symbols) == 1
            return (f"is right only when {names} {'is' if one else 'are'} symmetric: it agrees "
                    f"when {'it is' if one else 'they are'} and fails on non-symmetric draws")
        return ("is right only for symmetric matrices: it agrees when every square input is "
                "symmetric and fails on non-symmetric draws")
    if kind == "square-only":
        return "is right only when all sizes are equal; it fails at non-square sizes"
    if kind == "broken-link":
        if f.count == -1:
            return (f"{m.partial(f.derivative)} is zero: {m.name(f.derivative.wrt)} does not "
                    f"reach {m.name(f.derivative.of)}")
        if f.count == 0:
            at, of = f.symbols
            return f"broken link: the chain ends at {m.name(at)}, not at {m.name(of)}"
        if f.derivative is not None:
            at, wrt = f.symbols
            return (f"broken link: {m.partial(f.derivative)} is followed by {m.partial(f.expr)} "
                    f"({m.name(at)} ≠ {m.name(wrt)})")
        return (f"broken link: no factor starts from {m.name(f.symbols[0])} (first factor "
                f"{m.partial(f.expr)})")
    if kind == "repeated-factor":
        return f"the factor {m.partial(f.derivative)} is printed {f.count} times in one product"
    if kind == "missing-path":
        if not f.paths:
            return f"misses {f.count} of the paths from {m.name(f.target.wrt)} to " \
                   f"{m.name(f.target.of)}"
        shown = "; ".join("missing path " + m.path(p) for p in f.paths)
        more = f" (and {f.count - len(f.paths)} more)" if f.count > len(f.paths) else ""
        return shown + more
    if kind == "chain-value":
        return f"the printed chain does not evaluate to {target}"
    if kind == "value":
        if f.count == 0:
            return (f"printed value {printable(f.text)} needs the document's point: the problem's `at` "
                    "must give every input")
        return f"printed value {printable(f.text)} at the document's point, but it is {m.number(f.number)}"
    if kind == "shape-printed":
        if f.derivative is None and f.shapes:    # a shape claim about a node itself
            printed, inferred = f.shapes
            return (f"the printed size of {m.name(f.text)} is "
                    f"{' × '.join(map(str, printed))}, but it is {m.shape(inferred)}")
        if f.derivative is None:
            return f"prints {f.count} sizes for {int(f.number)} terms"
        printed, inferred = f.shapes
        return (f"the printed size of {m.partial(f.derivative)} is "
                f"{' × '.join(map(str, printed))}, but it is {m.shape(inferred)}")
    if kind in KIND_SENTENCES:
        return KIND_SENTENCES[kind](f, m, target)
    if kind == "underflow":
        return (f"differs from {target} at high precision; in float64 both underflow to 0 at "
                "every point, so no explanation was sought")
    if kind == "imprecise":
        return (f"differs from {target} at high precision; float64 computes this problem's "
                "values wrongly at the sampled points (cancellation or round-off), so no "
                "explanation was sought")
    if kind == "not-diagnosed":
        return f"not explained: {f.count} failing claims of this problem were explained first"
    if kind == "wrong-branch":
        at = _at(f.point, m)
        from sympy import And           # (findings exist only where SymPy is loaded)
        where = " and ".join(m.expr(r) for r in sorted(And.make_args(f.expr), key=str))
        return (f"is right except where {where}: there, at {at}, it is "
                f"{_number(f.values[0])} where {target} = {_number(f.values[1])}")
    if kind == "no-explanation":
        said = "no simple explanation found"
        if f.point:
            at = _at(f.point, m)
            truth = f"the updated {m.name(f.target.wrt)}" if f.text == "step" else \
                target if f.target is not None else m.name(f.symbols[0])
            said += (f"; at {at} it is {_number(f.values[0])} where {truth} = "
                     f"{_number(f.values[1])}")
        formula = m.expr(f.expr) if f.expr is not None else ""
        if len(formula) > MAX_FORMULA_CHARS:
            said += "; the right formula is too long to print here (`deriv solve` derives it)"
        elif formula:
            said += f"; the right formula is {target} = {formula}"
        return said
    return kind


_OPTIMA = {"min": "a minimum", "max": "a maximum", "saddle": "a saddle point",
           "flat": "flat (no curvature seen)"}


def _measured(f, m) -> str:
    if f.symbols[0] == "entries":
        return f"the number of entries of {_names(m, f.symbols[1:])}"
    _, every, quantity = f.symbols
    return {"stored": "the number of stored values", "recomputed": "the number of recomputed "
            "values", "evaluations": "the number of node evaluations", "peak": "the peak number "
            "of values held"}[quantity] + f" with a checkpoint every {every} nodes"


MAX_POINT_NAMES = 8        # inputs of a point named in a sentence (JSON keeps them all)
MAX_FORMULA_CHARS = 400    # a right formula longer than this is left to `deriv solve`


def _at(point, m) -> str:
    shown = ", ".join(f"{m.name(n)} = {_number(v) if not isinstance(v, int) else v}"
                      for n, v in point[:MAX_POINT_NAMES])
    more = len(point) - MAX_POINT_NAMES
    return shown + (f", … ({more} more inputs)" if more > 0 else "")


KIND_SENTENCES = {   # the claims of other kinds (deriv.kinds)
    "tensor-order": lambda f, m, target: (
        f"{target} is a tensor of order {len(f.shapes[0])} ({m.shape(f.shapes[0])}), not of "
        f"order {f.count}"),
    "count-formula": lambda f, m, target: (
        f"{printable(f.text)} is not {_measured(f, m)}: that is {m.expr(f.expr)}"),
    "count-value": lambda f, m, target: (
        f"{printable(f.text)} = {m.expr(f.values[0])}"
        + (f" at {_at(f.point, m)}" if f.point else "")
        + f", not {f.symbols[0]} {m.expr(f.printed)}"
        + (f" = {m.expr(f.values[1])}" if f.printed != f.values[1] else "")),
    "not-stationary": lambda f, m, target: (
        f"the gradient {target} does not vanish at the claimed optimum: it is "
        f"{f.number:.3g} times its typical size there"),
    "optimum-kind": lambda f, m, target: (
        f"the claimed arg{f.symbols[0]} over {m.name(f.target.wrt)} is "
        f"{_OPTIMA[f.text]} of {m.name(f.target.of)}, not {_OPTIMA[f.symbols[0]]} (second "
        f"differences around it, in random and in the Hessian's extreme directions, at "
        f"{f.count} of {int(f.number)} points)"),
    "expectation": lambda f, m, target: (
        f"E[{m.name(f.symbols[0])}] = {m.expr(f.expr)} exactly, not {m.expr(f.printed)}"
        if f.text == "symbolic" else
        f"E[{m.name(f.symbols[0])}] ≈ {f.values[0]:.6g} ± {f.values[1]:.2g} (Monte Carlo, "
        f"{f.count} seeded draws, 5 standard errors: 99.9999 % confidence)"
        f"{' at ' + _at(f.point, m) if f.point else ''}, where the claim "
        f"{m.expr(f.printed)} gives {f.number:.6g}"),
    "at-point": lambda f, m, target: (
        f"at {_at(f.point, m)}, {target if f.target is not None else m.name(f.symbols[0])} "
        f"is not {m.expr(f.printed)}: at one draw of the other inputs it is "
        f"{_number(f.values[1])}"),
}


def claim_label(c, m) -> str | None:
    """What a claim of another kind is about (None for a derivative claim)."""
    from deriv.parse import DRef
    spec = c.spec
    if spec is None:
        return None
    if spec.kind == "shape":
        return (m.partial(DRef(c.of, c.wrt)) if c.wrt else m.name(c.of)) + " (shape)"
    if spec.kind == "count":
        return "(count)"
    if spec.kind == "optimum":
        return f"arg{spec.optimum} over {m.name(c.wrt)} of {m.name(c.of)}"
    if spec.kind == "expectation":
        return f"E[{m.name(c.of)}]"
    shown = [m.partial(DRef(o, w)) if w else m.name(o) for o, w in spec.pairs[:3]]
    return ", ".join(shown) + (", …" if len(spec.pairs) > 3 else "") + " at a stated point"


def error_reason(v) -> str:
    """Why a claim could not be checked."""
    if v.reason.startswith("unread"):
        return v.reason
    if v.reason == "distribution":
        return ("a distribution's parameters are invalid at a drawn point (sd ≤ 0, or lo ≥ hi): "
                "is an input's domain missing (e.g. positive)?")
    if v.reason == "heavy-tails":
        return ("undecided: one Monte Carlo draw makes over 8 % of their sum (heavy tails, as "
                "e^a of a wide normal a), so no confidence bound holds")
    if v.reason == "undefined-at":
        return ("the value or derivative it names is undefined at the stated point (∞ or NaN "
                "there, or 0/0): there is nothing to compare it with")
    if v.reason == "underflow":
        return ("undecided: both sides underflow to 0 in float64 at every point, and no "
                "point could be recomputed at high precision")
    if v.reason == "branches-unseen":
        return (f"--strict: right where compared, but only {v.branches_seen} of the "
                f"{v.branches} sides of its kinks were reached by the points drawn")
    if v.reason == "too-costly":
        return ("undecided: float64 differs slightly at some points, and a recheck at high "
                "precision would cost minutes at these sizes (try smaller sizes: --size)")
    singular = f", {v.singular} where a matrix is singular" if v.singular else ""
    return (f"evaluable at only {v.samples} points ({v.undefined} undefined, {v.near_kink} "
            f"near a kink{singular}); is an input's domain missing (e.g. positive)?")


def omitted_tangents(sol, name) -> str:
    """The inputs whose tangent sweep a solution leaves out (deriv.solution), in words;
    `name` prints an input's name in the renderer's notation."""
    from deriv.solution import MAX_TANGENT_STEPS
    names = [name(n) for n in sol.omitted[:5]] + (["…"] if len(sol.omitted) > 5 else [])
    return (f"The tangent sweeps of {len(sol.omitted)} more inputs ({', '.join(names)}) are not "
            f"shown: with them the forward mode would hold more than {MAX_TANGENT_STEPS} steps "
            "(one sweep an input). Their results below come from a reverse sweep; "
            "--wrt NAME shows one input's sweep.")
