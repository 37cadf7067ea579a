"""Support tickets in /admin/: status, handler, an answer by e-mail through
the outbox, and the history; every change audited."""

import pytest

from audit.models import AuditEvent
from portal.models import SupportTicket, SupportTicketEntry, TicketStatus
from tests.conftest import deliver_mail, verify_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(db):
    return SupportTicket.objects.create(
        name="Anna Andersson", email="anna@example.se", subject="Prov", message="Var finns provet?"
    )


def change(client, ticket, **data):
    form = {
        "status": ticket.status,
        "assigned_to": "",
        "answer": "",
        "entries-TOTAL_FORMS": "0",
        "entries-INITIAL_FORMS": str(ticket.entries.count()),
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
        **data,
    }
    return client.post(f"/admin/portal/supportticket/{ticket.pk}/change/", form)


def test_a_national_admin_assigns_answers_and_closes_a_ticket(
    client, national_admin, ticket, mailoutbox
):
    verify_session(client, national_admin)
    listing = client.get("/admin/portal/supportticket/").content.decode()
    assert "Ny" in listing and "Prov" in listing
    response = change(
        client,
        ticket,
        status=TicketStatus.IN_PROGRESS,
        assigned_to=str(national_admin.pk),
        answer="Provet finns under Bedömningsstöd.",
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    # An answer to a ticket in progress marks it answered.
    assert ticket.status == TicketStatus.ANSWERED
    assert ticket.assigned_to == national_admin
    assert mailoutbox == []  # queued in the same transaction, sent by the worker
    deliver_mail()
    [mail] = mailoutbox
    assert mail.to == ["anna@example.se"]
    assert mail.subject == f"Re: [Support #{ticket.pk}] Prov"
    assert mail.body == "Provet finns under Bedömningsstöd."
    kinds = list(ticket.entries.values_list("kind", flat=True))
    assert sorted(kinds) == ["answer", "assigned", "status"]
    actions = sorted(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["ticket_answered", "ticket_changed"]
    change(client, ticket, status=TicketStatus.CLOSED, assigned_to=str(national_admin.pk))
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    page = client.get(f"/admin/portal/supportticket/{ticket.pk}/change/").content.decode()
    assert "Provet finns under Bedömningsstöd." in page  # the history
    assert SupportTicketEntry.objects.filter(ticket=ticket).count() == 4


def test_what_the_sender_wrote_cannot_be_changed(client, national_admin, ticket):
    verify_session(client, national_admin)
    change(client, ticket, message="ändrat", email="x@example.se", status=TicketStatus.CLOSED)
    ticket.refresh_from_db()
    assert (ticket.message, ticket.email) == ("Var finns provet?", "anna@example.se")


def test_only_national_admins_are_handlers(client, national_admin, huvudman_staff, ticket):
    verify_session(client, national_admin)
    response = change(client, ticket, assigned_to=str(huvudman_staff.pk))
    assert response.status_code == 200  # a form error: not a choice
    ticket.refresh_from_db()
    assert ticket.assigned_to is None


def test_huvudman_staff_see_no_tickets(client, huvudman_staff, ticket):
    verify_session(client, huvudman_staff)
    assert client.get("/huvudman/portal/supportticket/").status_code == 404
