"""How the documents' symbols look: psi02 → ψ₀₂, theta11 → θ₁₁, f3 → f₃, yhat → ŷ.

A problem may override any name with its own `display` table; these are the defaults.
"""

from __future__ import annotations

import functools
import re

from deriv.escape import printable, safe_latex

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eps": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ",
    "lam": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "ϕ", "chi": "χ", "psi": "ψ", "omega": "ω",
    "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "ell": "ℓ",
}
LATEX_GREEK = {k: "\\" + k for k in GREEK if k not in ("eps", "lam", "ell")}
LATEX_GREEK.update({"eps": r"\epsilon", "lam": r"\lambda", "ell": r"\ell", "phi": r"\phi"})
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_NAME = re.compile(r"^(?P<stem>[A-Za-z]+?)(?P<hat>hat)?(?P<digits>\d*)(?P<rest>(_\w+)?)$")


def _parts(name: str):
    m = _NAME.match(name)
    if not m:
        return name, False, "", ""
    stem, hat, digits, rest = m["stem"], bool(m["hat"]), m["digits"], m["rest"]
    if hat and not stem:
        return name, False, "", ""
    return stem, hat, digits, rest


def _derived(name: str):
    """A node deriv.second made: ("grad", of, wrt) for ∂of/∂wrt, ("along", gradient name,
    direction) for ⟨∂of/∂wrt,V⟩; None for a name from a file."""
    if name.startswith("⟨") and name.endswith("⟩") and "," in name:
        inner, direction = name[1:-1].rsplit(",", 1)
        return "along", inner, direction
    if name.startswith("∂") and "/∂" in name:
        return ("grad", *name[1:].split("/∂", 1))
    return None


def pretty(name: str, display: dict[str, str] | None = None) -> str:
    """The terminal form of a symbol name."""
    if display and name in display:
        return printable(display[name])
    derived = _derived(name)
    if derived is not None:
        kind, a, b = derived
        if kind == "grad":
            return f"∂{pretty(a, display)}/∂{pretty(b, display)}"
        return f"⟨{pretty(a, display)}, {pretty(b, display)}⟩"
    return _plain(name)


@functools.lru_cache(maxsize=8192)    # a solution writes each name in many steps
def _plain(name: str) -> str:
    """pretty() of a name without a display entry, not derived."""
    stem, hat, digits, rest = _parts(name)
    text = GREEK.get(stem, stem)
    if hat:
        text += "\u0302"
    text += digits.translate(SUBSCRIPT)
    if rest:
        tail = rest[1:]
        text += tail.translate(SUBSCRIPT) if tail.isdigit() else "_" + tail
    return text


def latex(name: str, display: dict[str, str] | None = None) -> str:
    """The LaTeX form of a symbol name (a `display` entry is used only if it looks like LaTeX)."""
    if display and name in display and "\\" in display[name] and safe_latex(display[name]):
        return display[name]
    derived = _derived(name)
    if derived is not None:
        kind, a, b = derived
        if kind == "grad":
            return r"\frac{\partial %s}{\partial %s}" % (latex(a, display), latex(b, display))
        return r"\left\langle %s, %s\right\rangle" % (latex(a, display), latex(b, display))
    stem, hat, digits, rest = _parts(name)
    text = LATEX_GREEK.get(stem, stem if len(stem) == 1 else r"\mathrm{%s}" % stem)
    if hat:
        text = r"\hat{%s}" % text
    sub = digits + (("," + rest[1:]) if rest and rest[1:].isdigit() and digits else
                    (rest[1:] if rest and not digits else ""))
    if rest and not rest[1:].isdigit():
        sub = (digits + "," if digits else "") + r"\mathrm{%s}" % rest[1:]
    if sub:
        text += "_{%s}" % sub
    return text


def numerator(name: str, display: dict[str, str] | None = None) -> str:
    """∂y or ∂(∂L/∂x): the top of ∂·/∂· for a sweep's header."""
    text = pretty(name, display)
    return f"∂({text})" if _derived(name) is not None else f"∂{text}"


def partial(of: str, wrt: str, display: dict[str, str] | None = None) -> str:
    """∂y/∂f₃; ∂²L/∂x² and ∂²L/∂x∂y for a second derivative"""
    derived = _derived(of)
    if derived is not None and _derived(wrt) is not None:
        return f"∂({pretty(of, display)})/∂({pretty(wrt, display)})"
    if derived is not None and derived[0] == "grad":
        _, f, x = derived
        if x == wrt:
            return f"∂²{pretty(f, display)}/∂{pretty(x, display)}²"
        return f"∂²{pretty(f, display)}/∂{pretty(x, display)}∂{pretty(wrt, display)}"
    return f"∂{pretty(of, display)}/∂{pretty(wrt, display)}"
