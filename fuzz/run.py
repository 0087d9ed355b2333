"""Fuzz deriv's parser and loader with 10⁴+ inputs per target; print what was tried and found.

    python fuzz/run.py                 # 10 000 inputs per target
    python fuzz/run.py -n 50000 --seed 7
    python fuzz/run.py --targets check -n 2000   # the checker too (slower: ~50 ms an input)

Targets:
  parse   random text (expression trees, token soup, any Unicode) into parse_expression,
          parse_chain and parse_factors
  load    random problem-shaped structures written as TOML, the catalog's files with random
          edits, and raw text into load_text
  check   nearly valid random problems, loaded and checked (deriv check on 200 samples)

The property: nothing but DerivError ever comes out. Every other exception is counted by type
and place, with the smallest input that raised it. Exit status 1 if any was found.
The strategies are the CI tests' own (tests/fuzz_strategies.py), asked for many more examples.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

import fuzz_strategies as fs  # noqa: E402
from deriv.errors import DerivError  # noqa: E402


def parse_target(args):
    text, claim = args
    from test_fuzz import assert_sane, parse_any
    result = parse_any(text, claim)
    if isinstance(result, DerivError):
        return result
    assert_sane(result)
    return True


def load_target(text):
    from test_fuzz import load
    result = load(text)
    return result if isinstance(result, DerivError) else True


def check_target(doc):
    from deriv.checker import Options, check_problem
    from deriv.problem import load_text
    try:
        problems = load_text(fs.toml_document(doc), "fuzz.toml")
    except DerivError as err:
        return err
    for problem in problems:
        check_problem(problem, Options(samples=200, seed=0))
    return True


TARGETS = {
    "parse": (fs.st.tuples(fs.EXPRESSION_TEXT, fs.st.booleans()), parse_target),
    "load": (fs.LOADER_TEXT, load_target),
    "check": (fs.VALID_DOCUMENT, check_target),
}


class Tally:
    def __init__(self):
        self.tried = self.errors = 0
        self.found: Counter = Counter()
        self.examples: dict[str, tuple[int, str, str]] = {}
        self.slowest = (0.0, "")
        self.suspicious: Counter = Counter()   # DerivErrors that hide a crash inside SymPy


def where(err: BaseException) -> str:
    frames = traceback.extract_tb(err.__traceback__)
    inside = [f for f in frames if "/deriv/" in f.filename] or frames
    f = inside[-1]
    return f"{type(err).__name__} at {Path(f.filename).name}:{f.lineno}"


def run(name: str, n: int, seed_value: int) -> Tally:
    strategy, target = TARGETS[name]
    tally = Tally()

    @seed(seed_value)
    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def fuzz(value):
        tally.tried += 1
        start = time.perf_counter()
        try:
            outcome = target(value)
            if isinstance(outcome, DerivError):
                raise outcome
        except DerivError as err:
            tally.errors += 1
            if "SymPy cannot evaluate" in err.message:   # refused, but for a SymPy failure
                tally.suspicious[err.message[:90]] += 1
        except Exception as err:   # noqa: BLE001 - the finding itself
            key = where(err)
            tally.found[key] += 1
            text = repr(value)
            if key not in tally.examples or len(text) < tally.examples[key][0]:
                tally.examples[key] = (len(text), text[:600], f"{type(err).__name__}: {err}"[:300])
        elapsed = time.perf_counter() - start
        if elapsed > tally.slowest[0]:
            tally.slowest = (elapsed, repr(value)[:200])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fuzz()
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", nargs="+", default=["parse", "load"], choices=list(TARGETS))
    args = parser.parse_args()
    bad = 0
    for name in args.targets:
        start = time.perf_counter()
        tally = run(name, args.n, args.seed)
        seconds = time.perf_counter() - start
        other = sum(tally.found.values())
        bad += other
        print(f"{name:6} tried {tally.tried:>7}  refused (DerivError) {tally.errors:>7}  "
              f"accepted {tally.tried - tally.errors - other:>7}  other exceptions {other:>4}  "
              f"({seconds:.0f} s, slowest input {tally.slowest[0]:.2f} s)")
        for key, count in tally.found.most_common():
            _, text, message = tally.examples[key]
            print(f"    {count:>5} × {key}\n          {message}\n          input: {text}")
        for message, count in tally.suspicious.most_common(5):
            print(f"    {count:>5} × DerivError hiding a SymPy failure: {message}")
        if tally.slowest[0] > 1:
            print(f"          slowest: {tally.slowest[1]}")
        sys.stdout.flush()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
