import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import RequestFactory

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from audit.models import AppendOnlyError, AuditEvent
from web.request import audit_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(principal, grundskola):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    request.user = principal
    return audit_record(
        action=AuditAction.MEMBERSHIP_REGISTERED,
        context=audit_context(request),
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
        audit_record(action="something_else", context=AuditContext(actor=principal))


def test_an_event_without_a_school_belongs_to_the_school_the_context_acts_at(
    principal, grundskola, gymnasium
):
    at_school = AuditContext(actor=principal, school_unit=grundskola)
    assert audit_record(action=AuditAction.LOGOUT, context=at_school).school_unit == grundskola
    explicit = audit_record(action=AuditAction.LOGOUT, context=at_school, school_unit=gymnasium)
    assert explicit.school_unit == gymnasium
    assert audit_record(action=AuditAction.LOGOUT, context=AuditContext()).school_unit is None


def test_an_anonymous_context_records_no_actor():
    event = audit_record(action=AuditAction.LOGIN_FAILED, context=AuditContext(address="192.0.2.9"))
    assert (event.actor_id, event.actor_username, event.actor_role) == (None, "", "")
    assert event.ip_address == "192.0.2.9"
