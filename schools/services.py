"""Writes about huvudmän, school units and principals. Each is atomic and
records its audit event in the same transaction.

Services validate their input (a `ValidationError` with a Swedish message,
nothing saved) but do not decide who may call them: the /huvudman/ site and
the `issue_principal` command ask `permissions.policy` first.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.services.access import access_end
from accounts.services.cards import IssuedCard, card_issue
from accounts.services.passwords import password_regenerate
from accounts.usernames import generate_password, generate_username
from accounts.validators import CONTROL_CHARACTER_MESSAGE, has_control_characters
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record, field_changes
from core.i18n import localized_path
from core.locks import advisory_lock
from core.outbox import mail_enqueue
from core.refusals import RefusalCode, Refused
from schools.models import Huvudman, PrincipalAssignment, SchoolForm, SchoolUnit

NAME_MAX_LENGTH = 150


@dataclass(frozen=True)
class IssuedPrincipal:
    """A new principal's credentials, in clear only in this object: shown
    once on the result page (or printed by the command), then gone."""

    user: User
    password: str
    card: IssuedCard


@transaction.atomic
def school_unit_save(
    *,
    context: AuditContext,
    huvudman: Huvudman,
    name: str,
    forms: Iterable[SchoolForm],
    code: str = "",
    school_unit: SchoolUnit | None = None,
) -> SchoolUnit:
    """Create a school unit of `huvudman` (with `code`), or rename an existing
    one and set its school forms. The skolenhetskod never changes once set."""
    forms = list(forms)
    if not forms:
        raise ValidationError({"forms": _("Choose at least one school form.")})
    created = school_unit is None
    if created:
        school_unit = SchoolUnit(code=(code or "").strip(), huvudman=huvudman)
    elif school_unit.huvudman_id != huvudman.pk:
        # SECURITY: a caller bug must not move a unit between huvudmän.
        raise ValidationError(_("The school unit belongs to another huvudman."))
    school_unit.name = (name or "").strip()
    school_unit.full_clean()
    school_unit.save()
    school_unit.forms.set(forms)
    audit_record(
        action=AuditAction.SCHOOL_UNIT_CHANGED,
        context=context,
        school_unit=school_unit,
        target=str(school_unit),
        details={
            "change": "created" if created else "updated",
            "name": school_unit.name,
            "forms": sorted(form.pk for form in forms),
        },
    )
    return school_unit


@transaction.atomic
def huvudman_contact_update(
    *,
    context: AuditContext,
    huvudman: Huvudman,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
) -> Huvudman:
    """Change the contact person principals are pointed to."""
    huvudman.contact_name = (contact_name or "").strip()
    huvudman.contact_email = (contact_email or "").strip()
    huvudman.contact_phone = (contact_phone or "").strip()
    huvudman.full_clean()
    huvudman.save(update_fields=["contact_name", "contact_email", "contact_phone"])
    audit_record(
        action=AuditAction.HUVUDMAN_CHANGED,
        context=context,
        huvudman=huvudman,
        target=str(huvudman),
        details={
            "contact_name": huvudman.contact_name,
            "contact_email": huvudman.contact_email,
            "contact_phone": huvudman.contact_phone,
        },
    )
    return huvudman


def _split_name(name: str) -> tuple[str, str]:
    """'Anna Maria Svensson' → ('Anna Maria', 'Svensson'); one word is a first name."""
    words = (name or "").split()
    if not words:
        raise ValidationError({"name": _("Enter the principal's name.")})
    if has_control_characters(name):
        raise ValidationError({"name": CONTROL_CHARACTER_MESSAGE})
    first, last = (" ".join(words[:-1]), words[-1]) if len(words) > 1 else (words[0], "")
    if len(first) > NAME_MAX_LENGTH or len(last) > NAME_MAX_LENGTH:
        raise ValidationError({"name": _("The name is too long.")})
    return first, last


def _clean_email(email: str) -> str:
    email = BaseUserManager.normalize_email((email or "").strip())
    if len(email) > User._meta.get_field("email").max_length:
        raise ValidationError({"email": _("The e-mail address is too long.")})
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": _("Enter a valid e-mail address.")}) from error
    return email


def _audit_units(principal: User) -> list[str]:
    return sorted(principal.led_school_units.values_list("code", flat=True))


def _refuse_second_principal(*, email: str, huvudman_id: int) -> None:
    """One principal account per person and huvudman: a reloaded result page
    or a second "Save" must not issue a second account with its own card.
    Someone the huvudman already has (active or deactivated, by e-mail in any
    letter case) gets more school units or new credentials on their page.
    Only this huvudman's principals are looked at: another huvudman's are
    none of its business. Concurrent issues of one address wait for each
    other (the advisory lock), so both cannot pass the check."""
    advisory_lock("principal-email:" + email.lower())
    existing = (
        User.objects.filter(
            role=Role.PRINCIPAL,
            email__iexact=email,
            principal_assignments__school_unit__huvudman_id=huvudman_id,
        )
        .order_by("pk")
        .first()
    )
    if existing is not None:
        raise ValidationError(
            {
                "email": _(
                    "%(name)s already has a principal account with this e-mail address "
                    "(username %(username)s). Link more school units or give new credentials "
                    "on that principal's page instead of issuing a second account."
                )
                % {"name": existing.get_full_name(), "username": existing.username}
            }
        )


@transaction.atomic
def principal_issue(
    *,
    context: AuditContext,
    name: str,
    email: str,
    school_units: Iterable[SchoolUnit],
) -> IssuedPrincipal:
    """A new principal account linked to `school_units`, with a generated
    username, password and matrix card. Only hashes are stored; the clear
    password and cells are returned once in `IssuedPrincipal`."""
    first_name, last_name = _split_name(name)
    email = _clean_email(email)
    school_units = list(school_units)
    if not school_units:
        raise ValidationError({"school_units": _("Choose at least one school unit.")})
    if len({unit.huvudman_id for unit in school_units}) > 1:
        # One issuer, one huvudman: staff issue principals only for their own units.
        raise ValidationError({"school_units": _("Choose school units of one huvudman only.")})
    _refuse_second_principal(email=email, huvudman_id=school_units[0].huvudman_id)
    password = generate_password()
    principal = User(
        username=generate_username(),
        role=Role.PRINCIPAL,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    principal.set_password(password)
    principal.save()
    for school_unit in school_units:
        PrincipalAssignment.objects.create(user=principal, school_unit=school_unit)
    audit_record(
        action=AuditAction.PRINCIPAL_ISSUED,
        context=context,
        school_unit=school_units[0] if len(school_units) == 1 else None,
        huvudman=school_units[0].huvudman,
        target=principal.username,
        details={"school_units": sorted(unit.code for unit in school_units)},
    )
    for school_unit in school_units:
        audit_record(
            action=AuditAction.PRINCIPAL_LINKED,
            context=context,
            school_unit=school_unit,
            target=principal.username,
        )
    card = card_issue(user=principal, context=context)
    return IssuedPrincipal(user=principal, password=password, card=card)


def _locked_principal(principal: User) -> User:
    # Serialize changes to one principal's links (two unlinks at once must not
    # leave it with none).
    return User.objects.select_for_update().get(pk=principal.pk, role=Role.PRINCIPAL)


@transaction.atomic
def principal_link(
    *,
    context: AuditContext,
    principal: User,
    school_unit: SchoolUnit,
    replaces: bool = False,
) -> bool:
    """Link a principal to one more school unit. False if it already was.

    With `replaces`, the new principal takes over the school: every other
    principal's link to it ends (`_principal_hand_over`), and both are told
    by mail who did it; the newcomer is led to the school's handover page.
    """
    _locked_principal(principal)
    _, created = PrincipalAssignment.objects.get_or_create(user=principal, school_unit=school_unit)
    if created:
        audit_record(
            action=AuditAction.PRINCIPAL_LINKED,
            context=context,
            school_unit=school_unit,
            target=principal.username,
            details={"replaces": True} if replaces else None,
        )
    if replaces:
        outgoing = list(
            User.objects.filter(role=Role.PRINCIPAL, principal_assignments__school_unit=school_unit)
            .exclude(pk=principal.pk)
            .order_by("pk")
        )
        for person in outgoing:
            _principal_hand_over(
                context=context, outgoing=person, incoming=principal, school_unit=school_unit
            )
        handover_mails(
            context=context, school_unit=school_unit, incoming=principal, outgoing=outgoing
        )
    return created


def _principal_hand_over(
    *, context: AuditContext, outgoing: User, incoming: User, school_unit: SchoolUnit
) -> None:
    """End `outgoing`'s link to `school_unit`, which `incoming` now leads,
    with an event at the school naming both (the actor is who did it).

    A principal keeps at least one unit (`principal_unlink`): one whose only
    school this was keeps the link but is deactivated instead, so the
    huvudman still finds (and may reactivate) the account.
    """
    _locked_principal(outgoing)
    details = {"replaced_by": incoming.username}
    if PrincipalAssignment.objects.filter(user=outgoing).count() > 1:
        PrincipalAssignment.objects.filter(user=outgoing, school_unit=school_unit).delete()
        audit_record(
            action=AuditAction.PRINCIPAL_UNLINKED,
            context=context,
            school_unit=school_unit,
            target=outgoing.username,
            details=details,
        )
        access_end(users=[outgoing], context=context, reason="unlinked", school_unit=school_unit)
        return
    if outgoing.is_active:
        outgoing.is_active = False
        outgoing.save(update_fields=["is_active"])
        audit_record(
            action=AuditAction.ACCOUNT_DEACTIVATED,
            context=context,
            school_unit=school_unit,
            target=outgoing.username,
            details={**details, "school_units": [school_unit.code]},
        )
        access_end(users=[outgoing], context=context, reason="deactivated", school_unit=school_unit)


def handover_mails(
    *, context: AuditContext, school_unit: SchoolUnit, incoming: User, outgoing: list[User]
) -> None:
    """Through the outbox: the newcomer is sent to the school's handover
    page, each outgoing principal told that the link ended; both by whom."""
    by = (context.actor.get_full_name() or context.actor.username) if context.actor else ""
    values = {
        "school": school_unit.name,
        "by": by,
        "huvudman": school_unit.huvudman.name,
        "incoming": incoming.get_full_name() or incoming.username,
    }
    if incoming.email:
        url = settings.SITE_URL + localized_path(
            reverse("etjanster:handover", args=[school_unit.code])
        )
        mail_enqueue(
            subject=_("You now lead %(school)s") % values,
            body=_(
                "Hello %(incoming)s,\n\n%(by)s at %(huvudman)s has made you the principal of "
                "%(school)s in E-services. The handover of the school (its teachers, subjects, "
                "test administrators and the last month of its log) is at %(url)s\n"
            )
            % {**values, "url": url},
            to=[incoming.email],
        )
    for person in outgoing:
        if person.email:
            mail_enqueue(
                subject=_("Your link to %(school)s has ended") % values,
                body=_(
                    "Hello %(name)s,\n\n%(by)s at %(huvudman)s has made %(incoming)s the "
                    "principal of %(school)s in E-services, and your link to the school has "
                    "ended. The teachers and test administrators of the school are not "
                    "affected. Ask %(huvudman)s if this is wrong.\n"
                )
                % {**values, "name": person.get_full_name() or person.username},
                to=[person.email],
            )


@transaction.atomic
def principal_unlink(
    *,
    context: AuditContext,
    principal: User,
    school_unit: SchoolUnit,
) -> bool:
    """Unlink a principal from a school unit. False if it was not linked.

    A principal keeps at least one unit: to end access altogether, deactivate
    the account (so it stays visible to its huvudman and can be reactivated).
    """
    _locked_principal(principal)
    assignments = PrincipalAssignment.objects.filter(user=principal)
    assignment = assignments.filter(school_unit=school_unit).first()
    if assignment is None:
        return False
    if assignments.count() == 1:
        raise Refused(RefusalCode.LAST_SCHOOL_UNIT)
    assignment.delete()
    audit_record(
        action=AuditAction.PRINCIPAL_UNLINKED,
        context=context,
        school_unit=school_unit,
        target=principal.username,
    )
    # The principal loses this school: sessions opened with it end for good.
    access_end(users=[principal], context=context, reason="unlinked", school_unit=school_unit)
    return True


@transaction.atomic
def principal_deactivate(
    *,
    context: AuditContext,
    principal: User,
    huvudman: Huvudman | None = None,
) -> None:
    """The account can no longer log in, and its sessions end at once."""
    _principal_set_active(context=context, principal=principal, huvudman=huvudman, active=False)


@transaction.atomic
def principal_reactivate(
    *,
    context: AuditContext,
    principal: User,
    huvudman: Huvudman | None = None,
) -> None:
    """The same username, password and card work again. Sessions from before
    the deactivation stay ended."""
    _principal_set_active(context=context, principal=principal, huvudman=huvudman, active=True)


def _principal_set_active(
    *,
    context: AuditContext,
    principal: User,
    huvudman: Huvudman | None,
    active: bool,
) -> None:
    principal = _locked_principal(principal)
    if principal.is_active == active:
        return
    principal.is_active = active
    principal.save(update_fields=["is_active"])
    audit_record(
        action=AuditAction.ACCOUNT_REACTIVATED if active else AuditAction.ACCOUNT_DEACTIVATED,
        context=context,
        huvudman=huvudman,
        target=principal.username,
        details={"school_units": _audit_units(principal)},
    )
    if not active:
        # SECURITY: for good: a later reactivation revives none of them.
        access_end(users=[principal], context=context, reason="deactivated", huvudman=huvudman)


@dataclass(frozen=True)
class RegeneratedCredentials:
    """What was replaced, in clear only here: None for what was kept."""

    password: str | None
    card: IssuedCard | None


@transaction.atomic
def principal_regenerate(
    *,
    context: AuditContext,
    principal: User,
    password: bool,
    card: bool,
) -> RegeneratedCredentials:
    """A new password and/or card; the username stays. The old ones stop
    working at once and the principal's sessions end (one transaction, so a
    failure leaves both the old password and the old card in place)."""
    if not (password or card):
        raise ValidationError(_("Choose a new password, a new card or both."))
    principal = _locked_principal(principal)
    # Each ends every session of the principal (`access_end`).
    new_password = password_regenerate(user=principal, context=context) if password else None
    new_card = card_issue(user=principal, context=context) if card else None
    return RegeneratedCredentials(password=new_password, card=new_card)


HUVUDMAN_FIELDS = ("name", "organisationsnummer", "contact_name", "contact_email", "contact_phone")


@transaction.atomic
def huvudman_save(*, context: AuditContext, huvudman: Huvudman) -> Huvudman:
    """A national admin creates or changes a huvudman (validated by its form)."""
    created = huvudman.pk is None
    changes = field_changes(instance=huvudman, fields=HUVUDMAN_FIELDS)
    huvudman.save()
    audit_record(
        action=AuditAction.HUVUDMAN_CHANGED,
        context=context,
        huvudman=huvudman,
        target=str(huvudman),
        details={"change": "created" if created else "updated", "fields": changes},
    )
    return huvudman
