"""The largest legal inputs, run as real commands: wall time and peak memory of each.

Every documented limit at (or near) its maximum, generated into a temporary directory; each
command is a fresh `python -m deriv` process, so SymPy's import is included. Targets: under
5 s and 1 GiB each.

    python benchmarks/limits.py            # all cases
    python benchmarks/limits.py chain      # the cases whose name contains "chain"
    python benchmarks/limits.py --load     # CPU time of loading each file alone: the first
                                           # load of a fresh process (deriv's import excluded)
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from deriv.cli import MAX_SAMPLES                       # noqa: E402  (light: click only)

SECONDS, GIB = 5.0, 1 << 30


def problem(pid: str, graph: list[str], claims: list[tuple], inputs: str = 'x = "real"',
            at: str = "") -> str:
    out = [f'[[problem]]\nid = "{pid}"\ninputs = {{ {inputs} }}\n{at}graph = """',
           *graph, '"""']
    for cid, of, wrt, expr in claims:
        out.append(f'[[problem.claim]]\nid = "{cid}"\nof = "{of}"\nwrt = "{wrt}"\n'
                   f'expr = "{expr}"')
    return "\n".join(out) + "\n"


def tanh_chain(n: int) -> str:
    graph = ["h0 = x"] + [f"h{i} = tanh(h{i - 1})" for i in range(1, n)]
    last = f"h{n - 1}"
    return problem("chain", graph, [
        ("right", last, "h0", f"D({last}, h1) * (1 - h1**2)"),
        ("dropped", last, "h0", f"D({last}, h1)"),            # the factor ∂h₁/∂h₀ lost
        ("local", last, f"h{n - 2}", f"1 - {last}**2")])


def ladder(diamonds: int) -> str:
    graph, prev = [], "x"
    for k in range(1, diamonds + 1):
        graph += [f"a{k} = sin({prev})", f"b{k} = cos({prev})", f"m{k} = a{k} * b{k}"]
        prev = f"m{k}"
    graph.append(f"y = tanh({prev})")
    return problem("ladder", graph, [("right", "y", prev, f"1 - y**2"),
                                     ("wrong", "y", prev, "y"),
                                     ("total", "y", "x", "D(y, m1) * D(m1, x)")])


def many_claims(n: int) -> str:
    graph = ["a = sin(x)", "b = exp(a)", "y = a * b"]
    claims = []
    for k in range(n):
        if k % 50 == 0:
            claims.append((f"c{k}", "y", "x", f"{k}*cos(x)"))         # a wrong one now and then
        else:
            claims.append((f"c{k}", "y", "x", "(1 + a)*b*cos(x)"))
    return problem("claims", graph, claims)


def distinct_wrong_claims(n: int) -> str:
    """n claims, each a different wrong formula (nothing repeats to be shared)."""
    graph = ["z = w*x", "y = tanh(z)"]
    return problem("distinct", graph, [(f"c{k}", "y", "w", f"{k + 3}*x*(1 - y**2)")
                                       for k in range(n)], inputs='x = "real", w = "real"')


def distinct_wrong_matrix_claims(n: int) -> str:
    graph = ["z = W @ x", "r = z - y", "L = r.T @ r"]
    return problem("distinct-matrix", graph, [(f"c{k}", "L", "W", f"{k + 3}*r @ x.T")
                                              for k in range(n)],
                   inputs='W = "matrix(n, m)", x = "vector(m)", y = "vector(n)"')


def wrong_claims_on_a_graph(nodes: int, wrong: int) -> str:
    graph = ["h0 = x"] + [f"h{i} = sin(h{i - 1}) + 0.5*h{i - 1}" for i in range(1, nodes)]
    last = f"h{nodes - 1}"
    claims = [(f"w{k}", last, f"h{k}", f"{k + 2}*D({last}, h{k})") for k in range(wrong)]
    return problem("wrong", graph, claims)


def many_problems(n: int) -> str:
    return "".join(problem(f"p{k}", ["a = sin(x)", "y = a*a"],
                           [("c", "y", "x", "2*a*cos(x)")]) for k in range(n))


def write_dir(directory: Path, n: int) -> Path:
    directory.mkdir()
    for k in range(n):
        (directory / f"f{k:04d}.toml").write_text(problem(f"p{k}", ["y = x*x"],
                                                          [("c", "y", "x", "2*x")]))
    return directory


def matrix_chain(n: int) -> str:
    graph = ["B0 = A"] + [f"B{i} = B{i - 1} + A" for i in range(1, n - 1)] + \
        [f"L = sum(B{n - 2})"]
    return problem("matrix", graph, [("c", "L", "A", f"{n - 1}*D(L, B0)")],
                   inputs='A = "matrix(n, n)"')


def small() -> str:
    graph = ["a = x*y", "b = sin(a)", "c = exp(b)", "d = c + x", "e = relu(d - 1)",
             "f = tanh(e)", "g = f*y", "h = g + b", "i = sqrt(1 + h**2)", "y2 = i*c"]
    return problem("small", graph, [("c", "y2", "x", "D(y2, x)"), ("w", "y2", "x", "y2")],
                   inputs='x = "real", y = "real"')


def cases(tmp: Path):
    from deriv.problem import MAX_CLAIMS, MAX_NODES, MAX_PROBLEMS
    files = {
        "chain-1500": tanh_chain(1500),
        f"chain-{MAX_NODES}": tanh_chain(MAX_NODES),
        "ladder-20": ladder(20),
        f"claims-{MAX_CLAIMS}": many_claims(MAX_CLAIMS),
        f"distinct-wrong-{MAX_CLAIMS}": distinct_wrong_claims(MAX_CLAIMS),
        f"matrix-wrong-{MAX_CLAIMS}": distinct_wrong_matrix_claims(MAX_CLAIMS),
        "wrong-40-on-150": wrong_claims_on_a_graph(150, 40),
        f"problems-{MAX_PROBLEMS}": many_problems(MAX_PROBLEMS),
        f"matrix-chain-{MAX_NODES}": matrix_chain(MAX_NODES),
        "small": small(),
    }
    paths = {}
    for name, text in files.items():
        paths[name] = tmp / f"{name}.toml"
        paths[name].write_text(text)
    from deriv.catalog import MAX_FILES
    directory = write_dir(tmp / "files", MAX_FILES)
    yield "chain-1500 check", ["check", paths["chain-1500"]]
    yield "chain-1500 solve", ["solve", paths["chain-1500"]]
    yield f"chain-{MAX_NODES} check", ["check", paths[f"chain-{MAX_NODES}"]]
    yield f"chain-{MAX_NODES} solve", ["solve", paths[f"chain-{MAX_NODES}"]]
    yield "ladder-20 check", ["check", paths["ladder-20"]]
    yield "ladder-20 solve", ["solve", paths["ladder-20"]]
    yield f"claims-{MAX_CLAIMS} check", ["check", paths[f"claims-{MAX_CLAIMS}"]]
    yield f"distinct-wrong-{MAX_CLAIMS} check", ["check", paths[f"distinct-wrong-{MAX_CLAIMS}"]]
    yield f"matrix-wrong-{MAX_CLAIMS} check", ["check", paths[f"matrix-wrong-{MAX_CLAIMS}"]]
    yield "wrong-40-on-150 check", ["check", paths["wrong-40-on-150"]]
    yield f"problems-{MAX_PROBLEMS} check", ["check", paths[f"problems-{MAX_PROBLEMS}"]]
    yield f"files-{MAX_FILES} check", ["check", directory]
    yield f"matrix-chain-{MAX_NODES} check", ["check", paths[f"matrix-chain-{MAX_NODES}"]]
    yield f"samples-{MAX_SAMPLES} check", ["check", "--samples", str(MAX_SAMPLES),
                                          paths["small"]]
    yield f"samples-{MAX_SAMPLES} chain-1500", ["check", "--samples", str(MAX_SAMPLES),
                                               paths["chain-1500"]]


def run(args) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS in bytes (of the child), exit status."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "deriv", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate()
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        print(f"    stderr: {err.strip()[:300]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, proc.returncode


def main(pattern: str = "") -> int:
    failed = 0
    # deriv's bytecode written first, as `pip install` does (a checkout under
    # PYTHONDONTWRITEBYTECODE recompiles deriv in every process: 0.4 s an installed copy
    # never pays)
    subprocess.run([sys.executable, "-m", "compileall", "-q",
                    str(Path(__file__).resolve().parent.parent / "deriv")], check=True)
    print(f"{'case':<28} {'exit':>4} {'wall s':>7} {'CPU s':>6} {'peak RSS':>10}  (targets: "
          f"< {SECONDS:g} s, < 1 GiB; the machine may be shared: CPU time is the steadier)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in cases(Path(tmp)):
            if pattern not in name:
                continue
            # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: run each case in a
            # fresh child of its own (a wrapper process) to read its own peak
            wrapper = [sys.executable, __file__, "--one", *map(str, args)]
            out = subprocess.run(wrapper, capture_output=True, text=True)
            seconds, cpu, rss, code = (float(x) for x in out.stdout.split()[-4:])
            ok = seconds < SECONDS and rss < GIB and code in (0, 1)
            failed += not ok
            print(f"{name:<28} {int(code):>4} {seconds:>7.2f} {cpu:>6.2f} {rss / 2**20:>6.0f} MiB"
                  f"{'' if ok else '   OVER'}")
            if out.stderr.strip():
                print("   ", out.stderr.strip()[:300])
    return 1 if failed else 0


LOAD = """
import sys, time
import deriv.problem
start = time.process_time()
deriv.problem.load_file(sys.argv[1])
print(time.process_time() - start)
"""


def loads(pattern: str = "") -> int:
    """The CPU seconds of loading each file (TOML to Problem) in a fresh process."""
    print(f"{'file':<28} {'load CPU s':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        files = dict.fromkeys(args[-1] for _, args in cases(Path(tmp)) if args[-1].is_file())
        for path in files:
            if pattern not in path.stem:
                continue
            out = subprocess.run([sys.executable, "-c", LOAD, str(path)], capture_output=True,
                                 text=True)
            print(f"{path.stem:<28} " + (f"{float(out.stdout):>10.2f}" if out.returncode == 0
                                         else out.stderr.strip()[-200:]))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(*run(sys.argv[2:]))
    elif sys.argv[1:2] == ["--load"]:
        sys.exit(loads(sys.argv[2] if len(sys.argv) > 2 else ""))
    else:
        sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
