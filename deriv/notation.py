"""What a sheet's symbols mean: a notation table, per document or per problem (TOML).

```toml
[notation]                                  # the whole document
functions = { a = "relu", u = "heaviside" }  # a[z] is ReLU, u(z) the Heaviside step
names = { '\\ell' = "l", '\\sigma' = "gamma" }  # a symbol's name in the problem's graph
```

A problem's own `notation = { … }` adds to (and overrides) its document's. The defaults read
most sheets: \\exp \\log \\sin … as themselves, σ(·) and sig[·] as the sigmoid, \\mathbb{I}[·]
as the indicator, ReLU(·), and every function of the registry under its own name (\\max,
\\operatorname{tr}, \\det, \\operatorname{diag}, …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deriv import primitives as P

# every registry function under its own name, and the names sheets give them
DEFAULT_FUNCTIONS = {name: name for name in P.function_names() if name[0].isalpha()} | {
    "ln": "log", "sigma": "sigmoid", "ReLU": "relu", "mathbbI": "I", "mathbb1": "I",
    "tr": "trace", "Tr": "trace", "sgn": "sign",
}
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _key(text: str) -> str:
    """\\mathbb{I} and mathbbI, '\\sigma' and 'sigma' are one key."""
    text = re.sub(r"\s+", "", text).lstrip("\\")
    return re.sub(r"^(mathbb|mathbf|mathrm|mathcal|boldsymbol|operatorname)\{(.*)\}$",
                  lambda m: (m[1] if m[1] in ("mathbb", "mathcal") else "") + m[2], text)


@dataclass
class Notation:
    functions: dict[str, str] = field(default_factory=dict)    # key → registry function
    names: dict[str, str] = field(default_factory=dict)        # key → graph name

    def function(self, src: str, base: str) -> str | None:
        for key in (_key(src), _key(base)):
            if key in self.functions:
                return self.functions[key]
        for key in (_key(src), _key(base)):
            if key in DEFAULT_FUNCTIONS:
                return DEFAULT_FUNCTIONS[key]
        return None

    def name(self, src: str, base: str) -> str | None:
        for key in (_key(src), _key(base)):
            if key in self.names:
                return self.names[key]
        return None

    def merged(self, other: "Notation") -> "Notation":
        return Notation({**self.functions, **other.functions}, {**self.names, **other.names})


def from_table(table, where, known=None) -> Notation:
    """A [notation] table of a problem file; `where(message)` makes the DerivError. With
    `known` (a problem's symbols), every name it maps to must be one of them."""
    if table is None:
        return Notation()
    if not isinstance(table, dict):
        raise where("'notation' is a table with 'functions' and 'names'")
    for key in table:
        if key not in ("functions", "names"):
            raise where(f"unknown key '{key}' in notation (allowed: functions, names)")
    functions, names = {}, {}
    for key in ("functions", "names"):
        if not isinstance(table.get(key) or {}, dict):
            raise where(f"notation: '{key}' is a table such as {{ sigma = \"sigmoid\" }}"
                        if key == "functions" else
                        f"notation: '{key}' is a table such as {{ \"\\\\psi_{{02}}\" = \"psi02\" }}")
    for key, value in (table.get("functions") or {}).items():
        if not isinstance(value, str) or value not in P.BY_NAME or not value[0].isalpha():
            raise where(f"notation: {key} = {value!r:.40} is not a function "
                        f"({', '.join(P.function_names())})")
        functions[_key(key)] = value
    for key, value in (table.get("names") or {}).items():
        if not isinstance(value, str) or not NAME.match(value):
            raise where(f"notation: {key} = {value!r:.40} is not a name such as psi02")
        if known is not None and value not in known:
            raise where(f"notation: '{key}' maps to '{value}', which is not an input or node "
                        "of the graph")
        names[_key(key)] = value
    return Notation(functions, names)
