"""How long `deriv check` takes: the whole catalog (one fresh process, SymPy import included)
and one claim at 10⁴ and 10⁵ samples.

    python benchmarks/check_speed.py
Target: the whole catalog in under 3 s of wall time on a 2-core machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def wall(cmd: list[str], runs: int = 3) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        code = subprocess.run(cmd, capture_output=True).returncode
        times.append(time.perf_counter() - start)
    return statistics.median(times), code


def main():
    exe = [sys.executable, "-m", "deriv"]
    t, code = wall(exe + ["--help"])
    print(f"deriv --help                         {t:7.3f} s wall (exit {code})")
    t, code = wall([sys.executable, "-c", "import sympy"])
    print(f"python -c 'import sympy'             {t:7.3f} s wall")
    t, code = wall(exe + ["check"])
    print(f"deriv check (whole catalog)          {t:7.3f} s wall (exit {code})")
    t, code = wall(exe + ["check", "--json"])
    print(f"deriv check --json (whole catalog)   {t:7.3f} s wall (exit {code})")

    from deriv.catalog import resolve
    from deriv.check import Options, ProblemCheck
    (problem,) = resolve(["problem-7.1"])
    claim = next(c for c in problem.claims if c.id == "dy/dtheta01")
    for n in (10_000, 100_000):
        start = time.perf_counter()
        pc = ProblemCheck(problem, Options(samples=n))
        v = pc.check(claim)
        print(f"problem-7.1 dy/dtheta01, {n:>7} samples {time.perf_counter() - start:7.3f} s "
              f"(verdict {v.verdict}, {v.samples} compared)")


if __name__ == "__main__":
    main()
