import datetime
import threading

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, Session, User
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.models import AuditEvent
from core.refusals import RefusalCode, Refused
from permissions.models import Membership, Subject
from permissions.models import TestAdministrator as Appointment
from permissions.services import appointments, school_year
from permissions.services.memberships import (
    membership_register,
    membership_register_self,
    membership_remove,
    teacher_password_regenerate,
)
from permissions.services.removal import removed_accounts_purge
from permissions.services.school_year import membership_reactivate, membership_reactivate_many
from permissions.services.subjects import membership_grant
from tests.conftest import END_OF_YEAR, SCHOOL_DAY
from tests.fixtures.staff import make_teachers

pytestmark = pytest.mark.django_db

AUGUST = datetime.date(2027, 8, 1)


def subjects(*codes):
    return list(Subject.objects.filter(code__in=codes))


def register(school_unit, actor, email="ny@skola.example", codes=("GRGRMAT01",), day=SCHOOL_DAY):
    return membership_register(
        school_unit=school_unit,
        context=AuditContext(actor=actor),
        first_name="Nora",
        last_name="Nysson",
        email=email,
        subjects=subjects(*codes),
        today=day,
    )


def test_registering_a_new_email_creates_a_teacher_with_a_one_time_password(principal, grundskola):
    registration = register(grundskola, principal, codes=("GRGRMAT01", "GRGRSVE01"))
    user = registration.user
    assert user.role == Role.TEACHER
    assert user.check_password(registration.password)
    assert registration.membership.valid_until == END_OF_YEAR
    assert set(registration.membership.subjects.values_list("code", flat=True)) == {
        "GRGRMAT01",
        "GRGRSVE01",
    }
    event = AuditEvent.objects.get(action=AuditAction.MEMBERSHIP_REGISTERED)
    assert event.school_unit == grundskola
    assert event.target == user.username
    assert event.actor_username == principal.username


def test_registering_a_known_teachers_email_links_the_account_without_a_new_password(
    principal, teacher, gymnasium
):
    old_hash = teacher.password
    registration = register(gymnasium, principal, email=teacher.email.upper(), codes=("MAT",))
    assert registration.user == teacher
    assert registration.password is None
    assert registration.linked
    teacher.refresh_from_db()
    assert teacher.password == old_hash
    assert teacher.memberships.count() == 2


def test_registering_a_teacher_twice_at_one_school_is_refused(principal, teacher, grundskola):
    with pytest.raises(Refused):
        register(grundskola, principal, email=teacher.email)
    assert teacher.memberships.count() == 1


def test_register_me_makes_a_separate_teacher_account(principal, grundskola):
    registration = membership_register_self(
        school_unit=grundskola, context=AuditContext(actor=principal), today=SCHOOL_DAY
    )
    assert registration.user != principal
    assert registration.user.username != principal.username
    assert registration.user.role == Role.TEACHER
    principal.refresh_from_db()
    assert principal.role == Role.PRINCIPAL


def test_granting_sets_exactly_the_chosen_subjects_and_logs_the_change(
    principal, teacher, grundskola
):
    membership = teacher.memberships.get()
    added, removed = membership_grant(
        membership=membership,
        subjects=subjects("GRGRMAT01", "GRGRENG01"),
        context=AuditContext(actor=principal),
    )
    assert added == {"GRGRENG01"}
    assert removed == {"GRGRSVE01"}
    assert set(membership.subjects.values_list("code", flat=True)) == {"GRGRMAT01", "GRGRENG01"}
    event = AuditEvent.objects.get(action=AuditAction.MEMBERSHIP_GRANTED)
    assert event.details == {"added": ["GRGRENG01"], "removed": ["GRGRSVE01"]}


def test_revoking_every_subject_leaves_the_membership_without_subjects(principal, teacher):
    membership = teacher.memberships.get()
    membership_grant(membership=membership, subjects=[], context=AuditContext(actor=principal))
    assert not membership.subjects.exists()


def test_removing_one_of_two_memberships_keeps_the_account(principal, teacher, gymnasium):
    register(gymnasium, principal, email=teacher.email)
    # The teacher confirmed the second school (a waiting one keeps nothing alive:
    # tests/permissions/test_no_silent_linking.py).
    teacher.memberships.filter(school_unit=gymnasium).update(
        confirmed_at=datetime.datetime.now(datetime.UTC)
    )
    deleted = membership_remove(
        membership=teacher.memberships.get(school_unit__code="11111111"),
        context=AuditContext(actor=principal),
    )
    assert not deleted
    assert User.objects.filter(pk=teacher.pk).exists()
    assert teacher.memberships.filter(removed_at__isnull=True).count() == 1


def test_removing_the_last_membership_deletes_the_account_and_its_personal_data(
    principal, teacher, grundskola
):
    username = teacher.username
    deleted = membership_remove(
        membership=teacher.memberships.get(), context=AuditContext(actor=principal)
    )
    assert deleted
    # Closed at once, deleted with its personal data after the 30 days of undo.
    assert not User.objects.get(username=username).is_active
    removed_accounts_purge(now=timezone.now() + datetime.timedelta(days=31))
    assert not User.objects.filter(username=username).exists()
    assert not User.objects.filter(email=teacher.email).exists()
    assert not Membership.objects.filter(user_id=teacher.pk).exists()
    actions = set(AuditEvent.objects.filter(target=username).values_list("action", flat=True))
    assert {AuditAction.MEMBERSHIP_REMOVED, AuditAction.ACCOUNT_DELETED} <= actions


def test_removing_the_last_membership_logs_the_teacher_out_at_once(principal, teacher):
    teacher_client = Client()
    teacher_client.force_login(teacher)
    assert Session.objects.count() == 1
    # Any page shows whether the session still carries the user.
    assert teacher_client.get("/").wsgi_request.user == teacher
    membership_remove(membership=teacher.memberships.get(), context=AuditContext(actor=principal))
    assert not teacher_client.get("/").wsgi_request.user.is_authenticated


def test_reactivation_is_refused_while_the_membership_is_valid(principal, teacher):
    membership = teacher.memberships.get()
    with pytest.raises(Refused, match="1 augusti"):
        membership_reactivate(
            membership=membership, context=AuditContext(actor=principal), today=END_OF_YEAR
        )
    membership.refresh_from_db()
    assert membership.valid_until == END_OF_YEAR
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBERSHIP_REACTIVATED).exists()


def test_reactivation_from_1_august_renews_to_the_end_of_the_new_school_year(principal, teacher):
    membership = teacher.memberships.get()
    membership_reactivate(
        membership=membership, context=AuditContext(actor=principal), today=AUGUST
    )
    membership.refresh_from_db()
    assert membership.valid_until == datetime.date(2028, 7, 31)


def test_reactivating_many_takes_a_constant_number_of_queries(principal, grundskola):
    few = make_teachers(grundskola, 3, valid_until=END_OF_YEAR, prefix="a")
    many = make_teachers(grundskola, 60, valid_until=END_OF_YEAR, prefix="b")
    counts = []
    for batch in (few, many):
        with CaptureQueriesContext(connection) as queries:
            done = membership_reactivate_many(
                school_unit=grundskola,
                membership_ids=[m.pk for m in batch],
                context=AuditContext(actor=principal),
                today=AUGUST,
            )
        assert len(done) == len(batch)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert AuditEvent.objects.filter(action=AuditAction.MEMBERSHIP_REACTIVATED).count() == 63
    assert set(
        Membership.objects.filter(school_unit=grundskola).values_list("valid_until", flat=True)
    ) == {datetime.date(2028, 7, 31)}


def test_reactivating_many_ignores_memberships_of_other_schools(
    principal, grundskola, other_school
):
    (foreign,) = make_teachers(other_school, 1, prefix="x")
    done = membership_reactivate_many(
        school_unit=grundskola,
        membership_ids=[foreign.pk],
        context=AuditContext(actor=principal),
        today=AUGUST,
    )
    assert done == []
    foreign.refresh_from_db()
    assert foreign.valid_until == END_OF_YEAR


def test_a_new_teacher_password_replaces_the_old_one_at_once(principal, teacher):
    password = teacher_password_regenerate(
        membership=teacher.memberships.get(),
        context=AuditContext(actor=principal),
        today=SCHOOL_DAY,
    )
    teacher.refresh_from_db()
    assert teacher.check_password(password)
    assert not teacher.check_password("larare-password-1234")


def test_issuing_a_test_admin_gives_password_card_and_a_school_year(principal, grundskola):
    issued = appointments.test_admin_issue(
        school_unit=grundskola,
        context=AuditContext(actor=principal),
        first_name="Pia",
        last_name="Provsson",
        email="pia@skola.example",
        today=SCHOOL_DAY,
    )
    user = issued.appointment.user
    assert user.role == Role.TEST_ADMIN
    assert user.check_password(issued.password)
    assert len(issued.card.cells) == 80
    assert issued.appointment.valid_until == END_OF_YEAR
    assert AuditEvent.objects.filter(
        action=AuditAction.TEST_ADMIN_ISSUED, school_unit=grundskola
    ).exists()


@pytest.mark.parametrize("deactivated", [False, True])
def test_a_second_test_admin_with_the_same_address_is_refused_and_nothing_is_made(
    principal, grundskola, gymnasium, deactivated
):
    def issue(school_unit, email):
        return appointments.test_admin_issue(
            school_unit=school_unit,
            context=AuditContext(actor=principal),
            first_name="Pia",
            last_name="Provsson",
            email=email,
            today=SCHOOL_DAY,
        )

    first = issue(grundskola, "pia@skola.example")
    if deactivated:
        appointments.test_admin_deactivate(
            appointment=first.appointment, context=AuditContext(actor=principal)
        )
    accounts, events = User.objects.count(), AuditEvent.objects.count()
    # A double click, a reloaded result page, the address in other letter case.
    with pytest.raises(Refused) as refused:
        issue(grundskola, " PIA@skola.example ")
    assert refused.value.code == RefusalCode.ALREADY_TEST_ADMIN
    assert first.appointment.user.username in refused.value.message
    assert (User.objects.count(), AuditEvent.objects.count()) == (accounts, events)
    # Another school may appoint the same person.
    assert issue(gymnasium, "pia@skola.example").appointment.school_unit == gymnasium


def test_deactivating_a_test_admin_ends_its_access_and_reactivating_restores_it(
    principal, test_admin
):
    appointment = test_admin.test_admin_appointment
    appointments.test_admin_deactivate(
        appointment=appointment, context=AuditContext(actor=principal)
    )
    test_admin.refresh_from_db()
    assert not test_admin.is_active
    appointments.test_admin_reactivate(
        appointment=appointment, context=AuditContext(actor=principal), today=SCHOOL_DAY
    )
    test_admin.refresh_from_db()
    appointment.refresh_from_db()
    assert test_admin.is_active
    assert appointment.deactivated_at is None


def test_an_active_test_admin_is_renewed_only_from_1_august(principal, test_admin):
    appointment = test_admin.test_admin_appointment
    with pytest.raises(Refused):
        appointments.test_admin_reactivate(
            appointment=appointment, context=AuditContext(actor=principal), today=END_OF_YEAR
        )
    appointments.test_admin_reactivate(
        appointment=appointment, context=AuditContext(actor=principal), today=AUGUST
    )
    appointment.refresh_from_db()
    assert appointment.valid_until == datetime.date(2028, 7, 31)


def test_a_test_admin_account_cannot_be_deleted(test_admin):
    with pytest.raises(ProtectedError):
        test_admin.delete()
    assert Appointment.objects.filter(user=test_admin).exists()


# --- A shared account: new passwords and the other schools' log --------------------------


def test_no_new_password_for_an_account_shared_with_a_school_the_actor_does_not_administer(
    principal, teacher, other_school
):
    Membership.objects.create(user=teacher, school_unit=other_school, valid_until=END_OF_YEAR)
    old_hash = teacher.password
    with pytest.raises(Refused) as refused:
        teacher_password_regenerate(
            membership=teacher.memberships.get(school_unit__code="11111111"),
            context=AuditContext(actor=principal),
            today=SCHOOL_DAY,
        )
    assert refused.value.code == RefusalCode.NOT_ALLOWED
    teacher.refresh_from_db()
    assert teacher.password == old_hash


def test_a_new_account_records_no_shared_account_event(principal, grundskola):
    register(grundskola, principal)
    assert not AuditEvent.objects.filter(action=AuditAction.TEACHER_ACCOUNT_SHARED).exists()


# --- The new school year in one service ----------------------------------------------------

LAST_YEAR = datetime.date(2027, 7, 31)


def last_years_teachers(school_unit, other_school_unit, count, prefix):
    """`count` to keep and `count` to remove, half of those also teaching elsewhere."""
    kept = make_teachers(school_unit, count, valid_until=LAST_YEAR, prefix=prefix + "k")
    removed = make_teachers(school_unit, count, valid_until=LAST_YEAR, prefix=prefix + "r")
    Membership.objects.bulk_create(
        [
            Membership(user_id=m.user_id, school_unit=other_school_unit, valid_until=END_OF_YEAR)
            for m in removed[: count // 2]
        ]
    )
    return kept, removed


def renew(school_unit, actor, kept, remove_rest=True):
    return school_year.school_year_renew(
        school_unit=school_unit,
        keep=kept,
        remove_rest=remove_rest,
        context=AuditContext(actor=actor),
        today=AUGUST,
    )


def test_renewing_the_school_year_keeps_reactivates_removes_and_deletes(
    principal, grundskola, gymnasium
):
    kept, removed = last_years_teachers(grundskola, gymnasium, 4, "a")
    renewal = renew(grundskola, principal, kept)
    assert (len(renewal.kept), renewal.removed, renewal.accounts_deleted) == (4, 4, 2)
    assert set(
        Membership.objects.filter(pk__in=[m.pk for m in kept]).values_list("valid_until", flat=True)
    ) == {datetime.date(2028, 7, 31)}
    # Teaching elsewhere: the account stays, the membership here is ended.
    for membership in removed[:2]:
        membership.refresh_from_db()
        assert membership.removed_at is not None
        assert membership.user.memberships.filter(removed_at__isnull=True).count() == 1
    # This was the last school: the account is closed, restorable for 30 days.
    closed = User.objects.filter(pk__in=[m.user_id for m in removed[2:]])
    assert [user.removed_at is not None for user in closed] == [True, True]
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions.count(AuditAction.MEMBERSHIP_REACTIVATED) == 4
    assert actions.count(AuditAction.MEMBERSHIP_REMOVED) == 4
    assert actions.count(AuditAction.ACCOUNT_REMOVED) == 2


def test_renewing_ends_the_sessions_of_deleted_accounts(principal, grundskola):
    (old,) = make_teachers(grundskola, 1, valid_until=LAST_YEAR, prefix="s")
    teacher_client = Client()
    teacher_client.force_login(old.user)
    renew(grundskola, principal, [])
    assert not teacher_client.get("/").wsgi_request.user.is_authenticated


def test_renewing_takes_the_same_number_of_queries_for_5_and_50_teachers(
    principal, grundskola, gymnasium
):
    counts = []
    for count, prefix in ((5, "a"), (50, "b")):
        kept, _removed = last_years_teachers(grundskola, gymnasium, count, prefix)
        with CaptureQueriesContext(connection) as queries:
            renewal = renew(grundskola, principal, kept)
        assert (len(renewal.kept), renewal.removed) == (count, count)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_failure_while_renewing_leaves_nothing_changed(
    principal, grundskola, gymnasium, monkeypatch
):
    kept, removed = last_years_teachers(grundskola, gymnasium, 3, "f")
    real_bulk_create = AuditEvent.objects.bulk_create
    calls = []

    def fail_on_the_removal_events(events, *args, **kwargs):
        calls.append(len(events))
        if len(calls) == 2:  # after reactivating and removing, before the log
            raise RuntimeError("disk full")
        return real_bulk_create(events, *args, **kwargs)

    monkeypatch.setattr(AuditEvent.objects, "bulk_create", fail_on_the_removal_events)
    with pytest.raises(RuntimeError):
        renew(grundskola, principal, kept)
    assert len(calls) == 2
    assert set(
        Membership.objects.filter(pk__in=[m.pk for m in kept + removed]).values_list(
            "valid_until", "removed_at"
        )
    ) == {(LAST_YEAR, None)}
    assert User.objects.filter(pk__in=[m.user_id for m in removed]).count() == 3
    assert not AuditEvent.objects.exists()


def test_a_test_admin_cannot_remove_through_the_renewal_service(test_admin, grundskola):
    (old,) = make_teachers(grundskola, 1, valid_until=LAST_YEAR, prefix="t")
    with pytest.raises(Refused) as refused:
        renew(grundskola, test_admin, [])
    assert refused.value.code == RefusalCode.NOT_ALLOWED
    assert Membership.objects.filter(pk=old.pk, removed_at__isnull=True).exists()


# --- Concurrent registration of one new e-mail -----------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serializes every write transaction"
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_registrations_of_one_new_email_make_one_account(
    principal, grundskola, gymnasium
):
    barrier = threading.Barrier(2)
    errors = []

    def register_at(school_unit):
        try:
            barrier.wait(timeout=10)
            register(school_unit, principal, email="samtidig@skola.example")
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=register_at, args=(s,)) for s in (grundskola, gymnasium)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    (user,) = User.objects.filter(email__iexact="samtidig@skola.example")
    assert set(user.memberships.values_list("school_unit__code", flat=True)) == {
        grundskola.code,
        gymnasium.code,
    }
