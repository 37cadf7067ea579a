"""Every test finds the rows the data migrations seed, even after a flush."""

import pytest

from permissions.models import (
    LevelPolicy,
    Subject,
)
from schools.models import SchoolForm


def assert_seeded_rows() -> None:
    assert SchoolForm.objects.count() == 8
    assert Subject.objects.count() == 40
    assert LevelPolicy.objects.count() == 8


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_finds_the_seeded_rows():
    assert_seeded_rows()
    # Its flush at teardown empties these tables for the test below.


def test_a_test_that_asks_for_the_database_late_finds_the_seeded_rows(request):
    # No db fixture in the signature, so pytest-django orders this test after
    # the transactional ones: it runs after a flush.
    request.getfixturevalue("db")
    assert_seeded_rows()
