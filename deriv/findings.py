"""Findings and verdicts: small records of ids, expressions and numbers — never rendered text.

The renderers (deriv.render) turn a finding into words; text, LaTeX, Markdown and JSON say the
same thing and none of them parses another's output. KINDS is the one table of diagnosis kinds
that the renderers and the JSON documentation share.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# kind → what it means. Simplest explanation first (the order a diagnosis tries them).
KINDS: dict[str, str] = {
    "shape": "the formula has another shape than the derivative it claims to be",
    "ill-shaped": "the formula is not defined: its operands' shapes do not fit (X @ R with "
                  "inner sizes that differ)",
    "transposed": "the formula is the transpose of the derivative (the other layout)",
    "mislabelled": "the formula is right, but for another derivative of the problem",
    "lost-path": "the formula counts some of the paths from wrt to of and loses the others",
    "repeated-path": "the formula counts one path twice",
    "negated": "the formula has the wrong sign",
    "constant-multiple": "the formula is a constant multiple of the derivative (a factor lost or "
                         "added)",
    "product-order": "the formula multiplies matrices in the wrong order (AB written BA): "
                     "exchanging two neighbouring factors, or reversing a product, makes it right",
    "wrong-axis": "a sum, mean, max or softmax is taken over the other axis (the rows for the "
                  "columns): over the right one the formula is right",
    "swapped": "exchanging two symbols of one family makes the formula right (an index typo)",
    "wrong-factor": "one factor of a printed product is not the partial it stands for",
    "wrong-symbol": "a symbol of the formula should be another node of the graph (y written "
                    "for n̂)",
    "extra-factor": "the formula has a factor too many",
    "missing-factor": "the formula misses a factor",
    "missing-term": "the formula misses one term",
    "extra-term": "the formula has one term too many",
    "term-sign": "one term of the formula has the wrong sign",
    "wrong-term": "the other terms agree with the derivative's; one term is not the term it "
                  "stands for",
    "symmetric-only": "the formula is right only for symmetric matrices",
    "square-only": "the formula is right only when all sizes are equal",
    "broken-link": "a printed chain does not link wrt to of factor by factor",
    "repeated-factor": "a printed product repeats a factor",
    "missing-path": "a printed chain leaves out a path from wrt to of",
    "chain-value": "a printed chain does not evaluate to the derivative",
    "value": "a printed number disagrees with the value at the document's point",
    "shape-printed": "a printed size disagrees with the inferred shape",
    "tensor-order": "a printed order of a tensor (\"a 3-D tensor\") disagrees with the "
                    "derivative's",
    "count-formula": "a printed count formula is not what it counts (entries of the inputs, a "
                     "checkpointing plan's counts), derived from the graph",
    "count-value": "a printed count or arithmetic result is not what its formula evaluates to "
                   "(exactly)",
    "not-stationary": "the gradient does not vanish at the claimed optimum",
    "optimum-kind": "the claimed optimum is another kind of stationary point (a minimum for an "
                    "argmax, a saddle)",
    "expectation": "the claimed expectation is not the expectation (exact, or outside a Monte "
                   "Carlo confidence bound)",
    "at-point": "at the stated point, a named derivative or value is not what is claimed",
    "underflow": "the formula differs at high precision where float64 underflows to 0 on both "
                 "sides at every point (no explanation is sought there)",
    "imprecise": "the formula differs at high precision, on a problem whose values float64 "
                 "computes wrongly (cancellation, round-off): no explanation is sought there",
    "wrong-branch": "the formula is right on one side of a kink (or a cell of two) and wrong "
                    "on the other: a piece of a piecewise derivative is wrong",
    "no-explanation": "the formula is wrong and no simple explanation was found",
    "not-diagnosed": "the formula is wrong; so many claims of the problem failed before it that "
                     "it was not explained (the diagnosis is bounded by a count)",
}


@dataclass(frozen=True)
class Finding:
    """What is wrong with one claim, as data. Which fields are set depends on the kind."""

    kind: str
    target: object = None              # DRef the claim is about (or None for a value claim)
    derivative: object = None          # DRef: the derivative it equals / a factor should be
    expr: object = None                # SymPy: the factor, term, or the right partial's value
    printed: object = None             # SymPy: the printed factor that is wrong
    symbols: tuple = ()                # names (swapped pair, shape names)
    paths: tuple = ()                  # tuples of node names
    number: float | None = None        # a constant multiple, a printed or true value
    count: int | None = None           # how many times (repeated factor, path), or more paths
    shapes: tuple = ()                 # (got, want) shapes
    text: str = ""                     # a printed value or size, verbatim from the file
    kept: tuple = ()                   # lost paths: the children whose paths the claim keeps
    point: tuple = ()                  # a counterexample: ((input, value), ...)
    values: tuple = ()                 # its (claim's value, true value)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")


OUTCOMES = {  # (verdict, expected) → outcome, as pytest reads xfail strictly
    ("pass", "pass"): "passed", ("fail", "pass"): "failed",
    ("pass", "fail"): "xpassed", ("fail", "fail"): "xfailed",
}


@dataclass
class Verdict:
    problem: str
    claim: object                  # deriv.problem.Claim
    verdict: str                   # pass, fail, error: what deriv found
    samples: int = 0               # points where both sides were compared
    undefined: int = 0             # points where either side was NaN or infinite
    near_kink: int = 0             # points dropped for lying within ε of a kink
    singular: int = 0              # points dropped where a matrix is (nearly) singular
    overflow: int = 0              # points where float64 overflows but the function is defined
    precise: int = 0               # ... of which checked at 50 digits
    dropped: tuple = ()            # size settings ({m: 2, n: 5}) where nothing was compared
    branches: int = 0
    branches_seen: int = 0
    diagnosis: list[Finding] = field(default_factory=list)
    reason: str = ""               # for an error verdict
    # "warning": a printed intermediate that is off but cannot change an asked derivative
    severity: str = "error"
    file: str | None = None        # the problem file (ids repeat across students' files)

    @property
    def outcome(self) -> str:
        if self.verdict == "error":
            return "error"
        outcome = OUTCOMES[(self.verdict, self.claim.expect)]
        return "warning" if outcome == "failed" and self.severity == "warning" else outcome

    @property
    def unexpected(self) -> bool:
        return self.outcome in ("failed", "xpassed", "error")

    @property
    def partial(self) -> bool:
        """A pass that saw only some sides of the kinks it involves: a warning."""
        return self.verdict == "pass" and self.branches_seen < self.branches


@dataclass
class Missing:
    problem: str
    derivative: object             # the DRef asked for and printed nowhere
    file: str | None = None


@dataclass
class Input:
    """One input of a batch: a problem file, or a directory that held none."""

    file: str
    error: object = None           # DerivError: the file could not be read (bad input)
    warning: str = ""              # e.g. a directory without problem files (bad input too)

    @property
    def bad(self) -> bool:
        return self.error is not None or bool(self.warning)


@dataclass
class Report:
    verdicts: list[Verdict] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    seconds: float = 0.0
    problems: list = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)   # per file, in the order given

    def summary(self) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "warnings": 0, "xfailed": 0, "xpassed": 0,
                  "errors": 0}
        for v in self.verdicts:
            counts[{"error": "errors", "warning": "warnings"}.get(v.outcome, v.outcome)] += 1
        counts["bad_inputs"] = len(self.bad_inputs)
        return counts

    @property
    def bad_inputs(self) -> list[Input]:
        return [i for i in self.inputs if i.bad]

    @property
    def exit_code(self) -> int:
        if self.bad_inputs:
            return 2
        return 1 if any(v.unexpected for v in self.verdicts) else 0

