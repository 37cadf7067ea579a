import datetime

import time_machine

from permissions.schoolyear import school_year_end, school_year_label, school_year_start, today


def test_school_year_runs_from_first_of_august_to_last_of_july():
    assert school_year_start(datetime.date(2026, 8, 1)) == datetime.date(2026, 8, 1)
    assert school_year_end(datetime.date(2026, 8, 1)) == datetime.date(2027, 7, 31)
    assert school_year_end(datetime.date(2027, 7, 31)) == datetime.date(2027, 7, 31)
    assert school_year_end(datetime.date(2027, 1, 15)) == datetime.date(2027, 7, 31)
    assert school_year_label(datetime.date(2027, 1, 15)) == "2026/27"


def test_today_is_stockholm_date_not_utc():
    # 22:30 UTC on 31 July is already 1 August in Stockholm (UTC+2 in summer).
    with time_machine.travel(datetime.datetime(2027, 7, 31, 22, 30, tzinfo=datetime.UTC)):
        assert today() == datetime.date(2027, 8, 1)
    with time_machine.travel(datetime.datetime(2027, 7, 31, 21, 59, tzinfo=datetime.UTC)):
        assert today() == datetime.date(2027, 7, 31)
