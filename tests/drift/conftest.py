"""Fixtures of the drift tests."""

import pytest

from tests.support.helpers import make_relationship


@pytest.fixture
def watched(rapport):
    """A relationship watching #acme-stellar, with alerts in #alerts."""
    return make_relationship(rapport.db, rapport.clock, channels=("CSHARED",), alerts="CALERTS")
