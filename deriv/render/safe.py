"""Text from a file on its way to a terminal, a CI log or an XML attribute: made harmless
(control and format characters shown, not acted on) and paths shortened."""

from __future__ import annotations

import os


def clean(text) -> str:
    """Text from a file, safe for a terminal or an XML attribute: control and format characters
    (an escape sequence, a bidi override) are shown as \\xNN / \\uNNNN instead of acted on."""
    import unicodedata
    text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else
                   (f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
                   if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
                   else ch for ch in text)


def short_path(path: str) -> str:
    """A path below the current directory, relative to it; any other as it is."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
