"""How well the LaTeX reader reads the catalog: each claim checked twice, from its hand-written
expr/chain and from its printed LaTeX alone (`deriv check --from-printed`); prints the share of
claims whose verdicts agree, and every claim where they do not, with the reason.

    python benchmarks/from_printed.py [-v]
"""

from __future__ import annotations

import sys
import time

from deriv.catalog import load_catalog
from deriv.checker import Options, check


def verdicts(problems) -> dict[tuple[str, str], str]:
    """(problem, claim id) → pass, fail or error; a claim read as several right sides
    (ids `id=2`, `id=3`, …) fails if any of them fails."""
    report = check(problems, Options(samples=2000, seed=0))
    out: dict[tuple[str, str], str] = {}
    reasons: dict[tuple[str, str], str] = {}
    for v in report.verdicts:
        key = (v.problem, v.claim.id.split("=")[0])
        rank = {"pass": 0, "fail": 1, "error": 2}
        if key not in out or rank[v.verdict] > rank[out[key]]:
            out[key] = v.verdict
            reasons[key] = v.reason
    return out, reasons


def main() -> int:
    start = time.perf_counter()
    hand, _ = verdicts(load_catalog())
    printed, reasons = verdicts(load_catalog(from_printed=True))
    agree = [k for k in hand if printed.get(k) == hand[k]]
    # a printed text in which the reader finds no equation at all (prose, a list of sizes)
    # is not a formula: it has nothing to read
    formulas = [k for k in hand if "no equation in the printed text" not in reasons.get(k, "")]
    share = len([k for k in agree if k in formulas]) / len(formulas)
    print(f"{len(agree)} of {len(hand)} claims ({100 * len(agree) / len(hand):.1f} %) get the "
          f"same verdict from their printed LaTeX as from the hand transcription; of the "
          f"{len(formulas)} whose printed text holds an equation, "
          f"{len([k for k in agree if k in formulas])} ({100 * share:.1f} %) "
          f"({time.perf_counter() - start:.1f} s)")
    for key in hand:
        if printed.get(key) != hand[key]:
            why = reasons.get(key) or ""
            print(f"  {key[0]} {key[1]}: hand {hand[key]}, printed {printed.get(key)}"
                  + (f" — {why}" if why else ""))
    return 0 if share >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
