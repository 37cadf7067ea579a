"""Support tickets are personal data (name, e-mail, message, address): the
answered and closed ones go SUPPORT_TICKET_RETENTION_YEARS after their last
activity (`manage.py purge_tickets`); nobody's unhandled question goes."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.actions import AuditAction
from audit.models import AuditEvent
from portal.models import SupportTicket, SupportTicketEntry, TicketEntryKind, TicketStatus
from portal.services import support_tickets_purge

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
THREE_YEARS_AGO = NOW - datetime.timedelta(days=3 * 365)
LAST_YEAR = NOW - datetime.timedelta(days=365)


def make_ticket(subject, status, created_at, *, activity=None):
    ticket = SupportTicket.objects.create(
        name="Anna Andersson",
        email="anna@example.se",
        subject=subject,
        message="Var finns provet?",
        status=status,
        created_at=created_at,
        client_address="192.0.2.7",
    )
    if activity is not None:
        SupportTicketEntry.objects.create(
            ticket=ticket, created_at=activity, kind=TicketEntryKind.ANSWER, text="Svar"
        )
    return ticket


def test_finished_tickets_go_after_the_retention_and_open_ones_stay():
    old_closed = make_ticket("gammal stängd", TicketStatus.CLOSED, THREE_YEARS_AGO)
    make_ticket("gammal besvarad", TicketStatus.ANSWERED, THREE_YEARS_AGO, activity=THREE_YEARS_AGO)
    SupportTicketEntry.objects.create(
        ticket=old_closed, created_at=THREE_YEARS_AGO, kind=TicketEntryKind.STATUS
    )
    make_ticket("gammal ny", TicketStatus.NEW, THREE_YEARS_AGO)
    make_ticket("gammal pågående", TicketStatus.IN_PROGRESS, THREE_YEARS_AGO)
    # Received long ago, but answered last year: its last activity counts.
    make_ticket("sent besvarad", TicketStatus.CLOSED, THREE_YEARS_AGO, activity=LAST_YEAR)
    make_ticket("färsk stängd", TicketStatus.CLOSED, LAST_YEAR)

    result = support_tickets_purge(years=2, now=NOW)

    assert result.deleted == 2
    assert result.before == NOW.replace(year=2024)
    assert set(SupportTicket.objects.values_list("subject", flat=True)) == {
        "gammal ny",
        "gammal pågående",
        "sent besvarad",
        "färsk stängd",
    }
    # The history went with its tickets.
    assert not SupportTicketEntry.objects.filter(ticket_id=old_closed.pk).exists()
    assert SupportTicketEntry.objects.count() == 1
    event = AuditEvent.objects.get(action=AuditAction.TICKETS_PURGED)
    assert event.details == {
        "before": NOW.replace(year=2024).isoformat(),
        "deleted": 2,
        "retention_years": 2,
    }


def test_the_command_uses_the_setting_and_prints_json(settings):
    settings.SUPPORT_TICKET_RETENTION_YEARS = 1
    make_ticket("förra året", TicketStatus.CLOSED, timezone.now() - datetime.timedelta(days=400))
    make_ticket("i våras", TicketStatus.CLOSED, timezone.now() - datetime.timedelta(days=200))
    out = io.StringIO()
    call_command("purge_tickets", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["deleted"] == 1 and summary["retention_years"] == 1
    assert list(SupportTicket.objects.values_list("subject", flat=True)) == ["i våras"]


def test_less_than_a_year_is_refused_and_deletes_nothing():
    make_ticket("gammal stängd", TicketStatus.CLOSED, THREE_YEARS_AGO)
    with pytest.raises(ValueError, match="at least 1 year"):
        support_tickets_purge(years=0, now=NOW)
    assert SupportTicket.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_the_command_says_what_it_deleted_in_a_sentence(settings):
    settings.SUPPORT_TICKET_RETENTION_YEARS = 3
    out = io.StringIO()
    call_command("purge_tickets", stdout=out)
    assert out.getvalue().startswith("Deleted 0 answered or closed support tickets last active")
    assert out.getvalue().strip().endswith("(kept 3 years).")
