""""Did you mean …?" for a name a file uses that deriv does not know: a node's name mistyped
(W_1 for W1), or a function under another text's name (step for indicator, ln for log). Said in
the error only, never accepted: a node may still be called `step`."""

from __future__ import annotations

import builtins
import difflib

# names other texts give a primitive (a Heaviside step, ln)
SYNONYMS = {"step": "indicator", "H": "indicator", "heaviside_step": "indicator", "ln": "log",
            "sgn": "sign", "logistic": "sigmoid", "sigma": "sigmoid", "σ": "sigmoid"}


def function_hint(name: str) -> str:
    from deriv.primitives import function_names
    if name in SYNONYMS:
        return f" (did you mean {SYNONYMS[name]}?)"
    close = difflib.get_close_matches(name, function_names(), n=2, cutoff=0.75)
    if close:
        return f" (did you mean {' or '.join(close)}?)"
    return " (Python's builtins are not functions here)" if hasattr(builtins, name) else ""


def name_hint(name: str, known) -> str:
    """The known names closest to `name`, ignoring case and underscores first (W_1, w1 → W1)."""
    def plain(n: str) -> str:
        return n.replace("_", "").lower()
    same = [k for k in known if plain(k) == plain(name)]
    close = same or difflib.get_close_matches(name, list(known), n=2, cutoff=0.75)
    return f" (did you mean {' or '.join(close[:2])}?)" if close else ""
