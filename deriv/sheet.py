"""Solution sheets as written: the math of a .tex, Markdown, plain-text or notebook file, the
part about one problem, and its derivative equations as claims located file:line:col.
"""

from __future__ import annotations

import dataclasses
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from deriv.errors import DerivError
from deriv.latex_reader import Reading, context, pairs, read_display
from deriv.parse import parse_chain, parse_expression
from deriv.problem import Claim, Problem

MAX_SHEET_BYTES = 2_000_000
MAX_EQUATIONS = 2_000
MAX_FORMULAS = 3_000           # $…$ and $$…$$ read in one sheet (each costs ~1 ms)
MAX_MATH = 100_000             # characters of math read in one sheet (~50 µs each to parse)

_MATH = re.compile(
    r"\$\$(?P<a>.+?)\$\$|\\\[(?P<b>.+?)\\\]"
    r"|\\begin\{(?P<env>equation\*?|align\*?|gather\*?|multline\*?|eqnarray\*?)\}(?P<c>.+?)"
    r"\\end\{(?P=env)\}"
    r"|(?<![\\$])\$(?P<d>[^$\n]+?)\$|\\\((?P<e>.+?)\\\)", re.S)
_HEADING = re.compile(r"^\s*(#{1,6}\s+.*|\*\*[^*\n]+\*\*.*|\\(?:sub)*section\*?\{.*|"
                      r"(?:Problem|Exercise|Question|Solution)\s+[\w.]+.*)$", re.M | re.I)


@dataclass
class Math:
    text: str
    start: int                 # offset of the math text in the sheet's text


@dataclass
class Sheet:
    path: str
    text: str                  # the file's text, or a notebook's markdown cells one after another
    cells: list[tuple[int, str]]   # (offset where each part starts, how its places are named)

    def place(self, offset: int) -> tuple[str, int, int]:
        start, name = max((c for c in self.cells if c[0] <= offset), default=(0, self.path))
        line = self.text.count("\n", start, offset) + 1
        col = offset - max(self.text.rfind("\n", start, offset) + 1, start) + 1
        return name, line, col


def read_sheet(path: str | Path) -> Sheet:
    """The text of a sheet, refused with a clear message when it is not one."""
    path = Path(path)
    file = str(path)
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise DerivError("not a regular file", file)
        with path.open("rb") as f:
            raw = f.read(MAX_SHEET_BYTES + 1)
    except OSError as err:
        raise DerivError(f"cannot read file: {err.strerror or err}", file) from None
    if len(raw) > MAX_SHEET_BYTES:
        raise DerivError(f"sheet is larger than {MAX_SHEET_BYTES // 1_000_000} MB", file, 1)
    if b"\0" in raw[:8192]:
        raise DerivError("this is a binary file, not a solution sheet (.tex, .md, .txt, "
                         ".ipynb)", file, raw.count(b"\n", 0, raw.index(b"\0")) + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise DerivError(f"sheet is not UTF-8 (byte {err.start})", file, line) from None
    if path.suffix.lower() == ".ipynb":
        return _notebook(text, file)
    kind = {".tex": "tex", ".ltx": "tex", ".md": "md", ".markdown": "md"}.get(
        path.suffix.lower())
    return Sheet(file, unshown(text, kind), [(0, file)])


# what a reader never sees, blanked (same length, newlines kept: every place stays where it
# is) so that its formulas are not taken for the sheet's: a TA's old formula commented out
_TEX_UNSHOWN = re.compile(
    r"(?<!\\)%[^\n]*"
    r"|\\iffalse\b.*?\\fi\b"
    r"|\\begin\{(verbatim\*?|comment|lstlisting|minted)\}.*?\\end\{\1\}"
    r"|\\verb\*?([^A-Za-z\s*]).*?\2", re.S)
_MD_UNSHOWN = re.compile(
    r"<!--.*?-->"
    r"|^[ \t]{0,3}(```+|~~~+)[^\n]*\n.*?^[ \t]{0,3}\1[ \t]*$"
    r"|(`+)(?!`).+?(?<!`)\2(?!`)", re.S | re.M)


def unshown(text: str, kind: str | None) -> str:
    """The text with what a reader never sees blanked: TeX's comments (%), \\iffalse … \\fi,
    verbatim and comment environments and \\verb; Markdown's HTML comments, code fences and
    inline code."""
    pattern = {"tex": _TEX_UNSHOWN, "md": _MD_UNSHOWN}.get(kind)
    if pattern is None:
        return text
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def _notebook(text: str, file: str) -> Sheet:
    import warnings

    import nbformat
    try:
        with warnings.catch_warnings():       # (a cell without an id: nbformat warns on stderr
            warnings.simplefilter("ignore")   # with its own file's path; the cells still read)
            nb = nbformat.reads(text, as_version=4)
    except Exception as err:      # noqa: BLE001  (nbformat raises many kinds for bad JSON)
        raise DerivError(f"not a Jupyter notebook ({type(err).__name__}: "
                         f"{str(err).splitlines()[0][:80] if str(err) else ''})", file, 1) \
            from None
    text, cells = "", []
    for i, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") == "markdown" and isinstance(cell.get("source"), str):
            cells.append((len(text), f"{file}#cell{i}"))    # places: file#cellN:line:col
            text += unshown(cell["source"], "md") + "\n\n"
    return Sheet(file, text, cells or [(0, file)])


def _heading_key(m: re.Match) -> tuple[str, int, str]:
    text = m.group().strip()
    if text.startswith("#"):
        return "markdown", len(text) - len(text.lstrip("#")), ""
    if text.startswith("\\"):
        return "latex", text.index("section") - text.count("sub", 0, text.index("section")), ""
    word = re.sub(r"^\W+", "", text).split()[0].lower() if text.strip("*") else ""
    return "word", 0, re.sub(r"\W+$", "", word)


def section_span(text: str, section: str) -> tuple[int, int] | None:
    """Where the part headed `section` ("problem 7.12") starts and ends (at the next heading
    of its level or of its kind: "Problem 7.13"), or None."""
    if not section.strip():
        return None
    words = [re.escape(w) for w in section.split()]
    title = re.compile(r"\W*".join(words) + r"(?![\w.]*\d)", re.I)
    headings = list(_HEADING.finditer(text))
    for k, m in enumerate(headings):
        if title.search(m.group()):
            kind, level, word = _heading_key(m)
            for later in headings[k + 1:]:
                other = _heading_key(later)
                if other[0] == kind and (other[1] <= level if kind != "word" else
                                         other[2] == word):
                    return m.start(), later.start()
            return m.start(), len(text)
    return None


def math_parts(sheet: Sheet, section: str | None) -> tuple[list[Math], list[str]]:
    """The math of the sheet (of the part headed `section` when found), with notes."""
    notes: list[str] = []
    span = section_span(sheet.text, section) if section else None
    if section and span is None:
        notes.append(f"no heading {section!r} found in {sheet.path!r}: the whole sheet is read")
    lo, hi = span or (0, len(sheet.text))
    found, size = [], 0
    for m in _MATH.finditer(sheet.text, lo, hi):
        group = next(g for g in ("a", "b", "c", "d", "e") if m.group(g) is not None)
        found.append(Math(m.group(group), m.start(group)))
        size += len(m.group(group))
        if len(found) > MAX_FORMULAS or size > MAX_MATH:
            name, line, col = sheet.place(m.start())
            raise DerivError(f"more than {MAX_FORMULAS} formulas or {MAX_MATH} characters of "
                             "math in one sheet (name its part with --section)", name, line, col)
    return found, notes


def sheet_readings(problem: Problem, sheet: Sheet, section: str | None):
    """(Math, Reading) for every derivative, value and unread equation of the problem's part."""
    maths, notes = math_parts(sheet, section)
    out = []
    for math in maths:
        readings, damage = read_display(math.text, context(problem))
        notes.extend(damage)
        out += [(math, r) for r in readings if r.kind != "value" or r.of in problem.graph.nodes]
        if len(out) > MAX_EQUATIONS:
            raise DerivError(f"more than {MAX_EQUATIONS} equations in one sheet", sheet.path)
    return out, list(dict.fromkeys(notes))


def claim_from_texts(problem: Problem, cid: str, of: str, wrt: str, printed: str,
                     chain_text: str | None, expr_text: str | None, place: str) -> Claim:
    """A claim built from deriv-syntax texts, as the loader builds a hand-written one."""
    ctx = context(problem)
    expr = chain_expr = chain = None
    try:
        if expr_text is not None:
            expr = parse_expression(expr_text, ctx.symbols, derivative=ctx.derivative,
                                    sizes=ctx.sizes)
        if chain_text is not None:
            chain_expr = parse_expression(chain_text, ctx.symbols, derivative=ctx.derivative,
                                          sizes=ctx.sizes)
            chain = parse_chain(chain_text, set(ctx.symbols))
    except DerivError as err:
        return Claim(cid, of, wrt, printed, None, unread=err.message, place=place)
    return Claim(cid, of, wrt, printed, expr, expr_text, chain=chain, chain_expr=chain_expr,
                 chain_text=chain_text, place=place)


def problem_from_sheet(problem: Problem, path: str, section: str | None = None
                       ) -> tuple[Problem, list[str]]:
    """The problem with its claims read from the sheet instead of its file; notes say what
    was repaired or not found."""
    sheet = read_sheet(path)
    found, notes = sheet_readings(problem, sheet, section if section is not None
                                  else problem.section)
    claims: list[Claim] = []
    for math, reading in found:
        name, line, col = sheet.place(math.start + reading.offset)
        place = f"{name}:{line}:{col}"
        claims += claims_of(problem, reading, place)
    notes.append(f"{len(claims)} equations read from {path}"
                 + (f" ({sum(1 for c in claims if c.unread)} unread)" if claims else ""))
    return dataclasses.replace(problem, claims=claims), notes


def problems_from_sheet(problems: list[Problem], path: str, section: str | None = None
                        ) -> tuple[list[Problem], list[str]]:
    """`deriv check PROBLEM --sheet FILE`: the one problem named, read from the sheet."""
    if len(problems) != 1:
        raise DerivError(f"--sheet checks one problem; {len(problems)} were named")
    problem, notes = problem_from_sheet(problems[0], path, section)
    return [problem], notes


def claims_of(problem: Problem, reading: Reading, place: str) -> list[Claim]:
    if reading.kind == "unread":
        return [Claim(place, reading.of or "?", reading.wrt, reading.printed, None,
                      unread=reading.reason, place=place)]
    out = []
    for k, (chain, expr, value) in enumerate(pairs(reading, problem.at)):
        cid = place if k == 0 else f"{place}={k + 1}"
        claim = claim_from_texts(problem, cid, reading.of, reading.wrt, reading.printed,
                                 chain, expr, place)
        if value is not None:
            claim.value, claim.value_text = float(value), value
        out.append(claim)
    return out
