"""The mails of the notices: one a person, in Swedish, rendered from
templates/emails/notify_<kind>.txt and its _subject.txt."""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from accounts.models import Role, User
from notifications.models import OPTIONAL_KINDS, NotificationKind


def settings_url(user: User) -> str:
    """Where this person switches their optional notices off."""
    if user.role == Role.HUVUDMAN_STAFF:
        return settings.SITE_URL + reverse("huvudman:notifications")
    return settings.SITE_URL + reverse("etjanster:account") + "#notifications"


def site_url(name: str, *args) -> str:
    """An absolute address of the site (the mails are read outside it)."""
    # Swedish addresses, as the mails are Swedish.
    with translation.override(settings.LANGUAGE_CODE):
        return settings.SITE_URL + reverse(name, args=args)


def notice_mail(*, kind: NotificationKind, recipient: User, values: dict) -> dict | None:
    """One person's mail of this kind, or None when they have no address."""
    if not recipient.email:
        return None
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            **values,
            "recipient": recipient,
            "optional": kind in OPTIONAL_KINDS,
            "settings_url": settings_url(recipient),
        }
        subject = render_to_string(f"emails/notify_{kind.value}_subject.txt", values)
        body = render_to_string(f"emails/notify_{kind.value}.txt", values)
    # SECURITY: no line break of a name may reach a header.
    return {"subject": " ".join(subject.split())[:200], "body": body, "to": [recipient.email]}


def notice_mails(*, kind: NotificationKind, recipients, values: dict) -> list[dict]:
    mails = (notice_mail(kind=kind, recipient=user, values=values) for user in recipients)
    return [mail for mail in mails if mail is not None]
