"""deriv: derive derivatives step by step over computational graphs and check printed formulas.

The library API (the CLI is built on it):

    problem = deriv.load("problem-7.12")          # a catalog id, a file path, or TOML text
    solution = deriv.solve(problem, mode="both")   # steps, values at a point (Solution)
    report = deriv.check(problem)                  # verdicts and findings (Report)

The package root stays light (no SymPy) so that `deriv --help` starts fast: the heavy modules
are imported when these functions are first called.
"""

from __future__ import annotations

__version__ = "0.2.0"

import os as _os

# BLAS on one thread (unless the caller chose): deriv's matrices are small and batched, and a
# second thread fighting for a shared core made a batch of 64×64 eigh 100× slower (5.6 s for
# 0.05 s). Read when NumPy is first imported, so it is set here, before any deriv module's.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_threads, "1")

from deriv.errors import DerivError  # noqa: E402  (light: no SymPy)

__all__ = ["DerivError", "__version__", "load", "load_all", "solve", "check"]


def load_all(source: str, directory: str | None = None) -> list:
    """Every problem `source` names: a catalog id, a path to a TOML file, or TOML text."""
    import os

    import deriv.render.jupyter  # noqa: F401  (Jupyter shows problems, solutions, reports)
    from deriv.catalog import resolve
    from deriv.problem import load_text
    if "\n" in source or "[[problem]]" in source:
        return load_text(source, "<text>")
    if os.path.exists(source) or source.endswith(".toml"):
        from deriv.problem import load_file
        return load_file(source)
    return resolve([source], directory)


def load(source: str, directory: str | None = None, id: str | None = None):
    """One problem (a file or text of several needs `id`)."""
    problems = load_all(source, directory)
    if id is not None:
        problems = [p for p in problems if p.id == id]
    if len(problems) != 1:
        raise DerivError(f"{source[:60]!r} holds {len(problems)} problems; pass id=")
    return problems[0]


def solve(problem, mode: str | None = None, wrt: list[str] | None = None,
          at: dict[str, float] | None = None, seed: int = 0, sizes: dict | None = None):
    """The derivation of `problem` (a Problem, or what `load` accepts) as a Solution.
    `sizes`: {name: 3} or {name: (lo, hi)}, as --size gives them."""
    import deriv.render.jupyter  # noqa: F401
    from deriv.solution import solve as run
    if isinstance(problem, str):
        problem = load(problem)
    return run(problem, mode=mode, wrt=wrt, at=at, seed=seed, sizes=sizes)


def check(problems, samples: int = 2000, seed: int = 0, expect: bool = True,
          sizes: dict | None = None):
    """Check the printed claims of one problem or a list of them; returns a Report.
    `expect=False`: ignore the files' expect = "fail" markers (a student's file)."""
    import deriv.render.jupyter  # noqa: F401
    from deriv.checker import Options, check as run
    if isinstance(problems, str):
        problems = load_all(problems)
    if not isinstance(problems, (list, tuple)):
        problems = [problems]
    for p in problems if not expect else ():     # markers ignored: every claim must pass
        for c in p.claims:
            c.expect = "pass"
    return run(list(problems), Options(samples=samples, seed=seed, sizes=dict(sizes or {})))
