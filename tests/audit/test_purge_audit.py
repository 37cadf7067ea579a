"""Audit events older than AUDIT_RETENTION_YEARS go through `manage.py
purge_audit`, and through nothing else: the ORM refuses every delete and, on
PostgreSQL, the trigger lets through only the purge's own deletes of old rows."""

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit import retention
from audit.actions import AuditAction
from audit.models import AppendOnlyError, AuditEvent
from audit.retention import audit_purge, years_before

pytestmark = pytest.mark.django_db

YEAR = datetime.timedelta(days=365)
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL (CI runs it)"
)


def event_aged(age: datetime.timedelta, target: str = "x") -> AuditEvent:
    return AuditEvent.objects.create(
        action=AuditAction.LOGIN_FAILED, target=target, created_at=timezone.now() - age
    )


def test_the_purge_deletes_what_is_older_than_the_retention_and_records_that_it_did():
    old = event_aged(6 * YEAR, "gammal")
    almost = event_aged(5 * YEAR - datetime.timedelta(days=2), "nastan")
    recent = event_aged(datetime.timedelta(days=1), "ny")
    result = audit_purge(years=5)
    assert result.deleted == 1
    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert {almost.pk, recent.pk} <= remaining
    record = AuditEvent.objects.get(action=AuditAction.AUDIT_PURGED)
    assert record.details["deleted"] == 1
    assert record.details["retention_years"] == 5


def test_the_purge_works_in_batches_until_nothing_old_is_left(monkeypatch):
    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    for number in range(5):
        event_aged(7 * YEAR, f"gammal-{number}")
    assert audit_purge(years=5).deleted == 5
    assert not AuditEvent.objects.exclude(action=AuditAction.AUDIT_PURGED).exists()


def test_the_command_uses_audit_retention_years_and_prints_json(settings):
    settings.AUDIT_RETENTION_YEARS = 2
    event_aged(3 * YEAR)
    kept = event_aged(YEAR)
    out = StringIO()
    call_command("purge_audit", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["deleted"] == 1 and summary["retention_years"] == 2
    assert AuditEvent.objects.filter(pk=kept.pk).exists()


def test_less_than_a_year_of_retention_is_refused():
    event_aged(datetime.timedelta(days=30))
    with pytest.raises(ValueError):
        audit_purge(years=0)
    assert AuditEvent.objects.exists()


def test_a_leap_day_goes_back_to_the_28th():
    moment = datetime.datetime(2028, 2, 29, 12, tzinfo=datetime.UTC)
    assert years_before(moment, 5) == datetime.datetime(2023, 2, 28, 12, tzinfo=datetime.UTC)


def test_the_orm_still_refuses_every_delete_even_of_old_events():
    old = event_aged(10 * YEAR)
    with pytest.raises(AppendOnlyError):
        old.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=old.pk).delete()


def raw(sql: str, params: list, purge_before: datetime.datetime | None = None) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        if purge_before is not None:
            cursor.execute(
                "SELECT set_config(%s, %s, true)",
                [retention.PURGE_SETTING, purge_before.isoformat()],
            )
        cursor.execute(sql, params)


DELETE = "DELETE FROM permissions_auditevent WHERE id = %s"


@postgresql_only
def test_postgresql_refuses_a_raw_delete_of_an_old_event_without_the_purge_setting():
    old = event_aged(10 * YEAR)
    with pytest.raises(DatabaseError):
        raw(DELETE, [old.pk])
    assert AuditEvent.objects.filter(pk=old.pk).exists()


@postgresql_only
def test_postgresql_refuses_a_purge_of_anything_younger_than_its_moment():
    young = event_aged(2 * YEAR)
    with pytest.raises(DatabaseError):
        raw(DELETE, [young.pk], purge_before=timezone.now() - 5 * YEAR)
    assert AuditEvent.objects.filter(pk=young.pk).exists()


@postgresql_only
def test_postgresql_refuses_a_purge_moment_less_than_a_year_back():
    # SECURITY: even code that sets the purge setting itself cannot delete
    # last month's events: the trigger's floor is one year.
    recent = event_aged(datetime.timedelta(days=30))
    with pytest.raises(DatabaseError):
        raw(DELETE, [recent.pk], purge_before=timezone.now() + YEAR)
    assert AuditEvent.objects.filter(pk=recent.pk).exists()


@postgresql_only
def test_postgresql_still_refuses_every_update_even_in_a_purge():
    old = event_aged(10 * YEAR)
    with pytest.raises(DatabaseError):
        raw(
            "UPDATE permissions_auditevent SET target = 'x' WHERE id = %s",
            [old.pk],
            purge_before=timezone.now() - 5 * YEAR,
        )


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_postgresql_forgets_the_purge_setting_when_its_transaction_ends():
    old = event_aged(10 * YEAR)
    raw("SELECT 1 WHERE %s", [True], purge_before=timezone.now() - 5 * YEAR)
    with pytest.raises(DatabaseError):
        raw(DELETE, [old.pk])
    assert AuditEvent.objects.filter(pk=old.pk).exists()


@postgresql_only
def test_postgresql_forgets_the_purge_setting_after_a_purge_inside_a_longer_transaction():
    # Tests run inside a transaction, like a caller that wraps the purge in its own.
    audit_purge(years=5)
    old = event_aged(10 * YEAR)
    with pytest.raises(DatabaseError):
        raw(DELETE, [old.pk])
    assert AuditEvent.objects.filter(pk=old.pk).exists()
