import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import RequestFactory

from permissions.audit import AuditAction, audit_record
from permissions.models import AppendOnlyError, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(principal, grundskola):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    return audit_record(
        action=AuditAction.MEMBERSHIP_REGISTERED,
        actor=principal,
        request=request,
        school_unit=grundskola,
        target="abc23456",
    )


def test_audit_record_stores_who_what_where_and_from_which_address(event, principal, grundskola):
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_username == principal.username
    assert stored.actor_role == "principal"
    assert stored.school_unit == grundskola
    assert stored.huvudman_id == grundskola.huvudman_id
    assert stored.ip_address == "192.0.2.7"
    assert stored.action == "membership_registered"


def test_audit_event_cannot_be_saved_again(event):
    event.target = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).target == "abc23456"


def test_audit_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_events_cannot_be_updated_in_bulk(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(target="rewritten")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
def test_postgresql_refuses_raw_update_and_delete_of_audit_events(event):
    for sql in (
        "UPDATE permissions_auditevent SET target = 'x' WHERE id = %s",
        "DELETE FROM permissions_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).target == "abc23456"


def test_unknown_action_is_refused(principal):
    with pytest.raises(ValueError):
        audit_record(action="something_else", actor=principal)
