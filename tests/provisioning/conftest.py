"""A source of the cast's huvudman pointed at the test SS 12000 server
(`tests/fixtures/ss12000.py`)."""

import pytest

from audit.context import AuditContext
from provisioning.sources import source_save


@pytest.fixture
def source(ss12000, huvudman, grundskola, gymnasium):
    source, _seen = source_save(
        huvudman=huvudman,
        context=AuditContext.system(),
        base_url=ss12000.url,
        token="test-token",
        check=False,
    )
    return source
