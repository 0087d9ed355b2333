"""An id found in the one catalog file that holds it, that file alone loaded: the files'
TOML is read (a few ms each), no graph is parsed. Every command that names a problem by id
(solve, show, graph, plot, check) is a fresh process that would otherwise load the whole
catalog to find it.
"""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path

from deriv.errors import DerivError
from deriv.problem import MAX_FILE_BYTES, Problem, load_file

# what can make a TOML string differ from its text: an escape \u…, \U…, a line-ending backslash
_SPELLS = re.compile(rb"\\(?:u|U|[ \t]*\r?\n)")


def lookup(target: str, files: list[Path] | None, from_printed: bool = False
           ) -> list[Problem] | None:
    """The problems with id `target` in the catalog's `files` (deriv.catalog.catalog_files),
    loading only the file that holds it (one of the bundled ten: `deriv solve problem-7.1`
    starts 0.45 s sooner). A file holds it if its text has the id — or a TOML escape, which
    could spell it — and a [[problem]] table of its TOML names it. None when that is not one
    file for sure (no file names it, two do, a file is unreadable, not TOML, or fails to
    load): the caller loads the whole catalog, which says why."""
    if files is None or not target or not target.isprintable():
        return None
    key = target.encode("utf-8", "replace")
    holding: list[Path] = []
    for path in files:
        try:
            if not stat.S_ISREG(path.stat().st_mode):
                return None
            with path.open("rb") as f:
                raw = f.read(MAX_FILE_BYTES + 1)
        except OSError:
            return None
        if len(raw) > MAX_FILE_BYTES:
            return None
        if key not in raw and not _SPELLS.search(raw):
            continue
        try:
            tables = tomllib.loads(raw.decode("utf-8")).get("problem")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError, RecursionError):
            return None
        if not isinstance(tables, list):
            return None
        named = sum(1 for t in tables if isinstance(t, dict) and t.get("id") == target)
        if named > 1:
            return None
        if named:
            holding.append(path)
    if len(holding) != 1:
        return None
    try:
        found = [p for p in load_file(holding[0], from_printed) if p.id == target]
    except DerivError:
        return None
    return found or None
