"""Admin-site accounts (national admins, huvudman staff): created from the top,
enrolled with an authenticator app at the first login, and their login."""

import datetime
import time
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django_otp import verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.doors import Door, door_of
from accounts.models import ADMIN_ROLES, Role, User
from accounts.scopes import home_scope
from accounts.services.access import access_end
from accounts.services.login import CheckOutcome, login_audit, password_check
from accounts.services.passwords import password_regenerate
from accounts.throttle import (
    password_attempt_refusal,
    password_failure_record,
    password_success_record,
)
from accounts.usernames import generate_password, generate_username
from accounts.validators import validate_chosen_username_field, validate_person_name_field
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.refusals import RefusalCode, Refused


@transaction.atomic
def totp_enroll(*, user: User, context: AuditContext) -> TOTPDevice:
    """Give an admin-site user a new authenticator key, replacing any old one.

    The key is shown once (as an otpauth:// URI or QR code); the old device
    stops working at once.
    """
    replaced = TOTPDevice.objects.filter(user=user).delete()[0]
    device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    audit_record(
        action=AuditAction.TOTP_ENROLLED,
        context=context,
        huvudman=user.huvudman,
        target=user.username,
        details={"replaced": replaced},
    )
    if replaced:
        access_end(users=[user], context=context, reason="totp_replaced")
    return device


@dataclass(frozen=True)
class AdminLogin:
    """The outcome of an admin-site login form.

    `user` is set when the person may be logged in: verified with a TOTP
    code, or (`enrol`) with a one-time password, to the enrolment page only.
    `refused` names a refusal the form may tell after the right credentials
    (an expired one-time password, a deactivated account); otherwise every
    failure is the one message, with `retry_at` when the throttle delays.
    """

    user: User | None = None
    enrol: bool = False
    refused: RefusalCode | None = None
    retry_at: datetime.datetime | None = None
    throttled: bool = False


@transaction.atomic
def admin_login(
    *,
    context: AuditContext,
    username: str,
    password: str,
    token: str,
    door: Door,
    device: str = "",
) -> AdminLogin:
    """The /admin/ or /huvudman/ login: password, role and TOTP code, throttled and audited.

    SECURITY: every way to fail (unknown user, wrong password, wrong role, no
    authenticator app, wrong or missing code, a replayed code) ends the same
    for the caller: no user, and the retry time of the shared password
    throttle. Each failure is counted there under the username, and the
    count is cleared only by a whole login, so the throttle's answers do not
    tell which factor was wrong either. The code is checked only through
    `django_otp.verify_token` on the user's own confirmed TOTP device (a
    transaction with the device row locked; django-otp refuses a code of a
    time step already used), never a matrix card.

    A new account (`staff_create`) has no device yet: its one-time password
    alone logs it in to the enrolment page (`enrol=True`), until
    `onboarding_until`. A deactivated account is told so only after both
    factors were right.
    """
    check = password_check(
        context=context,
        username=username,
        password=password,
        door=door,
        device=device,
        clear_on_success=False,
    )
    if check.outcome == CheckOutcome.THROTTLED:
        return AdminLogin(retry_at=check.retry_at, throttled=True)
    if check.account is None:
        return AdminLogin(retry_at=check.retry_at)
    user = check.account
    address = context.address

    def fail(refused: RefusalCode | None) -> AdminLogin:
        password_failure_record(username=username, address=address, device=device)
        if refused is not None:
            login_audit(user=user, context=context, door=door, factor="password", refused=refused)
        refusal = password_attempt_refusal(username=username, address=address, device=device)
        return AdminLogin(retry_at=refusal.params["retry_at"] if refusal else None)

    if not (user.is_staff and door_of(user) == door):
        return fail(RefusalCode.WRONG_ROLE)
    if user.onboarding_until is not None:
        return _admin_onboarding_login(
            user=user, context=context, door=door, username=username, device=device
        )
    totp = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    if totp is None:
        return fail(RefusalCode.NO_DEVICE)
    login_audit(user=user, context=context, door=door, factor="password", first_step=True)
    verified = _totp_verified(user=user, totp=totp, token=token, context=context, door=door)
    if verified is None:
        return fail(None)
    if not user.is_active:
        # Both factors were right: the holder may be told, and whom to ask.
        return AdminLogin(refused=RefusalCode.ACCOUNT_INACTIVE)
    password_success_record(username=username, address=address, device=device)
    login_audit(user=user, context=context, door=door, factor="totp")
    # django_otp's user_logged_in handler stores this device in the session.
    user.otp_device = verified
    return AdminLogin(user=user)


def _totp_verified(*, user: User, totp: TOTPDevice, token: str, context: AuditContext, door: Door):
    """The device if `token` is its current code (django-otp's throttle and
    replay check); else None, with the failure audited."""
    token = "".join((token or "").split())
    verified = verify_token(user, totp.persistent_id, token) if token else None
    if verified is None:
        totp.refresh_from_db()
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            context=context.acting(user),
            target=user.username,
            details={
                "factor": "totp",
                "door": door,
                "missing": not token,
                "failures": totp.throttling_failure_count,
            },
            **home_scope(user),
        )
    return verified


def _admin_onboarding_login(
    *, user: User, context: AuditContext, door: Door, username: str, device: str
) -> AdminLogin:
    """The right one-time password of an account that has not enrolled yet."""
    if not user.is_active:
        return AdminLogin(refused=RefusalCode.ACCOUNT_INACTIVE)
    if user.onboarding_until <= timezone.now():
        login_audit(
            user=user,
            context=context,
            door=door,
            factor="password",
            refused=RefusalCode.ONBOARDING_EXPIRED,
        )
        return AdminLogin(refused=RefusalCode.ONBOARDING_EXPIRED)
    password_success_record(username=username, address=context.address, device=device)
    login_audit(
        user=user,
        context=context,
        door=door,
        factor="one_time_password",
        details={"enrolment": True},
    )
    return AdminLogin(user=user, enrol=True)


# How long a one-time password of a new (or reset) admin-site account works.
ONBOARDING_LIFETIME = datetime.timedelta(days=7)


@dataclass(frozen=True)
class IssuedStaff:
    """A new admin-site account's one-time password, in clear only here: shown once."""

    user: User
    password: str = field(repr=False)
    onboarding_until: datetime.datetime


def admin_role_rules(*, role: str, huvudman) -> None:
    """The one rule of admin-site roles: staff belong to a huvudman, a
    national admin to none. A `ValidationError` by field otherwise."""
    if role not in ADMIN_ROLES:
        raise ValidationError(
            {"role": gettext("Only national administrators and huvudman staff are created here.")}
        )
    if role == Role.HUVUDMAN_STAFF and huvudman is None:
        raise ValidationError({"huvudman": gettext("Huvudman staff must belong to a huvudman.")})
    if role == Role.NATIONAL_ADMIN and huvudman is not None:
        raise ValidationError(
            {"huvudman": gettext("A national administrator belongs to no huvudman.")}
        )


@transaction.atomic
def staff_create(
    *,
    context: AuditContext,
    role: str,
    huvudman,
    first_name: str,
    last_name: str,
    email: str,
    username: str = "",
) -> IssuedStaff:
    """A national admin creates a national admin or a huvudman staff member.

    The account gets a generated one-time password, shown once. At its first
    login it must enrol an authenticator app and choose its own password
    (`admin_enrolment_complete`) before anything else opens; the one-time
    password stops working after ONBOARDING_LIFETIME (ASVS 6.4.1: an
    initial secret expires and never becomes the long-term password).
    Invalid input is a `ValidationError` by field; nothing is saved.
    """
    admin_role_rules(role=role, huvudman=huvudman)
    first_name, last_name, email = first_name.strip(), last_name.strip(), email.strip()
    for name, value in (("first_name", first_name), ("last_name", last_name)):
        validate_person_name_field(name, value)
    username = username.strip().lower()
    chosen = bool(username)
    if chosen:
        validate_chosen_username_field(username)
    else:
        username = generate_username()
    password = generate_password()
    user = User(
        username=username,
        role=role,
        huvudman=huvudman if role == Role.HUVUDMAN_STAFF else None,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=True,
        is_superuser=role == Role.NATIONAL_ADMIN,
        onboarding_until=timezone.now() + ONBOARDING_LIFETIME,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        action=AuditAction.ACCOUNT_CREATED,
        context=context,
        target=user.username,
        details={"role": role, "username_chosen": chosen},
        **home_scope(user),
    )
    audit_record(
        action=AuditAction.PASSWORD_ISSUED,
        context=context,
        target=user.username,
        details={"one_time": True, "valid_until": user.onboarding_until.isoformat()},
        **home_scope(user),
    )
    return IssuedStaff(user=user, password=password, onboarding_until=user.onboarding_until)


@transaction.atomic
def staff_onboarding_reset(*, context: AuditContext, user: User) -> IssuedStaff:
    """A lost password or phone of an admin-site account: a new one-time
    password, and the authenticator app must be enrolled again.

    The old password and every TOTP device stop working at once, and every
    session of the account ends.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role not in ADMIN_ROLES:
        raise Refused(RefusalCode.NOT_ALLOWED)
    if context.actor is not None and context.actor.pk == user.pk:
        raise Refused(RefusalCode.OWN_ACCOUNT)
    password = generate_password()
    user.set_password(password)
    user.onboarding_until = timezone.now() + ONBOARDING_LIFETIME
    user.save(update_fields=["password", "onboarding_until"])
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    audit_record(
        action=AuditAction.PASSWORD_ISSUED,
        context=context,
        target=user.username,
        details={
            "one_time": True,
            "valid_until": user.onboarding_until.isoformat(),
            "totp_devices_removed": removed,
        },
        **home_scope(user),
    )
    access_end(users=[user], context=context, reason="credentials_reset")
    return IssuedStaff(user=user, password=password, onboarding_until=user.onboarding_until)


def totp_enrolment_key() -> str:
    """A new authenticator key (hex), kept in the enrolling session until confirmed."""
    return random_hex(20)


def totp_enrolment_uri(*, user: User, key: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return TOTPDevice(user=user, key=key).config_url


@transaction.atomic
def admin_enrolment_complete(
    *,
    user: User,
    key: str,
    token: str,
    new_password: str,
    context: AuditContext,
    keep_session_key: str = "",
) -> TOTPDevice | None:
    """Finish an admin-site account's first login: the authenticator app
    proves it has `key` with a current code, and the person's own password
    replaces the one-time password. None (and nothing saved) for a wrong code.

    SECURITY: the device is created only now, confirmed, with the code's
    time step marked used (django-otp then refuses that code again), so a
    failed enrolment leaves no device behind. The caller has validated the
    new password; the one-time password stops working with it.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.onboarding_until is None or not user.is_active:
        raise Refused(RefusalCode.NOT_ALLOWED)
    if user.onboarding_until <= timezone.now():
        raise Refused(RefusalCode.ONBOARDING_EXPIRED)
    device = TOTPDevice(user=user, key=key, name=gettext("Authenticator app"), confirmed=True)
    code = "".join((token or "").split())
    if not code.isdigit() or len(code) != device.digits:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(code), device.tolerance):
        return None
    device.last_t = totp.t()
    TOTPDevice.objects.filter(user=user).delete()
    device.save()
    user.set_password(new_password)
    user.onboarding_until = None
    user.save(update_fields=["password", "onboarding_until"])
    scope = home_scope(user)
    audit_record(
        action=AuditAction.TOTP_ENROLLED,
        context=context.acting(user),
        target=user.username,
        details={"by": "self"},
        **scope,
    )
    audit_record(
        action=AuditAction.PASSWORD_CHANGED,
        context=context.acting(user),
        target=user.username,
        details={"by": "self", "replaces": "one_time_password"},
        **scope,
    )
    access_end(
        users=[user],
        context=context.acting(user),
        reason="enrolled",
        keep_session_key=keep_session_key,
    )
    return device


# "Leave as it is", where None is a value (no huvudman).
UNCHANGED = object()


@transaction.atomic
def account_admin_update(
    *,
    context: AuditContext,
    user: User,
    first_name: str,
    last_name: str,
    email: str,
    is_active: bool,
    role: str | None = None,
    huvudman=UNCHANGED,
) -> list[str]:
    """A national admin changes an account in /admin/. Returns the changed fields.

    Names and e-mail: audited. Deactivation: the account's sessions end for
    good (`access_end`); reactivation revives none. Role and huvudman change
    only between the admin-site roles (a principal's, test administrator's
    or teacher's role is bound to its appointment), with the same rules as
    at creation, and end every session too. Nobody deactivates their own
    account or changes its role, so the last national admin cannot lock
    everyone out by mistake.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    own = context.actor is not None and context.actor.pk == user.pk
    personal = _personal_fields_set(user, first_name=first_name, last_name=last_name, email=email)
    role = user.role if role is None else role
    huvudman = user.huvudman if huvudman is UNCHANGED else huvudman
    old_role = _role_set(user, role=role, huvudman=huvudman, own=own)
    deactivating = user.is_active and not is_active
    reactivating = not user.is_active and is_active
    if deactivating and own:
        raise Refused(RefusalCode.OWN_ACCOUNT)
    changed = personal + (["role", "huvudman"] if old_role else [])
    if deactivating or reactivating:
        user.is_active = is_active
        changed.append("is_active")
    if not changed:
        return []
    user.full_clean(exclude=["password"])
    user.save()
    scope = home_scope(user)
    if personal:
        audit_record(
            action=AuditAction.ACCOUNT_CHANGED,
            context=context,
            target=user.username,
            details={"fields": personal},
            **scope,
        )
    if old_role:
        audit_record(
            action=AuditAction.ROLE_CHANGED,
            context=context,
            target=user.username,
            details={
                "before": old_role,
                "after": {"role": user.role, "huvudman": user.huvudman_id},
            },
            **scope,
        )
    if deactivating or reactivating:
        audit_record(
            action=AuditAction.ACCOUNT_DEACTIVATED
            if deactivating
            else AuditAction.ACCOUNT_REACTIVATED,
            context=context,
            target=user.username,
            details={"by": "national_admin"},
            **scope,
        )
    if deactivating or old_role:
        access_end(
            users=[user],
            context=context,
            reason="deactivated" if deactivating else "role_changed",
        )
    return changed


def _personal_fields_set(user: User, *, first_name: str, last_name: str, email: str) -> list[str]:
    """Set the names and e-mail (names validated); the fields that changed."""
    changed = []
    after = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "email": email.strip(),
    }
    for name, value in after.items():
        if name != "email":
            validate_person_name_field(name, value)
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    return changed


def _role_set(user: User, *, role: str, huvudman, own: bool) -> dict | None:
    """Move an admin-site account to `role` (and `huvudman`) under the
    creation's rules; the role and huvudman before, or None if unchanged."""
    huvudman_id = getattr(huvudman, "pk", None)
    if role == user.role and not (role == Role.HUVUDMAN_STAFF and huvudman_id != user.huvudman_id):
        return None
    if user.role not in ADMIN_ROLES:
        raise Refused(RefusalCode.NOT_ALLOWED)
    if own:
        raise Refused(RefusalCode.OWN_ACCOUNT)
    admin_role_rules(role=role, huvudman=huvudman)
    old = {"role": user.role, "huvudman": user.huvudman_id}
    user.role = role
    user.huvudman = huvudman if role == Role.HUVUDMAN_STAFF else None
    user.is_superuser = role == Role.NATIONAL_ADMIN
    return old


@transaction.atomic
def admin_password_issue(*, context: AuditContext, user: User) -> IssuedStaff | str:
    """/admin/accounts/user/<id>/password/: a national admin issues a new password.

    An admin-site account gets a one-time password and enrols again
    (`staff_onboarding_reset`); any other account a generated password
    (`password_regenerate`), as the role above it would issue. Either way the
    old password stops working and every session ends. Nobody types a
    password for someone else here.
    """
    if user.role in ADMIN_ROLES:
        return staff_onboarding_reset(context=context, user=user)
    return password_regenerate(user=user, context=context)
