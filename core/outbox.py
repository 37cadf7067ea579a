"""Mail to people: the outbox every service writes to, and the worker that sends it.

`mail_enqueue` writes one `OutboxMessage` row in the caller's transaction, so
a rolled-back change mails nobody and a committed one is never lost;
`manage.py send_queued_mail` sends the rows with retries and a growing delay.
No request waits on SMTP or fails because of it.

Some mails are composed only by the worker (`mail_enqueue_composed`): the
huvudman look-up stores what was typed and the worker decides whether anyone
gets a mail, so the request does the same work whether or not the typed
pair matched, and answers in the same time.
"""

import contextlib
import datetime
import json
import logging
import smtplib
import socket
from base64 import b64decode, b64encode
from collections.abc import Callable
from dataclasses import dataclass

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.models import OutboxMessage, OutboxStatus
from core.sealed import SealBroken, derived_key, seal, unseal

logger = logging.getLogger(__name__)

MESSAGE = "message"
# Deferred kinds: the worker calls the composer with the stored parameters; it
# returns the mail to send (as for `mail_enqueue`), a list of mails (one to
# each person told, each then queued and retried on its own), or None for
# nobody. The apps above that own a kind register its composer at start-up
# (`composer_register`).
Composer = Callable[..., dict | list[dict] | None]
COMPOSERS: dict[str, Composer] = {}
# What each kind is called where people see the outbox (/admin/).
KIND_LABELS: dict[str, str] = {MESSAGE: gettext_lazy("Ready-made mail")}
# Retries: 30 s, 1, 2, 4 … minutes, at most an hour apart, for about a day.
FIRST_RETRY = datetime.timedelta(seconds=30)
LONGEST_RETRY = datetime.timedelta(hours=1)
MAX_ATTEMPTS = 30
# Sent, discarded and given-up rows (erased payloads) are kept this long as history.
KEEP_FINISHED = datetime.timedelta(days=30)
SEAL_PURPOSE = "outbox"


def _key() -> bytes:
    return derived_key(SEAL_PURPOSE)


def _store(kind: str, content: dict) -> OutboxMessage:
    payload = seal(json.dumps(content).encode(), key=_key(), label=kind)
    return OutboxMessage.objects.create(kind=kind, payload=payload)


def mail_enqueue(
    *,
    subject: str,
    body: str,
    to: list[str],
    reply_to: list[str] | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> OutboxMessage:
    """Queue one mail in the caller's transaction; the worker sends it after commit."""
    return _store(
        MESSAGE,
        {
            "subject": subject,
            "body": body,
            "to": list(to),
            "reply_to": list(reply_to or []),
            "attachments": [
                [name, b64encode(content).decode("ascii"), media_type]
                for name, content, media_type in attachments or []
            ],
        },
    )


def composer_register(kind: str, composer: Composer, *, label: str | None = None) -> None:
    """Let the worker compose mails of `kind` with `composer(params=...)`;
    `label` names the kind in the admin's outbox."""
    if kind == MESSAGE:
        raise ValueError(f"{kind!r} is the kind of ready mails")
    COMPOSERS[kind] = composer
    if label is not None:
        KIND_LABELS[kind] = label


def kind_label(kind: str) -> str:
    """The kind's name in the active language (its code if no app named it)."""
    return str(KIND_LABELS.get(kind, kind))


def mail_enqueue_composed(*, kind: str, params: dict) -> OutboxMessage:
    """Queue a mail the worker composes from `params` (see COMPOSERS)."""
    if kind not in COMPOSERS:
        raise ValueError(f"Unknown mail kind {kind!r}")
    return _store(kind, params)


def mails_enqueue_composed(*, kind: str, params: list[dict]) -> int:
    """Queue one composed mail of `kind` per item of `params`, in one query
    whatever their number."""
    if kind not in COMPOSERS:
        raise ValueError(f"Unknown mail kind {kind!r}")
    rows = [
        OutboxMessage(kind=kind, payload=seal(json.dumps(item).encode(), key=_key(), label=kind))
        for item in params
    ]
    return len(OutboxMessage.objects.bulk_create(rows))


def outbox_length() -> int:
    """Mails waiting to be sent (the metric for monitoring: a growing number
    means the worker is down or the mail server refuses)."""
    return OutboxMessage.objects.filter(status=OutboxStatus.QUEUED).count()


def outbox_oldest_age() -> float:
    """Seconds the oldest mail still waiting has waited, 0 with none (the
    metric to alert on: slips and codes that do not arrive)."""
    oldest = (
        OutboxMessage.objects.filter(status=OutboxStatus.QUEUED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return (timezone.now() - oldest).total_seconds() if oldest else 0.0


def retry_delay(attempts: int) -> datetime.timedelta:
    """The wait after `attempts` failed attempts: 30 s, 1 min, 2 min … at most 1 h."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)


def _email(content: dict) -> EmailMessage:
    message = EmailMessage(
        subject=content["subject"],
        body=content["body"],
        to=content["to"],
        reply_to=content.get("reply_to") or [],
    )
    for name, data, media_type in content.get("attachments", []):
        message.attach(name, b64decode(data), media_type)
    return message


@dataclass
class SendReport:
    sent: int = 0
    discarded: int = 0
    retried: int = 0
    failed: int = 0
    # Composed rows handed on as one queued mail a person (sent with the rest).
    expanded: int = 0


# What a mail server or the network may answer; anything else is a bug and is raised.
SEND_ERRORS = (smtplib.SMTPException, OSError, socket.timeout)


def outbox_send_due(*, limit: int = 100, now: datetime.datetime | None = None) -> SendReport:
    """Send up to `limit` due mails, one transaction each; returns what happened.

    Each row is taken with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL,
    so several workers never send the same mail twice.
    """
    report = SendReport()
    connection = None
    try:
        for _ in range(limit):
            with transaction.atomic():
                moment = now or timezone.now()
                row = (
                    OutboxMessage.objects.select_for_update(skip_locked=True)
                    .filter(status=OutboxStatus.QUEUED, next_attempt_at__lte=moment)
                    .order_by("next_attempt_at", "pk")
                    .first()
                )
                if row is None:
                    break
                if connection is None:
                    connection = get_connection(fail_silently=False)
                _send_one(row, connection=connection, now=moment, report=report)
    finally:
        if connection is not None:
            with contextlib.suppress(SEND_ERRORS):
                connection.close()
    return report


def _finish(row: OutboxMessage, status: str, now, error: str = "") -> None:
    row.status = status
    row.finished_at = now
    row.payload = b""  # SECURITY: nothing of the message stays once it is done with
    row.last_error = error[:300]
    row.save(update_fields=["status", "finished_at", "payload", "last_error"])


def _send_one(row: OutboxMessage, *, connection, now, report: SendReport) -> None:
    try:
        content = json.loads(unseal(row.payload, key=_key(), label=row.kind))
    except (SealBroken, ValueError):
        # MATRIX_CARD_KEY changed since the mail was queued: it can never be read.
        logger.error("Outbox %s: cannot be unsealed; given up.", row.pk)
        _finish(row, OutboxStatus.FAILED, now, "cannot be unsealed (key changed?)")
        report.failed += 1
        return
    if row.kind != MESSAGE:
        composer = COMPOSERS.get(row.kind)
        if composer is None:
            # A kind no installed app composes any more: nothing can be sent.
            logger.error("Outbox %s: no composer for kind %r; given up.", row.pk, row.kind)
            _finish(row, OutboxStatus.FAILED, now, f"no composer for {row.kind}")
            report.failed += 1
            return
        content = composer(params=content)
        if isinstance(content, list) and content:
            # One mail to each person, so nobody sees another's address;
            # queued in this transaction and sent (and retried) one by one.
            for mail in content:
                mail_enqueue(**mail)
            _finish(row, OutboxStatus.SENT, now)
            report.expanded += 1
            return
        if not content:
            _finish(row, OutboxStatus.DISCARDED, now)
            report.discarded += 1
            return
    message = _email(content)
    message.connection = connection
    try:
        message.send()
    except SEND_ERRORS as error:
        # A broken connection is opened anew for the next mail.
        with contextlib.suppress(SEND_ERRORS):
            connection.close()
        row.attempts += 1
        text = f"{type(error).__name__}: {error}"
        if row.attempts >= MAX_ATTEMPTS:
            logger.error("Outbox %s: giving up after %s attempts: %s", row.pk, row.attempts, text)
            _finish(row, OutboxStatus.FAILED, now, text)
            report.failed += 1
            return
        row.next_attempt_at = now + retry_delay(row.attempts)
        row.last_error = text[:300]
        row.save(update_fields=["attempts", "next_attempt_at", "last_error"])
        logger.warning("Outbox %s: attempt %s failed (%s).", row.pk, row.attempts, text)
        report.retried += 1
        return
    row.attempts += 1
    row.save(update_fields=["attempts"])
    _finish(row, OutboxStatus.SENT, now)
    report.sent += 1


def outbox_prune(*, now: datetime.datetime | None = None) -> int:
    """Forget finished rows older than KEEP_FINISHED."""
    edge = (now or timezone.now()) - KEEP_FINISHED
    deleted, _ = (
        OutboxMessage.objects.exclude(status=OutboxStatus.QUEUED)
        .filter(finished_at__lt=edge)
        .delete()
    )
    return deleted
