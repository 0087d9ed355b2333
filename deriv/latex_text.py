"""LaTeX math as text: repairing damaged extractions and cutting a display into equations.

Nothing here reads an expression. A display becomes rows (at `\\\\`), a row becomes equations
(at top-level `,` `;` `\\quad` and prose), an equation becomes its parts (at `=`); each part
keeps its offset in the display so that a sheet can say where it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deriv import primitives as P

MAX_DISPLAY = 50_000          # characters of one display
MAX_PARTS = 400               # equations (and parts) of one display

# Text extracted from PDFs and web pages often went through a string escape that ate a
# backslash and its letter: \f of \frac became a form feed (or vanished), \b of \begin too.
_LOST = [   # (damaged pattern, repair); the pattern never follows a letter or a backslash
    (r"rac\{", r"\frac{"), (r"egin\{", r"\begin{"), (r"oldsymbol\b", r"\boldsymbol"),
    (r"ext\{", r"\text{"), (r"extbf\{", r"\textbf{"), (r"imes\b", r"\times"),
    (r"lpha\b", r"\alpha"), (r"eta\b", r"\beta"), (r"ullet\b", r"\bullet"),
    (r"abla\b", r"\nabla"), (r"ight(?=[)\]|.])", r"\right"), (r"m\{(?=\\)", r"\bm{"),
]
_CONTROL = {"\f": r"\f", "\b": r"\b", "\t": r"\t", "\a": r"\a", "\v": r"\v", "\r": r"\r"}
_DAMAGE = re.compile(
    "|".join(f"(?P<d{i}>(?<![A-Za-z\\\\]){p})" for i, (p, _) in enumerate(_LOST))
    + r"|(?P<ctl>[\f\b\a\v][A-Za-z]+|\t(?:heta|ext|imes|op|ilde|anh|au|an)(?![a-z]))"
    + r"|(?P<bf>(?<=\{)f (?=[\\A-Za-z]))"          # {f \Omega}: \bf lost its escape
    + r"|(?P<brk>(?<!\\)\\ (?=\s*[&A-Za-z\\+\-]))")         # "\ " : a \\ row break that lost a backslash


@dataclass
class Repaired:
    text: str
    origin: list[int]                  # origin[i]: offset in the original of text[i]
    notes: list[str] = field(default_factory=list)


def repair(text: str) -> Repaired:
    """Undo lost escapes (rac{ → \\frac{, egin{ → \\begin{, "\\ " → \\\\ …), noting each kind."""
    out: list[str] = []
    origin: list[int] = []
    counts: dict[str, int] = {}
    last = 0
    for m in _DAMAGE.finditer(text):
        kind = m.lastgroup
        if kind == "ctl":
            fix = _CONTROL[m.group()[0]] + m.group()[1:]
            label = f"a control character for {_CONTROL[m.group()[0]]}"
        elif kind == "bf":
            fix, label = r"\bf ", r"{f … for {\bf …"
        elif kind == "brk":
            fix, label = "\\\\", r'"\ " for the row break \\'
        else:
            fix = _LOST[int(kind[1:])][1]
            label = f"{m.group()} for {fix}"
        counts[label] = counts.get(label, 0) + 1
        for i in range(last, m.start()):
            out.append(text[i])
            origin.append(i)
        out.append(fix)
        origin.extend([m.start()] * len(fix))
        last = m.end()
    out.append(text[last:])
    origin.extend(range(last, len(text)))
    notes = [f"damaged LaTeX read: {label}" + (f" ({n}×)" if n > 1 else "")
             for label, n in counts.items()]
    return Repaired("".join(out), origin + [len(text)], notes)


# Commands that only lay out or space the math: blanked (same length, so offsets hold).
_BLANK = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![A-Za-z])"
    r"|\\(?:displaystyle|nonumber|notag|limits)(?![A-Za-z])"
    r"|\\(?:tag|label)\*?\{[^{}]*\}|\\[,:!>](?![A-Za-z])|\\(?:begin|end)\{(?:aligned|align\*?|"
    r"split|equation\*?|gather\*?|gathered|multline\*?|eqnarray\*?|alignat\*?)\}"
    r"|\$")
_PROSE = re.compile(r"\\(?:text|textrm|textit|mbox|mathrm|operatorname)\{(?P<w>[^{}]*)\}")
_SEPARATOR = re.compile(r"\\q?quad(?![A-Za-z])|\\implies(?![A-Za-z])|\\Rightarrow(?![A-Za-z])"
                        r"|\\iff(?![A-Za-z])|\\cond(?![A-Za-z])")
# `\text{ if } x > 0` after a formula: the formula holds only there (blanked to \cond, whose
# segment is the equation's condition, never a separate equation nor dropped)
_CONDITION = re.compile(r"\\(?:text|textrm|textit|mbox|mathrm)\{\s*(?:if|when|whenever|unless|"
                        r"provided(?: that)?)\s*\}")
_RELATION = re.compile(r"&?\s*(?:=|\\leftarrow(?![A-Za-z])|:=|\\coloneqq(?![A-Za-z])"
                       r"|\\approx(?![A-Za-z])|\\equiv(?![A-Za-z]))")
# \text{…} holding one of these names a function (or the d of dx), not prose
WORDS = {n.lower() for n in P.function_names()} | {"ln", "d", "sgn"}


@dataclass
class Part:
    text: str
    offset: int                # in the repaired display
    end: int = -1              # where it ends there (a continued part spans rows)

    def __post_init__(self):
        if self.end < 0:
            self.end = self.offset + len(self.text)


@dataclass
class Equation:
    parts: list[Part]          # parts[0] is the left side, unless `continued`
    offset: int
    continued: bool = False    # the row began with `=`: its left side is above it (or given)
    relations: list[str] = field(default_factory=list)
    condition: str = ""        # `\text{ if } x > 0` written after it


def _is_prose(word: str, names: frozenset = frozenset()) -> bool:
    """\\text{so, } is prose; \\text{ReLU}, \\mathrm{d} and a problem's name (\\mathrm{uf}) are not."""
    return word.strip().lower() not in WORDS and len(word.strip()) != 1 and \
        word.strip() not in names


_ARRAY = re.compile(r"\\begin\{(cases|array|[pbvBV]?matrix)\}.*?\\end\{\1\}", re.S)


_IF = re.compile(r"^\s*(?:\\text\{\s*if\s*\}|if\b)\s*")


_OTHERWISE = re.compile(r"^\s*(?:\\text\{\s*(?:otherwise|else)\s*\}|otherwise|else)\s*[.,]?\s*$")
_COMPARISON = re.compile(r"[<>]|\\(?:le|leq|ge|geq|lt|gt)(?![A-Za-z])")


def _cases(m: re.Match) -> str:
    """A case split whose rows are `value, & \\text{if } condition` as a sum of
    value·𝕀[condition], and a last row `value, & \\text{otherwise}` as value·(1 − Σ𝕀[…]) —
    a case split's conditions are exclusive; anything else (a condition in words, ≥ chains)
    stays unread."""
    if m[1] != "cases":
        return "\\cases" + " " * (len(m.group()) - 6)
    body = m.group()[len("\\begin{cases}"):-len("\\end{cases}")]
    terms, conditions = [], []
    rows = [r for r in re.split(r"\\\\", body) if r.strip()]
    for k, row in enumerate(rows):
        value, _, cond = row.partition("&")
        value = value.strip().rstrip(",")
        if _OTHERWISE.match(cond) and k == len(rows) - 1 and conditions:
            rest = " - ".join(f"\\mathbb{{I}}[{c}]" for c in conditions)
            terms.append(f"({value}) (1 - {rest})")
            continue
        cond = _IF.sub("", cond).strip().rstrip(".,")
        if not cond or "\\text" in cond or not _COMPARISON.search(cond):
            return "\\cases" + " " * (len(m.group()) - 6)
        conditions.append(cond)
        terms.append(f"({value}) \\mathbb{{I}}[{cond}]")
    out = "(" + " + ".join(terms) + ")"
    return out + " " * max(len(m.group()) - len(out), 0)


def _parenthesised_relation(text: str) -> str:
    """(= a b) as = a b: a step written in parentheses after an equation."""
    for m in reversed(list(re.finditer(r"\(\s*=", text))):
        depth = 0
        for j in range(m.start(), len(text)):
            depth += text[j] == "("
            depth -= text[j] == ")"
            if depth == 0:
                text = text[:m.start()] + " " + text[m.start() + 1:j] + " " + text[j + 1:]
                break
    return text


def blank(text: str, names: frozenset = frozenset()) -> str:
    """Layout commands and prose \\text{…} as spaces or separators, at the same offsets; a
    case split or written-out matrix as one command \\cases (not read, said so)."""
    text = _ARRAY.sub(_cases, text)
    text = _parenthesised_relation(text)
    text = _BLANK.sub(lambda m: " " * len(m.group()), text)
    text = _CONDITION.sub(lambda m: "\\cond" + " " * (len(m.group()) - 5), text)
    # \text{ReLU} names a function; \text{so, } is prose and separates equations
    def prose(m: re.Match) -> str:
        if not _is_prose(m["w"], names) or _operator_word(m, text):
            return m.group()
        return "\\quad" + " " * (len(m.group()) - 5)
    return _PROSE.sub(prose, text)


def _operator_word(m: re.Match, text: str) -> bool:
    r"""\operatorname{sech}, \mathrm{cosh} — one word of letters in an operator font — or a
    word applied at once, \text{erf}(x): a function's name, read (and refused if unknown),
    never cut off as prose (its factor had been dropped from the equation)."""
    word = m["w"].strip()
    if not word.isalpha():
        return False
    font = m.group().split("{", 1)[0]
    return font in ("\\operatorname", "\\mathrm") or \
        text[m.end():m.end() + 1] in ("(", "^", "_")


def _scan(text: str):
    """(index, depth) of each character, braces, brackets and parentheses counted."""
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "{}[]()":
            yield i, depth, ch
            yield i + 1, depth, text[i + 1]
            i += 2
            continue
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth = max(depth - 1, 0)
        yield i, depth if ch not in "{[(" else depth - 1, ch
        i += 1


def _cut(text: str, offset: int, pattern: re.Pattern, also: str = "") -> list[tuple[str, int, str]]:
    """Pieces of text between top-level matches of `pattern` (or characters in `also`), each
    with its offset and the separator before it."""
    depth_at = [0] * (len(text) + 1)
    for i, depth, _ in _scan(text):
        depth_at[i] = depth
    pieces, start, sep = [], 0, ""
    i = 0
    while i < len(text):
        if depth_at[i] == 0:
            m = pattern.match(text, i)
            if m and m.end() > i:
                pieces.append((text[start:i], offset + start, sep))
                sep, start, i = m.group(), m.end(), m.end()
                continue
            if text[i] in also:
                pieces.append((text[start:i], offset + start, sep))
                sep, start, i = text[i], i + 1, i + 1
                continue
        i += 1
    pieces.append((text[start:], offset + start, sep))
    return pieces


_ROW = re.compile(r"\\\\(?:\[[^\]]*\])?|\\newline(?![A-Za-z])|\\cr(?![A-Za-z])")


_LEAD = re.compile(r"^(?:[ &\n\t~]|\\q?quad(?![A-Za-z])|\\[,;:! ]|\{\})*")


def equations(display: str, names: frozenset = frozenset()) -> list[Equation]:
    """The equations of one display (already repaired), in order; a row starting with `=`
    continues the equation above it, a row starting with + or − continues its last part."""
    if len(display) > MAX_DISPLAY:
        raise ValueError(f"a display of more than {MAX_DISPLAY} characters")
    text = blank(display, names)
    found: list[Equation] = []
    for row, row_at, _ in _cut(text, 0, _ROW):
        # (spacing before a continuation's operator, &\quad + 5x², is no separator)
        lead = len(row) - len(_LEAD.sub("", row))
        row, row_at = row[lead:], row_at + lead
        for seg, seg_at, sep in _cut(row, row_at, _SEPARATOR, ",;#"):
            stripped = seg.strip().strip("&").strip()
            if not stripped:
                continue
            if sep.startswith("\\cond") and found:
                found[-1].condition = stripped
                continue
            lead = len(seg) - len(seg.lstrip(" &\n\t"))
            body, body_at = seg[lead:], seg_at + lead
            if body[:1] in "+-" and found and sep == "" and found[-1].parts:
                last = found[-1].parts[-1]          # &+ … continues the last part
                last.text = last.text + " " + body.replace("&", " ")
                last.end = body_at + len(body)
                continue
            pieces = _cut(body, body_at, _RELATION)
            parts = [Part(p.replace("&", " "), at) for p, at, _ in pieces]
            relations = [s.strip("& ") for _, _, s in pieces[1:]]
            if len(parts) == 1:
                continue            # no relation: a list of symbols, or prose
            if not parts[0].text.strip():       # `= …`: continues the equation above
                if found and sep == "":
                    found[-1].parts.extend(parts[1:])
                    found[-1].relations.extend(relations)
                else:
                    found.append(Equation(parts, body_at, True, relations))
                continue
            found.append(Equation(parts, body_at, False, relations))
            if len(found) > MAX_PARTS:
                raise ValueError(f"more than {MAX_PARTS} equations in one display")
    return found
