"""Writes of Bedömningsportalen and the support pages. Each is atomic; access
changes and downloads are audited in the same transaction."""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from accounts.mail import mail_enqueue
from accounts.models import Role, User
from permissions.audit import AuditAction, AuditContext, audit_record, field_changes
from permissions.policy import Access
from portal.models import Material, SiteNotice, SupportTicket, TicketCategory
from schools.models import PrincipalAssignment


@transaction.atomic
def teacher_password_change(*, user: User, new_password: str, context: AuditContext) -> None:
    """Set the teacher's own new password.

    The caller has checked the current password and Django's validators.
    Every session of the account ends (their session hash no longer
    matches); the view keeps its own with `update_session_auth_hash`.
    """
    user.set_password(new_password)
    user.save(update_fields=["password"])
    audit_record(
        action=AuditAction.PASSWORD_CHANGED,
        context=context,
        target=user.username,
        details={"by": "self"},
    )


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
def huvudman_contact_send(*, skolenhetskod: str, email: str) -> bool:
    """Mail the huvudman's contact details to a principal of that school.

    Returns whether a mail was sent, for tests only: the view answers the
    same either way. SECURITY: the mail goes to the address stored on the
    principal's account, never to the typed one, and only an active
    principal linked to that very school qualifies.
    """
    assignment = (
        PrincipalAssignment.objects.select_related("school_unit__huvudman", "user")
        .filter(
            school_unit__code=skolenhetskod,
            user__email__iexact=email,
            user__role=Role.PRINCIPAL,
            user__is_active=True,
        )
        .first()
    )
    # SECURITY: a match also sends a mail. With a synchronous mail backend the
    # answer then takes longer, a timing difference the rate limits (per
    # address and per e-mail) keep too slow to enumerate principals with; a
    # mail queue would remove it.
    if assignment is None:
        return False
    school_unit = assignment.school_unit
    huvudman = school_unit.huvudman
    recipient = assignment.user.email
    body = render_to_string(
        "emails/huvudman_contact.txt",
        {"school_unit": school_unit, "huvudman": huvudman, "principal": assignment.user},
    )
    subject = render_to_string(
        "emails/huvudman_contact_subject.txt", {"school_unit": school_unit}
    ).strip()
    mail_enqueue(subject=subject, body=body, to=[recipient])
    return True


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


SITE_NOTICE_FIELDS = ("title", "body", "starts_at", "ends_at")


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
