"""Writes about permissions. Each is atomic and records its audit event."""

import dataclasses
import datetime
import secrets
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import card_issue, password_regenerate
from accounts.usernames import (
    USERNAME_ALPHABET,
    USERNAME_LENGTH,
    generate_password,
    generate_username,
)
from permissions.audit import AuditAction, AuditContext, audit_build, audit_record
from permissions.csv_import import OUTCOME_LABELS, Outcome, PlannedRow, parse_rows, plan_import
from permissions.models import (
    AuditEvent,
    LevelPolicy,
    Membership,
    Subject,
    SubjectGrant,
    TestAdministrator,
)
from permissions.passwords import hash_generated_password
from permissions.policy import (
    RESTORE_WINDOW,
    can_deactivate_test_admin,
    can_reactivate_test_admin,
    can_regenerate_teacher_password,
    can_remove_membership,
    reactivated_until,
    reactivation_is_open,
    school_memberships,
)
from permissions.refusals import RefusalCode, Refused
from schools.models import SchoolUnit


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
    # The new account's password, shown once; None when an existing account was linked.
    password: str | None

    @property
    def linked(self) -> bool:
        return self.password is None


def find_teacher_account(*, email: str) -> User | None:
    """One person, one teacher account: an e-mail already used by a teacher
    (at any school) gets a membership here instead of a second account."""
    return (
        User.objects.filter(role=Role.TEACHER, email__iexact=email.strip()).order_by("pk").first()
    )


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
    subjects = list(subjects)
    email = email.strip()
    _serialize_by_email(email)
    user = find_teacher_account(email=email)
    password = None
    if user is None:
        password = generate_password()
        user = User.objects.create_user(
            username=generate_username(),
            password=password,
            role=Role.TEACHER,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email,
        )
        audit_record(
            action=AuditAction.PASSWORD_ISSUED,
            context=context,
            school_unit=school_unit,
            target=user.username,
        )
    elif school_memberships(school_unit=school_unit).filter(user=user).exists():
        raise Refused(RefusalCode.ALREADY_REGISTERED, email=email)
    membership = Membership.objects.create(
        user=user,
        school_unit=school_unit,
        valid_until=reactivated_until(today=today),
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
            "new_account": password is not None,
            "valid_until": membership.valid_until.isoformat(),
        },
    )
    if password is None:
        AuditEvent.objects.bulk_create(
            _account_shared_events(users=[user], school_unit=school_unit, context=context)
        )
    return Registration(membership=membership, user=user, password=password)


def _serialize_by_email(*emails: str) -> None:
    """Make concurrent registrations of one e-mail address wait for each other.

    The e-mail is not unique in the database (accounts owns the table, and
    other roles may share an address), so two principals registering the same
    new teacher at once would both find no account and create two. On
    PostgreSQL a transaction-scoped advisory lock on the address makes the
    second wait until the first has committed, and then find its account.
    SQLite serializes every write transaction anyway.
    """
    if connection.vendor != "postgresql" or not emails:
        return
    with connection.cursor() as cursor:
        # One statement for any number of addresses, taken in one order (by
        # key) so that two imports of overlapping files cannot deadlock.
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM ("
            " SELECT DISTINCT hashtext(lower(e)) AS k FROM unnest(%s::text[]) AS e ORDER BY k"
            ") AS keys",
            [list(emails)],
        )


def _account_shared_events(
    *, users: list[User], school_unit: SchoolUnit, context: AuditContext
) -> list[AuditEvent]:
    """One event at each other school of these (linked, existing) accounts.

    SECURITY: linking needs only an e-mail address, so the schools that
    already had the teacher must be able to see in their own log that the
    account is now shared, by whom and where. One query whatever the count.
    """
    others = (
        Membership.objects.live()
        .filter(user__in=users)
        .exclude(school_unit=school_unit)
        .select_related("user", "school_unit")
    )
    return [
        audit_build(
            action=AuditAction.TEACHER_ACCOUNT_SHARED,
            context=context,
            school_unit=other.school_unit,
            target=other.user.username,
            details={"school_unit": school_unit.code, "school_name": school_unit.name},
        )
        for other in others
    ]


@transaction.atomic
def membership_register_self(
    *, school_unit: SchoolUnit, context: AuditContext, today: datetime.date
) -> Registration:
    """ "Registrera mig som lärare": a separate teacher account for the
    principal or test administrator, who keeps their E-tjänster account.

    SECURITY: never the same account — E-tjänster credentials must not open
    the portal, and teacher credentials must not open E-tjänster."""
    return membership_register(
        school_unit=school_unit,
        context=context,
        first_name=context.actor.first_name,
        last_name=context.actor.last_name,
        email=context.actor.email,
        subjects=[],
        today=today,
    )


@transaction.atomic
def membership_grant(
    *,
    membership: Membership,
    subjects: Iterable[Subject],
    context: AuditContext,
) -> tuple[set[str], set[str]]:
    """Set the membership's subjects to exactly `subjects`. Returns the codes
    added and removed."""
    wanted = {subject.pk: subject for subject in subjects}
    current = dict(membership.grants.values_list("subject_id", "subject__code"))
    added = [subject for pk, subject in wanted.items() if pk not in current]
    removed_ids = [pk for pk in current if pk not in wanted]
    membership.grants.filter(subject_id__in=removed_ids).delete()
    SubjectGrant.objects.bulk_create(
        [SubjectGrant(membership=membership, subject=subject) for subject in added]
    )
    added_codes = {subject.code for subject in added}
    removed_codes = {current[pk] for pk in removed_ids}
    if added_codes or removed_codes:
        audit_record(
            action=AuditAction.MEMBERSHIP_GRANTED,
            context=context,
            school_unit=membership.school_unit,
            target=membership.user.username,
            details={"added": sorted(added_codes), "removed": sorted(removed_codes)},
        )
    return added_codes, removed_codes


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
    removing_ids = [membership.pk for membership in removing]
    staying = set(
        Membership.objects.live()
        .filter(user__in=[membership.user_id for membership in removing])
        .exclude(pk__in=removing_ids)
        .values_list("user_id", flat=True)
    )
    ending = [membership for membership in removing if membership.user_id in staying]
    deleting = [membership for membership in removing if membership.user_id not in staying]
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

    SECURITY: deleting the account ends its sessions at once (ASVS 7.4.2): a
    session row holds only the user id, and a session whose user no longer
    exists is anonymous on its next request.
    """
    user = membership.user
    school_unit = membership.school_unit
    others = Membership.objects.live().filter(user=user).exclude(pk=membership.pk).exists()
    username = user.username
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


@transaction.atomic
def csv_import_apply(
    *,
    school_unit: SchoolUnit,
    context: AuditContext,
    text: str,
    today: datetime.date,
) -> list[ImportedTeacher]:
    """Import every row of `text`, or nothing: any row with an error refuses
    the whole file. A bounded number of queries whatever the row count.

    The text is planned again here, inside the transaction, so what the
    preview showed is checked once more against the database as it is now.
    """
    _serialize_by_email(*(row.email for row in parse_rows(text)))
    plan = plan_import(school_unit=school_unit, text=text)
    if not plan.is_valid:
        raise Refused(RefusalCode.IMPORT_HAS_ERRORS, count=len(plan.errors))
    until = reactivated_until(today=today)
    new_rows = [row for row in plan.rows if row.outcome == Outcome.NEW]
    usernames = generate_usernames(len(new_rows))
    passwords = [generate_password() for _row in new_rows]
    new_users = User.objects.bulk_create(
        [
            User(
                username=username,
                password=hash_generated_password(password),
                role=Role.TEACHER,
                first_name=row.first_name,
                last_name=row.last_name,
                email=row.email,
            )
            for row, username, password in zip(new_rows, usernames, passwords, strict=True)
        ]
    )
    if new_users and new_users[0].pk is None:  # a backend without RETURNING
        by_name = User.objects.in_bulk(usernames, field_name="username")
        new_users = [by_name[username] for username in usernames]
    for row, user in zip(new_rows, new_users, strict=True):
        row.user = user

    joining = [row for row in plan.rows if row.outcome in (Outcome.NEW, Outcome.LINKED)]
    memberships = Membership.objects.bulk_create(
        [Membership(user=row.user, school_unit=school_unit, valid_until=until) for row in joining]
    )
    if memberships and memberships[0].pk is None:
        by_user = {
            m.user_id: m
            for m in school_memberships(school_unit=school_unit).filter(
                user__in=[row.user for row in joining]
            )
        }
        memberships = [by_user[row.user.pk] for row in joining]
    for row, membership in zip(joining, memberships, strict=True):
        row.membership = membership

    updating = [row for row in plan.rows if row.outcome == Outcome.UPDATED]
    current: dict[int, dict[int, tuple[int, str]]] = {}
    for grant_pk, membership_id, subject_id, code in SubjectGrant.objects.filter(
        membership__in=[row.membership for row in updating]
    ).values_list("pk", "membership_id", "subject_id", "subject__code"):
        current.setdefault(membership_id, {})[subject_id] = (grant_pk, code)
    stale_grants: list[int] = []
    new_grants: list[SubjectGrant] = []
    events: list[AuditEvent] = []
    for row in joining:
        new_grants += [SubjectGrant(membership=row.membership, subject=s) for s in row.subjects]
        if row.outcome == Outcome.NEW:
            events.append(
                audit_build(
                    action=AuditAction.PASSWORD_ISSUED,
                    context=context,
                    school_unit=school_unit,
                    target=row.user.username,
                )
            )
        events.append(
            audit_build(
                action=AuditAction.MEMBERSHIP_REGISTERED,
                context=context,
                school_unit=school_unit,
                target=row.user.username,
                details={
                    "subjects": sorted(s.code for s in row.subjects),
                    "new_account": row.outcome == Outcome.NEW,
                    "valid_until": until.isoformat(),
                    "csv_row": row.number,
                },
            )
        )
    for row in updating:
        have = current.get(row.membership.pk, {})
        want = {s.pk: s for s in row.subjects}
        stale = [grant for subject_id, grant in have.items() if subject_id not in want]
        fresh = [s for pk, s in want.items() if pk not in have]
        stale_grants += [grant_pk for grant_pk, _code in stale]
        new_grants += [SubjectGrant(membership=row.membership, subject=s) for s in fresh]
        if stale or fresh:
            events.append(
                audit_build(
                    action=AuditAction.MEMBERSHIP_GRANTED,
                    context=context,
                    school_unit=school_unit,
                    target=row.user.username,
                    details={
                        "added": sorted(s.code for s in fresh),
                        "removed": sorted(code for _pk, code in stale),
                        "csv_row": row.number,
                    },
                )
            )
    events += _account_shared_events(
        users=[row.user for row in joining if row.outcome == Outcome.LINKED],
        school_unit=school_unit,
        context=context,
    )
    SubjectGrant.objects.filter(pk__in=stale_grants).delete()
    SubjectGrant.objects.bulk_create(new_grants)
    events.append(
        audit_build(
            action=AuditAction.TEACHERS_IMPORTED,
            context=context,
            school_unit=school_unit,
            target=school_unit.code,
            details={outcome: plan.count(outcome) for outcome in OUTCOME_LABELS},
        )
    )
    AuditEvent.objects.bulk_create(events)
    passwords_by_row = {row.number: pw for row, pw in zip(new_rows, passwords, strict=True)}
    return [
        ImportedTeacher(
            row=row,
            # SECURITY: as in registration, a linked account's username is not
            # told to the school that linked it by e-mail.
            username="" if row.outcome == Outcome.LINKED else row.user.username,
            valid_until=row.membership.valid_until if row.outcome == Outcome.UPDATED else until,
            password=passwords_by_row.get(row.number),
        )
        for row in plan.rows
    ]


def generate_usernames(count: int) -> list[str]:
    """`count` fresh usernames, checked against the database in one query
    (a second one only in the unlikely case of a collision)."""
    chosen: list[str] = []
    while len(chosen) < count:
        candidates = {
            "".join(secrets.choice(USERNAME_ALPHABET) for _c in range(USERNAME_LENGTH))
            for _i in range(count - len(chosen))
        }
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
    card, valid to the end of the school year."""
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
    sessions end because an inactive user is not authenticated."""
    if not can_deactivate_test_admin(appointment=appointment):
        raise Refused(RefusalCode.ALREADY_DEACTIVATED)
    appointment.deactivated_at = timezone.now()
    appointment.save(update_fields=["deactivated_at"])
    User.objects.filter(pk=appointment.user_id).update(is_active=False)
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
