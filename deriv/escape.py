"""Text from a file, made safe to show: on a terminal (control and bidirectional characters
escaped) and in LaTeX (only commands that draw a symbol). Used by every renderer and by the
error messages; it knows nothing else of deriv."""

from __future__ import annotations

import re

GREEK_COMMANDS = """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa
lambda mu nu xi pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma
Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega"""


# Bidirectional overrides and isolates reorder what a terminal shows (a line can be made to
# read as something else); line and paragraph separators break lines where none is seen.
_INVISIBLE = set("\u061c\u200e\u200f\u2028\u2029") | {chr(c) for c in range(0x202A, 0x202F)} | \
    {chr(c) for c in range(0x2066, 0x206A)}


def printable(text: str, newlines: bool = False) -> str:
    """Text from a file as a terminal may show it: control characters (an escape sequence
    could erase the line or fake a verdict) and bidirectional controls written as escapes
    (\\u001b, \\u202e). `newlines`: keep line breaks (a whole document's output)."""
    text = str(text)
    if text.isprintable():
        return text
    import unicodedata
    hidden = {}                       # decided once per distinct character: a long output
    for ch in set(text):              # (a whole JSON report) is translated in one pass
        code = ord(ch)
        if (code < 32 or 0x7F <= code < 0xA0 or ch in _INVISIBLE or (
                not ch.isprintable() and ch != " " and
                unicodedata.category(ch) in ("Cf", "Cs", "Co", "Cn", "Zl", "Zp"))) and \
                not (newlines and ch in "\n\t"):
            hidden[code] = f"\\u{code:04x}"      # as JSON writes it, valid inside a string
    return text.translate(hidden) if hidden else text


_LATEX_COMMANDS = set(GREEK_COMMANDS.split()) | {"hat", "bar", "tilde", "vec", "dot", "ddot", "check", "breve",
                                "widehat", "widetilde", "overline", "underline", "mathbf",
                                "mathrm", "mathit", "mathcal", "mathbb", "mathsf", "boldsymbol",
                                "bm", "ell", "prime", "top", "partial", "nabla", "varphi",
                                "varepsilon", "vartheta", "varrho", "varsigma", "epsilon",
                                "lambda", "hbar", "imath", "jmath", "star", "ast", "dagger",
                                "left", "right", "langle", "rangle", "operatorname"}


def safe_latex(text: str) -> bool:
    """Is a `display` entry LaTeX that can only draw a symbol? Only known math commands,
    balanced braces, none of % # & $ ~ or ^^ (\\immediate\\write18{…} never reaches a
    document)."""
    if not text.isprintable() or any(ch in text for ch in "%#&$~\"'") or "^^" in text:
        return False
    depth = 0
    for ch in text:
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    if depth:
        return False
    rest = re.sub(r"\\([A-Za-z]+)", lambda m: "" if m[1] in _LATEX_COMMANDS else "\x00", text)
    return "\x00" not in rest and re.search(r"\\([^,;:! ]|$)", rest) is None
