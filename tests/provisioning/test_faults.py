"""A source that fails half-way changes nothing: every fault of the test
server, in the middle of an incremental pull whose first half was written."""

import re

import pytest

from accounts.models import User
from audit.models import AuditEvent
from core.outbox import OutboxMessage
from permissions.models import Membership, SubjectGrant
from provisioning import sync as sync_module
from provisioning.client import SourceError
from provisioning.models import (
    MirroredActivity,
    MirroredDuty,
    MirroredOrganisation,
    MirroredPerson,
    Proposal,
)
from provisioning.sync import source_sync
from tests.conftest import SCHOOL_DAY

MODELS = [
    MirroredOrganisation,
    MirroredPerson,
    MirroredDuty,
    MirroredActivity,
    Proposal,
    Membership,
    SubjectGrant,
    User,
    AuditEvent,
    OutboxMessage,
]


def snapshot() -> dict:
    return {model.__name__: sorted(map(repr, model.objects.values_list())) for model in MODELS}


def sync(source, ss12000):
    # Two items a page, so every list pages; a second's patience for the slow fault.
    client = ss12000.client(timeout=1, page_limit=2)
    return source_sync(source=source, today=SCHOOL_DAY, client=client)


@pytest.fixture
def changed_source(source, ss12000):
    """Synced once; then the source changes a duty and a person (which a
    sync would write before it reads the activities)."""
    sync(source, ss12000)
    ss12000.change("duties", "d-anna", endDate="2026-10-31")
    ss12000.change("persons", "p-bertil", familyName="Bergström")
    ss12000.serve()
    return source


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("401", "HTTP 401"),
        ("429", "120"),
        ("500", "HTTP 500"),
        ("slow", "1 (seconds|sekunder)"),
        ("malformed", "JSON"),
        ("loop", "circle|cirkel"),
    ],
)
def test_every_fault_leaves_the_database_as_it_was(changed_source, ss12000, kind, words):
    ss12000.serve(fault={"kind": kind, "path": "/activities"})
    before = snapshot()

    with pytest.raises(SourceError) as raised:
        sync(changed_source, ss12000)

    assert re.search(words, raised.value.message)
    assert snapshot() == before
    changed_source.refresh_from_db()
    assert changed_source.last_error == raised.value.message
    assert changed_source.last_success_at < changed_source.last_attempt_at


def test_a_fault_at_the_first_sync_stores_nothing(source, ss12000):
    ss12000.serve(fault={"kind": "500", "path": "/persons"})

    with pytest.raises(SourceError):
        sync(source, ss12000)

    assert not MirroredDuty.objects.exists() and not Proposal.objects.exists()


def test_the_source_recovers_after_a_fault(changed_source, ss12000):
    ss12000.serve(fault={"kind": "500", "path": "/activities"})
    with pytest.raises(SourceError):
        sync(changed_source, ss12000)
    ss12000.serve()

    sync(changed_source, ss12000)

    changed_source.refresh_from_db()
    assert changed_source.last_error == ""
    assert MirroredPerson.objects.get(ext_id="p-bertil").family_name == "Bergström"


def test_a_second_sync_of_one_source_at_a_time_is_refused(source, ss12000, monkeypatch):
    # On PostgreSQL the advisory lock is held by the sync in progress; here, the answer it gives.
    monkeypatch.setattr(sync_module, "advisory_try_lock", lambda key: False)

    with pytest.raises(SourceError, match="already running|pågår redan"):
        sync(source, ss12000)

    assert not MirroredOrganisation.objects.exists()


def test_a_wrong_token_is_refused_with_a_message(source, ss12000):
    ss12000.serve(token="another-token")

    with pytest.raises(SourceError, match="HTTP 401"):
        sync(source, ss12000)
