"""deriv: derive derivatives step by step over computational graphs and check printed formulas.

The package root stays light (no SymPy) so that `deriv --help` starts fast; import the
submodules (`deriv.problem`, `deriv.sweep`, `deriv.check`) for the library API.
"""

__version__ = "0.1.0"

from deriv.errors import DerivError  # noqa: E402  (light: no SymPy)

__all__ = ["DerivError", "__version__"]
