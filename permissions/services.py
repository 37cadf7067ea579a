"""Writes about permissions. Each is atomic and records its audit event."""

import base64
import dataclasses
import datetime
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from enum import StrEnum
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from accounts.mail import mail_enqueue
from accounts.models import CARD_ALPHABET, ETJANSTER_ROLES, Role, User
from accounts.sealed import SealBroken, seal, unseal
from accounts.selectors import teacher_accounts_by_email
from accounts.services import access_end, card_issue, login_failure_target, password_regenerate
from accounts.throttle import (
    password_attempt_refusal,
    password_failure_record,
    password_success_record,
    throttle_burst_count,
    throttle_bursts_flush,
    username_lock,
)
from accounts.usernames import (
    USERNAME_ALPHABET,
    USERNAME_LENGTH,
    generate_password,
    generate_username,
)
from config.locks import advisory_lock
from permissions import policy
from permissions.audit import (
    AuditAction,
    AuditContext,
    audit_build,
    audit_record,
    field_changes,
)
from permissions.csv_import import (
    Outcome,
    PlannedRow,
    import_report_csv,
    parse_rows,
    plan_import,
)
from permissions.models import (
    AuditEvent,
    EmailCode,
    EmailCodePurpose,
    ImportPickup,
    ImportPreview,
    LevelPolicy,
    Membership,
    Subject,
    SubjectGrant,
    TestAdministrator,
)
from permissions.passwords import generate_passwords, hash_generated_password, random_strings
from permissions.policy import (
    RESTORE_WINDOW,
    can_deactivate_test_admin,
    can_reactivate_test_admin,
    can_regenerate_teacher_password,
    can_remove_membership,
    reactivated_until,
    reactivation_is_open,
    restorable_memberships,
    school_memberships,
)
from permissions.refusals import RefusalCode, Refused
from permissions.slips import import_slips
from portal.throttle import rate_limit_full, rate_limit_hit
from schools.models import SchoolUnit


@transaction.atomic
def log_export_record(
    *, context: AuditContext, filters: dict, school_unit=None, huvudman=None
) -> None:
    """Somebody took a copy of (part of) the log: that is audited too."""
    audit_record(
        action=AuditAction.LOG_EXPORTED,
        context=context,
        school_unit=school_unit,
        huvudman=huvudman,
        target=school_unit.code if school_unit is not None else "",
        details={"filters": filters},
    )


@transaction.atomic
def policy_rule_add(*, context: AuditContext, school_form, level: str) -> LevelPolicy:
    rule = LevelPolicy.objects.create(school_form=school_form, level=level)
    audit_record(
        action=AuditAction.POLICY_CHANGED,
        context=context,
        target=str(rule),
        details={"change": "added", "school_form": school_form.pk, "level": level},
    )
    return rule


@transaction.atomic
def policy_rule_remove(*, context: AuditContext, rule: LevelPolicy) -> None:
    details = {"change": "removed", "school_form": rule.school_form_id, "level": rule.level}
    target = str(rule)
    rule.delete()
    audit_record(
        action=AuditAction.POLICY_CHANGED,
        context=context,
        target=target,
        details=details,
    )


# --- Teachers and their memberships ------------------------------------------------


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
    (an audit event) only when the owner confirms. A principal's own teacher account is never
    found by e-mail (`policy.linkable_teacher_accounts`).

    Refused (nothing saved) when any of them is already at this school.
    `bulk_hash` hashes the generated passwords with the fast hasher meant
    for them (`permissions.passwords`; a CSV import of thousands), else Argon2.
    """
    emails = [teacher.email.strip() for teacher in teachers]
    if len({email.lower() for email in emails}) != len(emails):
        raise ValueError("Each teacher once: an e-mail address is repeated.")
    _serialize_by_email(*emails)
    accounts = teacher_accounts_by_email(emails=emails)
    already = (
        school_memberships(school_unit=school_unit)
        .filter(user__in=list(accounts.values()))
        .select_related("user")
        .first()
    )
    if already is not None:
        raise Refused(RefusalCode.ALREADY_REGISTERED, email=already.user.email)
    # Removed here lately: the principal restores the membership (same
    # subjects, no new confirmation) rather than linking the account anew.
    restorable = (
        restorable_memberships(school_unit=school_unit, now=timezone.now())
        .filter(user__in=list(accounts.values()))
        .select_related("user")
        .first()
    )
    if restorable is not None:
        raise Refused(RefusalCode.RESTORABLE, email=restorable.user.email)
    _email_code_mail_limit(
        users=list(accounts.values()),
        purpose=EmailCodePurpose.CONFIRM_MEMBERSHIP,
        refusal=RefusalCode.REGISTRATION_MAIL_LIMIT,
    )

    new = [teacher for teacher in teachers if teacher.email.strip().lower() not in accounts]
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
    password_of = {}
    for teacher, user, password in zip(new, new_users, passwords, strict=True):
        accounts[teacher.email.strip().lower()] = user
        password_of[user.pk] = password

    until = reactivated_until(today=today)
    now = timezone.now()
    users = [accounts[email.lower()] for email in emails]
    memberships = Membership.objects.bulk_create(
        [
            Membership(
                user=user,
                school_unit=school_unit,
                valid_until=until,
                # A new account's membership holds at once; a linked one waits
                # for its owner's confirmation, and until then the school
                # sees the name it typed (`policy.known_names`).
                confirmed_at=now if user.pk in password_of else None,
                typed_first_name="" if user.pk in password_of else teacher.first_name.strip(),
                typed_last_name="" if user.pk in password_of else teacher.last_name.strip(),
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
    events: list[AuditEvent] = []
    for teacher, user, membership in zip(teachers, users, memberships, strict=True):
        membership.user = user
        details = {
            "subjects": sorted(subject.code for subject in teacher.subjects),
            "new_account": user.pk in password_of,
            "confirmed": user.pk in password_of,
            "valid_until": until.isoformat(),
        }
        if teacher.csv_row is not None:
            details["csv_row"] = teacher.csv_row
        if user.pk in password_of:
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
    AuditEvent.objects.bulk_create(events)
    # One code to each linked account's own address (a few queries per linked
    # row; a file links few accounts, while new ones cost nothing here).
    for user, membership in zip(users, memberships, strict=True):
        if user.pk not in password_of:
            _email_code_issue(
                user=user,
                purpose=EmailCodePurpose.CONFIRM_MEMBERSHIP,
                membership=membership,
                context=context,
            )
    return [
        Registration(
            membership=membership,
            user=user,
            password=password_of.get(user.pk),
            pending=user.pk not in password_of,
        )
        for user, membership in zip(users, memberships, strict=True)
    ]


def _serialize_by_email(*emails: str) -> None:
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


def _account_shared_events(
    *, user: User, school_unit: SchoolUnit, context: AuditContext
) -> list[AuditEvent]:
    """One event at each other school of the account, when its owner has
    confirmed `school_unit`: their log shows that the account is now shared,
    and where.

    PRIVACY: not when a school merely types the address. Until the teacher
    agrees, that school gets nothing and the teacher's other schools learn
    nothing either (not of another employer, nor that school's principal or
    address): the registration may be a mistake, or declined. The event names
    the teacher as actor, without the address they confirmed from.
    """
    others = (
        Membership.objects.confirmed()
        .filter(user=user)
        .exclude(school_unit=school_unit)
        .select_related("school_unit")
    )
    quiet = dataclasses.replace(context, actor=user, address=None)
    return [
        audit_build(
            action=AuditAction.TEACHER_ACCOUNT_SHARED,
            context=quiet,
            school_unit=other.school_unit,
            target=user.username,
            details={"school_unit": school_unit.code, "school_name": school_unit.name},
        )
        for other in others
    ]


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
        raise Refused(RefusalCode.ALREADY_REGISTERED, email=user.email)
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
def membership_grant(
    *,
    membership: Membership,
    subjects: Iterable[Subject],
    context: AuditContext,
) -> tuple[set[str], set[str]]:
    """Set the membership's subjects to exactly `subjects`. Returns the codes
    added and removed."""
    (result,) = memberships_grant(
        changes=[SubjectChange(membership=membership, subjects=list(subjects))], context=context
    )
    return result


@dataclasses.dataclass(frozen=True)
class SubjectChange:
    membership: Membership
    subjects: Sequence[Subject]
    csv_row: int | None = None


@transaction.atomic
def memberships_grant(
    *, changes: Sequence[SubjectChange], context: AuditContext
) -> list[tuple[set[str], set[str]]]:
    """Set each membership's subjects to exactly its `subjects`, in a constant
    number of queries; one audit event per membership that changed. Returns
    the codes added and removed, per change."""
    memberships = [change.membership for change in changes]
    current: dict[int, dict[int, tuple[int, str]]] = {}
    for grant_pk, membership_id, subject_id, code in SubjectGrant.objects.filter(
        membership__in=memberships
    ).values_list("pk", "membership_id", "subject_id", "subject__code"):
        current.setdefault(membership_id, {})[subject_id] = (grant_pk, code)
    stale: list[int] = []
    fresh: list[SubjectGrant] = []
    events: list[AuditEvent] = []
    results = []
    for change in changes:
        have = current.get(change.membership.pk, {})
        want = {subject.pk: subject for subject in change.subjects}
        added = [subject for pk, subject in want.items() if pk not in have]
        removed = [grant for pk, grant in have.items() if pk not in want]
        stale += [grant_pk for grant_pk, _code in removed]
        fresh += [SubjectGrant(membership=change.membership, subject=s) for s in added]
        added_codes = {subject.code for subject in added}
        removed_codes = {code for _pk, code in removed}
        results.append((added_codes, removed_codes))
        if added_codes or removed_codes:
            details = {"added": sorted(added_codes), "removed": sorted(removed_codes)}
            if change.csv_row is not None:
                details["csv_row"] = change.csv_row
            events.append(
                audit_build(
                    action=AuditAction.MEMBERSHIP_GRANTED,
                    context=context,
                    school_unit=change.membership.school_unit,
                    target=change.membership.user.username,
                    details=details,
                )
            )
    SubjectGrant.objects.filter(pk__in=stale).delete()
    SubjectGrant.objects.bulk_create(fresh)
    AuditEvent.objects.bulk_create(events)
    return results


def _refuse_unless_reactivation_open(*, valid_until: datetime.date, today: datetime.date):
    if not reactivation_is_open(valid_until=valid_until, today=today):
        raise Refused(RefusalCode.REACTIVATION_NOT_OPEN, date=valid_until)


@transaction.atomic
def membership_reactivate(
    *, membership: Membership, context: AuditContext, today: datetime.date
) -> Membership:
    _refuse_unless_reactivation_open(valid_until=membership.valid_until, today=today)
    membership.valid_until = reactivated_until(today=today)
    membership.save(update_fields=["valid_until"])
    audit_record(
        action=AuditAction.MEMBERSHIP_REACTIVATED,
        context=context,
        school_unit=membership.school_unit,
        target=membership.user.username,
        details={"valid_until": membership.valid_until.isoformat()},
    )
    return membership


@transaction.atomic
def membership_reactivate_many(
    *,
    school_unit: SchoolUnit,
    membership_ids: Iterable[int],
    context: AuditContext,
    today: datetime.date,
) -> list[Membership]:
    """Reactivate many memberships of one school in a constant number of
    queries. Ids outside the school, removed or not yet reactivatable are
    left alone (the page only offers the reactivatable ones)."""
    candidates = list(
        school_memberships(school_unit=school_unit)
        .reactivatable(today)
        .filter(pk__in=list(membership_ids))
        .select_related("user", "school_unit")
        .select_for_update(of=("self",))
    )
    until = reactivated_until(today=today)
    Membership.objects.filter(pk__in=[m.pk for m in candidates]).update(valid_until=until)
    for membership in candidates:
        membership.valid_until = until
    AuditEvent.objects.bulk_create(
        [
            audit_build(
                action=AuditAction.MEMBERSHIP_REACTIVATED,
                context=context,
                school_unit=school_unit,
                target=membership.user.username,
                details={"valid_until": until.isoformat()},
            )
            for membership in candidates
        ]
    )
    return candidates


@dataclasses.dataclass(frozen=True)
class SchoolYearRenewal:
    kept: list[Membership]
    removed: int
    accounts_deleted: int


@transaction.atomic
def school_year_renew(
    *,
    school_unit: SchoolUnit,
    keep: Iterable[Membership],
    remove_rest: bool,
    context: AuditContext,
    today: datetime.date,
) -> SchoolYearRenewal:
    """The new-school-year page in one transaction: reactivate the kept
    memberships of last year and, when asked, remove the rest — all of it or
    nothing, in a constant number of queries whatever the count.

    Removal follows `membership_remove`: a membership that was the account's
    last live one deletes the account and its personal data, which ends its
    sessions at once (ASVS 7.4.2).
    """
    if remove_rest and not can_remove_membership(user=context.actor, school_unit=school_unit):
        raise Refused(RefusalCode.NOT_ALLOWED)
    keep_ids = [membership.pk for membership in keep]
    kept = membership_reactivate_many(
        school_unit=school_unit,
        membership_ids=keep_ids,
        context=context,
        today=today,
    )
    if not remove_rest:
        return SchoolYearRenewal(kept=kept, removed=0, accounts_deleted=0)
    removing = list(
        school_memberships(school_unit=school_unit)
        .reactivatable(today)
        .exclude(pk__in=keep_ids)
        .select_related("user")
        .select_for_update(of=("self",))
    )
    staying = Membership.objects.accounts_kept_besides(removing)
    ending = [membership for membership in removing if membership.user_id in staying]
    deleting = [membership for membership in removing if membership.user_id not in staying]
    access_end(
        users=[membership.user for membership in removing],
        context=context,
        reason="removed",
        school_unit=school_unit,
    )
    Membership.objects.filter(pk__in=[membership.pk for membership in ending]).update(
        removed_at=timezone.now()
    )
    # CASCADE removes the memberships, grants and devices of these accounts.
    User.objects.filter(pk__in=[membership.user_id for membership in deleting]).delete()
    events = [
        audit_build(
            action=AuditAction.MEMBERSHIP_REMOVED,
            context=context,
            school_unit=school_unit,
            target=membership.user.username,
            details={"account_deleted": membership.user_id not in staying},
        )
        for membership in removing
    ] + [
        audit_build(
            action=AuditAction.ACCOUNT_DELETED,
            context=context,
            school_unit=school_unit,
            target=membership.user.username,
        )
        for membership in deleting
    ]
    AuditEvent.objects.bulk_create(events)
    return SchoolYearRenewal(kept=kept, removed=len(removing), accounts_deleted=len(deleting))


@transaction.atomic
def membership_remove(*, membership: Membership, context: AuditContext) -> bool:
    """End a membership. With the teacher's last one, delete the account and
    its personal data. Returns True when the account was deleted.

    SECURITY: the account's sessions end at once and for good (ASVS 7.4.2,
    `access_end`), whether the account stays for other schools or goes.
    """
    user = membership.user
    school_unit = membership.school_unit
    # Only confirmed memberships keep the account: a registration elsewhere
    # still waiting for the teacher's confirmation goes with it.
    others = membership.other_schools_count() > 0
    username = user.username
    if not others or not membership.is_pending:
        # The teacher loses this school's access: every session ends, for
        # good (the rows too, when the account goes with it). A registration
        # still waiting for its confirmation granted nothing to lose.
        access_end(users=[user], context=context, reason="removed", school_unit=school_unit)
    if others:
        membership.removed_at = timezone.now()
        membership.save(update_fields=["removed_at"])
    else:
        # CASCADE removes the memberships (also earlier removed ones), their
        # grants and any devices: no personal data of the teacher remains.
        user.delete()
    audit_record(
        action=AuditAction.MEMBERSHIP_REMOVED,
        context=context,
        school_unit=school_unit,
        target=username,
        details={"account_deleted": not others},
    )
    if not others:
        audit_record(
            action=AuditAction.ACCOUNT_DELETED,
            context=context,
            school_unit=school_unit,
            target=username,
        )
    return not others


@transaction.atomic
def membership_restore(
    *, membership: Membership, context: AuditContext, now: datetime.datetime
) -> Membership:
    """Undo a removal within RESTORE_WINDOW: the same membership, with its
    subjects and validity as they were, live again at its school.

    Only a membership that was not the account's last can be restored: the
    last one took the account and its personal data with it.
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
    _serialize_by_email(membership.user.email)
    if school_memberships(school_unit=membership.school_unit).filter(user=membership.user).exists():
        raise Refused(RefusalCode.ALREADY_REGISTERED, email=membership.user.email)
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


@dataclasses.dataclass(frozen=True)
class ImportedTeacher:
    row: PlannedRow
    username: str
    valid_until: datetime.date
    password: str | None


# A checked file waits this long for "Import"; the slips of an applied one
# this long for their download.
PREVIEW_LIFETIME = datetime.timedelta(hours=1)
PICKUP_LIFETIME = datetime.timedelta(hours=1)


@transaction.atomic
def csv_import_preview(
    *, school_unit: SchoolUnit, context: AuditContext, text: str, plan, mode: str
) -> str:
    """Keep a checked file for "Import" and record that it was previewed.

    Every preview is audited (it tells which addresses already have a
    teacher account). The person's earlier previews are deleted, so only the
    file shown last can be imported; an invalid file leaves none. Returns the
    token the preview page's form carries ("" for an invalid file).
    """
    actor_id = context.actor.pk
    ImportPreview.objects.filter(actor_id=actor_id).delete()
    ImportPreview.objects.filter(created_at__lt=timezone.now() - PREVIEW_LIFETIME).delete()
    token = ""
    if plan.is_valid:
        token = secrets.token_urlsafe(32)
        ImportPreview.objects.create(
            token=token, school_unit=school_unit, actor_id=actor_id, text=text, mode=mode
        )
    audit_record(
        action=AuditAction.IMPORT_PREVIEWED,
        context=context,
        school_unit=school_unit,
        target=school_unit.code,
        details={
            **plan.summary(),
            "mode": mode,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        },
    )
    return token


def csv_import_discard(*, context: AuditContext) -> None:
    """A file that could not even be read: no earlier preview survives it."""
    ImportPreview.objects.filter(actor_id=context.actor.pk).delete()


@dataclasses.dataclass(frozen=True)
class ImportResult:
    imported: list[ImportedTeacher]
    summary: dict
    # The sealed slips and report waiting for download, and the key to them
    # (for the result page only: never stored).
    pickup_id: int
    pickup_key: str


@transaction.atomic
def csv_import_apply(
    *,
    school_unit: SchoolUnit,
    context: AuditContext,
    token: str,
    today: datetime.date,
) -> ImportResult:
    """Import the previewed file bound to `token`, all of it or nothing.

    Refused IMPORT_PREVIEW_STALE unless the token is this person's newest
    preview at this school and younger than an hour (it is used up here);
    IMPORT_HAS_ERRORS when re-planning inside this transaction finds errors.
    Built from the single-teacher services: new and linked teachers through
    `memberships_register`, subjects of those already here through
    `memberships_grant`, each in a constant number of queries.

    The slips (with the new passwords) and the report are sealed for
    download in the same transaction: the passwords exist nowhere else, so
    an import whose pickup cannot be stored creates no account either.
    """
    preview = (
        ImportPreview.objects.select_for_update()
        .filter(
            token=token,
            school_unit=school_unit,
            actor_id=context.actor.pk,
            created_at__gte=timezone.now() - PREVIEW_LIFETIME,
        )
        .first()
    )
    if not token or preview is None:
        raise Refused(RefusalCode.IMPORT_PREVIEW_STALE)
    text, mode = preview.text, preview.mode
    preview.delete()
    _serialize_by_email(*(row.email for row in parse_rows(text)))
    plan = plan_import(school_unit=school_unit, text=text, mode=mode)
    if not plan.is_valid:
        raise Refused(RefusalCode.IMPORT_HAS_ERRORS, count=len(plan.errors))
    joining = [row for row in plan.rows if row.membership_added]
    registrations = memberships_register(
        school_unit=school_unit,
        context=context,
        teachers=[
            NewTeacher(
                first_name=row.first_name,
                last_name=row.last_name,
                email=row.email,
                subjects=row.target_subjects,
                csv_row=row.number,
            )
            for row in joining
        ],
        today=today,
        bulk_hash=True,
    )
    for row, registration in zip(joining, registrations, strict=True):
        row.user, row.membership = registration.user, registration.membership
    changing = [
        row
        for row in plan.rows
        if row.outcome == Outcome.UPDATED and (row.subjects_added or row.subjects_removed)
    ]
    memberships_grant(
        changes=[
            SubjectChange(
                membership=row.membership, subjects=row.target_subjects, csv_row=row.number
            )
            for row in changing
        ],
        context=context,
    )
    summary = {**plan.summary(), "mode": mode}
    audit_record(
        action=AuditAction.TEACHERS_IMPORTED,
        context=context,
        school_unit=school_unit,
        target=school_unit.code,
        details=summary,
    )
    password_of = {registration.user.pk: registration.password for registration in registrations}
    imported = [
        ImportedTeacher(
            row=row,
            # SECURITY: as in registration, a linked account's username is
            # not told to the school that linked it by e-mail.
            username="" if row.outcome == Outcome.LINKED else row.user.username,
            valid_until=row.membership.valid_until,
            password=password_of.get(row.user.pk),
        )
        for row in plan.rows
    ]
    slips = [
        {**dataclasses.asdict(slip), "valid_until": slip.valid_until.isoformat()}
        for slip in import_slips(imported, school_unit=school_unit)
    ]
    pickup_id, pickup_key = _import_pickup_store(
        school_unit=school_unit,
        context=context,
        content=json.dumps({"slips": slips, "report": import_report_csv(imported)}).encode(),
        rows=len(slips),
    )
    return ImportResult(
        imported=imported, summary=summary, pickup_id=pickup_id, pickup_key=pickup_key
    )


def _import_pickup_store(
    *, school_unit: SchoolUnit, context: AuditContext, content: bytes, rows: int
) -> tuple[int, str]:
    """Seal an applied import's slips and report for download, in the apply's
    transaction; returns (pickup id, key). The key is for the result page
    only: never stored."""
    ImportPickup.objects.filter(created_at__lt=timezone.now() - PICKUP_LIFETIME).delete()
    key = secrets.token_bytes(32)
    pickup = ImportPickup.objects.create(
        school_unit=school_unit, actor_id=context.actor.pk, sealed=b"", rows=rows
    )
    pickup.sealed = seal(content, key=key, label=f"import-pickup:{pickup.pk}")
    pickup.save(update_fields=["sealed"])
    return pickup.pk, base64.urlsafe_b64encode(key).decode("ascii")


@transaction.atomic
def csv_import_pickup_open(
    *, school_unit: SchoolUnit, context: AuditContext, pickup_id: int, key: str, what: str
) -> bytes:
    """The sealed content of this person's pickup, or Refused IMPORT_PICKUP_GONE
    (gone, too old, someone else's, or a wrong key). The download is audited."""
    pickup = ImportPickup.objects.filter(
        pk=pickup_id,
        school_unit=school_unit,
        actor_id=context.actor.pk,
        created_at__gte=timezone.now() - PICKUP_LIFETIME,
    ).first()
    try:
        raw_key = base64.urlsafe_b64decode(key.encode("ascii"))
        if pickup is None or len(raw_key) != 32:
            raise Refused(RefusalCode.IMPORT_PICKUP_GONE)
        content = unseal(pickup.sealed, key=raw_key, label=f"import-pickup:{pickup.pk}")
    except (SealBroken, ValueError, UnicodeEncodeError):
        raise Refused(RefusalCode.IMPORT_PICKUP_GONE) from None
    if what == "slips":
        audit_record(
            action=AuditAction.IMPORT_SLIPS_DOWNLOADED,
            context=context,
            school_unit=school_unit,
            target=school_unit.code,
            details={"rows": pickup.rows},
        )
    return content


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


# --- Test administrators (provadministratörer) -------------------------------------


@dataclasses.dataclass(frozen=True)
class TestAdminIssue:
    appointment: TestAdministrator
    password: str
    # accounts.services.IssuedCard: the card's cells, shown (printed) once.
    card: object


@transaction.atomic
def test_admin_issue(
    *,
    school_unit: SchoolUnit,
    context: AuditContext,
    first_name: str,
    last_name: str,
    email: str,
    today: datetime.date,
) -> TestAdminIssue:
    """A new provadministratör at one school: account, password and matrix
    card, valid to the end of the school year.

    One account per person and school: an address that already has a test
    administrator here (active or deactivated) is refused, so a double click
    or a reloaded result page cannot leave a second account behind, which,
    like every test administrator, could never be deleted.
    """
    _serialize_by_email(email.strip())
    already = (
        TestAdministrator.objects.filter(school_unit=school_unit, user__email__iexact=email.strip())
        .select_related("user")
        .first()
    )
    if already is not None:
        raise Refused(
            RefusalCode.ALREADY_TEST_ADMIN,
            email=already.user.email,
            username=already.user.username,
        )
    password = generate_password()
    user = User.objects.create_user(
        username=generate_username(),
        password=password,
        role=Role.TEST_ADMIN,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=email.strip(),
    )
    appointment = TestAdministrator.objects.create(
        user=user, school_unit=school_unit, valid_until=reactivated_until(today=today)
    )
    card = card_issue(user=user, context=context)
    audit_record(
        action=AuditAction.TEST_ADMIN_ISSUED,
        context=context,
        school_unit=school_unit,
        target=user.username,
        details={"valid_until": appointment.valid_until.isoformat()},
    )
    return TestAdminIssue(appointment=appointment, password=password, card=card)


@transaction.atomic
def test_admin_deactivate(*, appointment: TestAdministrator, context: AuditContext) -> None:
    """SECURITY: the only way to end a test administrator's access. The
    account stays (PROTECT) so that what it did stays attributable; its
    sessions end for good (`access_end`), so a reactivation revives none."""
    if not can_deactivate_test_admin(appointment=appointment):
        raise Refused(RefusalCode.ALREADY_DEACTIVATED)
    appointment.deactivated_at = timezone.now()
    appointment.save(update_fields=["deactivated_at"])
    User.objects.filter(pk=appointment.user_id).update(is_active=False)
    access_end(
        users=[appointment.user],
        context=context,
        reason="deactivated",
        school_unit=appointment.school_unit,
    )
    audit_record(
        action=AuditAction.TEST_ADMIN_DEACTIVATED,
        context=context,
        school_unit=appointment.school_unit,
        target=appointment.user.username,
    )


@transaction.atomic
def test_admin_reactivate(
    *, appointment: TestAdministrator, context: AuditContext, today: datetime.date
) -> None:
    """Undo a deactivation, or renew for the new school year (from 1 August).
    Either way valid to the end of the current school year."""
    if not can_reactivate_test_admin(appointment=appointment, today=today):
        _refuse_unless_reactivation_open(valid_until=appointment.valid_until, today=today)
    appointment.deactivated_at = None
    appointment.valid_until = reactivated_until(today=today)
    appointment.save(update_fields=["deactivated_at", "valid_until"])
    User.objects.filter(pk=appointment.user_id).update(is_active=True)
    audit_record(
        action=AuditAction.TEST_ADMIN_REACTIVATED,
        context=context,
        school_unit=appointment.school_unit,
        target=appointment.user.username,
        details={"valid_until": appointment.valid_until.isoformat()},
    )


# --- Codes mailed to a teacher account's address ----------------------------------

# How long a mailed code works.
EMAIL_CODE_LIFETIME = datetime.timedelta(days=7)
EMAIL_CODE_ALPHABET = CARD_ALPHABET
# 8 characters of 32: 40 bits, under the password throttle's growing delay.
EMAIL_CODE_LENGTH = 8


def normalize_email_code(code: str) -> str:
    """Codes are read off an e-mail: case, spaces and dashes do not matter."""
    return "".join(char for char in str(code).upper() if char.isalnum())[:32]


def email_code_digest(*, user_id: int, code: str) -> str:
    """SECURITY: only this keyed hash (HMAC under SECRET_KEY) is stored."""
    return salted_hmac(
        "permissions.EmailCode", f"{user_id}:{normalize_email_code(code)}", algorithm="sha256"
    ).hexdigest()


def _email_code_throttle_name(username: str) -> str:
    # Counted apart from the account's password, so that guessing codes never
    # delays its owner's logins (and the reverse).
    return "email-code:" + (username or "")


# Codes of one kind mailed to one teacher account per hour, by all schools together.
EMAIL_CODE_MAILS_PER_HOUR = 5


def _code_mail_keys(users: Iterable[User], purpose: str) -> dict[str, User]:
    """The rate-limit key of each account for codes of this kind."""
    return {f"{purpose}:user:{user.pk}": user for user in users}


def _email_code_mail_limit(
    *, users: list[User], purpose: str, refusal: RefusalCode = RefusalCode.CODE_MAIL_LIMIT
) -> None:
    """Refused `refusal` (param `email`: the first account at its limit)
    past EMAIL_CODE_MAILS_PER_HOUR codes of this kind to any of `users`.

    SECURITY: any principal of any of the teacher's schools may send a code,
    and registering an address, withdrawing and registering again mails one
    each time, so without a limit one of them could flood the teacher's
    mailbox. Counted per account (not per sender), from every school
    together, in `RateLimitHit` rows shared by every app server; a refused
    request mails nothing. One count for a whole file (keys locked in one
    order, so two imports cannot deadlock).
    """
    if not users:
        return
    keys = _code_mail_keys(users, purpose)
    limits = dict.fromkeys(keys, EMAIL_CODE_MAILS_PER_HOUR)
    if rate_limit_hit(scope="email_code", keys=limits):
        return
    full = rate_limit_full(scope="email_code", keys=limits)
    # (A hit may age out between the two counts: then name the first.)
    raise Refused(refusal, email=keys[(full or list(keys))[0]].email)


def confirmation_codes_spent(*, users: Iterable[User]) -> set[int]:
    """The accounts among `users` that may be mailed no confirmation code
    this hour (`_email_code_mail_limit`), for the CSV preview. One query."""
    keys = _code_mail_keys(users, EmailCodePurpose.CONFIRM_MEMBERSHIP)
    full = rate_limit_full(scope="email_code", keys=dict.fromkeys(keys, EMAIL_CODE_MAILS_PER_HOUR))
    return {keys[key].pk for key in full}


def _email_code_issue(
    *,
    user: User,
    purpose: str,
    context: AuditContext,
    membership: Membership | None = None,
) -> None:
    """Mail a new one-time code to the account's own address; any earlier
    code for the same thing stops working."""
    now = timezone.now()
    earlier = EmailCode.objects.filter(user=user, purpose=purpose, used_at__isnull=True)
    if membership is not None:
        earlier = earlier.filter(membership=membership)
    earlier.filter(expires_at__gt=now).update(expires_at=now)
    raw = "".join(secrets.choice(EMAIL_CODE_ALPHABET) for _ in range(EMAIL_CODE_LENGTH))
    code = f"{raw[:4]}-{raw[4:]}"
    row = EmailCode.objects.create(
        user=user,
        purpose=purpose,
        membership=membership,
        code_hash=email_code_digest(user_id=user.pk, code=code),
        created_at=now,
        expires_at=now + EMAIL_CODE_LIFETIME,
    )
    school_unit = membership.school_unit if membership is not None else context.school_unit
    actor = context.actor
    with translation.override(settings.LANGUAGE_CODE):
        template = (
            "emails/membership_confirm"
            if purpose == EmailCodePurpose.CONFIRM_MEMBERSHIP
            else "emails/password_code"
        )
        values = {
            "user": user,
            "code": code,
            "school_unit": school_unit,
            "actor_name": actor.get_full_name() if actor is not None else "",
            "valid_until": timezone.localtime(row.expires_at),
            "url": f"{settings.SITE_URL}{reverse('portal:email_code')}?"
            + urlencode({"anvandarnamn": user.username}),
        }
        mail_enqueue(
            subject=render_to_string(f"{template}_subject.txt", values).strip(),
            body=render_to_string(f"{template}.txt", values),
            to=[user.email],
        )
    audit_record(
        action=AuditAction.EMAIL_CODE_SENT,
        context=context,
        school_unit=school_unit,
        target=user.username,
        details={"purpose": purpose, "valid_until": row.expires_at.isoformat()},
    )


@transaction.atomic
def membership_code_resend(*, membership: Membership, context: AuditContext) -> None:
    """A new confirmation code for a membership still waiting for its teacher."""
    if not membership.is_pending:
        raise Refused(RefusalCode.NOT_ALLOWED)
    _email_code_mail_limit(users=[membership.user], purpose=EmailCodePurpose.CONFIRM_MEMBERSHIP)
    _email_code_issue(
        user=membership.user,
        purpose=EmailCodePurpose.CONFIRM_MEMBERSHIP,
        membership=membership,
        context=context,
    )


@transaction.atomic
def teacher_password_code_send(
    *, membership: Membership, context: AuditContext, today: datetime.date
) -> None:
    """Mail the teacher a code with which they choose a new password themself.

    For a teacher of schools with different principals, where no principal
    may read a new password (`policy.can_regenerate_teacher_password`): any
    of them may send this, and only whoever reads the account's e-mail can
    use it. The current password keeps working until the code is used.
    """
    if not policy.can_send_password_code(user=context.actor, membership=membership, today=today):
        raise Refused(RefusalCode.NOT_ALLOWED)
    _email_code_mail_limit(users=[membership.user], purpose=EmailCodePurpose.NEW_PASSWORD)
    _email_code_issue(user=membership.user, purpose=EmailCodePurpose.NEW_PASSWORD, context=context)


class CodeOutcome(StrEnum):
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    PASSWORD_SET = "password_set"  # noqa: S105 (an outcome, not a password)


@dataclasses.dataclass(frozen=True)
class CodeRedemption:
    outcome: CodeOutcome
    user: User | None
    school_unit: SchoolUnit | None = None


def email_code_redeem(
    *,
    username: str,
    code: str,
    new_password: str | None,
    decline: bool,
    context: AuditContext,
    keep_session_key: str = "",
) -> CodeRedemption:
    """Use a mailed code: confirm (or decline) a school's registration, or set
    a new password. With confirmation, `new_password` is required too.

    SECURITY: the code proves the account's e-mail address, the thing the
    linking school relied on. Confirming also replaces the password with one
    the owner chooses now: the first password was seen by whichever school
    created the account, and must not open this school's grants. Every
    session of the account ends (but `keep_session_key`). Wrong codes are
    throttled by username like passwords (a delay, never a lock) and
    audited; an unknown username answers like a wrong code. Raises
    `Refused`: THROTTLED, CODE_WRONG (with `retry_at` when a delay began),
    CODE_USED, CODE_EXPIRED. A failing step changes nothing but the
    throttle's count and the audit log, which are committed before the
    refusal is raised.
    """
    outcome = _email_code_redeem(
        username=username,
        code=code,
        new_password=new_password,
        decline=decline,
        context=context,
        keep_session_key=keep_session_key,
    )
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


@transaction.atomic
def _email_code_redeem(
    *,
    username: str,
    code: str,
    new_password: str | None,
    decline: bool,
    context: AuditContext,
    keep_session_key: str,
) -> CodeRedemption | Refused:
    throttle_bursts_flush()
    name = _email_code_throttle_name(username)
    address = context.address
    username_lock(username=name)
    account = User.objects.filter(username=username, role=Role.TEACHER).first()
    refusal = password_attempt_refusal(username=name, address=address)
    if refusal is not None:
        throttle_burst_count(
            refusal=refusal,
            username=name,
            target=login_failure_target(username, account),
            door="email_code",
            address=address,
            scope={},
        )
        return refusal
    match = None
    if account is not None:
        digest = email_code_digest(user_id=account.pk, code=code)
        for row in (
            EmailCode.objects.select_for_update(of=("self",))
            .filter(user=account)
            .select_related("membership__school_unit")
        ):
            if hmac.compare_digest(row.code_hash, digest):
                match = row
    if match is None:
        password_failure_record(username=name, address=address)
        audit_record(
            action=AuditAction.EMAIL_CODE_REFUSED,
            context=context,
            target=login_failure_target(username, account),
        )
        refusal = password_attempt_refusal(username=name, address=address)
        return Refused(
            RefusalCode.CODE_WRONG, retry_at=refusal.params["retry_at"] if refusal else None
        )
    membership = match.membership
    if match.used_at is not None:
        return Refused(RefusalCode.CODE_USED)
    if match.expires_at <= timezone.now() or (membership is not None and not membership.is_pending):
        # Expired, replaced by a newer code, or the school withdrew the registration.
        return Refused(RefusalCode.CODE_EXPIRED)
    password_success_record(username=name, address=address)
    # Before the password and the confirmation change: a new password that
    # another school gives at this moment (`teacher_password_regenerate`)
    # lands wholly before this one, never after it.
    account = User.objects.select_for_update().get(pk=account.pk)
    now = timezone.now()
    match.used_at = now
    match.save(update_fields=["used_at"])
    as_owner = context.acting(account) if context.actor is None else context
    school_unit = membership.school_unit if membership is not None else None
    if membership is not None and decline:
        audit_record(
            action=AuditAction.MEMBERSHIP_DECLINED,
            context=as_owner,
            school_unit=school_unit,
            target=account.username,
        )
        membership_remove(membership=membership, context=as_owner)
        return CodeRedemption(CodeOutcome.DECLINED, account, school_unit)
    if not new_password:
        raise Refused(RefusalCode.NOT_ALLOWED)
    # A ValidationError here rolls everything back: the code stays unused.
    password_validation.validate_password(new_password, account)
    account.set_password(new_password)
    account.save(update_fields=["password"])
    audit_record(
        action=AuditAction.PASSWORD_CHANGED,
        context=as_owner,
        school_unit=school_unit,
        target=account.username,
        details={"by": "self", "with": "email_code", "purpose": match.purpose},
    )
    outcome = CodeOutcome.PASSWORD_SET
    if membership is not None:
        # Confirmed: the school now knows the account's own name, and the
        # typed one is no longer needed.
        membership.confirmed_at = now
        membership.typed_first_name = membership.typed_last_name = ""
        membership.save(update_fields=["confirmed_at", "typed_first_name", "typed_last_name"])
        audit_record(
            action=AuditAction.MEMBERSHIP_CONFIRMED,
            context=as_owner,
            school_unit=school_unit,
            target=account.username,
        )
        AuditEvent.objects.bulk_create(
            _account_shared_events(user=account, school_unit=school_unit, context=as_owner)
        )
        outcome = CodeOutcome.CONFIRMED
    access_end(
        users=[account],
        context=as_owner,
        reason="password_changed",
        keep_session_key=keep_session_key,
        school_unit=school_unit,
    )
    return CodeRedemption(outcome, account, school_unit)


# --- /admin/: the subject catalogue ------------------------------------------------

SUBJECT_FIELDS = ("code", "name", "level")


@transaction.atomic
def subject_save(*, context: AuditContext, subject: Subject) -> Subject:
    created = subject.pk is None
    changes = field_changes(instance=subject, fields=SUBJECT_FIELDS)
    subject.save()
    audit_record(
        action=AuditAction.SUBJECT_CHANGED,
        context=context,
        target=subject.code,
        details={"change": "created" if created else "updated", "fields": changes},
    )
    return subject


@transaction.atomic
def subject_delete(*, context: AuditContext, subject: Subject) -> None:
    code = subject.code
    subject.delete()
    audit_record(
        action=AuditAction.SUBJECT_CHANGED,
        context=context,
        target=code,
        details={"change": "deleted"},
    )
