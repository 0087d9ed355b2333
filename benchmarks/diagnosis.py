"""Diagnosis benchmark: recall, false alarms and diagnosis accuracy over the labelled set.

Checks every problem file of tests/fixtures/diagnosis/ with the library API (deriv.load_all,
deriv.check) and prints, per claim, the expected and the found diagnosis kinds, then:
recall (wrong claims that FAILED), false alarms (right claims that did not pass), and diagnosis
accuracy (wrong claims whose first finding's kind is one of their expected kinds). A wrong
claim's id ends in "--KIND" (or "--KIND|KIND"); see tests/fixtures/diagnosis/README.md.

    python benchmarks/diagnosis.py
    python benchmarks/diagnosis.py --samples 500 --seed 3 --wrong-only
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from diagnosis_set import FOLDER, run, score  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=FOLDER)
    parser.add_argument("--samples", type=int, default=2000, help="deriv check's sample count")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wrong-only", action="store_true", help="list only the wrong claims")
    args = parser.parse_args()
    start = time.perf_counter()
    rows = run(args.folder, args.samples, args.seed)
    seconds = time.perf_counter() - start
    width = max(len(r.where) for r in rows)
    print(f"{'claim':<{width}}  {'verdict':<7}  {'expected':<34}  found")
    for r in rows:
        if args.wrong_only and not r.wrong:
            continue
        expected = "|".join(r.expected) or "(right)"
        mark = ("ok " if r.diagnosed else "XX ") if r.wrong else \
            ("ok " if r.verdict == "pass" else "XX ")
        print(f"{r.where:<{width}}  {r.verdict:<7}  {mark}{expected:<31}  "
              f"{', '.join(r.found) or '-'}")
    s = score(rows)
    print()
    print(f"{s['wrong']} wrong and {s['right']} right claims in {args.folder}, "
          f"samples {args.samples}, seed {args.seed}, {seconds:.1f} s")
    print(f"recall (wrong claims that failed):        {s['caught']}/{s['wrong']} = "
          f"{s['recall']:.3f}")
    print(f"false alarms (right claims not passed):   {s['false_alarms']}/{s['right']} = "
          f"{s['false_alarm_rate']:.3f}")
    print(f"diagnosis accuracy (first kind expected): {s['diagnosed']}/{s['wrong']} = "
          f"{s['accuracy']:.3f}")
    misses = [r for r in rows if r.wrong and not r.diagnosed]
    if misses:
        print("\nwrong diagnoses (expected → first found):")
        for r in misses:
            print(f"  {r.where}: {'|'.join(r.expected)} → {r.found[0] if r.found else '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
