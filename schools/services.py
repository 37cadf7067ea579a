"""Writes about huvudmän, school units and principals. Each is atomic and
records its audit event in the same transaction.

Services validate their input (a `ValidationError` with a Swedish message,
nothing saved) but do not decide who may call them: the /huvudman/ site and
the `issue_principal` command ask `permissions.policy` first.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
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
from core.locks import advisory_lock
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
) -> bool:
    """Link a principal to one more school unit. False if it already was."""
    _locked_principal(principal)
    _, created = PrincipalAssignment.objects.get_or_create(user=principal, school_unit=school_unit)
    if created:
        audit_record(
            action=AuditAction.PRINCIPAL_LINKED,
            context=context,
            school_unit=school_unit,
            target=principal.username,
        )
    return created


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
