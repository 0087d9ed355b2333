"""Many inputs at once, as a TA or a course's CI runs deriv: files, directories and catalog ids
in any mix. Each file is loaded on its own, so a bad one is reported (file:line:col) and the
others are still checked; the report holds one `Input` per file, in the order given.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from deriv.catalog import by_id, catalog_files, load_catalog
from deriv.checker import Options, check
from deriv.config import counts_expect
from deriv.errors import DerivError
from deriv.findings import Input, Report
from deriv.lookup import lookup
from deriv.problem import Problem, load_file


@dataclass
class Plan:
    """What a run will check: the problems, and every input with its fate so far."""

    problems: list[Problem] = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)

    @property
    def claims(self) -> int:
        return sum(len(p.claims) for p in self.problems)


def _files(directory: Path) -> list[Path]:
    from deriv.catalog import problem_files
    return sorted(problem_files(directory), key=lambda p: p.name)


def collect(targets, catalog: list[str | Path] | None = None, from_printed: bool = False
            ) -> Plan:
    """Targets (files, directories, ids of the catalog in `catalog`'s directories or the
    bundled one) → a Plan. Never raises for a bad file: its error is kept on its Input.
    `from_printed`: claims read from their printed LaTeX (deriv.problem.load_file)."""
    plan = Plan()
    seen: set[str] = set()
    known: list[Problem] | None = None

    def add_file(path: Path):
        key = str(path.resolve()) if path.exists() else str(path)
        if key in seen:
            return
        seen.add(key)
        try:
            problems = load_file(path, from_printed)
        except DerivError as err:
            if err.file is None:
                err.file = str(path)
            plan.inputs.append(Input(str(path), error=err))
            return
        plan.inputs.append(Input(str(path)))
        plan.problems.extend(problems)

    def add_dir(path: Path):
        files = _files(path)
        if not files:
            plan.inputs.append(Input(str(path), warning="no problem files (*.toml) here"))
        for f in files:
            add_file(f)

    for target in targets:
        target = str(target)
        path = Path(target)
        try:
            path.is_dir()
        except OSError as err:          # a name too long for the file system
            plan.inputs.append(Input(target[:200], error=DerivError(
                f"cannot read file: {err.strerror or err}", target[:200])))
            continue
        if path.is_dir():
            add_dir(path)
        elif path.is_file() or target.endswith(".toml"):
            add_file(path)
        else:
            matches = lookup(target, catalog_files(catalog or None), from_printed) \
                if known is None else None
            try:
                if matches is None:             # the whole catalog: it names what is wrong
                    if known is None:
                        known = _catalog(catalog, from_printed)
                    matches = by_id(known, target)
            except DerivError as err:
                plan.inputs.append(Input(target, error=err))
                continue
            for p in matches:
                if p.path not in {i.file for i in plan.inputs}:
                    plan.inputs.append(Input(p.path))
            plan.problems.extend(matches)
    return plan


def _catalog(directories, from_printed: bool = False) -> list[Problem]:
    try:
        return load_catalog(directories or None, from_printed)
    except DerivError:        # a bad file among them: look ids up in the others
        out: list[Problem] = []
        for d in directories or []:
            for f in (_files(Path(d)) if Path(d).is_dir() else [Path(d)]):
                try:
                    out.extend(load_file(f, from_printed))
                except DerivError:
                    continue
        return out


def select(plan: Plan, selection) -> Plan:
    """Keep the claims that `selection` (deriv.selection.Selection) matches by file, problem
    id and claim id; a problem whose claims are all left out goes too, and a problem's
    missing derivatives are reported only when the selection matches the problem itself."""
    kept = []
    for p in plan.problems:
        claims = [c for c in p.claims if selection.matches((p.path, p.id, c.id))]
        if not claims and not selection.matches((p.path, p.id)):
            continue
        whole = selection.matches((p.path, p.id))
        kept.append(replace(p, claims=claims, asks=p.asks if whole else []))
    return Plan(kept, plan.inputs)


def ignore_expect(plan: Plan, patterns: list[str] | None, base: Path) -> None:
    """Markers `expect = "fail"` count only in the files the patterns name (a student's file
    cannot excuse its own wrong claim)."""
    if patterns is None:
        return
    for p in plan.problems:
        if not counts_expect(p.path or "", patterns, base):
            for c in p.claims:
                c.expect = "pass"


def file_rows(report: Report) -> list[dict]:
    """Per input file: passed, xfailed, failed (and xpassed), warnings (a harmless
    failure, a pass that saw only some kink sides, a missing derivative), errors."""
    rows = {i.file: {"file": i.file, "passed": 0, "xfailed": 0, "failed": 0,
                     "warnings": int(bool(i.warning)), "errors": int(i.error is not None)}
            for i in report.inputs}
    for v in report.verdicts:
        row = rows.setdefault(v.file, {"file": v.file, "passed": 0, "xfailed": 0,
                                       "failed": 0, "warnings": 0, "errors": 0})
        key = {"passed": "passed", "xfailed": "xfailed", "error": "errors",
               "warning": "warnings"}.get(v.outcome, "failed")
        row[key] += 1
        row["warnings"] += v.partial
    for m in report.missing:
        if m.file in rows:
            rows[m.file]["warnings"] += 1
    return list(rows.values())


def by_document(report: Report) -> Report:
    """The report with its problems, verdicts and missing derivatives in the catalog's order:
    by source document, numbered problems in order (7.2 before 7.12) — a summary per document
    reads the same whichever files its problems came from."""
    from deriv.catalog import natural
    order = {(p.path, p.id): (p.source_file, natural(p.id), k)
             for k, p in enumerate(report.problems)}

    def rank(item):
        return order.get((item.file, item.problem), ("", [], 0))
    problems = sorted(report.problems, key=lambda p: order[(p.path, p.id)])
    return replace(report, problems=problems, verdicts=sorted(report.verdicts, key=rank),
                   missing=sorted(report.missing, key=rank))


def run(plan: Plan, options: Options, progress=None) -> Report:
    """Check the plan; a problem that cannot be checked (too large) makes its file bad input,
    and the other problems are still checked."""
    by_file = {i.file: i for i in plan.inputs}

    def failed(problem, err: DerivError):
        entry = by_file.get(problem.path)
        if entry is None:
            entry = by_file[problem.path] = Input(problem.path)
            plan.inputs.append(entry)
        if entry.error is None:
            entry.error = err

    report = check(plan.problems, options, progress, on_error=failed)
    report.inputs = plan.inputs
    return report


def check_sizes(plan: Plan, sizes: dict):
    """--size names a size of some problem checked, and fits what its constants need."""
    from deriv.constraints import ranges
    known = {s for p in plan.problems for s in p.sizes}
    broken = any(i.error is not None for i in plan.inputs)   # (it may be the one with the size:
    for name in sizes:                                          # its own error is reported)
        if name not in known and not broken:
            raise DerivError(f"--size {name}=…: no problem checked has a size '{name}' "
                             f"(sizes: {', '.join(sorted(known)) or 'none'})")
    for p in plan.problems:
        ranges(p, sizes)
