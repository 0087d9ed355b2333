"""What a document prints that deriv does not check, each with the reason: its figures, its
prose, the parts it answers without a solution. Listing them makes a file's coverage countable
(checked items / printed items) and keeps an item from being left out silently.

```toml
[[problem.unchecked]]            # an item of this problem's part
id = "fig-1"
section = "part 2(a), Figure 1"  # where the document prints it
kind = "figure"                  # one of KINDS
printed = "Figure 1: Example function computation graph"   # optional: the text, as printed
reason = "the graph is a drawing the text does not carry"
```

A top-level `[[unchecked]]` lists an item of the document that no problem of the file holds
(prose between problems); it is kept with the file's first problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = {
    "figure": "a drawing or plot the text does not carry",
    "prose": "an argument or answer in words, no formula",
    "no-solution": "the document asks but prints no answer",
    "garbled": "the text is damaged past reading as a formula",
    "approximation": "a formula that holds only approximately (a limit, a finite difference)",
    "definition": "a definition or the question's data restated: nothing to check",
    "not-expressible": "a formula deriv's syntax cannot write (index sums with Kronecker "
                       "deltas, a limit, a claim about where kinks lie)",
}
KEYS = {"id", "section", "kind", "printed", "reason"}
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./#\-]*")


@dataclass(frozen=True)
class Unchecked:
    """One printed item that is not a claim, and why."""

    id: str
    section: str
    kind: str
    reason: str
    printed: str = ""
    line: int | None = None
    whole_file: bool = False       # a top-level [[unchecked]]: of the document, no problem's


def load(entries, where) -> list[Unchecked]:
    """[[…unchecked]] tables → items. `where(message, index, key)` makes the DerivError at the
    entry's key (or its header with key None)."""
    if not isinstance(entries, list):
        raise where("unchecked items are [[problem.unchecked]] tables", None, None)
    items, seen = [], set()
    for k, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise where("each [[problem.unchecked]] must be a table", k, None)
        for key in entry:
            if key not in KEYS:
                raise where(f"unknown key '{key}' in [[problem.unchecked]] (allowed: "
                            f"{', '.join(sorted(KEYS))})", k, key)
        values = {}
        for key in KEYS:
            value = entry.get(key, "")
            if not isinstance(value, str):
                raise where(f"'{key}' must be a string, not {type(value).__name__}", k, key)
            values[key] = value
        for key in ("id", "section", "kind", "reason"):
            if not values[key].strip():
                raise where(f"an unchecked item needs '{key}'", k, key if key in entry else None)
        if not ID.fullmatch(values["id"]):
            raise where(f"unchecked id {values['id']!r:.40} may hold only letters, digits, "
                        "'.', '/', '#', '-' and '_'", k, "id")
        if values["id"] in seen:
            raise where(f"unchecked id '{values['id']}' is used twice", k, "id")
        seen.add(values["id"])
        if values["kind"] not in KINDS:
            raise where(f"unchecked kind '{values['kind']:.40}' is not one of "
                        f"{', '.join(KINDS)}", k, "kind")
        items.append(Unchecked(values["id"], values["section"], values["kind"],
                               values["reason"], values["printed"]))
    return items
