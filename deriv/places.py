"""Where each value of a TOML text sits: line and column of every table and value, and of
every character inside a string, escapes and line continuations included.

tomllib keeps no positions, so the text (already parsed by tomllib, hence valid TOML) is
walked once more: headers ([[problem]], [problem.claim]), keys (bare, "quoted", dotted),
strings of the four kinds, arrays and inline tables. A value's path is its keys and array
indices from the root: ("problem", 0, "claim", 2, "expr"), whether the claim was written as a
[[problem.claim]] table or inline in `claim = [{ … }]`.
"""

from __future__ import annotations

import bisect
import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^,\]}\n#]*")
_ESCAPE_LENGTH = {"u": 6, "U": 10}
_PLAIN_BASIC = re.compile(r'[^"\\\r]+')      # no quote, escape or CR: decoded as written
_PLAIN_LITERAL = re.compile(r"[^'\r]+")


class Places:
    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.values: dict[tuple, tuple[int, list | None]] = {}   # path → start, breakpoints
        self.tables: dict[tuple, int] = {}                        # path → header or '{'
        self.keys: dict[tuple, int] = {}                          # path → its key's start
        self._arrays: dict[tuple, int] = {}                       # [[a.b]] → tables so far
        self._line_starts: dict[tuple, list[int]] = {}            # decoded strings' lines
        try:
            self._document()
        except (IndexError, ValueError):   # never for text tomllib read; places stay partial
            pass

    # --- answers ------------------------------------------------------------------------------
    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def table(self, path: tuple) -> tuple[int, int] | None:
        offset = self.tables.get(path)
        return None if offset is None else self.line_col(offset)

    def key(self, path: tuple) -> tuple[int, int] | None:
        """Where the key of a value is written (its first character, or its quote)."""
        offset = self.keys.get(path)
        return None if offset is None else self.line_col(offset)

    def value(self, path: tuple) -> tuple[int, int] | None:
        """Where a value starts (a string: its first character, after the quotes)."""
        found = self.values.get(path)
        return None if found is None else self.line_col(found[0])

    def inside(self, path: tuple, decoded: str, line: int, col: int) -> tuple[int, int] | None:
        """Where the character at (line, col) of a string's decoded text (1-based, lines
        split at "\\n") was written in the file."""
        found = self.values.get(path)
        if found is None:
            return None
        start, breaks = found
        starts = self._line_starts.get(path)
        if starts is None:           # once per string: a graph's nodes are placed one by one
            starts = self._line_starts[path] = \
                [0] + [m.end() for m in re.finditer("\n", decoded)]
        index = starts[min(max(line - 1, 0), len(starts) - 1)] + max(col - 1, 0)
        if not breaks:
            return self.line_col(start + index)
        k = bisect.bisect_right(breaks, (index, float("inf"))) - 1
        d, offset = breaks[max(k, 0)]
        return self.line_col(offset + index - d)

    # --- the walk -----------------------------------------------------------------------------
    def _skip(self, i: int, newlines: bool = True) -> int:
        text = self.text
        while i < len(text):
            ch = text[i]
            if ch in " \t" or (newlines and ch in "\r\n"):
                i += 1
            elif ch == "#":
                end = text.find("\n", i)
                i = len(text) if end < 0 else end
            else:
                break
        return i

    def _document(self):
        text, i, current = self.text, 0, ()
        while True:
            i = self._skip(i)
            if i >= len(text):
                return
            if text.startswith("[[", i):
                keys, end = self._keys(i + 2, "]]")
                path = self._resolve(keys[:-1]) + (keys[-1],)
                count = self._arrays.get(path, 0)
                self._arrays[path] = count + 1
                current = path + (count,)
                self.tables[current] = i
                i = end
            elif text[i] == "[":
                keys, end = self._keys(i + 1, "]")
                current = self._resolve(keys)
                self.tables[current] = i
                i = end
            else:
                i = self._keyval(i, current)

    def _resolve(self, keys: list[str]) -> tuple:
        path: tuple = ()
        for key in keys:
            path += (key,)
            if path in self._arrays:
                path += (self._arrays[path] - 1,)
        return path

    def _keys(self, i: int, end: str) -> tuple[list[str], int]:
        text, keys = self.text, []
        while True:
            i = self._skip(i, newlines=False)
            if text[i] in "\"'":
                key, i = self._string(i, None)
            else:
                m = _BARE.match(text, i)
                key, i = m[0], m.end()
            keys.append(key)
            i = self._skip(i, newlines=False)
            if text[i] != ".":
                break
            i += 1
        if not text.startswith(end, i):
            raise ValueError(f"expected {end!r}")
        return keys, i + len(end)

    def _keyval(self, i: int, base: tuple) -> int:
        start = self._skip(i, newlines=False)
        keys, i = self._keys(i, "=")
        self.keys[base + tuple(keys)] = start
        return self._value(self._skip(i, newlines=False), base + tuple(keys))

    def _value(self, i: int, path: tuple) -> int:
        text = self.text
        ch = text[i]
        if ch in "\"'":
            _, end = self._string(i, path)
            return end
        self.values[path] = (i, None)
        if ch == "[":
            i, index = i + 1, 0
            while True:
                i = self._skip(i)
                if text[i] == "]":
                    return i + 1
                i = self._skip(self._value(i, path + (index,)))
                index += 1
                if text[i] == ",":
                    i += 1
        if ch == "{":
            self.tables[path] = i
            i += 1
            while True:
                i = self._skip(i)
                if text[i] == "}":
                    return i + 1
                i = self._skip(self._keyval(i, path))
                if text[i] == ",":
                    i += 1
        return _SCALAR.match(text, i).end()

    def _string(self, i: int, path: tuple | None) -> tuple[str, int]:
        """A string starting at i: its decoded text and the offset after it; with a path,
        where each decoded character came from (a breakpoint wherever the mapping jumps)."""
        text = self.text
        quote = text[i]
        multi = text.startswith(quote * 3, i)
        j = i + (3 if multi else 1)
        if multi and text.startswith("\r\n", j):
            j += 2
        elif multi and text.startswith("\n", j):
            j += 1
        breaks = [(0, j)]
        out: list[str] = []
        d = 0                                  # decoded characters so far
        basic = quote == '"'
        # the common case, a string with no escape and no CR (a long `graph`): decoded as it
        # stands, character by character being a hundred times slower
        close = text.find(quote * 3 if multi else quote, j)
        body = text[j:close] if close >= 0 else ""
        if close >= 0 and "\\" not in body and "\r" not in body and (multi or "\n" not in body) \
                and not text.startswith(quote * 4, close):
            if path is not None:
                self.values[path] = (j, None)
            return body, close + (3 if multi else 1)
        plain = _PLAIN_BASIC if basic else _PLAIN_LITERAL
        while True:
            run = plain.match(text, j)         # ordinary characters: taken as one block
            if run:
                out.append(run[0])
                d += run.end() - j
                j = run.end()
            if multi and text.startswith(quote * 3, j):
                run = len(text[j:j + 5]) - len(text[j:j + 5].lstrip(quote))
                out.append(quote * (run - 3))
                end = j + run
                break
            if not multi and text[j] == quote:
                end = j + 1
                break
            ch = text[j]
            if basic and ch == "\\":
                nxt = text[j + 1]
                line_end = text.find("\n", j)
                rest = text[j + 1:line_end if line_end >= 0 else len(text)]
                if multi and nxt in " \t\r\n" and not rest.strip():
                    j = self._skip_space(j + 1)        # a line-ending backslash
                    breaks.append((d, j))
                    continue
                length = _ESCAPE_LENGTH.get(nxt, 2)
                out.append(_unescape(text[j:j + length]))
                j += length
                d += len(out[-1])
                breaks.append((d, j))
                continue
            if multi and text.startswith("\r\n", j):
                out.append("\n")
                j += 2
                d += 1
                breaks.append((d, j))
                continue
            out.append(ch)
            j += 1
            d += 1
        decoded = "".join(out)
        if path is not None:
            self.values[path] = (breaks[0][1], breaks if len(breaks) > 1 else None)
        return decoded, end

    def _skip_space(self, i: int) -> int:
        while i < len(self.text) and self.text[i] in " \t\r\n":
            i += 1
        return i


def _unescape(escape: str) -> str:
    simple = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\",
              "e": "\x1b"}
    if escape[1] in "uU":
        return chr(int(escape[2:], 16))
    return simple.get(escape[1], escape[1])
