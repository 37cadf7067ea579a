import pytest

from tests.federation.idp import SchoolIdP


@pytest.fixture
def school_idp(huvudman) -> SchoolIdP:
    """The huvudman's registered IdP (pysaml2's own, signing its answers)."""
    idp = SchoolIdP()
    idp.registered = idp.register(huvudman)
    return idp
