"""The school year (läsår): 1 August – 31 July, in Europe/Stockholm.

Read the clock once per request (`today()`) and pass the date down.
"""

import datetime

from django.utils import timezone

SCHOOL_YEAR_START_MONTH = 8


def today() -> datetime.date:
    """Today's date in Europe/Stockholm (TIME_ZONE), not in UTC."""
    return timezone.localdate()


def school_year_start(day: datetime.date) -> datetime.date:
    year = day.year if day.month >= SCHOOL_YEAR_START_MONTH else day.year - 1
    return datetime.date(year, SCHOOL_YEAR_START_MONTH, 1)


def school_year_end(day: datetime.date) -> datetime.date:
    """The last day (31 July) of the school year that contains `day`."""
    return datetime.date(school_year_start(day).year + 1, 7, 31)


def school_year_label(day: datetime.date) -> str:
    start = school_year_start(day).year
    return f"{start}/{(start + 1) % 100:02d}"
