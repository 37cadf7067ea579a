import datetime
import zoneinfo

import pytest
import time_machine

from permissions import policy
from permissions.schoolyear import today

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
LAST_YEAR_END = datetime.date(2026, 7, 31)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (datetime.datetime(2026, 7, 31, 23, 59, tzinfo=STOCKHOLM), False),
        (datetime.datetime(2026, 8, 1, 0, 0, tzinfo=STOCKHOLM), True),
    ],
)
def test_reactivation_opens_on_1_august_at_midnight_in_stockholm(moment, open_):
    with time_machine.travel(moment, tick=False):
        assert policy.reactivation_is_open(valid_until=LAST_YEAR_END, today=today()) is open_


def test_reactivation_follows_the_stockholm_date_not_utc():
    # 31 July 22:30 UTC is already 1 August 00:30 in Stockholm (summer time).
    with time_machine.travel(datetime.datetime(2026, 7, 31, 22, 30, tzinfo=datetime.UTC)):
        assert policy.reactivation_is_open(valid_until=LAST_YEAR_END, today=today())
    with time_machine.travel(datetime.datetime(2026, 7, 31, 21, 59, tzinfo=datetime.UTC)):
        assert not policy.reactivation_is_open(valid_until=LAST_YEAR_END, today=today())


def test_a_membership_valid_this_school_year_has_nothing_to_reactivate():
    day = datetime.date(2026, 11, 28)
    assert not policy.reactivation_is_open(valid_until=datetime.date(2027, 7, 31), today=day)


def test_reactivation_lasts_to_the_end_of_the_current_school_year():
    assert policy.reactivated_until(today=datetime.date(2026, 8, 1)) == datetime.date(2027, 7, 31)
    assert policy.reactivated_until(today=datetime.date(2027, 7, 31)) == datetime.date(2027, 7, 31)


def test_after_31_july_a_membership_awaits_reactivation_even_without_subjects():
    state = policy.membership_state(
        valid_until=LAST_YEAR_END, subject_count=0, today=datetime.date(2026, 8, 1)
    )
    assert state == policy.MembershipState.AWAITING_REACTIVATION


def test_on_31_july_a_membership_with_subjects_is_still_active():
    state = policy.membership_state(valid_until=LAST_YEAR_END, subject_count=2, today=LAST_YEAR_END)
    assert state == policy.MembershipState.ACTIVE


def test_a_valid_membership_without_subjects_is_flagged():
    state = policy.membership_state(
        valid_until=LAST_YEAR_END, subject_count=0, today=datetime.date(2026, 3, 1)
    )
    assert state == policy.MembershipState.NO_SUBJECTS


@pytest.mark.django_db
def test_only_a_principal_removes_teachers_and_manages_test_admins(
    principal, test_admin, grundskola
):
    assert policy.can_remove_membership(user=principal, school_unit=grundskola)
    assert not policy.can_remove_membership(user=test_admin, school_unit=grundskola)
    assert policy.can_manage_test_admins(user=principal, school_unit=grundskola)
    assert not policy.can_manage_test_admins(user=test_admin, school_unit=grundskola)


@pytest.mark.django_db
def test_state_filter_agrees_with_the_state_of_each_membership(grundskola, teacher):
    from permissions.models import Membership

    memberships = policy.school_memberships(school_unit=grundskola)
    day = datetime.date(2026, 11, 28)
    for state in policy.MembershipState:
        found = list(policy.memberships_in_state(memberships=memberships, state=state, today=day))
        expected = [
            m
            for m in Membership.objects.filter(school_unit=grundskola)
            if policy.membership_state(
                valid_until=m.valid_until, subject_count=m.grants.count(), today=day
            )
            == state
        ]
        assert found == expected
