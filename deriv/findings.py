"""Findings and verdicts: small records, rendered elsewhere (like flake8's violations)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Diagnosis kinds, simplest explanation first.
KINDS = ("mislabelled", "transposed", "negated", "constant-multiple", "swapped", "wrong-factor", "lost-path",
         "missing-term", "extra-term", "extra-factor", "missing-factor", "broken-link", "repeated-factor",
         "missing-path", "repeated-path", "chain-value", "value", "no-explanation")


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    equals: str | None = None      # "D(y, psi12)" when the claim equals another derivative

    def as_dict(self) -> dict:
        d = {"kind": self.kind, "message": self.message}
        if self.equals:
            d["equals"] = self.equals
        return d


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
    branches: int = 0
    branches_seen: int = 0
    diagnosis: list[Finding] = field(default_factory=list)
    reason: str = ""               # for an error verdict
    max_error: float = 0.0

    @property
    def outcome(self) -> str:
        if self.verdict == "error":
            return "error"
        return OUTCOMES[(self.verdict, self.claim.expect)]

    @property
    def unexpected(self) -> bool:
        return self.outcome in ("failed", "xpassed", "error")


@dataclass
class Missing:
    problem: str
    derivative: str                # "D(y, theta02)"


@dataclass
class Report:
    verdicts: list[Verdict] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "xfailed": 0, "xpassed": 0, "errors": 0}
        for v in self.verdicts:
            counts["errors" if v.outcome == "error" else v.outcome] += 1
        return counts

    @property
    def exit_code(self) -> int:
        return 1 if any(v.unexpected for v in self.verdicts) else 0
