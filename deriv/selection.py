"""`-k EXPRESSION`: which problems and claims a run checks, as pytest selects tests.

A word matches when it is a substring (ignoring case) of one of the names of a claim: its file,
its problem's id, its own id. Words combine with `not`, `and`, `or` and parentheses. The
expression is read by a small recursive-descent parser into a tree of tuples; nothing is
evaluated as code.
"""

from __future__ import annotations

import re

from deriv.errors import DerivError

TOKEN = re.compile(r"\s*(?:(\()|(\))|([^\s()]+))")
MAX_LENGTH = 1000
MAX_DEPTH = 50                 # nested `not` and parentheses


def _tokens(text: str) -> list[tuple[str, int]]:
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:           # only trailing blanks are left
            break
        out.append((m.group(m.lastindex), m.start(m.lastindex) + 1))
        pos = m.end()
    return out


class Selection:
    """A compiled -k expression: `Selection("7.1 and not psi").matches(names)`."""

    def __init__(self, text: str):
        if len(text) > MAX_LENGTH:
            raise DerivError(f"-k: the expression is longer than {MAX_LENGTH} characters")
        self.text = text
        self._tokens = _tokens(text)
        self._pos = 0
        self._depth = 0
        if not self._tokens:
            raise DerivError("-k: empty expression")
        self.tree = self._or()
        if self._pos < len(self._tokens):
            word, col = self._tokens[self._pos]
            raise DerivError(f"-k: unexpected '{word}' at column {col} of {text!r}")

    # --- parsing ---------------------------------------------------------------------------
    def _peek(self) -> str | None:
        return self._tokens[self._pos][0] if self._pos < len(self._tokens) else None

    def _take(self) -> str:
        word = self._tokens[self._pos][0]
        self._pos += 1
        return word

    def _or(self):
        node = self._and()
        while self._peek() == "or":
            self._take()
            node = ("or", node, self._and())
        return node

    def _and(self):
        node = self._not()
        while self._peek() == "and":
            self._take()
            node = ("and", node, self._not())
        return node

    def _not(self):
        word = self._peek()
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise DerivError(f"-k: more than {MAX_DEPTH} nested 'not' and parentheses")
        try:
            return self._operand(word)
        finally:
            self._depth -= 1

    def _operand(self, word):
        if word is None:
            raise DerivError(f"-k: the expression {self.text!r} ends too early")
        if word == "not":
            self._take()
            return ("not", self._not())
        if word == "(":
            self._take()
            node = self._or()
            if self._peek() != ")":
                raise DerivError(f"-k: a '(' is not closed in {self.text!r}")
            self._take()
            return node
        if word in (")", "and", "or"):
            col = self._tokens[self._pos][1]
            raise DerivError(f"-k: expected a word at column {col} of {self.text!r}, "
                             f"not '{word}'")
        return ("word", self._take().lower())

    # --- matching --------------------------------------------------------------------------
    def matches(self, names) -> bool:
        names = [n.lower() for n in names if n]
        return self._match(self.tree, names)

    def _match(self, node, names) -> bool:
        op = node[0]
        if op == "word":
            return any(node[1] in n for n in names)
        if op == "not":
            return not self._match(node[1], names)
        if op == "and":
            return self._match(node[1], names) and self._match(node[2], names)
        return self._match(node[1], names) or self._match(node[2], names)
