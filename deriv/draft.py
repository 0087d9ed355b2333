"""`deriv import`: a problem file drafted from a sheet, for a person to review.

The graph comes from the forward-pass equations the sheet prints (f₁ = exp[x], f₂ = f₁², …; a
later definition of a name replaces an earlier one, as a worked solution breaks y down), the
inputs are the names used and never defined, and every derivative equation becomes a claim
with its printed text (read again from it when the file is loaded). What could not be read is
written as comments.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from deriv import algebra as A
from deriv.errors import DerivError
from deriv.latex_reader import Context, read_display
from deriv.notation import Notation
from deriv.parse import RESERVED, DRef
from deriv.sheet import math_parts, read_sheet


class _AnyName(dict):
    """Symbols of a graph not yet known: every well-formed name is one (a scalar)."""

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) is not None \
            and name not in RESERVED and not name.endswith(("_bar", "_dot"))

    def known(self, name: str) -> bool:
        """Whether the name was met already (a name like sigma is a function until then)."""
        return dict.__contains__(self, name)

    def __missing__(self, name: str):
        if name not in self:
            raise KeyError(name)
        self[name] = A.symbol(name)
        return self[name]


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but for DEL."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


@dataclass
class Draft:
    text: str
    notes: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    claims: int = 0
    unread: int = 0

    def summary(self) -> str:
        return (f"{len(self.nodes)} nodes ({', '.join(self.nodes)}), {self.claims} claims, "
                f"{self.unread} unread")


def draft_file(path: str, section: str | None = None, functions=()) -> Draft:
    """`deriv import`: the draft, with `functions` ("a=relu") as its notation; a note if the
    draft does not load as it is."""
    from deriv.notation import from_table
    from deriv.problem import load_text
    table = {}
    for item in functions:
        symbol, sep, name = item.partition("=")
        if not sep:
            raise DerivError(f"--function takes SYMBOL=NAME, such as a=relu, not {item!r}")
        table[symbol.strip()] = name.strip()
    result = draft(path, section, from_table({"functions": table}, DerivError))
    try:
        load_text(result.text, "<draft>")
    except DerivError as err:
        result.notes.append(f"the draft does not load as it is: {err}")
    return result


def draft(path: str, section: str | None = None, notation: Notation | None = None) -> Draft:
    sheet = read_sheet(path)
    maths, notes = math_parts(sheet, section)
    symbols = _AnyName()
    ctx = Context(symbols, notation or Notation(), frozenset(),
                  lambda a, b: DRef(a, b).symbol(()), False)
    definitions: dict[str, str] = {}
    derivative_claims, unread = [], []
    for math in maths:
        readings, damage = read_display(math.text, ctx)
        notes += damage
        for r in readings:
            name, line, col = sheet.place(math.start + r.offset)
            if r.kind == "value" and r.exprs and "D(" not in r.exprs[0].text:
                definitions.pop(r.of, None)          # the later definition, in its place
                definitions[r.of] = r.exprs[0].text
            elif r.kind == "derivative":
                derivative_claims.append((r, line, col))
            elif r.kind == "unread":
                unread.append((r, line, col))
    defined = set(definitions)
    used = []
    for text in definitions.values():          # inputs in the order they are written
        names = sorted((n for n in ast.walk(ast.parse(text, mode="eval"))
                        if isinstance(n, ast.Name)), key=lambda n: n.col_offset)
        for n in names:
            if n.id not in defined and n.id not in used and n.id not in RESERVED:
                used.append(n.id)
    if not definitions:
        raise DerivError("no forward-pass equations (name = formula) found"
                         + (f" under '{section}'" if section else ""), path)
    pid = re.sub(r"[^A-Za-z0-9_.\-]+", "-", (section or Path(path).stem).strip()).strip("-") \
        or "drafted"
    lines = [
        "# drafted by `deriv import` — review before use: names, inputs' kinds, claims",
        "[source]",
        f"title = {toml_string(Path(path).name)}",
        f"file = {toml_string(Path(path).name)}",
        "",
        "[[problem]]",
        f"id = {toml_string(pid.lower())}",
        f"title = {toml_string('drafted from ' + Path(path).name)}",
    ]
    if section:
        lines.append(f"section = {toml_string(section)}")
    lines.append("inputs = { " + ", ".join(f"{n} = \"real\"" for n in used) + " }")
    if notation and notation.functions:
        lines.append("notation = { functions = { " + ", ".join(
            f"{toml_string(k)} = {toml_string(v)}" for k, v in notation.functions.items()) + " } }")
    lines.append('graph = """')
    lines += [f"{name} = {text}" for name, text in definitions.items()]
    lines.append('"""')
    seen: dict[str, int] = {}
    kept = 0
    for r, line, col in derivative_claims:
        if r.of not in defined or r.wrt not in defined | set(used):
            why = f"D({r.of}, {r.wrt}) is not a derivative of the drafted graph"
            unread.append((dataclasses.replace(r, kind="unread", reason=why), line, col))
            continue
        cid = f"d{r.of}/d{r.wrt}"
        seen[cid] = seen.get(cid, 0) + 1
        kept += 1
        lines += ["", f"[[problem.claim]]   # line {line}, column {col}",
                  f"id = {toml_string(cid if seen[cid] == 1 else f'{cid}#{seen[cid]}')}",
                  f"of = {toml_string(r.of)}", f"wrt = {toml_string(r.wrt)}",
                  f"printed = {toml_string(r.printed)}"]
        for skipped in r.skipped:
            lines.append(f"# a right side not read: {_comment(skipped)}")
    for r, line, col in unread:
        lines += ["", f"# unread (line {line}, column {col}): {_comment(r.reason)}",
                  f"#   printed: {_comment(r.printed)}"]
    text = "\n".join(lines) + "\n"
    return Draft(text, list(dict.fromkeys(notes)), list(definitions), kept, len(unread))


def _comment(text: str) -> str:
    """One line of a TOML comment: no line breaks or control characters (TOML forbids them,
    and a terminal would obey them)."""
    text = " ".join(text.split())[:300]
    return "".join(ch if ch.isprintable() else "\ufffd" for ch in text)
