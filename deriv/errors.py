"""deriv's one error type for bad input: it always knows where (file, line, column)."""

from __future__ import annotations


class DerivError(Exception):
    """Bad input or usage. Rendered as `file:line:col: error: message`, exit status 2.

    Parsers of a text fragment (one expression, one graph) raise it with a line and column
    counted inside the fragment; whoever knows where the fragment sits calls `shift`.
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 col: int | None = None, kind: str = "input"):
        super().__init__(message)
        self.message = message
        self.kind = kind           # "shape": operands whose shapes do not fit (a claim fails)
        self.file = file
        self.line = line
        self.col = col
        self.shifted = False

    def shift(self, file: str | None, line0: int | None, col0: int | None = 1) -> "DerivError":
        """Move a fragment-relative place to the file (once; later calls only fill the file)."""
        if self.file is None:
            self.file = file
        if not self.shifted and line0 is not None:
            line = self.line or 1
            if line == 1 and self.col is not None and col0 is not None:
                self.col = col0 + self.col - 1
            self.line = line0 + line - 1
            self.shifted = True
        return self

    def where(self) -> str:
        parts = [p for p in (self.file, self.line, self.col) if p is not None]
        return ":".join(str(p) for p in parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: error: {self.message}" if where else f"error: {self.message}"
