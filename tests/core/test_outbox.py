"""The mail outbox: written in the caller's transaction, sealed, sent by the
worker with retries, and a real SMTP server (aiosmtpd) that is down, then up."""

import datetime
import socket

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from core.models import OutboxMessage, OutboxStatus
from core.outbox import (
    COMPOSERS,
    MAX_ATTEMPTS,
    composer_register,
    mail_enqueue,
    mail_enqueue_composed,
    outbox_length,
    outbox_prune,
    outbox_send_due,
    retry_delay,
)
from tests.conftest import verify_session

pytestmark = pytest.mark.django_db


def test_a_rolled_back_change_queues_no_mail():
    with pytest.raises(RuntimeError), transaction.atomic():
        mail_enqueue(subject="s", body="b", to=["a@example.se"])
        raise RuntimeError
    assert not OutboxMessage.objects.exists()


def test_a_queued_mail_is_sealed_and_erased_once_sent(mailoutbox):
    mail_enqueue(
        subject="Ditt lösenord",
        body="hemligt-losenord-123",
        to=["a@example.se"],
        attachments=[("lapp.pdf", b"%PDF hemligt-losenord-123", "application/pdf")],
    )
    row = OutboxMessage.objects.get()
    assert b"hemligt-losenord-123" not in bytes(row.payload)
    assert b"a@example.se" not in bytes(row.payload)
    assert outbox_length() == 1
    report = outbox_send_due()
    assert report.sent == 1
    row.refresh_from_db()
    assert (row.status, bytes(row.payload), row.attempts) == (OutboxStatus.SENT, b"", 1)
    [message] = mailoutbox
    assert message.body == "hemligt-losenord-123"
    assert message.attachments[0][1] == b"%PDF hemligt-losenord-123"
    assert outbox_length() == 0


def test_a_tampered_payload_is_given_up_not_sent(mailoutbox):
    mail_enqueue(subject="s", body="b", to=["a@example.se"])
    row = OutboxMessage.objects.get()
    payload = bytearray(row.payload)
    payload[-1] ^= 1
    OutboxMessage.objects.filter(pk=row.pk).update(payload=bytes(payload))
    assert outbox_send_due().failed == 1
    assert mailoutbox == []
    assert OutboxMessage.objects.get().status == OutboxStatus.FAILED


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def closed_smtp(settings):
    """SMTP settings pointing at a port where nothing listens (yet)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 5
    return settings.EMAIL_PORT


def test_retries_grow_and_the_worker_gives_up_after_a_day(closed_smtp):
    mail_enqueue(subject="s", body="b", to=["a@example.se"])
    now = timezone.now()
    assert outbox_send_due(now=now).retried == 1
    row = OutboxMessage.objects.get()
    assert row.attempts == 1
    assert row.next_attempt_at == now + datetime.timedelta(seconds=30)
    assert "ConnectionRefused" in row.last_error
    # Not due yet: nothing is tried.
    assert outbox_send_due(now=now + datetime.timedelta(seconds=29)).retried == 0
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS)]
    assert delays[:4] == [datetime.timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(delays) == datetime.timedelta(hours=1)
    assert sum(delays, datetime.timedelta()) > datetime.timedelta(hours=20)
    OutboxMessage.objects.filter(pk=row.pk).update(attempts=MAX_ATTEMPTS - 1)
    assert outbox_send_due(now=now + datetime.timedelta(days=2)).failed == 1
    row.refresh_from_db()
    assert (row.status, bytes(row.payload)) == (OutboxStatus.FAILED, b"")


def test_finished_rows_are_pruned_after_thirty_days(mailoutbox):
    mail_enqueue(subject="s", body="b", to=["a@example.se"])
    outbox_send_due()
    assert outbox_prune(now=timezone.now() + datetime.timedelta(days=29)) == 0
    assert outbox_prune(now=timezone.now() + datetime.timedelta(days=31)) == 1


def test_the_worker_command_sends_once(mailoutbox, capsys):
    mail_enqueue(subject="s", body="b", to=["a@example.se"])
    call_command("send_queued_mail", "--once")
    assert len(mailoutbox) == 1
    assert "sent 1" in capsys.readouterr().out


class Sink:
    """An SMTP server that keeps what it receives."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.received.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"


def test_with_the_mail_server_down_every_form_answers_and_mail_goes_out_when_it_is_back(
    client, principal, grundskola, closed_smtp
):
    """Issue 9, "Done when": a closed EMAIL_PORT costs no request anything."""
    principal_client = verify_session(client, principal)
    registered = principal_client.post(
        f"/e-tjanster/skolor/{grundskola.code}/larare/ny/",
        {
            "first_name": "Maja",
            "last_name": "Mejl",
            "email": "maja@skola.example",
            "subjects": ["GRGRMAT01"],
            "send_email": "on",
        },
    )
    assert registered.status_code == 200
    assert "Läraren är registrerad" in registered.content.decode()
    principal_client.post("/logga-ut/")
    contact = client.post(
        "/kontakt/",
        {"name": "A", "email": "a@example.se", "subject": "Hej", "message": "Fråga", "website": ""},
    )
    assert contact.status_code == 302
    lookup = client.post(
        "/kontakt/huvudman/", {"skolenhetskod": "11111111", "email": "rektor@example.se"}
    )
    assert lookup.status_code == 302
    assert outbox_length() == 3

    now = timezone.now()
    assert outbox_send_due(now=now).retried == 3

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=closed_smtp)
    controller.start()
    try:
        report = outbox_send_due(now=now + datetime.timedelta(minutes=1))
    finally:
        controller.stop()
    assert (report.sent, report.retried) == (3, 0)
    recipients = sorted(rcpt for rcpts, _content in sink.received for rcpt in rcpts)
    assert recipients == sorted(
        ["maja@skola.example", "support@behorighetsportalen.localhost", "rektor@example.se"]
    )
    slip = next(content for rcpts, content in sink.received if rcpts == ["maja@skola.example"])
    assert b"application/pdf" in slip
    assert outbox_length() == 0
    assert mail.outbox == []  # the real SMTP backend was used, not the test's memory


def test_a_deferred_mail_is_composed_by_the_app_that_registered_its_kind(mailoutbox):
    # portal registers "huvudman_contact" at start-up; the worker calls it.
    assert COMPOSERS["huvudman_contact"].__module__ == "portal.services"
    calls = []

    def compose(*, params):
        calls.append(params)
        return {"subject": "S", "body": "B", "to": [params["to"]], "reply_to": []}

    composer_register("test_kind", compose)
    try:
        mail_enqueue_composed(kind="test_kind", params={"to": "anna@skola.example"})
        outbox_send_due()
    finally:
        COMPOSERS.pop("test_kind")
    assert calls == [{"to": "anna@skola.example"}]
    assert [m.to for m in mailoutbox] == [["anna@skola.example"]]


def test_a_mail_of_a_kind_no_app_composes_any_more_is_given_up(mailoutbox):
    composer_register("gone_kind", lambda *, params: None)
    row = mail_enqueue_composed(kind="gone_kind", params={})
    COMPOSERS.pop("gone_kind")
    outbox_send_due()
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    assert row.payload == b""
    assert "no composer" in row.last_error
    assert mailoutbox == []
