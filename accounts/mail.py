"""Mail to people: one function every service calls.

SECURITY/robustness: a service that sends mail calls `mail_enqueue` inside
its own transaction; the message leaves only once the change is committed,
so a rolled-back change never mails anyone. (Issue 9 turns this into an
outbox table written in the same transaction and sent by a worker, so that no
request waits on SMTP or fails with it; callers do not change.)
"""

from django.core.mail import EmailMessage
from django.db import transaction


def mail_enqueue(
    *,
    subject: str,
    body: str,
    to: list[str],
    reply_to: list[str] | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    """Send this mail once the caller's transaction commits."""
    message = EmailMessage(subject=subject, body=body, to=to, reply_to=reply_to or [])
    for filename, content, media_type in attachments or []:
        message.attach(filename, content, media_type)
    transaction.on_commit(message.send)
