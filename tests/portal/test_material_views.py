"""The item page and its file: open for anyone, protected only through the gate."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from audit.actions import AuditAction
from audit.models import AuditEvent
from permissions.models import Membership, Subject
from tests.conftest import END_OF_YEAR, make_user, verify_session
from tests.fixtures.material import PDF_BYTES, STOCKHOLM

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("school_day")]


def file_url(material) -> str:
    return reverse("portal:material_file", args=[material.slug])


def page_url(material) -> str:
    return reverse("portal:material", args=[material.slug])


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_anyone_opens_an_open_item_and_its_file(client, open_item):
    page = client.get(page_url(open_item))
    assert page.status_code == 200
    assert file_url(open_item) in page.content.decode()

    response = client.get(file_url(open_item))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="oppet-material.pdf"'
    assert body_of(response) == PDF_BYTES
    assert "private" in response["Cache-Control"]
    assert not AuditEvent.objects.filter(action=AuditAction.MATERIAL_DOWNLOADED).exists()


def test_granted_teacher_downloads_protected_file_privately_and_it_is_audited(
    client, teacher, grundskola, math_item
):
    client.force_login(teacher)
    response = client.get(file_url(math_item))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == 'attachment; filename="matte-prov.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body_of(response) == PDF_BYTES
    event = AuditEvent.objects.get(action=AuditAction.MATERIAL_DOWNLOADED)
    assert (event.actor_id, event.school_unit, event.target) == (
        teacher.pk,
        grundskola,
        "matte-prov",
    )


def test_anonymous_gets_the_refusal_with_a_login_link_back_here_never_the_bytes(client, math_item):
    response = client.get(file_url(math_item))
    assert response.status_code == 403
    html = response.content.decode()
    assert "%PDF" not in html
    assert (
        "/bedomningsportalen/logga-in/?next=%2Fbedomningsportalen%2Fmaterial%2Fmatte-prov%2F"
        in (html)
    )
    assert "Logga in som lärare" in html
    assert "no-store" in response["Cache-Control"]
    # A not-logged-in visitor is not an access refusal worth logging.
    assert not AuditEvent.objects.exists()


def test_teacher_without_the_subject_is_told_which_subject_and_whom_to_ask(
    client, teacher, principal, english_item
):
    client.force_login(teacher)
    response = client.get(file_url(english_item))
    assert response.status_code == 403
    html = response.content.decode()
    assert "%PDF" not in html
    assert "Engelska (GRGRENG01)" in html
    assert "Rektor Testsson" in html
    event = AuditEvent.objects.get(action=AuditAction.ACCESS_REFUSED)
    assert event.actor_id == teacher.pk
    assert event.details == {"condition": "subject", "what": "file"}


def test_after_31_july_the_teacher_is_told_the_membership_expired_and_who_reactivates_it(
    client, teacher, principal, math_item
):
    Membership.objects.filter(user=teacher).update(valid_until=datetime.date(2026, 7, 31))
    client.force_login(teacher)
    with time_machine.travel(datetime.datetime(2026, 8, 1, 0, 5, tzinfo=STOCKHOLM), tick=False):
        response = client.get(page_url(math_item))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Testskolan F–9" in html
    assert "31 juli 2026" in html
    assert "Rektor Testsson" in html
    assert "återaktivera" in html


def test_gymnasium_teacher_is_refused_grundskola_material_with_the_school_form_reason(
    client, gymnasium, math_item
):
    teacher = make_user("gylarare", "teacher")
    membership = Membership.objects.create(
        user=teacher, school_unit=gymnasium, valid_until=END_OF_YEAR
    )
    membership.subjects.add(Subject.objects.get(code="GRGRMAT01"))
    client.force_login(teacher)
    response = client.get(page_url(math_item))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Testgymnasiet är registrerad med skolformen gymnasieskola" in html
    assert "som inte når material på grundskolenivå" in html


def test_a_principal_logged_in_to_etjanster_is_told_their_login_never_opens_material(
    client, principal, math_item
):
    verify_session(client, principal)
    response = client.get(file_url(math_item))
    assert response.status_code == 403
    assert "Registrera mig som lärare" in response.content.decode()
    assert AuditEvent.objects.filter(
        action=AuditAction.ACCESS_REFUSED, actor_id=principal.pk
    ).exists()


def test_granted_teacher_sees_the_item_page_with_a_download_link(client, teacher, math_item):
    client.force_login(teacher)
    response = client.get(page_url(math_item))
    assert response.status_code == 200
    assert file_url(math_item) in response.content.decode()


@pytest.mark.parametrize("suffix", ["", "fil/"])
def test_unknown_slug_is_404(client, suffix):
    assert client.get(f"/bedomningsportalen/material/finns-inte/{suffix}").status_code == 404


def test_an_item_whose_file_is_gone_is_404_not_a_server_error(client, open_item):
    open_item.file.delete(save=False)
    assert client.get(file_url(open_item)).status_code == 404


def test_the_file_view_refuses_changes(client, open_item):
    assert client.post(file_url(open_item)).status_code == 405


def test_media_files_have_no_public_url(client, open_item):
    assert client.get(open_item.file.url).status_code == 404
