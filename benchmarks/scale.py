"""How `deriv check` and `deriv solve` scale with graph size, on the families of graphs.py.

For each family (chain, mlp, ladder) and size (10, 100, 1000 nodes) the problem file is written
to a temporary directory and each command runs in a fresh process (SymPy's import included),
as a user would run it:

- `check` wall time and exit status (0: every outcome as expected, the wrong claim xfailed);
- `solve --mode reverse --format text` wall time and bytes printed ('rc N' if it failed): a
  derivation that writes every adjoint out in full grows quadratically (chain) or faster per node;
- the operation counts of `deriv.checker.operation_counts(problem)` (array operations per sampled
  point): `forward`, one forward pass; `truth`, the forward pass and the reverse sweeps the
  verdicts need; `check`, all that reaching the verdicts evaluated (truth, the claims as
  written, their edge partials, kinks); `diag`, apart, what explaining the failing claim cost;
  and the ratios truth/forward (the cheap-gradient bound says at most about 3) and
  check/forward, which should stay a small constant at every size. They are computed in a
  child process too (a stuck engine cannot hang the benchmark); 'n/a' if the function is
  missing.

A run past the timeout is killed and shown as '>T s'. Standard library only.

    python benchmarks/scale.py [--sizes 10,100,1000] [--families chain,mlp,ladder]
                               [--timeout 120] [--repeat 1] [--no-chain]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import graphs  # noqa: E402

COUNTS = r"""
import importlib, json, sys
try:
    counts = importlib.import_module("deriv.checker").operation_counts
except (ImportError, AttributeError):
    print("null")
    raise SystemExit
import deriv
if hasattr(deriv, "load"):
    problem = deriv.load(sys.argv[1])
else:
    from deriv.problem import load_file
    problem = load_file(sys.argv[1])
if isinstance(problem, (list, tuple)):
    (problem,) = problem
c = counts(problem)
print(json.dumps({k: c[k] for k in ("forward", "truth", "check", "diagnosis")}))
"""

WHERE = "import importlib.util as u, pathlib; print(pathlib.Path(u.find_spec('deriv').origin).parent)"
COLUMNS = ("family", "nodes", "check s", "check rc", "solve s", "solve bytes", "bytes/node",
           "forward ops", "truth ops", "check ops", "diag ops", "truth/fwd", "check/fwd")
COUNTED = ("forward", "truth", "check", "diagnosis")


def run(cmd: list[str], timeout: float, cwd: Path) -> tuple[float | None, int | None, bytes]:
    """Wall time, exit status and stdout of one child process; (None, None, b"") past timeout.

    The child runs in `cwd` (the temporary directory), so `-m deriv` is the installed deriv
    whatever directory the benchmark was started from."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)   # its whole session: nothing left running
        proc.communicate()
        return None, None, b""
    return time.perf_counter() - start, proc.returncode, out


def measure(cmd: list[str], timeout: float, repeat: int, cwd: Path):
    """Median wall time of `repeat` runs (None once one times out), last status and output."""
    times = []
    for _ in range(repeat):
        seconds, code, out = run(cmd, timeout, cwd)
        if seconds is None:
            return None, None, b""
        times.append(seconds)
    return statistics.median(times), code, out


def counts(path: Path, timeout: float) -> list[str]:
    """forward, truth, check and diagnosis operations, then truth/forward and check/forward."""
    seconds, code, out = run([sys.executable, "-c", COUNTS, str(path)], timeout, path.parent)
    if seconds is None:
        return ["timeout"] * len(COUNTED) + ["-", "-"]
    if code != 0:
        return ["error"] * len(COUNTED) + ["-", "-"]
    c = json.loads(out)
    if c is None:
        return ["n/a"] * (len(COUNTED) + 2)
    forward = c["forward"]
    ratios = [f"{c[k] / forward:.2f}" if forward else "-" for k in ("truth", "check")]
    return [str(c[k]) for k in COUNTED] + ratios


def graph_nodes(text: str) -> int:
    graph = tomllib.loads(text)["problem"][0]["graph"]
    return sum(1 for ln in graph.splitlines() if ln.split("#")[0].strip())


def row(family: str, n: int, directory: Path, args) -> list[str]:
    text = graphs.FAMILIES[family](n, not args.no_chain)
    path = directory / f"{family}-{n}.toml"
    path.write_text(text, encoding="utf-8")
    nodes = graph_nodes(text)
    deriv = [sys.executable, "-m", "deriv"]
    solve = ["solve", str(path), "--mode", "reverse", "--format", "text"]
    t_check, rc, _ = measure(deriv + ["check", "--expect", str(path)], args.timeout, args.repeat,
                             directory)
    t_solve, solve_rc, out = measure(deriv + solve, args.timeout, args.repeat, directory)
    late = f">{args.timeout:g} s"
    return [family, str(nodes),
            late if t_check is None else f"{t_check:.2f}", "-" if rc is None else str(rc),
            late if t_solve is None else f"{t_solve:.2f}",
            "-" if t_solve is None else str(len(out)) if solve_rc == 0 else f"rc {solve_rc}",
            "-" if t_solve is None or solve_rc else f"{len(out) / nodes:.0f}",
            *counts(path, args.timeout)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,100,1000", help="graph sizes, comma-separated")
    ap.add_argument("--families", default=",".join(graphs.FAMILIES), help="chain,mlp,ladder")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per run (default 120)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per command; the median is shown")
    ap.add_argument("--no-chain", action="store_true",
                    help="omit the printed chain of the D(y, x) claim (no path-coverage check)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    families = args.families.split(",")
    unknown = set(families) - set(graphs.FAMILIES)
    if unknown:
        ap.error(f"unknown families: {', '.join(sorted(unknown))}")

    widths = [max(len(c), 8) for c in COLUMNS]
    widths[0] = max(len(f) for f in families + ["family"])

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    with tempfile.TemporaryDirectory(prefix="deriv-scale-") as tmp:
        _, _, origin = run([sys.executable, "-c", WHERE], args.timeout, Path(tmp))
        print(f"deriv from {origin.decode().strip() or '?'}, python {sys.version.split()[0]}, "
              f"timeout {args.timeout:g} s, median of {args.repeat}"
              + (", claims without printed chain" if args.no_chain else ""))
        print(line(COLUMNS), flush=True)
        for family in families:
            for n in sizes:
                print(line(row(family, n, Path(tmp), args)), flush=True)


if __name__ == "__main__":
    main()
