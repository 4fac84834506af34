"""Fixtures of the registry's tests (unit and integration)."""

import pytest

from botram_contracts.reference import Catalogue, load_catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The real service catalogue (reference data, no I/O beyond reading it once)."""
    return load_catalogue()
