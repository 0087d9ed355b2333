"""A TA's batch and a course's CI, timed as a user runs them: each command a fresh process.

1. The whole catalog, `deriv check`, against a bare `python -c "import sympy, numpy"`: the
   median of N runs of each, taken in turn (A B A B …), and the ratio of the medians
   (target: at most 2×).
2. 100 generated student files in one command (target: under 3 s, every good file reported):
   each a copy of one catalog problem with its claims varied — some left right, some made wrong
   (`expr` times 2, or its sign flipped), some with a claim whose shapes do not fit (a matrix
   formula plus its transpose), and some files broken (a graph line that does not parse, or
   invalid TOML). Known-erratum markers are dropped: a student's file cannot excuse itself.
3. `deriv check problem-7.1 --samples 1000000` (targets: under 5 s and 1 GiB), its peak
   resident memory read from the child's own rusage (os.wait4).

Standard library only.   python benchmarks/batch.py [-n 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STUDENTS = 100


def catalog_dir() -> Path:
    spec = importlib.util.find_spec("deriv.problems")
    if spec and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(__file__).resolve().parent.parent / "problems"


def run(cmd: list[str], cwd: Path, timeout: float = 300) -> tuple[float, int, float, str]:
    """Wall seconds, exit status, peak RSS in MiB (the child's own), stdout; and in
    `run.cpu` the child's CPU seconds (user + system: what a loaded machine does not inflate
    as much as the wall time)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=cwd)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - start
        run.cpu = usage.ru_utime + usage.ru_stime
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    return seconds, proc.returncode, usage.ru_maxrss / 1024, text


# --- generated student files ----------------------------------------------------------------
def problem_blocks(path: Path) -> tuple[str, list[str]]:
    """A catalog file's [source] table and each [[problem]] with its claims, as text."""
    text = path.read_text(encoding="utf-8")
    head, *rest = re.split(r"(?m)^(?=\[\[problem\]\])", text)
    return head, rest


def vary(block: str, k: int) -> str:
    """Student k's version of a problem: some claims wrong, one maybe ill-shaped."""
    block = re.sub(r'(?m)^(expect|note) = .*\n', "", block)
    lines = block.split("\n")
    exprs = [i for i, line in enumerate(lines) if re.match(r'^expr = "[^"]*"$', line)]
    for n, i in enumerate(exprs):
        body = lines[i][len('expr = "'):-1]
        if (k + n) % 5 == 1:
            lines[i] = f'expr = "2 * ({body})"'            # a factor too many
        elif (k + n) % 5 == 3:
            lines[i] = f'expr = "-({body})"'               # the wrong sign
        elif (k + n) % 7 == 5 and "matrix" in block:
            lines[i] = f'expr = "({body}) + ({body}).T"'   # shapes that may not fit
    return "\n".join(lines)


def break_file(text: str, k: int) -> str:
    if k % 2:
        return re.sub(r'(?m)^graph = """\n', 'graph = """\nbroken = exp(\n', text, count=1)
    return text.replace("[[problem]]", "[[problem]]\nid = ", 1)          # invalid TOML


def student_files(directory: Path) -> tuple[list[Path], list[Path]]:
    blocks = []
    for path in sorted(catalog_dir().glob("*.toml")):
        head, problems = problem_blocks(path)
        blocks += [(head, b) for b in problems]
    good, bad = [], []
    for k in range(STUDENTS):
        head, block = blocks[k % len(blocks)]
        text = head + vary(block, k)
        path = directory / f"student-{k:03d}.toml"
        if k % 10 == 7:
            text = break_file(text, k)
            bad.append(path)
        else:
            good.append(path)
        path.write_text(text, encoding="utf-8")
    return good, bad


# --- the three measurements ----------------------------------------------------------------
def catalog(runs: int, cwd: Path):
    py = sys.executable
    a_cmd, b_cmd = [py, "-m", "deriv", "check"], [py, "-c", "import sympy, numpy"]
    run(a_cmd, cwd)                                     # warm the file cache
    run(b_cmd, cwd)
    a, b, ca, cb = [], [], [], []
    for _ in range(runs):
        a.append(run(a_cmd, cwd)[0])
        ca.append(run.cpu)
        b.append(run(b_cmd, cwd)[0])
        cb.append(run.cpu)
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"catalog: deriv check {ma:.2f} s, import sympy, numpy {mb:.2f} s "
          f"(wall, medians of {runs}), ratio {ma / mb:.2f}  (target ≤ 2); CPU "
          f"{statistics.median(ca):.2f} s vs {statistics.median(cb):.2f} s, ratio "
          f"{statistics.median(ca) / statistics.median(cb):.2f}")


def students(cwd: Path):
    folder = cwd / "answers"
    folder.mkdir()
    good, bad = student_files(folder)
    cmd = [sys.executable, "-m", "deriv", "check", str(folder), "--format", "json"]
    seconds, code, rss, out = run(cmd, cwd)
    cpu = run.cpu
    data = json.loads(out)
    reported = {r["file"] for r in data["files"] if not r["errors"]}
    errors = {e["file"] for e in data["errors"]}
    missing = [p.name for p in good if str(p) not in reported]
    unflagged = [p.name for p in bad if str(p) not in errors]
    outcomes = {}
    for c in data["claims"]:
        outcomes[c["outcome"]] = outcomes.get(c["outcome"], 0) + 1
    ill = sum(any(f["kind"] == "ill-shaped" for f in c["diagnosis"]) for c in data["claims"])
    print(f"{STUDENTS} student files: {seconds:.2f} s in one command (target < 3 s; CPU "
          f"{cpu:.2f} s), exit "
          f"{code}, peak {rss:.0f} MiB; {len(good) - len(missing)} of {len(good)} good files "
          f"reported, {len(bad) - len(unflagged)} of {len(bad)} broken files named; "
          f"{len(data['claims'])} claims: "
          + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
          + f" ({ill} ill-shaped)")
    if missing or unflagged:
        print(f"  NOT reported: {missing}; broken but not named: {unflagged}")


def many_samples(cwd: Path):
    cmd = [sys.executable, "-m", "deriv", "check", "problem-7.1", "--samples", "1000000"]
    seconds, code, rss, _ = run(cmd, cwd)
    print(f"problem-7.1 --samples 1000000: {seconds:.2f} s (target < 5 s; CPU {run.cpu:.2f} s), "
          f"peak RSS "
          f"{rss:.0f} MiB (target < 1024), exit {code}")


def compiled():
    """deriv's bytecode written, as `pip install` does: a development checkout under
    PYTHONDONTWRITEBYTECODE would otherwise compile deriv's modules again in every process
    (0.4 s of each command, which no installed copy pays)."""
    spec = importlib.util.find_spec("deriv")
    folder = Path(list(spec.submodule_search_locations)[0])
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder)], check=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--runs", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}")
    compiled()
    with tempfile.TemporaryDirectory(prefix="deriv-batch-") as tmp:
        cwd = Path(tmp)
        catalog(args.runs, cwd)
        students(cwd)
        many_samples(cwd)


if __name__ == "__main__":
    main()
