"""The labelled diagnosis set (tests/fixtures/diagnosis/): read the labels, check, score.

A claim whose id ends in "--KIND" (or "--KIND|KIND", every acceptable kind) is wrong and is
expected to be diagnosed as that kind; it also says expect = "fail". Any other claim is right.
Shared by tests/test_diagnosis_set.py and benchmarks/diagnosis.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import deriv

FOLDER = Path(__file__).resolve().parent / "fixtures" / "diagnosis"
LABEL = "--"


def expected_kinds(claim_id: str) -> tuple[str, ...]:
    """The acceptable kinds of a wrong claim's id, () for a right claim."""
    if LABEL not in claim_id:
        return ()
    return tuple(claim_id.rsplit(LABEL, 1)[1].split("|"))


@dataclass
class Row:
    file: str
    problem: str
    claim: str
    expected: tuple[str, ...]      # () for a right claim
    expect: str                    # the claim's own expect = "pass" | "fail"
    verdict: str                   # pass, fail, error
    found: tuple[str, ...]         # the diagnosis kinds, first first

    @property
    def wrong(self) -> bool:
        return bool(self.expected)

    @property
    def diagnosed(self) -> bool:
        return bool(self.found) and self.found[0] in self.expected

    @property
    def where(self) -> str:
        return f"{self.file}:{self.problem}:{self.claim}"


def run(folder: Path = FOLDER, samples: int = 2000, seed: int = 0) -> list[Row]:
    rows = []
    for path in sorted(folder.glob("*.toml")):
        problems = deriv.load_all(str(path))
        report = deriv.check(problems, samples=samples, seed=seed)
        for v in report.verdicts:
            rows.append(Row(path.name, v.problem, v.claim.id, expected_kinds(v.claim.id),
                            v.claim.expect, v.verdict, tuple(f.kind for f in v.diagnosis)))
    return rows


def score(rows: list[Row]) -> dict[str, float | int]:
    wrong = [r for r in rows if r.wrong]
    right = [r for r in rows if not r.wrong]
    caught = sum(r.verdict == "fail" for r in wrong)
    alarms = sum(r.verdict != "pass" for r in right)
    diagnosed = sum(r.diagnosed for r in wrong)
    return {"wrong": len(wrong), "right": len(right), "caught": caught, "false_alarms": alarms,
            "diagnosed": diagnosed,
            "recall": caught / len(wrong) if wrong else 0.0,
            "false_alarm_rate": alarms / len(right) if right else 0.0,
            "accuracy": diagnosed / len(wrong) if wrong else 0.0}
