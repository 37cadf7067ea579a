"""Everything a national admin does in /admin/ is audited through a service,
and a TOTP key is never shown there (issue item 4)."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from audit.models import AuditEvent
from core.models import SiteNotice
from permissions.models import Subject
from tests.conftest import verify_session
from tests.fixtures.material import make_material

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(national_admin) -> Client:
    return verify_session(Client(), national_admin)


def change_user(admin_client, user, **changes):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "huvudman": user.huvudman_id or "",
        "is_active": "on" if user.is_active else "",
        **changes,
    }
    return admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {key: value for key, value in data.items() if value != ""},
    )


def test_changing_a_name_and_address_is_audited(admin_client, national_admin, teacher):
    response = change_user(admin_client, teacher, last_name="Nyman", email="ny@skola.example")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="account_changed")
    assert event.target == teacher.username
    assert event.actor_id == national_admin.pk
    assert event.details == {"fields": ["last_name", "email"]}


def test_deactivating_in_admin_is_audited_and_nothing_else_changes(admin_client, principal):
    change_user(admin_client, principal, is_active="")
    event = AuditEvent.objects.get(action="account_deactivated")
    assert event.target == principal.username
    assert not AuditEvent.objects.filter(action="account_changed").exists()


def test_a_principals_role_cannot_be_changed_in_admin(admin_client, principal):
    response = change_user(admin_client, principal, role=Role.NATIONAL_ADMIN)
    principal.refresh_from_db()
    assert principal.role == Role.PRINCIPAL
    assert not principal.is_superuser
    # The role field is only offered for admin-site accounts: the rest of the form saves.
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="role_changed").exists()
    assert not AuditEvent.objects.filter(action="role_changed").exists()


def test_staff_without_a_huvudman_is_refused_with_a_message(admin_client, huvudman_staff):
    response = change_user(admin_client, huvudman_staff, huvudman="")
    assert response.status_code == 200
    assert "måste höra till en huvudman" in response.content.decode()
    assert User.objects.get(pk=huvudman_staff.pk).huvudman_id is not None


def test_nobody_deactivates_their_own_account_or_changes_its_role(admin_client, national_admin):
    response = change_user(admin_client, national_admin, is_active="")
    assert response.status_code == 302
    assert User.objects.get(pk=national_admin.pk).is_active
    page = admin_client.get(response["Location"]).content.decode()
    assert "Du kan inte inaktivera ditt eget konto" in page
    change_user(admin_client, national_admin, role=Role.HUVUDMAN_STAFF, huvudman="1")
    assert User.objects.get(pk=national_admin.pk).role == Role.NATIONAL_ADMIN
    assert not AuditEvent.objects.filter(action__in=["account_deactivated", "role_changed"])


def test_the_password_page_issues_a_new_password_shown_once_and_audited(admin_client, principal):
    page = admin_client.get(f"/admin/accounts/user/{principal.pk}/password/")
    assert page.status_code == 200
    assert 'name="password1"' not in page.content.decode()  # nobody types one for someone else
    response = admin_client.post(f"/admin/accounts/user/{principal.pk}/password/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    password = html.split('id="issued-password">')[1].split("<")[0]
    principal.refresh_from_db()
    assert principal.check_password(password)
    assert AuditEvent.objects.get(action="password_regenerated").target == principal.username


def test_the_password_page_404s_for_an_unknown_account(admin_client):
    assert admin_client.get("/admin/accounts/user/999999/password/").status_code == 404
    assert admin_client.get("/admin/accounts/user/abc/password/").status_code == 404


def test_a_totp_key_is_never_shown_and_devices_are_not_added_here(admin_client, huvudman_staff):
    device = TOTPDevice.objects.create(user=huvudman_staff, name="app", confirmed=True)
    for url in (
        "/admin/accounts/authenticatorapp/",
        f"/admin/accounts/authenticatorapp/{device.pk}/change/",
    ):
        html = admin_client.get(url).content.decode()
        assert device.key not in html
        assert "otpauth://" not in html
        assert "qrcode" not in html.lower()
    assert admin_client.get("/admin/accounts/authenticatorapp/add/").status_code == 403
    response = admin_client.post(
        f"/admin/accounts/authenticatorapp/{device.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_groups_are_not_offered(admin_client):
    assert admin_client.get("/admin/auth/group/").status_code == 404


def test_un_protecting_material_is_audited_with_before_and_after(admin_client, national_admin):
    material = make_material("hemligt-prov", protected=True)
    response = admin_client.post(
        f"/admin/portal/material/{material.pk}/change/",
        {
            "title": material.title,
            "slug": material.slug,
            "description": "",
            "subject": material.subject_id,
            "level": "grundskola",
            "kind": "bedomningsstod",
            "protection_reason": "",
            "published_on": "2026-11-28",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="material_changed")
    assert event.actor_id == national_admin.pk
    assert event.target == "hemligt-prov"
    assert event.details["fields"]["is_protected"] == ["True", "False"]
    assert event.details["protected"] is False


def test_deleting_material_is_audited(admin_client):
    material = make_material("borttaget")
    admin_client.post(f"/admin/portal/material/{material.pk}/delete/", {"post": "yes"})
    event = AuditEvent.objects.get(action="material_changed")
    assert event.details["change"] == "deleted"


def test_a_site_notice_is_audited(admin_client):
    response = admin_client.post(
        "/admin/core/sitenotice/add/",
        {
            "title": "Driftstopp",
            "body": "Kvällen den 3 december.",
            "starts_at_0": "2026-12-01",
            "starts_at_1": "08:00",
            "ends_at_0": "2026-12-04",
            "ends_at_1": "08:00",
        },
    )
    assert response.status_code == 302
    notice = SiteNotice.objects.get()
    event = AuditEvent.objects.get(action="site_notice_changed")
    assert event.target == "Driftstopp"
    assert event.details["change"] == "created"
    admin_client.post(f"/admin/core/sitenotice/{notice.pk}/delete/", {"post": "yes"})
    assert AuditEvent.objects.filter(action="site_notice_changed").count() == 2


def test_a_subject_change_is_audited(admin_client):
    subject = Subject.objects.get(code="GRGRMAT01")
    admin_client.post(
        f"/admin/permissions/subject/{subject.pk}/change/",
        {"code": subject.code, "name": "Matematik (ny)", "level": subject.level},
    )
    event = AuditEvent.objects.get(action="subject_changed")
    assert event.details["fields"] == {"name": ["Matematik", "Matematik (ny)"]}


def test_a_huvudman_and_a_school_unit_change_are_audited(admin_client, huvudman, grundskola):
    admin_client.post(
        f"/admin/schools/huvudman/{huvudman.pk}/change/",
        {
            "name": "Nya kommunen",
            "organisationsnummer": huvudman.organisationsnummer,
            "contact_name": huvudman.contact_name,
            "contact_email": huvudman.contact_email,
            "contact_phone": huvudman.contact_phone,
        },
    )
    event = AuditEvent.objects.get(action="huvudman_changed")
    assert event.huvudman == huvudman
    assert event.details["fields"]["name"] == ["Testkommun", "Nya kommunen"]
    admin_client.post(
        f"/admin/schools/schoolunit/{grundskola.pk}/change/",
        {"name": "Nya skolan", "forms": ["grundskola", "sameskola"]},
    )
    grundskola.refresh_from_db()
    assert grundskola.name == "Nya skolan"
    assert AuditEvent.objects.get(action="school_unit_changed").school_unit == grundskola


def test_no_audit_event_is_lost_when_a_change_fails(admin_client, principal):
    """A refused change leaves neither the change nor an event behind."""
    before = AuditEvent.objects.count()
    change_user(admin_client, principal, first_name="A\u202eB")
    assert User.objects.get(pk=principal.pk).first_name == principal.first_name
    assert AuditEvent.objects.count() == before


def test_a_new_password_after_fifteen_minutes_asks_for_a_totp_code_first(national_admin, principal):
    """A hijacked admin session must not mint another account's password: a
    session whose last proof is older than 15 minutes types a code again."""
    device = TOTPDevice.objects.create(user=national_admin, name="app", confirmed=True)
    target = f"/admin/accounts/user/{principal.pk}/password/"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        admin_client = verify_session(Client(), national_admin, device)
        clock.shift(datetime.timedelta(minutes=16))
        assert 'id="id_reauth_code"' in admin_client.get(target).content.decode()
        for data in ({}, {"reauth_code": "000000"}):
            refused = admin_client.post(target, data)
            assert refused.status_code == 400
            assert 'id="id_reauth_code"' in refused.content.decode()
            clock.shift(datetime.timedelta(seconds=5))  # past the TOTP throttle
        assert User.objects.get(pk=principal.pk).check_password("rektor-password-1234")
        assert not AuditEvent.objects.filter(action="password_regenerated").exists()
        code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        done = admin_client.post(target, {"reauth_code": code})
        assert done.status_code == 200
        assert 'id="issued-password"' in done.content.decode()
        assert not User.objects.get(pk=principal.pk).check_password("rektor-password-1234")
