"""Teachers joining and leaving a school: registration (one by one, by CSV,
or a principal's own), removal and its undo, a teacher's new password."""

import dataclasses
import datetime
from collections.abc import Iterable, Sequence

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import ETJANSTER_ROLES, Role, User
from accounts.services.access import access_end
from accounts.services.passwords import password_regenerate
from accounts.usernames import (
    USERNAME_ALPHABET,
    USERNAME_LENGTH,
    generate_password,
    generate_username,
)
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_build, audit_record
from audit.models import AuditEvent
from core.locks import advisory_lock
from core.refusals import RefusalCode, Refused
from permissions.models import EmailCodePurpose, Membership, Subject, SubjectGrant
from permissions.passwords import generate_passwords, hash_generated_password, random_strings
from permissions.policy import (
    RESTORE_WINDOW,
    can_regenerate_teacher_password,
    reactivated_until,
    restorable_memberships,
    restorable_removed_accounts,
    school_memberships,
)
from permissions.selectors import teacher_accounts_by_email
from permissions.services.codes import email_code_issue, email_code_mail_limit
from permissions.services.removal import account_removed_event, account_restore, accounts_remove
from schools.models import SchoolUnit


@dataclasses.dataclass(frozen=True)
class Registration:
    membership: Membership
    user: User
    # A new account's password, shown once; None for an account that existed.
    password: str | None
    # An existing account linked by e-mail: it waits for its owner's confirmation.
    pending: bool = False

    @property
    def linked(self) -> bool:
        return self.pending


def find_teacher_account(*, email: str) -> User | None:
    """One person, one teacher account: the account a school's registration
    of this e-mail address links to (`teacher_accounts_by_email`: never a
    principal's own teacher account), the oldest if several."""
    return teacher_accounts_by_email(emails=[email]).get(email.strip().lower())


def _teacher_account_create(
    *,
    school_unit: SchoolUnit,
    context: AuditContext,
    first_name: str,
    last_name: str,
    email: str,
    owner: User | None = None,
) -> tuple[User, str]:
    password = generate_password()
    user = User.objects.create_user(
        username=generate_username(),
        password=password,
        role=Role.TEACHER,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email,
        etjanster_owner=owner,
    )
    audit_record(
        action=AuditAction.PASSWORD_ISSUED,
        context=context,
        school_unit=school_unit,
        target=user.username,
    )
    return user, password


def _membership_create(
    *,
    user: User,
    school_unit: SchoolUnit,
    subjects: list[Subject],
    context: AuditContext,
    today: datetime.date,
    confirmed: bool,
    new_account: bool,
) -> Membership:
    membership = Membership.objects.create(
        user=user,
        school_unit=school_unit,
        valid_until=reactivated_until(today=today),
        confirmed_at=timezone.now() if confirmed else None,
    )
    SubjectGrant.objects.bulk_create(
        [SubjectGrant(membership=membership, subject=subject) for subject in subjects]
    )
    audit_record(
        action=AuditAction.MEMBERSHIP_REGISTERED,
        context=context,
        school_unit=school_unit,
        target=user.username,
        details={
            "subjects": sorted(s.code for s in subjects),
            "new_account": new_account,
            "confirmed": confirmed,
            "valid_until": membership.valid_until.isoformat(),
        },
    )
    return membership


@dataclasses.dataclass(frozen=True)
class NewTeacher:
    """One teacher to register at a school, as typed or as a CSV row."""

    first_name: str
    last_name: str
    email: str
    subjects: Sequence[Subject] = ()
    csv_row: int | None = None


@transaction.atomic
def membership_register(
    *,
    school_unit: SchoolUnit,
    context: AuditContext,
    first_name: str,
    last_name: str,
    email: str,
    subjects: Iterable[Subject],
    today: datetime.date,
) -> Registration:
    """Register a teacher at a school: a new account, or a link to the
    existing account with this e-mail. Valid to the end of the school year."""
    teacher = NewTeacher(
        first_name=first_name, last_name=last_name, email=email, subjects=list(subjects)
    )
    (registration,) = memberships_register(
        school_unit=school_unit, context=context, teachers=[teacher], today=today
    )
    return registration


@transaction.atomic
def memberships_register(
    *,
    school_unit: SchoolUnit,
    context: AuditContext,
    teachers: Sequence[NewTeacher],
    today: datetime.date,
    bulk_hash: bool = False,
) -> list[Registration]:
    """Register teachers at a school, in a constant number of queries: a new
    account for an e-mail no teacher has, a link to the existing teacher
    account for one that has (`find_teacher_account`'s rule). The one place
    where teachers join a school by e-mail: single registration and the CSV
    import both come here, so every rule about linking holds for both.

    SECURITY: an e-mail address is not proof of identity. Whoever registered
    the address first (another school, at this or another huvudman) knows the
    account's first password, so a silent link would hand this school's
    grants to them, or this school's "new password" the account (SPEC: no
    school takes over another's teacher). A linked membership therefore
    grants nothing (`confirmed_at` is None; the gate, `valid_on` and
    `membership_valid_q` require it) until the account's owner proves the
    address: a one-time code goes to the account's e-mail, and with it the
    owner confirms (choosing a new password that no school has seen) or
    declines (`email_code_redeem`). The account's other schools learn of it
    (an audit event) only when the owner confirms. A principal's own teacher
    account is never found by e-mail (`policy.linkable_teacher_accounts`).

    Refused (nothing saved) when any of them is already at this school.
    `bulk_hash` hashes the generated passwords with the fast hasher meant
    for them (`permissions.passwords`; a CSV import of thousands), else Argon2.
    """
    emails = [teacher.email.strip() for teacher in teachers]
    if len({email.lower() for email in emails}) != len(emails):
        raise ValueError("Each teacher once: an e-mail address is repeated.")
    serialize_by_email(*emails)
    accounts = teacher_accounts_by_email(emails=emails)
    _refuse_unless_registrable(school_unit=school_unit, accounts=accounts, emails=emails)
    new = [teacher for teacher in teachers if teacher.email.strip().lower() not in accounts]
    password_of = {}
    for email, (user, password) in _teacher_accounts_create(new, bulk_hash=bulk_hash).items():
        accounts[email] = user
        password_of[user.pk] = password

    until = reactivated_until(today=today)
    memberships = _memberships_create(
        school_unit=school_unit,
        teachers=teachers,
        users=[accounts[email.lower()] for email in emails],
        until=until,
        new_accounts=set(password_of),
    )
    AuditEvent.objects.bulk_create(
        _registration_events(
            context=context,
            school_unit=school_unit,
            registered=zip(teachers, memberships, strict=True),
            new_accounts=set(password_of),
            until=until,
        )
    )
    # One code to each linked account's own address (a few queries per linked
    # row; a file links few accounts, while new ones cost nothing here).
    for membership in memberships:
        if membership.user.pk not in password_of:
            email_code_issue(
                user=membership.user,
                purpose=EmailCodePurpose.CONFIRM_MEMBERSHIP,
                membership=membership,
                context=context,
            )
    return [
        Registration(
            membership=membership,
            user=membership.user,
            password=password_of.get(membership.user.pk),
            pending=membership.user.pk not in password_of,
        )
        for membership in memberships
    ]


def _refuse_unless_registrable(
    *, school_unit: SchoolUnit, accounts: dict[str, User], emails: list[str]
) -> None:
    """Refused when an existing account (`accounts`, by address) is at this
    school already, was removed here lately, or has had its hour's
    confirmation codes; or an address is of an account removed here lately."""
    accounts = list(accounts.values())
    already = (
        school_memberships(school_unit=school_unit)
        .filter(user__in=accounts)
        .select_related("user")
        .first()
    )
    if already is not None:
        raise Refused(RefusalCode.ALREADY_REGISTERED, email=already.user.email)
    # Removed here lately: the principal restores the membership (same
    # subjects, no new confirmation) rather than linking the account anew.
    restorable = (
        restorable_memberships(school_unit=school_unit, now=timezone.now())
        .filter(user__in=accounts)
        .select_related("user")
        .first()
    )
    if restorable is None:
        # A removed account ("borttagen") is linked by nobody; at the school
        # that removed it, its address is restored rather than registered anew.
        restorable = (
            restorable_removed_accounts(school_unit=school_unit, now=timezone.now(), emails=emails)
            .select_related("user")
            .first()
        )
    if restorable is not None:
        raise Refused(RefusalCode.RESTORABLE, email=restorable.user.email)
    email_code_mail_limit(
        users=accounts,
        purpose=EmailCodePurpose.CONFIRM_MEMBERSHIP,
        refusal=RefusalCode.REGISTRATION_MAIL_LIMIT,
    )


def _teacher_accounts_create(
    new: Sequence[NewTeacher], *, bulk_hash: bool
) -> dict[str, tuple[User, str]]:
    """New teacher accounts in one statement: e-mail (lower case) to the
    account and its generated password (returned once, stored hashed)."""
    passwords = generate_passwords(len(new))
    usernames = generate_usernames(len(new))
    hasher = hash_generated_password if bulk_hash else make_password
    new_users = User.objects.bulk_create(
        [
            User(
                username=username,
                password=hasher(password),
                role=Role.TEACHER,
                first_name=teacher.first_name.strip(),
                last_name=teacher.last_name.strip(),
                email=User.objects.normalize_email(teacher.email.strip()),
            )
            for teacher, username, password in zip(new, usernames, passwords, strict=True)
        ]
    )
    if new_users and new_users[0].pk is None:  # a backend without RETURNING
        by_name = User.objects.in_bulk(usernames, field_name="username")
        new_users = [by_name[username] for username in usernames]
    return {
        teacher.email.strip().lower(): (user, password)
        for teacher, user, password in zip(new, new_users, passwords, strict=True)
    }


def _memberships_create(
    *,
    school_unit: SchoolUnit,
    teachers: Sequence[NewTeacher],
    users: list[User],
    until: datetime.date,
    new_accounts: set[int],
) -> list[Membership]:
    """The memberships (and their subjects) in two statements."""
    now = timezone.now()
    memberships = Membership.objects.bulk_create(
        [
            Membership(
                user=user,
                school_unit=school_unit,
                valid_until=until,
                # A new account's membership holds at once; a linked one waits
                # for its owner's confirmation, and until then the school
                # sees the name it typed (`policy.known_names`).
                confirmed_at=now if user.pk in new_accounts else None,
                typed_first_name="" if user.pk in new_accounts else teacher.first_name.strip(),
                typed_last_name="" if user.pk in new_accounts else teacher.last_name.strip(),
            )
            for teacher, user in zip(teachers, users, strict=True)
        ]
    )
    if memberships and memberships[0].pk is None:
        by_user = {
            m.user_id: m for m in school_memberships(school_unit=school_unit).filter(user__in=users)
        }
        memberships = [by_user[user.pk] for user in users]
    SubjectGrant.objects.bulk_create(
        [
            SubjectGrant(membership=membership, subject=subject)
            for teacher, membership in zip(teachers, memberships, strict=True)
            for subject in teacher.subjects
        ]
    )
    for user, membership in zip(users, memberships, strict=True):
        membership.user = user
    return memberships


def _registration_events(
    *, context: AuditContext, school_unit: SchoolUnit, registered, new_accounts, until
) -> list[AuditEvent]:
    """A registration's events: a new account's password issued, and each
    membership registered with its subjects."""
    events: list[AuditEvent] = []
    for teacher, membership in registered:
        user = membership.user
        details = {
            "subjects": sorted(subject.code for subject in teacher.subjects),
            "new_account": user.pk in new_accounts,
            "confirmed": user.pk in new_accounts,
            "valid_until": until.isoformat(),
        }
        if teacher.csv_row is not None:
            details["csv_row"] = teacher.csv_row
        if user.pk in new_accounts:
            events.append(
                audit_build(
                    action=AuditAction.PASSWORD_ISSUED,
                    context=context,
                    school_unit=school_unit,
                    target=user.username,
                )
            )
        events.append(
            audit_build(
                action=AuditAction.MEMBERSHIP_REGISTERED,
                context=context,
                school_unit=school_unit,
                target=user.username,
                details=details,
            )
        )
    return events


def serialize_by_email(*emails: str) -> None:
    """Make concurrent registrations of one e-mail address wait for each other.

    The e-mail is not unique in the database (accounts owns the table, and
    other roles may share an address), so two principals registering the same
    new teacher at once would both find no account and create two. On
    PostgreSQL a transaction-scoped advisory lock on the address makes the
    second wait until the first has committed, and then find its account.
    SQLite serializes every write transaction anyway.
    """
    # Taken in one order (by key), so that two imports of overlapping files cannot deadlock.
    advisory_lock(*("email:" + email.lower() for email in emails))


@transaction.atomic
def membership_register_self(
    *, school_unit: SchoolUnit, context: AuditContext, today: datetime.date
) -> Registration:
    """ "Registrera mig som lärare": the principal's or test administrator's
    own teacher account, a separate account they keep beside their
    E-tjänster account, now a member of this school too.

    SECURITY: never the same account (E-tjänster credentials must not open
    the portal, nor teacher credentials E-tjänster), and never found by
    e-mail: the own teacher account is the one that names this E-tjänster
    account as its owner (`User.etjanster_owner`). At a second school the
    principal leads, the same account gets a membership there, confirmed at
    once (its owner is the one registering); an account some school
    registered with the principal's address is never touched.
    """
    owner = User.objects.select_for_update().get(pk=context.actor.pk)
    if owner.role not in ETJANSTER_ROLES:
        raise Refused(RefusalCode.NOT_ALLOWED)
    user = User.objects.filter(etjanster_owner=owner).first()
    if user is not None and user.removed_at is not None:
        # The owner's own account, removed from its last school lately: the
        # owner registering again is its owner's act, so it comes back.
        account_restore(user=user, context=context, school_unit=school_unit)
    password = None
    if user is None:
        user, password = _teacher_account_create(
            school_unit=school_unit,
            context=context,
            first_name=owner.first_name,
            last_name=owner.last_name,
            email=owner.email,
            owner=owner,
        )
    elif school_memberships(school_unit=school_unit).filter(user=user).exists():
        # Said to the person themself: "you", with the username they log in with.
        raise Refused(RefusalCode.ALREADY_REGISTERED_SELF, username=user.username)
    membership = _membership_create(
        user=user,
        school_unit=school_unit,
        subjects=[],
        context=context,
        today=today,
        confirmed=True,
        new_account=password is not None,
    )
    return Registration(membership=membership, user=user, password=password)


@transaction.atomic
def membership_remove(*, membership: Membership, context: AuditContext) -> bool:
    """End a membership. With the teacher's last one, the account goes too:
    removed ("borttagen", `removal.accounts_remove`) for RESTORE_WINDOW, so
    that the school can undo it, then deleted with its personal data by
    `manage.py purge_removed_accounts`. Returns True when the account went.

    SECURITY: the account's sessions end at once and for good (ASVS 7.4.2,
    `access_end`), whether the account stays for other schools or goes.
    """
    user = membership.user
    school_unit = membership.school_unit
    # Only confirmed memberships keep the account: a registration elsewhere
    # still waiting for the teacher's confirmation goes with it.
    others = membership.other_schools_count() > 0
    pending = membership.is_pending
    username = user.username
    if not others or not pending:
        # The teacher loses this school's access: every session ends, for
        # good. A registration still waiting for its confirmation granted
        # nothing to lose.
        access_end(users=[user], context=context, reason="removed", school_unit=school_unit)
    now = timezone.now()
    # A registration the teacher never confirmed is nothing to undo: an
    # account with nothing else (older data) is deleted at once, as before.
    deleted = not others and pending
    if not deleted:
        membership.removed_at = now
        membership.save(update_fields=["removed_at"])
    if not others and not pending:
        accounts_remove(users=[user], now=now)
    elif deleted:
        # CASCADE removes the memberships, their grants and any devices.
        user.delete()
    audit_record(
        action=AuditAction.MEMBERSHIP_REMOVED,
        context=context,
        school_unit=school_unit,
        target=username,
        details={"account_deleted": True} if deleted else {"account_removed": not others},
    )
    if deleted:
        audit_record(
            action=AuditAction.ACCOUNT_DELETED,
            context=context,
            school_unit=school_unit,
            target=username,
        )
    elif not others:
        account_removed_event(user=user, context=context, school_unit=school_unit, now=now).save()
    return not others


@transaction.atomic
def membership_restore(
    *, membership: Membership, context: AuditContext, now: datetime.datetime
) -> Membership:
    """Undo a removal within RESTORE_WINDOW: the same membership, with its
    subjects and validity as they were, live again at its school, and the
    account with it when this was its last (`removal.account_restore`).
    """
    membership = (
        Membership.objects.select_for_update()
        .select_related("user", "school_unit")
        .get(pk=membership.pk)
    )
    if membership.removed_at is None:
        return membership
    if membership.confirmed_at is None:
        # Declined by the teacher, or withdrawn before the confirmation: only
        # a new registration (and the teacher's own confirmation) brings it back.
        raise Refused(RefusalCode.NOT_CONFIRMED)
    if now - membership.removed_at >= RESTORE_WINDOW:
        raise Refused(RefusalCode.RESTORE_EXPIRED)
    serialize_by_email(membership.user.email)
    if school_memberships(school_unit=membership.school_unit).filter(user=membership.user).exists():
        raise Refused(RefusalCode.ALREADY_REGISTERED, email=membership.user.email)
    if membership.user.removed_at is not None:
        # The account's last removal: the account comes back with it (its
        # sessions stay ended; the same username and password work again).
        account_restore(user=membership.user, context=context, school_unit=membership.school_unit)
    membership.removed_at = None
    membership.save(update_fields=["removed_at"])
    audit_record(
        action=AuditAction.MEMBERSHIP_RESTORED,
        context=context,
        school_unit=membership.school_unit,
        target=membership.user.username,
        details={"valid_until": membership.valid_until.isoformat()},
    )
    return membership


@transaction.atomic
def teacher_password_regenerate(
    *, membership: Membership, context: AuditContext, today: datetime.date
) -> str:
    """A new password for the teacher, replacing the old one at once. Shown once.

    SECURITY: refused unless the actor administers every school of the shared
    account (`can_regenerate_teacher_password`); the view checks it first, this
    is the second line.
    """
    # The account's row, locked before the rule is asked: a confirmation at
    # another school (`_email_code_redeem`, which locks it too) ends this
    # school's right, so it comes wholly before or after this.
    User.objects.select_for_update().get(pk=membership.user_id)
    if not can_regenerate_teacher_password(user=context.actor, membership=membership, today=today):
        raise Refused(RefusalCode.NOT_ALLOWED)
    return password_regenerate(
        user=membership.user, context=context, school_unit=membership.school_unit
    )


def generate_usernames(count: int) -> list[str]:
    """`count` fresh usernames, checked against the database in one query
    (a second one only in the unlikely case of a collision)."""
    chosen: list[str] = []
    while len(chosen) < count:
        candidates = set(
            random_strings(
                count=count - len(chosen), length=USERNAME_LENGTH, alphabet=USERNAME_ALPHABET
            )
        )
        candidates -= set(chosen)
        taken = set(User.objects.filter(username__in=candidates).values_list("username", flat=True))
        chosen += sorted(candidates - taken)
    return chosen
