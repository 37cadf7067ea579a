"""GDPR: a teacher downloads their own data; a principal exports one teacher's
data for their school on request. Both are audited."""

import json

import pytest
from django.test import Client

from accounts.models import Role
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from audit.models import AuditEvent
from core.refusals import Refused
from permissions.data_export import teacher_data_export
from permissions.models import Membership, Subject
from permissions.services.memberships import membership_register
from tests.conftest import END_OF_YEAR, make_user, verify_session
from tests.fixtures.material import school_day  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("school_day")]

OWN = "/bedomningsportalen/konto/mina-uppgifter/"


def school_url(code: str, username: str) -> str:
    return f"/e-tjanster/skolor/{code}/larare/{username}/uppgifter/"


def exported(response) -> dict:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return json.loads(response.content)


@pytest.fixture
def shared_teacher(teacher, other_school, grundskola, principal):
    """The `teacher` also teaches at another huvudman's school, with a log
    entry at each school about them."""
    membership = Membership.objects.create(
        user=teacher, school_unit=other_school, valid_until=END_OF_YEAR
    )
    membership.subjects.set(Subject.objects.filter(code="GRGRENG01"))
    audit_record(
        action=AuditAction.MEMBERSHIP_GRANTED,
        context=AuditContext(actor=principal),
        school_unit=grundskola,
        target=teacher.username,
        details={"added": ["GRGRMAT01"]},
    )
    other_principal = make_user("annanrektor", Role.PRINCIPAL)
    audit_record(
        action=AuditAction.MEMBERSHIP_REGISTERED,
        context=AuditContext(actor=other_principal),
        school_unit=other_school,
        target=teacher.username,
    )
    return teacher


def test_a_teacher_downloads_everything_kept_about_their_account(client, shared_teacher):
    client.force_login(shared_teacher)
    audit_record(
        action=AuditAction.LOGIN_SUCCEEDED,
        context=AuditContext(actor=shared_teacher),
        target="larare",
    )
    data = exported(client.post(OWN))
    assert data["scope"] == "self"
    assert data["account"]["username"] == "larare"
    assert data["account"]["email"] == "larare@example.se"
    assert "password" not in json.dumps(data)
    schools = {m["school_unit"]["code"]: m for m in data["memberships"]}
    assert set(schools) == {"11111111", "99999999"}
    assert [s["code"] for s in schools["11111111"]["subjects"]] == ["GRGRMAT01", "GRGRSVE01"]
    actions = [event["action"] for event in data["audit_events"]]
    assert actions == ["membership_granted", "membership_registered", "login_succeeded"]


def test_the_teacher_sees_who_acted_on_them_only_by_role_and_never_their_address(
    client, shared_teacher
):
    client.force_login(shared_teacher)
    data = exported(client.post(OWN, REMOTE_ADDR="192.0.2.7"))
    granted = data["audit_events"][0]
    assert granted["actor_role"] == "principal"
    assert "actor" not in granted and "address" not in granted
    assert "rektor" not in json.dumps(data["audit_events"])


def test_the_teacher_export_is_audited_and_needs_a_post_and_a_teacher(client, shared_teacher):
    assert client.post(OWN).status_code == 302  # anonymous: to the login
    client.force_login(shared_teacher)
    assert client.get(OWN).status_code == 405
    client.post(OWN)
    event = AuditEvent.objects.get(action=AuditAction.DATA_EXPORTED)
    assert (event.actor_id, event.target, event.details) == (
        shared_teacher.pk,
        "larare",
        {"scope": "self"},
    )


def test_the_account_page_offers_the_download(client, teacher):
    client.force_login(teacher)
    html = client.get("/bedomningsportalen/konto/").content.decode()
    assert f'action="{OWN}"' in html


def test_a_principal_exports_what_their_school_keeps_and_nothing_of_the_other_school(
    principal_client, shared_teacher, principal, grundskola
):
    data = exported(principal_client.post(school_url("11111111", "larare")))
    assert data["scope"] == "school_unit"
    assert data["school_unit"] == {"code": "11111111", "name": "Testskolan F–9"}
    assert data["account"] == {
        "username": "larare",
        "first_name": "Larare",
        "last_name": "Testsson",
        "email": "larare@example.se",
    }
    assert [m["school_unit"]["code"] for m in data["memberships"]] == ["11111111"]
    assert data["other_school_units"] == 1
    assert [e["action"] for e in data["audit_events"]] == ["membership_granted"]
    text = json.dumps(data, ensure_ascii=False)
    for elsewhere in ("99999999", "Annan skola", "GRGRENG01", "annanrektor"):
        assert elsewhere not in text
    event = AuditEvent.objects.get(action=AuditAction.DATA_EXPORTED)
    assert (event.actor_id, event.school_unit, event.target) == (
        principal.pk,
        grundskola,
        "larare",
    )


def test_the_teacher_page_offers_the_principal_the_export(principal_client, teacher):
    html = principal_client.get("/e-tjanster/skolor/11111111/larare/larare/").content.decode()
    assert f'action="{school_url("11111111", "larare")}"' in html


def test_a_test_administrator_may_not_export_and_is_not_offered_to(client, test_admin, teacher):
    verify_session(client, test_admin)
    assert client.post(school_url("11111111", "larare")).status_code == 403
    html = client.get("/e-tjanster/skolor/11111111/larare/larare/").content.decode()
    assert "uppgifter/" not in html
    assert not AuditEvent.objects.filter(action=AuditAction.DATA_EXPORTED).exists()


def test_another_schools_teacher_or_school_is_a_404(principal_client, shared_teacher, other_school):
    # The teacher is a member of 99999999 too, but this principal does not lead it.
    assert principal_client.post(school_url("99999999", "larare")).status_code == 404
    stranger = make_user("frammande", Role.TEACHER)
    Membership.objects.create(user=stranger, school_unit=other_school, valid_until=END_OF_YEAR)
    assert principal_client.post(school_url("11111111", "frammande")).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.DATA_EXPORTED).exists()


def test_anonymous_is_sent_to_the_etjanster_login(shared_teacher):
    response = Client().post(school_url("11111111", "larare"))
    assert response.status_code == 302
    assert response["Location"].startswith("/e-tjanster/logga-in/")


def test_the_school_export_takes_the_same_queries_for_few_and_many_events(
    principal_client, shared_teacher, principal, grundskola, django_assert_max_num_queries
):
    for _ in range(30):
        audit_record(
            action=AuditAction.MEMBERSHIP_GRANTED,
            context=AuditContext(actor=principal),
            school_unit=grundskola,
            target="larare",
        )
    with django_assert_max_num_queries(20):
        exported(principal_client.post(school_url("11111111", "larare")))


def test_a_registration_through_the_service_shows_in_both_exports(
    principal_client, principal, grundskola, client
):
    registration = membership_register(
        school_unit=grundskola,
        first_name="Ny",
        last_name="Lärare",
        email="ny@example.se",
        subjects=list(Subject.objects.filter(code="GRGRMAT01")),
        context=AuditContext(actor=principal),
        today=END_OF_YEAR,
    )
    username = registration.membership.user.username
    school = exported(principal_client.post(school_url("11111111", username)))
    assert [e["action"] for e in school["audit_events"]] == [
        "password_issued",
        "membership_registered",
    ]
    client.force_login(registration.membership.user)
    own = exported(client.post(OWN))
    assert "membership_registered" in [e["action"] for e in own["audit_events"]]


def test_the_export_service_itself_refuses_anyone_but_the_teacher_or_a_principal(
    teacher, test_admin, grundskola
):
    # The views ask the policy first; the service is the second line.
    with pytest.raises(Refused):
        teacher_data_export(teacher=teacher, context=AuditContext(actor=test_admin))
    with pytest.raises(Refused):
        teacher_data_export(
            teacher=teacher, context=AuditContext(actor=test_admin), school_unit=grundskola
        )
    assert not AuditEvent.objects.filter(action=AuditAction.DATA_EXPORTED).exists()
