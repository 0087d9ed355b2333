"""Text from a file on its way to a terminal, a CI log or an XML attribute: made harmless
(control and format characters shown, not acted on) and paths shortened."""

from __future__ import annotations

import os

from deriv.escape import printable


def clean(text) -> str:
    """Text from a file, safe for a terminal or an XML attribute: deriv's one sanitiser
    (control, bidirectional and format characters shown as \\uNNNN, not acted on)."""
    return printable(text)


def short_path(path: str) -> str:
    """A path below the current directory, relative to it; any other as it is."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
