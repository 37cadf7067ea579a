"""/huvudman/: who gets in, and that everything is scoped to the staff
member's own huvudman (another huvudman's objects are 404, also by guessed id)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from audit.context import AuditContext
from audit.models import AuditEvent
from schools.models import PrincipalAssignment, SchoolUnit
from schools.services import school_unit_save
from tests.conftest import make_school, make_user, verify_session

pytestmark = pytest.mark.django_db

PRINCIPAL_ACTIONS = ["regenerate", "unlock", "deactivate", "reactivate", "link", "unlink"]


def principal_url(user, suffix="change") -> str:
    return f"/huvudman/schools/principal/{user.pk}/{suffix}/"


def unit_url(unit, suffix="change") -> str:
    return f"/huvudman/schools/schoolunit/{unit.pk}/{suffix}/"


# -- who gets in --------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_huvudman_login(client):
    response = client.get("/huvudman/")
    assert response.status_code == 302
    assert response["Location"].startswith("/huvudman/login/")


def test_staff_with_password_only_cannot_use_the_site(client, huvudman_staff):
    client.force_login(huvudman_staff)
    response = client.get("/huvudman/")
    assert response.status_code == 302
    assert response["Location"].startswith("/huvudman/login/")


def test_national_admin_and_principal_cannot_use_the_huvudman_site(
    client, national_admin, principal
):
    for user in (national_admin, principal):
        verify_session(client, user)
        response = client.get("/huvudman/")
        assert response.status_code == 302
        assert response["Location"] == "/huvudman/login/?next=/huvudman/", user
        client.logout()


def test_deactivated_staff_cannot_use_the_site(client, huvudman_staff):
    verify_session(client, huvudman_staff)
    huvudman_staff.is_active = False
    huvudman_staff.save()
    response = client.get("/huvudman/")
    assert response.status_code == 302
    assert response["Location"] == "/huvudman/login/?next=/huvudman/"
    assert not response.wsgi_request.user.is_authenticated


def test_staff_see_school_units_principals_and_their_huvudman(staff_client):
    response = staff_client.get("/huvudman/")
    assert response.status_code == 200
    page = response.content.decode()
    for label in ("Skolenheter", "Rektorer", "Huvudmän"):
        assert label in page


# -- scope: another huvudman's objects are 404 --------------------------------


def test_other_huvudmans_school_unit_is_404_on_every_url(staff_client, other_school, grundskola):
    # Their own unit's pages open (nobody deletes a school unit: 403); another's are 404.
    for suffix, own_status in (("change", 200), ("history", 200), ("delete", 403)):
        assert staff_client.get(unit_url(other_school, suffix)).status_code == 404
        assert staff_client.get(unit_url(grundskola, suffix)).status_code == own_status
    response = staff_client.post(unit_url(other_school), {"name": "Kapad", "forms": ["grundskola"]})
    assert response.status_code == 404
    other_school.refresh_from_db()
    assert other_school.name == "Annan skola"


def test_guessed_and_malformed_ids_are_404_not_a_redirect(staff_client):
    for url in (
        "/huvudman/schools/schoolunit/999999/change/",
        "/huvudman/schools/schoolunit/abc/change/",
        "/huvudman/schools/principal/999999/change/",
        "/huvudman/schools/huvudman/999999/change/",
    ):
        assert staff_client.get(url).status_code == 404, url


def test_school_unit_list_shows_only_own_units(staff_client, grundskola, other_school):
    page = staff_client.get("/huvudman/schools/schoolunit/").content.decode()
    assert grundskola.code in page
    assert other_school.code not in page


def test_other_huvudman_is_404(staff_client, huvudman, other_huvudman):
    assert (
        staff_client.get(f"/huvudman/schools/huvudman/{other_huvudman.pk}/change/").status_code
        == 404
    )
    assert staff_client.get(f"/huvudman/schools/huvudman/{huvudman.pk}/change/").status_code == 200
    page = staff_client.get("/huvudman/schools/huvudman/").content.decode()
    assert other_huvudman.name not in page


def test_other_huvudmans_principal_is_404_on_every_url(
    staff_client, other_principal, other_school, grundskola
):
    assert staff_client.get(principal_url(other_principal)).status_code == 404
    assert staff_client.get(principal_url(other_principal, "history")).status_code == 404
    for action in PRINCIPAL_ACTIONS:
        for unit in (other_school, grundskola):
            response = staff_client.post(
                principal_url(other_principal, action),
                {"school_unit": unit.pk, "password": "on", "card": "on"},
            )
            assert response.status_code == 404, action
    other_principal.refresh_from_db()
    assert other_principal.is_active
    assert list(other_principal.led_school_units.all()) == [other_school]
    assert not AuditEvent.objects.filter(actor_username="personal").exists()


def test_principal_list_shows_only_principals_of_own_units(
    staff_client, principal, other_principal
):
    page = staff_client.get("/huvudman/schools/principal/").content.decode()
    assert principal.username in page
    assert other_principal.username not in page


def test_staff_cannot_link_own_principal_to_another_huvudmans_unit(
    staff_client, principal, other_school
):
    response = staff_client.post(principal_url(principal, "link"), {"school_unit": other_school.pk})
    assert response.status_code == 404
    assert not PrincipalAssignment.objects.filter(user=principal, school_unit=other_school).exists()


def test_staff_cannot_unlink_another_huvudmans_unit_from_a_shared_principal(
    staff_client, principal, other_school
):
    PrincipalAssignment.objects.create(user=principal, school_unit=other_school)
    response = staff_client.post(
        principal_url(principal, "unlink"), {"school_unit": other_school.pk}
    )
    assert response.status_code == 404
    assert PrincipalAssignment.objects.filter(user=principal, school_unit=other_school).exists()


def test_other_kinds_of_accounts_are_not_principals_here(staff_client, teacher, test_admin):
    for user in (teacher, test_admin):
        assert staff_client.get(principal_url(user)).status_code == 404


def test_principal_actions_refuse_get(staff_client, principal):
    for action in ["unlock", "reactivate", "link"]:
        assert staff_client.get(principal_url(principal, action)).status_code == 405


def test_grave_principal_actions_only_show_a_confirmation_without_confirm(
    staff_client, principal, gymnasium
):
    """A GET, or a POST from an old one-click form, names the person and changes nothing."""
    password = principal.password
    for action, data in [
        ("regenerate", {"password": "on"}),
        ("deactivate", {}),
        ("unlink", {"school_unit": gymnasium.pk}),
    ]:
        for response in (
            staff_client.get(principal_url(principal, action), data),
            staff_client.post(principal_url(principal, action), data),
        ):
            assert response.status_code == 200
            page = response.content.decode()
            assert "Rektor Testsson (rektor)" in page
            assert 'name="confirm" value="yes"' in page
    principal.refresh_from_db()
    assert principal.is_active and principal.password == password
    assert principal.led_school_units.count() == 2


def test_nothing_can_be_deleted_here(staff_client, grundskola, principal):
    assert staff_client.post(unit_url(grundskola, "delete"), {"post": "yes"}).status_code == 403
    assert SchoolUnit.objects.filter(pk=grundskola.pk).exists()


def test_principal_list_has_constant_queries(staff_client, huvudman, grundskola):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get("/huvudman/schools/principal/").status_code == 200
        return len(queries)

    make_user("r0", Role.PRINCIPAL).principal_assignments.create(school_unit=grundskola)
    few = count()
    for number in range(1, 8):
        unit = make_school(f"3000000{number}", f"Skola {number}", huvudman, ["grundskola"])
        user = make_user(f"r{number}", Role.PRINCIPAL)
        user.principal_assignments.create(school_unit=unit)
        user.principal_assignments.create(school_unit=grundskola)
    assert count() == few


def test_school_unit_list_has_constant_queries(staff_client, huvudman):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get("/huvudman/schools/schoolunit/").status_code == 200
        return len(queries)

    make_school("40000000", "Skola 0", huvudman, ["grundskola"])
    few = count()
    for number in range(1, 8):
        make_school(f"4000000{number}", f"Skola {number}", huvudman, ["grundskola", "sameskola"])
    assert count() == few


# -- school units -------------------------------------------------------------


def add_unit(client, **data):
    return client.post("/huvudman/schools/schoolunit/add/", data)


def test_staff_create_a_school_unit_of_their_own_huvudman(staff_client, huvudman, other_huvudman):
    response = add_unit(
        staff_client,
        code="12345678",
        name="Nya skolan",
        forms=["grundskola", "anpassad_grundskola"],
        huvudman=other_huvudman.pk,
    )
    assert response.status_code == 302
    unit = SchoolUnit.objects.get(code="12345678")
    assert unit.huvudman == huvudman
    assert sorted(unit.forms.values_list("code", flat=True)) == [
        "anpassad_grundskola",
        "grundskola",
    ]
    event = AuditEvent.objects.get(action="school_unit_changed")
    assert event.school_unit == unit
    assert event.actor_username == "personal"
    assert event.details["change"] == "created"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "11111111", "name": "Dubblett", "forms": ["grundskola"]}, "finns redan"),
        ({"code": "1234567", "name": "Kort", "forms": ["grundskola"]}, "exakt åtta siffror"),
        ({"code": "1234567a", "name": "Bokstav", "forms": ["grundskola"]}, "exakt åtta siffror"),
        ({"code": "12345678", "name": "Okänd", "forms": ["hogskola"]}, "giltigt alternativ"),
        ({"code": "12345678", "name": "Ingen form"}, "minst en skolform"),
        ({"code": "12345678", "name": "", "forms": ["grundskola"]}, "måste fyllas i"),
    ],
)
def test_bad_school_unit_input_gives_a_swedish_message_and_saves_nothing(
    staff_client, grundskola, data, message
):
    before = SchoolUnit.objects.count()
    response = add_unit(staff_client, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert SchoolUnit.objects.count() == before
    assert not AuditEvent.objects.filter(action="school_unit_changed").exists()


def test_staff_rename_a_unit_and_change_its_forms_but_not_its_code(staff_client, grundskola):
    response = staff_client.post(
        unit_url(grundskola),
        {"code": "87654321", "name": "Omdöpta skolan", "forms": ["grundskola", "sameskola"]},
    )
    assert response.status_code == 302
    grundskola.refresh_from_db()
    assert grundskola.code == "11111111"
    assert grundskola.name == "Omdöpta skolan"
    assert set(grundskola.forms.values_list("code", flat=True)) == {"grundskola", "sameskola"}
    assert AuditEvent.objects.get(action="school_unit_changed").details["change"] == "updated"


# -- the huvudman's contact person --------------------------------------------


def test_staff_change_the_contact_person_but_not_name_or_number(staff_client, huvudman):
    response = staff_client.post(
        f"/huvudman/schools/huvudman/{huvudman.pk}/change/",
        {
            "name": "Kapad kommun",
            "organisationsnummer": "556036-0793",
            "contact_name": "Ny Kontakt",
            "contact_email": "ny@testkommun.se",
            "contact_phone": "010-999 99 99",
        },
    )
    assert response.status_code == 302
    huvudman.refresh_from_db()
    assert (huvudman.name, huvudman.organisationsnummer) == ("Testkommun", "212000-0142")
    assert huvudman.contact_name == "Ny Kontakt"
    assert huvudman.contact_email == "ny@testkommun.se"
    event = AuditEvent.objects.get(action="huvudman_changed")
    assert event.huvudman == huvudman


def test_bad_contact_email_is_refused_in_swedish(staff_client, huvudman):
    response = staff_client.post(
        f"/huvudman/schools/huvudman/{huvudman.pk}/change/",
        {"contact_name": "X", "contact_email": "inte-en-adress", "contact_phone": ""},
    )
    assert response.status_code == 200
    assert "giltig e-postadress" in response.content.decode()
    huvudman.refresh_from_db()
    assert huvudman.contact_email == "kontakt@testkommun.se"


def test_staff_cannot_add_a_huvudman(staff_client):
    assert staff_client.get("/huvudman/schools/huvudman/add/").status_code == 403


# -- the huvudman's audit log -------------------------------------------------


def test_staff_read_their_huvudmans_audit_log_only(
    staff_client, grundskola, other_school, huvudman_staff, other_staff
):
    own = school_unit_save(
        context=AuditContext(actor=huvudman_staff),
        huvudman=grundskola.huvudman,
        school_unit=grundskola,
        name="Egen skola",
        forms=grundskola.forms.all(),
    )
    school_unit_save(
        context=AuditContext(actor=other_staff),
        huvudman=other_school.huvudman,
        school_unit=other_school,
        name="Främmande skola",
        forms=other_school.forms.all(),
    )
    own_event = AuditEvent.objects.get(school_unit=own)
    other_event = AuditEvent.objects.get(school_unit=other_school)

    page = staff_client.get("/huvudman/audit/auditevent/").content.decode()
    assert "Egen skola" in page
    assert "Främmande skola" not in page
    assert staff_client.get(f"/huvudman/audit/auditevent/{own_event.pk}/change/").status_code == 200
    assert (
        staff_client.get(f"/huvudman/audit/auditevent/{other_event.pk}/change/").status_code == 404
    )
    response = staff_client.post(f"/huvudman/audit/auditevent/{own_event.pk}/change/", {})
    assert response.status_code == 403


def test_audit_log_has_constant_queries(staff_client, huvudman_staff, huvudman):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get("/huvudman/audit/auditevent/").status_code == 200
        return len(queries)

    def change(number: int) -> None:
        unit = make_school(f"6000000{number}", f"Skola {number}", huvudman, ["grundskola"])
        school_unit_save(
            context=AuditContext(actor=huvudman_staff),
            huvudman=huvudman,
            school_unit=unit,
            name="X",
            forms=unit.forms.all(),
        )

    change(0)
    few = count()
    for number in range(1, 8):
        change(number)
    assert count() == few
