"""How long `deriv check` takes, as a user runs it: each command a fresh process (Python's start
and SymPy's import included), timed from outside, the median of N runs.

- `python -c 'import sympy'` and `python -m deriv --help`: the floor every run pays;
- `python -m deriv check` on the whole catalog (text and --json);
- `python -m deriv check FILE` on one claim, problem-7.1's dy/dtheta01 (a wrong claim: a
  known erratum, so exit 0 when it fails as the file expects), cut out of the catalog into a
  one-problem file, at the default 2000 samples and at 10⁴ and 10⁵.

Each row: median, min and max wall seconds of the runs, and the exit status (the same on every
run, else 'mixed'). Target: the whole catalog in under 3 s of wall time on a 2-core machine.
Standard library only.

    python benchmarks/check_speed.py [-n 5] [--timeout 120]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROBLEM, CLAIM, CATALOG_FILE = "problem-7.1", "dy/dtheta01", "udl-ch7.toml"


def catalog_dir() -> Path:
    """The bundled catalog (deriv.problems), found without importing deriv."""
    spec = importlib.util.find_spec("deriv.problems")
    if spec and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / "problems"


def one_claim_file(source: Path, problem: str, claim: str) -> str:
    """The text of `source` cut down to one problem and one of its claims (TOML tables split
    at their headers; the [source] table kept)."""
    blocks, current = [], []
    for line in source.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("[") and current:
            blocks.append("".join(current))
            current = []
        current.append(line)
    blocks.append("".join(current))

    def block_id(block: str) -> str | None:
        m = re.search(r'^id\s*=\s*"([^"]*)"', block, re.M)
        return m and m[1]

    out, inside = [], False
    for block in blocks:
        if block.startswith("[[problem]]"):
            inside = block_id(block) == problem
            if inside:
                out.append(block)
        elif block.startswith("[[problem.claim]]"):
            if inside and block_id(block) == claim:
                out.append(block)
        elif not block.startswith("[["):
            out.append(block)           # [source], leading comments
    text = "".join(out)
    if f'id = "{claim}"' not in text:
        raise SystemExit(f"{claim} of {problem} not found in {source}")
    return text


def run_once(cmd: list[str], timeout: float, cwd: Path) -> tuple[float | None, int | None]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd,
                            start_new_session=True)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None, None
    return time.perf_counter() - start, proc.returncode


def wall(cmd: list[str], runs: int, timeout: float, cwd: Path) -> str:
    times, codes = [], set()
    for _ in range(runs):
        seconds, code = run_once(cmd, timeout, cwd)
        if seconds is None:
            return f"{'>' + format(timeout, 'g') + ' s':>8}  (timed out)"
        times.append(seconds)
        codes.add(code)
    code = str(codes.pop()) if len(codes) == 1 else "mixed"
    return (f"{statistics.median(times):8.3f}  {min(times):7.3f}  {max(times):7.3f}  "
            f"{code:>4}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--runs", type=int, default=5, help="runs per command (median shown)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    args = ap.parse_args(argv)
    py = sys.executable
    deriv = [py, "-m", "deriv"]
    with tempfile.TemporaryDirectory(prefix="deriv-speed-") as tmp:
        cwd = Path(tmp)
        claim_file = cwd / "one-claim.toml"
        claim_file.write_text(one_claim_file(catalog_dir() / CATALOG_FILE, PROBLEM, CLAIM),
                              encoding="utf-8")
        one = f"{PROBLEM} {CLAIM}"
        rows = [
            ("python -c 'import sympy'", [py, "-c", "import sympy"]),
            ("deriv --help", deriv + ["--help"]),
            ("deriv check (whole catalog)", deriv + ["check"]),
            ("deriv check --json (whole catalog)", deriv + ["check", "--json"]),
            (f"deriv check {one}", deriv + ["check", "--expect", str(claim_file)]),
            (f"deriv check {one} --samples 10000",
             deriv + ["check", "--expect", str(claim_file), "--samples", "10000"]),
            (f"deriv check {one} --samples 100000",
             deriv + ["check", "--expect", str(claim_file), "--samples", "100000"]),
        ]
        width = max(len(label) for label, _ in rows)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
              f"wall seconds of {args.runs} fresh processes each")
        print(f"{'command':<{width}}  {'median':>8}  {'min':>7}  {'max':>7}  exit")
        for label, cmd in rows:
            print(f"{label:<{width}}  {wall(cmd, args.runs, args.timeout, cwd)}", flush=True)


if __name__ == "__main__":
    main()
