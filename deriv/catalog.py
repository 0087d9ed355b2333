"""Where problems come from: the bundled catalog, a directory, or a user's file."""

from __future__ import annotations

import functools
from importlib.util import find_spec
from pathlib import Path

from deriv.errors import DerivError
from deriv.lookup import lookup
from deriv.problem import Problem, load_file, uncollected


@functools.cache
def bundled_dir() -> Path:
    """The catalog shipped with the package (problems/ in a checkout). Found from the
    package's import spec, as importlib.resources would find it, without importing that
    machinery (and zipfile): 15–25 ms a call, two or three calls a command."""
    try:
        spec = find_spec("deriv.problems")
        for location in (spec.submodule_search_locations or []) if spec else []:
            path = Path(location)
            if path.is_dir() and any(path.glob("*.toml")):
                return path if path.is_absolute() else path.absolute()   # (kept: cwd may change)
    except (ModuleNotFoundError, ValueError):
        pass
    return Path(__file__).resolve().parent.parent / "problems"


MAX_FILES = 1_000          # problem files in one run (each file has its own limits)


def problem_files(directory: Path) -> list[Path]:
    """A directory's *.toml files, counted before anything is read."""
    files = []
    for path in directory.glob("*.toml"):
        files.append(path)
        if len(files) > MAX_FILES:
            raise DerivError(f"more than {MAX_FILES} problem files in one directory",
                             str(directory))
    return files


def load_dir(directory: str | Path, from_printed: bool = False) -> list[Problem]:
    directory = Path(directory)
    if not directory.is_dir():
        raise DerivError(f"no such directory: {directory}")
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    files = sorted(problem_files(directory), key=lambda p: p.stem)
    if not files:
        raise DerivError("no problem files (*.toml) in this directory", str(directory))
    with uncollected():               # (collected once, after all the files)
        for path in files:
            for problem in load_file(path, from_printed):
                if problem.id in seen:
                    raise DerivError(f"problem id '{problem.id}' is also defined in "
                                     f"{seen[problem.id]}", str(path), problem.line)
                seen[problem.id] = str(path)
                problems.append(problem)
    # one document's problems together, numbered ones in order (7.2 before 7.12)
    return sorted(problems, key=lambda p: (p.source_file, natural(p.id)))


def natural(text: str) -> list:
    import re
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text)]


def load_catalog(directory: str | Path | list | None = None, from_printed: bool = False
                 ) -> list[Problem]:
    """The bundled catalog, or the problems of a directory (or of a list of directories and
    files: [tool.deriv] problems)."""
    if isinstance(directory, (list, tuple)):
        if len(directory) == 1 and Path(directory[0]).is_dir():
            return load_dir(directory[0], from_printed)
        out: list[Problem] = []
        for entry in directory:
            out.extend(load_dir(entry, from_printed) if Path(entry).is_dir()
                       else load_file(entry, from_printed))
        return out
    return load_dir(directory or bundled_dir(), from_printed)


def catalog_files(directory: str | Path | list | None = None) -> list[Path] | None:
    """The files load_catalog reads, in its order; None where it would fail (no such
    directory, an empty one, too many files), for it to say why."""
    entries = directory if isinstance(directory, (list, tuple)) else [directory or bundled_dir()]
    files: list[Path] = []
    try:
        for entry in map(Path, entries):
            if entry.is_dir():
                found = sorted(problem_files(entry), key=lambda p: p.stem)
                if not found:
                    return None
                files.extend(found)
            elif isinstance(directory, (list, tuple)):
                files.append(entry)
            else:
                return None
    except (DerivError, OSError):
        return None
    return files


def resolve(targets: list[str] | tuple[str, ...], directory: str | Path | None = None,
            from_printed: bool = False) -> list[Problem]:
    """Problem ids and file paths → problems. No targets: the whole catalog. With
    `from_printed`, claims are read from their printed LaTeX, not their expr and chain."""
    if not targets:
        return load_catalog(directory, from_printed)
    catalog: list[Problem] | None = None
    chosen: list[Problem] = []
    files = {p for t in targets for p in [Path(t)] if t.endswith(".toml")}
    if len(files) > MAX_FILES:
        raise DerivError(f"more than {MAX_FILES} problem files in one run")
    for target in targets:
        path = Path(target)
        try:
            path.is_file()
        except OSError as err:          # a name too long for the file system
            raise DerivError(f"cannot read file: {err.strerror or err}",
                             target[:200] + ("…" if len(target) > 200 else "")) from None
        if target.endswith(".toml") or path.is_file():
            if path.is_dir():
                chosen.extend(load_dir(path, from_printed))
            else:
                chosen.extend(load_file(path, from_printed))
            continue
        if path.is_dir():
            chosen.extend(load_dir(path, from_printed))
            continue
        found = lookup(target, catalog_files(directory), from_printed) if catalog is None \
            else None
        if found is None:
            if catalog is None:
                catalog = load_catalog(directory, from_printed)
            found = by_id(catalog, target)
        chosen.extend(found)
    return chosen


def by_id(catalog: list[Problem], target: str) -> list[Problem]:
    """The catalog's problems with this id, or an error naming the ids it may have meant."""
    matches = [p for p in catalog if p.id == target]
    if not matches:
        close = [p.id for p in catalog if target.lower() in p.id.lower()]
        hint = f"; did you mean {', '.join(close[:5])}?" if close else \
            "; `deriv list` shows the catalog"
        raise DerivError(f"no problem '{target}' in the catalog and no such file{hint}")
    return matches
