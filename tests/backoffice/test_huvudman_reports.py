"""/huvudman/rapporter/: four reports of the staff member's own huvudman, in
a constant number of queries, each exportable as an audited CSV."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import CardState, Role
from accounts.services.cards import card_issue
from audit.context import AuditContext
from audit.models import AuditEvent
from permissions.models import Membership
from schools.models import PrincipalAssignment
from tests.conftest import END_OF_YEAR, make_school, make_user, verify_session

pytestmark = pytest.mark.django_db

PAGE = "/huvudman/rapporter/"


def csv_url(slug: str) -> str:
    return f"/huvudman/rapporter/{slug}/csv/"


@pytest.fixture
def situation(principal, teacher, test_admin, huvudman, other_principal, other_school):
    empty = make_school("33333333", "Tomma skolan", huvudman, ["grundskola"])
    card = card_issue(user=test_admin, context=AuditContext.system()).device
    card.state = CardState.LOCKED
    card.locked_at = timezone.now()
    card.save()
    card_issue(user=other_principal, context=AuditContext.system())
    return empty


def test_staff_read_their_own_huvudmans_reports(staff_client, situation, other_school):
    page = staff_client.get("/en" + PAGE).content.decode()
    assert "Rektor Testsson" in page  # never logged in
    assert "Tomma skolan" in page  # no principal
    assert "Provadmin Testsson" in page  # locked card
    assert "Testskolan F–9" in page
    # Nothing of the other huvudman.
    assert "Annanrektor" not in page and "Annan skola" not in page


def test_the_reports_cost_the_same_queries_however_many(
    staff_client, situation, huvudman, grundskola
):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(PAGE).status_code == 200
        return len(captured)

    before = count()
    for number in range(5):
        unit = make_school(f"4444444{number}", f"Skola {number}", huvudman, ["grundskola"])
        boss = make_user(f"rektor{number}", Role.PRINCIPAL)
        PrincipalAssignment.objects.create(user=boss, school_unit=unit)
        teacher = make_user(f"larare{number}", Role.TEACHER)
        Membership.objects.create(user=teacher, school_unit=grundskola, valid_until=END_OF_YEAR)
    assert count() == before


def test_a_report_downloads_as_csv_and_is_audited(staff_client, situation, huvudman):
    response = staff_client.post(csv_url("teachers_per_unit"))
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert "Testskolan F–9;11111111;1;0;0" in text
    event = AuditEvent.objects.get(action="report_exported")
    assert (event.huvudman, event.details["report"]) == (huvudman, "teachers_per_unit")


def test_cells_that_would_be_formulas_are_made_text(staff_client, principal):
    principal.first_name = "=HYPERLINK(1)"
    principal.save()
    text = staff_client.post(csv_url("never_logged_in")).content.decode()
    assert "'=HYPERLINK(1) Testsson" in text


def test_an_export_needs_a_post_and_a_known_report(staff_client):
    assert staff_client.get(csv_url("locked_cards")).status_code == 405
    assert staff_client.post(csv_url("everything")).status_code == 404
    assert not AuditEvent.objects.filter(action="report_exported").exists()


def test_the_reports_are_for_huvudman_staff_only(client, principal, national_admin):
    assert client.get(PAGE).status_code == 302
    assert client.post(csv_url("locked_cards")).status_code == 302
    for user in (principal, national_admin):
        response = verify_session(Client(), user).get(PAGE)
        assert response.status_code == 302 and "/huvudman/login/" in response["Location"]


def test_a_csv_post_needs_its_csrf_token(huvudman_staff):
    client = verify_session(Client(enforce_csrf_checks=True), huvudman_staff)
    assert client.post(csv_url("locked_cards")).status_code == 403
