"""What the walk found in the logs' words: who acted on their own account,
and raw ISO moments in the details, written one way in every log."""

import datetime
import zoneinfo

import time_machine
from django.utils import translation

from audit.actions import AuditAction
from audit.context import AuditContext
from audit.display import describe_details, log_time
from audit.log import audit_record
from tests.conftest import verify_session


def test_someone_acting_on_their_own_account_is_the_person_themself():
    with translation.override("en"):
        assert describe_details({"by": "self"}) == "by: the person themself"


def test_moments_and_days_in_details_are_written_as_every_log_writes_them():
    with translation.override("en"):
        line = describe_details(
            {
                "starts_at": "2026-12-07T13:05:00+00:00",
                "valid_until": "2027-07-31",
                "title": "2026 is not a date",
            }
        )
    assert "shown from: 2026-12-07 14:05" in line  # Stockholm time
    assert "valid until: 2027-07-31" in line
    assert "title: 2026 is not a date" in line


def test_log_time_is_stockholm_time_to_the_minute():
    moment = datetime.datetime(2026, 7, 31, 22, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert log_time(moment) == "2026-08-01 00:30"


def test_the_admin_log_shows_times_the_same_way(client, national_admin, principal):
    moment = datetime.datetime(2026, 12, 7, 13, 5, tzinfo=zoneinfo.ZoneInfo("UTC"))
    with time_machine.travel(moment, tick=False):
        audit_record(action=AuditAction.LOG_EXPORTED, context=AuditContext(actor=principal))
    page = verify_session(client, national_admin).get("/admin/audit/auditevent/")
    assert "2026-12-07 14:05" in page.content.decode()
