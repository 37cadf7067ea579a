"""The catalogue as one teacher sees it, for that teacher's principal or
test administrator: read-only, through the gate's own functions, only what
opens through the viewer's school, audited; 404 for anyone else."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.actions import AuditAction
from audit.models import AuditEvent
from permissions import policy
from permissions.models import Membership, Subject
from permissions.schoolyear import today
from portal.models import Material
from tests.conftest import END_OF_YEAR, verify_session
from tests.fixtures.material import make_material


def url(school, username, lang="/en") -> str:
    return f"{lang}/e-tjanster/skolor/{school.code}/larare/{username}/som-lararen/"


@pytest.fixture
def items(open_item, math_item, english_item, gymnasial_item):
    return [open_item, math_item, english_item, gymnasial_item]


def test_the_principal_sees_what_opens_and_why_not(
    principal_client, grundskola, teacher, items, school_day
):
    response = principal_client.get(url(grundskola, teacher.username))
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Read-only" in html
    assert html.count("Opens for the teacher through this school.") == 1  # mathematics
    assert "This school has not granted the teacher the subject." in html  # English
    assert "do not reach the material&#x27;s level" in html  # gymnasial, at a grundskola
    assert "Opens for everyone." in html
    # Nothing to open from here: no link to an item or its file.
    assert "/bedomningsportalen/material/" not in html
    event = AuditEvent.objects.get(action=AuditAction.CATALOGUE_VIEWED_AS_TEACHER)
    assert (event.school_unit, event.target) == (grundskola, teacher.username)


def test_an_expired_membership_opens_nothing_and_says_so(
    principal_client, grundskola, teacher, items, school_day
):
    teacher.memberships.update(valid_until=END_OF_YEAR.replace(year=2026))
    html = principal_client.get(url(grundskola, teacher.username)).content.decode()
    assert "Opens for the teacher through this school." not in html
    assert html.count("not valid this school year") == 3


def test_what_another_school_granted_is_not_shown(
    principal_client, grundskola, gymnasium, teacher, items, school_day, other_school
):
    """PRIVACY: English granted at another school opens for the teacher in the
    portal, but this school's view answers only for its own membership."""
    elsewhere = Membership.objects.create(
        user=teacher, school_unit=other_school, valid_until=END_OF_YEAR
    )
    elsewhere.subjects.set(Subject.objects.filter(code="GRGRENG01"))
    english = Material.objects.get(slug="engelska-prov")
    assert policy.can_view_material(user=teacher, material=english, today=today())
    html = principal_client.get(url(grundskola, teacher.username)).content.decode()
    assert "This school has not granted the teacher the subject." in html
    assert other_school.name not in html
    assert "also at 1 other school" in html


def test_the_reasons_agree_with_the_gate_item_by_item(grundskola, teacher, items, school_day):
    make_material("sv-prov", subject_code="GRGRSVE01")
    membership = teacher.memberships.get()
    day = today()
    gate = policy.membership_gate(membership=membership, today=day)
    annotated = policy.with_material_access(
        materials=Material.objects.all(), user=teacher, today=day, through=membership
    )
    for material in annotated:
        assert material.opens == (policy.refusal_through(gate=gate, material=material) is None)


def test_a_test_admin_of_the_school_may_look(test_admin_client, grundskola, teacher, items):
    assert test_admin_client.get(url(grundskola, teacher.username)).status_code == 200


def test_a_pending_teacher_is_not_found(principal_client, grundskola, teacher):
    teacher.memberships.update(confirmed_at=None)
    assert principal_client.get(url(grundskola, teacher.username)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.CATALOGUE_VIEWED_AS_TEACHER).exists()


def test_another_schools_principal_gets_404(
    client, other_principal, other_school, grundskola, teacher
):
    other = verify_session(client, other_principal)
    assert other.get(url(grundskola, teacher.username)).status_code == 404
    # Nor through its own school's address, where the teacher is not a member.
    assert other.get(url(other_school, teacher.username)).status_code == 404


def test_a_test_admin_of_another_school_of_the_principal_gets_404(
    test_admin_client, gymnasium, teacher
):
    Membership.objects.create(user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR)
    assert test_admin_client.get(url(gymnasium, teacher.username)).status_code == 404


def test_anonymous_and_the_teacher_are_sent_to_the_etjanster_login(
    client, teacher_client, grundskola, teacher
):
    for who in (client, teacher_client):
        response = who.get(url(grundskola, teacher.username, lang=""))
        assert response.status_code == 302
        assert response["Location"].startswith("/e-tjanster/logga-in/")


def test_the_teacher_page_links_to_it(principal_client, grundskola, teacher):
    html = principal_client.get(
        f"/en/e-tjanster/skolor/{grundskola.code}/larare/{teacher.username}/"
    ).content.decode()
    assert f'href="{url(grundskola, teacher.username)}"' in html


def test_the_page_takes_as_many_queries_for_many_items(
    principal_client, grundskola, teacher, school_day
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            principal_client.get(url(grundskola, teacher.username))
        return len(queries)

    make_material("a-prov")
    few = count()
    for n in range(8):
        make_material(f"prov-{n}", subject_code="GRGRENG01")
    assert count() == few
