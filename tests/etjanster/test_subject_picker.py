"""The registration form offers first the subjects the school's forms can
reach (the access-policy table), grouped by level; the rest wait behind
"Visa alla ämnen", which works without JavaScript and stays choosable."""

import re

import pytest

from permissions import policy
from permissions.models import LevelPolicy, Membership, Subject
from tests.conftest import make_school

pytestmark = pytest.mark.django_db


def register_page(client, school) -> str:
    return client.get(f"/e-tjanster/skolor/{school.code}/larare/ny/").content.decode()


def split(html: str) -> tuple[str, str]:
    """The picker's shown part and the part behind the disclosure ("" if none)."""
    start = html.index('class="subject-picker"')
    picker = html[start : html.index("</form>", start)]
    shown, _, hidden = picker.partition("<details")
    return shown, hidden


def codes(fragment: str) -> set[str]:
    return set(re.findall(r'name="subjects" value="([^"]+)"', fragment))


def test_a_grundskola_is_offered_grundskola_subjects_and_the_rest_on_request(
    principal_client, grundskola
):
    shown, hidden = split(register_page(principal_client, grundskola))
    grundskola_codes = set(
        Subject.objects.filter(level="grundskola").values_list("code", flat=True)
    )
    gymnasial_codes = set(Subject.objects.filter(level="gymnasial").values_list("code", flat=True))
    assert codes(shown) == grundskola_codes
    assert codes(hidden) == gymnasial_codes
    assert "<summary>Visa alla ämnen</summary>" in hidden
    assert "<legend>Grundskola</legend>" in shown and "<legend>Gymnasial</legend>" in hidden


def test_a_gymnasium_is_offered_the_gymnasial_subjects_first(principal_client, gymnasium):
    shown, hidden = split(register_page(principal_client, gymnasium))
    assert codes(shown) == set(
        Subject.objects.filter(level="gymnasial").values_list("code", flat=True)
    )
    assert "GRGRMAT01" in codes(hidden)


def test_a_school_reaching_both_levels_shows_every_subject_and_no_disclosure(
    principal_client, principal, huvudman
):
    both = make_school("33333333", "Tvåformsskolan", huvudman, ["grundskola", "gymnasieskola"])
    principal.led_school_units.add(both)
    html = register_page(principal_client, both)
    assert "<details" not in html
    assert codes(html) == set(Subject.objects.values_list("code", flat=True))


def test_the_offer_follows_the_policy_table(principal_client, grundskola):
    LevelPolicy.objects.create(school_form_id="grundskola", level="gymnasial")
    assert policy.levels_reached_by(school_unit=grundskola) == {"grundskola", "gymnasial"}
    assert "<details" not in register_page(principal_client, grundskola)


def test_a_subject_behind_the_disclosure_can_still_be_granted(principal_client, grundskola):
    response = principal_client.post(
        f"/e-tjanster/skolor/{grundskola.code}/larare/ny/",
        {"first_name": "Gun", "last_name": "Gy", "email": "gun@skola.example", "subjects": ["MAT"]},
    )
    assert response.status_code == 200
    membership = Membership.objects.get(user__email="gun@skola.example")
    assert list(membership.subjects.values_list("code", flat=True)) == ["MAT"]


def test_the_disclosure_opens_by_itself_when_it_holds_a_granted_subject(
    principal_client, grundskola, teacher
):
    page = f"/e-tjanster/skolor/{grundskola.code}/larare/{teacher.username}/"
    assert '<details class="more-subjects">' in principal_client.get(page).content.decode()
    membership = Membership.objects.get(user=teacher, school_unit=grundskola)
    membership.subjects.add(Subject.objects.get(code="MAT"))
    html = principal_client.get(page).content.decode()
    assert '<details class="more-subjects" open>' in html
    assert re.search(r'value="MAT"[^>]*checked', html)
