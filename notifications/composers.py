"""The notices of events in the layers below, composed by the mail worker.

A lower layer (a card's lock in `accounts`, a teacher's answer in
`permissions`) queues `core.outbox.mail_enqueue_composed(kind=…, params={ids})`
in its own transaction and knows nobody it tells: a rolled-back change mails
nobody. The worker calls these composers (registered in
`NotificationsConfig.ready`), which decide who is told from the data as it
is then, and each person's choices, and return one mail a person.
"""

import datetime

from django.utils import timezone

from accounts.models import MatrixCardDevice, Role, User
from notifications.mails import notice_mails, site_url
from notifications.models import NotificationKind
from notifications.preferences import wanting
from permissions import policy
from permissions.models import Membership, TestAdministrator
from permissions.schoolyear import today

# Kinds of the outbox, as the layers below queue them.
CARD_LOCKED = "notify_card_locked"
LINK_ANSWERED = "notify_link_answered"


def card_locked_compose(*, params: dict) -> list[dict] | None:
    """A card locked after wrong answers: a test administrator's principals,
    or a principal's huvudman staff, are told (not optional: someone may be
    guessing, and only they can unlock it or issue a new card).

    The holder's sessions stay (the product owner's decision: otherwise
    wrong answers would be a way to lock a principal out); the holder's
    issuer decides.
    """
    holder = User.objects.filter(pk=params.get("user_id")).first()
    card = MatrixCardDevice.objects.filter(pk=params.get("device_id")).first()
    if holder is None:
        return None
    values = {
        "holder": holder,
        "serial": card.serial if card is not None else "",
        "locked_at": _moment(params.get("at")),
    }
    if holder.role == Role.TEST_ADMIN:
        appointment = (
            TestAdministrator.objects.filter(user=holder).select_related("school_unit").first()
        )
        if appointment is None:
            return None
        school_unit = appointment.school_unit
        recipients = policy.school_principals(school_unit_ids=[school_unit.pk])
        values["school_unit"] = school_unit
        values["act_url"] = site_url("etjanster:test_admin_list", school_unit.code)
    elif holder.role == Role.PRINCIPAL:
        recipients = policy.huvudman_staff_members(
            huvudman_ids=policy.principal_huvudman_ids(principal=holder)
        )
        values["act_url"] = site_url("huvudman:schools_principal_change", holder.pk)
    else:
        return None
    kind = NotificationKind.CARD_LOCKED
    recipients = wanting(recipients.order_by("pk"), kind=kind)
    return notice_mails(kind=kind, recipients=recipients, values=values) or None


def _moment(text) -> datetime.datetime:
    """When the event happened (queued with it: the worker may send later)."""
    try:
        return timezone.localtime(datetime.datetime.fromisoformat(text))
    except (TypeError, ValueError):
        return timezone.localtime()


def link_answered_compose(*, params: dict) -> list[dict] | None:
    """A teacher confirmed or declined a school's registration of their
    existing account: the school's principals and test administrators are
    told (optional; the teacher list and the log show it too)."""
    membership = (
        Membership.objects.select_related("school_unit", "user")
        .filter(pk=params.get("membership_id"))
        .first()
    )
    if membership is None:
        return None
    school_unit = membership.school_unit
    declined = bool(params.get("declined"))
    values = {
        "school_unit": school_unit,
        # After a decline the school still knows only the name it typed.
        "teacher_name": policy.known_full_name(membership=membership) or membership.user.username,
        "declined": declined,
        "list_url": site_url("etjanster:teacher_list", school_unit.code),
    }
    kind = NotificationKind.LINK_ANSWERED
    recipients = wanting(
        policy.school_administrators(school_unit_ids=[school_unit.pk], today=today()).order_by(
            "pk"
        ),
        kind=kind,
    )
    return notice_mails(kind=kind, recipients=recipients, values=values) or None
