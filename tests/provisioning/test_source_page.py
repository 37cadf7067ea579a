"""/huvudman/ss12000/: staff connect their source (checked before it is
saved), test it, ask for a sync, and read how the last one went."""

import pytest

from audit.models import AuditEvent
from provisioning.models import Source
from provisioning.sync import sources_due

pytestmark = pytest.mark.django_db
PAGE = "/huvudman/ss12000/"


def test_staff_save_a_source_and_read_what_it_sees(staff_client, ss12000, grundskola, gymnasium):
    response = staff_client.post(
        PAGE, {"save": "1", "base_url": ss12000.url, "token": "test-token"}, follow=True
    )

    page = response.content.decode()
    (said,) = [str(message) for message in response.context["messages"]]
    assert "2" in said and "3" in said  # both units; Anna's, Bertil's and Larare's duties
    assert ss12000.url in page
    source = Source.objects.get()
    assert b"test-token" not in bytes(source.sealed_secret)
    assert "test-token" not in page  # never shown again
    assert AuditEvent.objects.filter(action="ss12000_source_changed").exists()


def test_a_wrong_token_saves_nothing_and_says_why(staff_client, ss12000, grundskola):
    response = staff_client.post(PAGE, {"save": "1", "base_url": ss12000.url, "token": "fel"})

    assert response.status_code == 200
    assert "HTTP 401" in response.content.decode()
    assert not Source.objects.exists()


def test_test_the_connection_and_sync_now(staff_client, source):
    tested = staff_client.post(PAGE, {"test": "1"}, follow=True)
    assert "3" in str(list(tested.context["messages"])[0])

    staff_client.post(PAGE, {"sync": "1"})

    source.refresh_from_db()
    assert source.sync_requested_at is not None
    assert source in sources_due(now=source.sync_requested_at)


def test_the_last_error_is_shown(staff_client, source):
    Source.objects.filter(pk=source.pk).update(last_error="Källan svarade inte.")

    assert "Källan svarade inte." in staff_client.get(PAGE).content.decode()


def test_only_huvudman_staff_reach_the_page(principal_client):
    assert principal_client.get(PAGE).status_code in (302, 403, 404)
