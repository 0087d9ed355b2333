import deriv  # noqa: F401  (first: it keeps BLAS on one thread, read when NumPy is imported)
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES
