"""The school services validate on their own, whoever calls them."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role, User
from audit.context import AuditContext
from schools.services import principal_issue, principal_unlink, school_unit_save

pytestmark = pytest.mark.django_db


def test_a_principal_is_never_issued_across_huvudmän(grundskola, other_school):
    with pytest.raises(ValidationError):
        principal_issue(
            context=AuditContext.system(),
            name="Rut",
            email="rut@x.se",
            school_units=[grundskola, other_school],
        )
    assert not User.objects.filter(role=Role.PRINCIPAL).exists()


def test_a_unit_is_never_moved_to_another_huvudman(grundskola, other_huvudman):
    with pytest.raises(ValidationError):
        school_unit_save(
            context=AuditContext.system(),
            huvudman=other_huvudman,
            school_unit=grundskola,
            name="Flyttad",
            forms=grundskola.forms.all(),
        )
    grundskola.refresh_from_db()
    assert grundskola.name == "Testskolan F–9"


def test_unlinking_a_unit_the_principal_does_not_lead_changes_nothing(principal, other_school):
    assert (
        principal_unlink(
            context=AuditContext.system(), principal=principal, school_unit=other_school
        )
        is False
    )
    assert principal.led_school_units.count() == 2
