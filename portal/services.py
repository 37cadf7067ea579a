"""Writes of Bedömningsportalen and the support pages. Each is atomic; access
changes and downloads are audited in the same transaction."""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import Role, User
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record, field_changes
from audit.retention import PurgeResult, years_before
from core.models import SiteNotice
from core.outbox import mail_enqueue, mail_enqueue_composed
from permissions.policy import Access
from portal.models import (
    Material,
    SupportTicket,
    SupportTicketEntry,
    TicketCategory,
    TicketEntryKind,
    TicketStatus,
)
from schools.models import PrincipalAssignment


@transaction.atomic
def material_download_record(*, material: Material, access: Access, context: AuditContext) -> None:
    audit_record(
        action=AuditAction.MATERIAL_DOWNLOADED,
        context=context,
        school_unit=access.granted_by,
        target=material.slug,
        details={"subject": material.subject.code, "level": material.level},
    )


@transaction.atomic
def material_refusal_record(
    *, material: Material, access: Access, context: AuditContext, what: str
) -> None:
    """Refused access by a logged-in user (ASVS 16.3.2). Anonymous refusals are
    the ordinary "please log in" and are not logged."""
    audit_record(
        action=AuditAction.ACCESS_REFUSED,
        context=context,
        target=material.slug,
        details={"condition": str(access.failure), "what": what},
    )


@transaction.atomic
def support_ticket_submit(
    *,
    name: str,
    email: str,
    subject: str,
    message: str,
    client_address: str | None,
    category: str = TicketCategory.QUESTION,
) -> SupportTicket:
    """Store the ticket and, once committed, mail it to the support address."""
    ticket = SupportTicket.objects.create(
        category=category,
        name=name,
        email=email,
        subject=subject,
        message=message,
        client_address=client_address,
    )
    # Support reads Swedish, whichever language the writer used.
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string("emails/support_ticket.txt", {"ticket": ticket})
    # SECURITY: line breaks in a header are refused by Django (BadHeaderError,
    # a 500); fold all whitespace so the typed subject can never add headers.
    mail_subject = " ".join(f"[Support #{ticket.pk}] {subject}".split())[:200]
    mail_enqueue(subject=mail_subject, body=body, to=[settings.SUPPORT_EMAIL], reply_to=[email])
    return ticket


@transaction.atomic
def huvudman_contact_send(*, skolenhetskod: str, email: str) -> None:
    """Queue the look-up: the outbox worker mails the huvudman's contact
    details to a principal of that school, if the pair matches.

    SECURITY: the request does the same work whether or not the pair
    matches (one sealed outbox row, no look-up), so neither the answer nor
    its timing tells who is principal where. The worker decides, in
    `huvudman_contact_compose`.
    """
    mail_enqueue_composed(
        kind="huvudman_contact", params={"skolenhetskod": skolenhetskod, "email": email}
    )


def huvudman_contact_compose(*, params: dict) -> dict | None:
    """The mail for a queued look-up, or None when nobody qualifies.

    SECURITY: the mail goes to the address stored on the principal's
    account, never to the typed one, and only an active principal linked to
    that very school qualifies.
    """
    assignment = (
        PrincipalAssignment.objects.select_related("school_unit__huvudman", "user")
        .filter(
            school_unit__code=params.get("skolenhetskod", ""),
            user__email__iexact=params.get("email", ""),
            user__role=Role.PRINCIPAL,
            user__is_active=True,
        )
        .first()
    )
    if assignment is None:
        return None
    school_unit = assignment.school_unit
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string(
            "emails/huvudman_contact.txt",
            {
                "school_unit": school_unit,
                "huvudman": school_unit.huvudman,
                "principal": assignment.user,
            },
        )
        subject = render_to_string(
            "emails/huvudman_contact_subject.txt", {"school_unit": school_unit}
        ).strip()
    return {"subject": subject, "body": body, "to": [assignment.user.email]}


# --- /admin/: material and site notices, each change audited -------------------

MATERIAL_FIELDS = (
    "title",
    "slug",
    "description",
    "subject",
    "level",
    "kind",
    "is_protected",
    "protection_reason",
    "file",
    "published_on",
)


@transaction.atomic
def material_save(*, context: AuditContext, material: Material) -> Material:
    """Create or change an item. SECURITY: whether it is protected decides
    who may read it, so every change is audited with the fields before and
    after (un-protecting an item is recorded as such)."""
    created = material.pk is None
    changes = field_changes(instance=material, fields=MATERIAL_FIELDS)
    material.save()
    audit_record(
        action=AuditAction.MATERIAL_CHANGED,
        context=context,
        target=material.slug,
        details={
            "change": "created" if created else "updated",
            "fields": changes,
            "protected": material.is_protected,
        },
    )
    return material


@transaction.atomic
def material_delete(*, context: AuditContext, material: Material) -> None:
    details = {"change": "deleted", "title": material.title, "protected": material.is_protected}
    slug = material.slug
    material.delete()
    audit_record(action=AuditAction.MATERIAL_CHANGED, context=context, target=slug, details=details)


SITE_NOTICE_FIELDS = ("title", "body", "title_en", "body_en", "starts_at", "ends_at")


@transaction.atomic
def site_notice_save(*, context: AuditContext, notice: SiteNotice) -> SiteNotice:
    created = notice.pk is None
    changes = field_changes(instance=notice, fields=SITE_NOTICE_FIELDS)
    notice.save()
    audit_record(
        action=AuditAction.SITE_NOTICE_CHANGED,
        context=context,
        target=notice.title,
        details={
            "change": "created" if created else "updated",
            "fields": changes,
            "starts_at": notice.starts_at.isoformat(),
            "ends_at": notice.ends_at.isoformat(),
        },
    )
    return notice


@transaction.atomic
def site_notice_delete(*, context: AuditContext, notice: SiteNotice) -> None:
    title = notice.title
    notice.delete()
    audit_record(
        action=AuditAction.SITE_NOTICE_CHANGED,
        context=context,
        target=title,
        details={"change": "deleted"},
    )


@transaction.atomic
def support_ticket_update(
    *,
    ticket: SupportTicket,
    context: AuditContext,
    status: str,
    assigned_to: User | None,
    answer: str = "",
) -> SupportTicket:
    """Change a ticket's status and handler and/or answer it by e-mail.

    An answer goes to the address the ticket came from, through the outbox
    (sent after commit by the worker), and makes a new or in-progress ticket
    answered (closing it at once stays closed). Each change is a history entry and an
    audit event, in this transaction.
    """
    ticket = SupportTicket.objects.select_for_update().get(pk=ticket.pk)
    actor = context.actor.get_username() if context.actor is not None else ""
    answer = (answer or "").strip()
    entries: list[SupportTicketEntry] = []
    if answer:
        subject = " ".join(f"Re: [Support #{ticket.pk}] {ticket.subject}".split())[:200]
        mail_enqueue(
            subject=subject, body=answer, to=[ticket.email], reply_to=[settings.SUPPORT_EMAIL]
        )
        entries.append(
            SupportTicketEntry(
                ticket=ticket, actor_username=actor, kind=TicketEntryKind.ANSWER, text=answer
            )
        )
        if status in (TicketStatus.NEW, TicketStatus.IN_PROGRESS):
            status = TicketStatus.ANSWERED
        audit_record(
            action=AuditAction.TICKET_ANSWERED,
            context=context,
            target=f"#{ticket.pk}",
            details={"ticket": ticket.pk},
        )
    changes = {}
    if status != ticket.status:
        entries.append(
            SupportTicketEntry(
                ticket=ticket,
                actor_username=actor,
                kind=TicketEntryKind.STATUS,
                text=f"{TicketStatus(ticket.status).label} → {TicketStatus(status).label}",
            )
        )
        changes["status"] = status
        ticket.status = status
    if (assigned_to.pk if assigned_to else None) != ticket.assigned_to_id:
        entries.append(
            SupportTicketEntry(
                ticket=ticket,
                actor_username=actor,
                kind=TicketEntryKind.ASSIGNED,
                text=str(assigned_to) if assigned_to else "–",
            )
        )
        changes["assigned_to"] = assigned_to.username if assigned_to else ""
        ticket.assigned_to = assigned_to
    if changes:
        ticket.save(update_fields=["status", "assigned_to"])
        audit_record(
            action=AuditAction.TICKET_CHANGED,
            context=context,
            target=f"#{ticket.pk}",
            details={"ticket": ticket.pk, **changes},
        )
    SupportTicketEntry.objects.bulk_create(entries)
    return ticket


# Tickets whose business is done; new and in-progress ones wait for support.
FINISHED_TICKETS = (TicketStatus.ANSWERED, TicketStatus.CLOSED)


@transaction.atomic
def support_tickets_purge(*, years: int, now: datetime.datetime | None = None) -> PurgeResult:
    """Delete answered and closed tickets (with their history) whose last
    activity lies more than `years` years back, and record that it was done
    (docs/privacy.md). A ticket nobody has handled is never deleted."""
    if years < 1:
        raise ValueError("Support tickets are kept at least 1 year.")
    before = years_before(now or timezone.now(), years)
    finished = (
        SupportTicket.objects.filter(status__in=FINISHED_TICKETS, created_at__lt=before)
        .annotate(last_activity=Coalesce(Max("entries__created_at"), "created_at"))
        .filter(last_activity__lt=before)
        .values("pk")
    )
    # Lock the candidates (an answer locks its ticket too, support_ticket_update),
    # then ask again in a new statement: an answer or reopening committed
    # while we waited has moved its ticket's last activity, and it stays.
    candidates = list(
        SupportTicket.objects.select_for_update()
        .filter(pk__in=finished)
        .values_list("pk", flat=True)
    )
    _, by_model = SupportTicket.objects.filter(pk__in=finished.filter(pk__in=candidates)).delete()
    deleted = by_model.get(SupportTicket._meta.label, 0)
    audit_record(
        action=AuditAction.TICKETS_PURGED,
        context=AuditContext.system(),
        details={"before": before.isoformat(), "deleted": deleted, "retention_years": years},
    )
    return PurgeResult(before=before, deleted=deleted)


def catalogue_as_teacher_record(*, membership, context: AuditContext) -> None:
    """A principal or test administrator looked at the catalogue as the
    teacher of `membership` sees it through that school (read-only)."""
    audit_record(
        action=AuditAction.CATALOGUE_VIEWED_AS_TEACHER,
        context=context,
        school_unit=membership.school_unit,
        target=membership.user.username,
    )
