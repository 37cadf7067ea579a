"""`manage.py notify_due`: the August reminder (1 and 15 August), the weekly
summary and units without a principal; once each, however often it runs."""

import datetime
import json
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from core.outbox import outbox_send_due
from notifications.models import NotificationKind, NotificationSent, NotificationSetting
from permissions.models import Membership
from schools.models import PrincipalAssignment

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(year, month, day, hour=6):
    return time_machine.travel(datetime.datetime(year, month, day, hour, tzinfo=STOCKHOLM))


def run() -> dict:
    out = StringIO()
    call_command("notify_due", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def last_years_teacher(teacher):
    Membership.objects.filter(user=teacher).update(valid_until=datetime.date(2027, 7, 31))
    return teacher


def test_no_august_reminder_on_31_july(principal, last_years_teacher):
    with at(2027, 7, 31, 23):
        assert run()["new_school_year"] == 0


def test_on_1_august_each_principal_gets_the_count_and_the_page_once(
    principal, last_years_teacher, test_admin
):
    with at(2027, 8, 1, 0):
        first = run()
        second = run()
        outbox_send_due()
    assert (first["date"], first["new_school_year"], second["new_school_year"]) == (
        "2027-08-01",
        1,
        0,
    )
    [message] = mail.outbox
    assert message.to == [principal.email]
    assert "/e-tjanster/skolor/11111111/nytt-lasar/" in message.body
    assert "2027/28" in message.body


def test_the_second_reminder_goes_on_15_august_only_if_nothing_was_done(
    principal, last_years_teacher, grundskola
):
    with at(2027, 8, 1):
        run()
    with at(2027, 8, 14):
        assert run()["new_school_year"] == 0
    with at(2027, 8, 15):
        assert run()["new_school_year"] == 1
        assert run()["new_school_year"] == 0


def test_no_second_reminder_where_someone_reactivated_or_removed(
    principal, last_years_teacher, grundskola
):
    with at(2027, 8, 3):
        audit_record(
            action=AuditAction.MEMBERSHIP_REACTIVATED,
            context=AuditContext.system(),
            school_unit=grundskola,
            target="x",
        )
    with at(2027, 8, 15):
        assert run()["new_school_year"] == 0


def test_no_reminder_after_august_nor_without_teachers_waiting(principal, teacher):
    with at(2027, 8, 1):
        # Valid this school year: nothing waits.
        Membership.objects.filter(user=teacher).update(valid_until=datetime.date(2028, 7, 31))
        assert run()["new_school_year"] == 0
    with at(2027, 9, 1):
        Membership.objects.filter(user=teacher).update(valid_until=datetime.date(2027, 7, 31))
        assert run()["new_school_year"] == 0


def test_the_weekly_summary_counts_last_weeks_changes_for_those_who_want_it(
    principal, test_admin, grundskola, gymnasium
):
    with at(2027, 3, 3):  # a Wednesday
        for _ in range(2):
            audit_record(
                action=AuditAction.MEMBERSHIP_REGISTERED,
                context=AuditContext.system(),
                school_unit=grundskola,
                target="x",
            )
        # Logins are no change.
        audit_record(
            action=AuditAction.LOGIN_SUCCEEDED,
            context=AuditContext.system(),
            school_unit=gymnasium,
            target="x",
        )
    NotificationSetting.objects.create(
        user=test_admin, kind=NotificationKind.WEEKLY_DIGEST, enabled=False
    )
    with at(2027, 3, 6):  # the same week: not over yet
        assert run()["weekly_digest"] == 0
    with at(2027, 3, 8):  # Monday
        assert run()["weekly_digest"] == 1
    with at(2027, 3, 9):
        assert run()["weekly_digest"] == 0
        outbox_send_due()
    [message] = mail.outbox
    assert message.to == [principal.email]
    assert "Testskolan F–9 (11111111)" in message.body
    assert ": 2" in message.body
    assert "Testgymnasiet" not in message.body


def test_a_quiet_week_sends_no_summary(principal):
    with at(2027, 3, 8):
        assert run()["weekly_digest"] == 0


def test_staff_hear_once_of_a_unit_left_without_a_principal(
    principal, grundskola, gymnasium, huvudman_staff, other_staff, other_school
):
    with at(2027, 3, 1):
        report = run()
        outbox_send_due()
    # The other huvudman's unit has none: its staff are told, ours are not.
    assert report["unit_without_principal"] == 1
    assert [m.to for m in mail.outbox] == [[other_staff.email]]
    mail.outbox.clear()
    principal.is_active = False
    principal.save()
    with at(2027, 3, 2):
        assert run()["unit_without_principal"] == 1
        assert run()["unit_without_principal"] == 0
        outbox_send_due()
    [message] = mail.outbox
    assert message.to == [huvudman_staff.email]
    assert "Testskolan F–9" in message.body and "Testgymnasiet" in message.body
    assert "/huvudman/rapporter/" in message.body
    # Led again, then lost again: told again.
    principal.is_active = True
    principal.save()
    with at(2027, 3, 3):
        run()
    assert not NotificationSent.objects.filter(key__endswith=f":{grundskola.pk}").exists()
    PrincipalAssignment.objects.filter(user=principal, school_unit=grundskola).delete()
    with at(2027, 3, 4):
        assert run()["unit_without_principal"] == 1


def test_staff_who_switched_units_off_are_not_told(other_staff, other_school):
    NotificationSetting.objects.create(
        user=other_staff, kind=NotificationKind.UNIT_WITHOUT_PRINCIPAL, enabled=False
    )
    with at(2027, 3, 1):
        assert run()["unit_without_principal"] == 0
    # Still claimed: switching back on later does not mail old news.
    assert NotificationSent.objects.filter(kind=NotificationKind.UNIT_WITHOUT_PRINCIPAL).exists()


def test_the_command_without_json_says_what_it_queued(db):
    out = StringIO()
    with at(2027, 3, 1):
        call_command("notify_due", stdout=out)
    assert out.getvalue().startswith("2027-03-01: queued 0 August reminders")
