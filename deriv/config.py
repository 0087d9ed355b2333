"""`[tool.deriv]` in a pyproject.toml, found from the current directory upward (as ruff and
pytest find theirs: the nearest pyproject.toml that has the table). Command-line options
override it. A bad value is an error at its line and column, exit status 2.

    [tool.deriv]
    problems = ["solutions", "answers"]   # default targets of `deriv check`, and where ids are
    samples = 4000                        # looked up
    seed = 1
    expect-markers = ["solutions/*.toml"] # files whose `expect = "fail"` markers count
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from deriv.errors import DerivError

SAMPLES = (200, 10_000_000)
KEYS = ("problems", "samples", "seed", "expect-markers")
HEADER = re.compile(r"^\s*\[\s*tool\s*\.\s*deriv\s*\]")


@dataclass
class Config:
    path: Path | None = None              # the pyproject.toml read, if any
    problems: list[Path] = field(default_factory=list)
    samples: int | None = None
    seed: int | None = None
    expect_markers: list[str] | None = None   # fnmatch patterns, relative to `root`

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else Path.cwd()


def find(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml from `start` upward that has a [tool.deriv] table."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        try:
            text = candidate.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if any(HEADER.match(line) for line in text.split("\n")) or "tool.deriv" in text:
            return candidate
    return None


def _place(lines: list[str], key: str, at_key: bool = False) -> tuple[int | None, int | None]:
    """Line and column of the value of `key = value` inside the [tool.deriv] table (1-based;
    `at_key`: of the key)."""
    inside = False
    pattern = re.compile(r"^\s*(" + re.escape(key) + r'|"' + re.escape(key) + r'")\s*=\s*')
    for i, line in enumerate(lines):
        if line.lstrip().startswith("["):
            inside = bool(HEADER.match(line))
            if inside and key == "":
                return i + 1, 1
            continue
        if inside and key:
            m = pattern.match(line)
            if m:
                return i + 1, (m.start(1) if at_key else m.end()) + 1
    return None, None


def load(start: Path | None = None) -> Config:
    path = find(start)
    if path is None:
        return Config()
    text = path.read_text(encoding="utf-8", errors="replace")
    file = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
        raise DerivError("invalid TOML: " + re.sub(r"\s*\(at .*\)$", "", str(err)), file,
                         int(m[1]) if m else None, int(m[2]) if m else None) from None
    table = data.get("tool", {}).get("deriv") if isinstance(data.get("tool"), dict) else None
    if table is None:
        return Config()
    lines = text.split("\n")

    def fail(message: str, key: str = "", at_key: bool = False) -> DerivError:
        line, col = _place(lines, key, at_key)
        return DerivError(f"[tool.deriv] {message}", file, line, col)

    if not isinstance(table, dict):
        raise fail("must be a table")
    for key in table:
        if key not in KEYS:
            raise fail(f"unknown key '{key}' (known: {', '.join(KEYS)})", key, at_key=True)
    config = Config(path=path)
    problems = table.get("problems", [])
    if isinstance(problems, str):
        problems = [problems]
    if not isinstance(problems, list) or not all(isinstance(p, str) and p for p in problems):
        raise fail("'problems' is a directory or file, or a list of them", "problems")
    for entry in problems:
        full = (path.parent / entry)
        if not full.exists():
            raise fail(f"'problems' names '{entry}', which does not exist (relative to "
                       f"{path.parent})", "problems")
        config.problems.append(full)
    for key, bounds in (("samples", SAMPLES), ("seed", (0, 2**32 - 1))):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int) or \
                    not bounds[0] <= value <= bounds[1]:
                raise fail(f"'{key}' is a whole number from {bounds[0]} to {bounds[1]}, not "
                           f"{value!r:.40}", key)
            setattr(config, key, value)
    if "expect-markers" in table:
        markers = table["expect-markers"]
        if not isinstance(markers, list) or not all(isinstance(m, str) for m in markers):
            raise fail("'expect-markers' is a list of file patterns such as "
                       "\"solutions/*.toml\"", "expect-markers")
        config.expect_markers = markers
    return config


def counts_expect(file: str, patterns: list[str] | None, base: Path) -> bool:
    """Do `expect` markers in `file` count? (No patterns: every file's do.)"""
    if patterns is None:
        return True
    from fnmatch import fnmatch
    path = Path(file).resolve()
    names = [file, path.as_posix()]
    try:
        names.append(path.relative_to(base.resolve()).as_posix())
    except ValueError:
        pass
    return any(fnmatch(name, pattern) for name in names for pattern in patterns)
