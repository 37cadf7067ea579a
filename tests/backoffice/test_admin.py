"""National admins manage the access-policy table; each edit is audited."""

import pytest

from audit.models import AuditEvent
from permissions.models import LevelPolicy
from schools.models import SchoolUnit
from tests.conftest import verify_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, national_admin):
    return verify_session(client, national_admin)


def test_adding_a_policy_rule_is_audited(admin_client):
    response = admin_client.post(
        "/admin/permissions/levelpolicy/add/",
        {"school_form": "kommunal_vuxenutbildning", "level": "grundskola"},
    )
    assert response.status_code == 302
    assert LevelPolicy.objects.filter(
        school_form_id="kommunal_vuxenutbildning", level="grundskola"
    ).exists()
    event = AuditEvent.objects.get(action="policy_changed")
    assert event.details == {
        "change": "added",
        "school_form": "kommunal_vuxenutbildning",
        "level": "grundskola",
    }
    assert event.actor_username == "nationell"


def test_removing_a_policy_rule_is_audited(admin_client):
    rule = LevelPolicy.objects.get(school_form_id="sameskola", level="grundskola")
    response = admin_client.post(
        f"/admin/permissions/levelpolicy/{rule.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not LevelPolicy.objects.filter(pk=rule.pk).exists()
    assert AuditEvent.objects.get(action="policy_changed").details["change"] == "removed"


def test_audit_log_is_read_only_in_the_admin(admin_client, principal):
    from audit.actions import AuditAction
    from audit.context import AuditContext
    from audit.log import audit_record

    event = audit_record(action=AuditAction.LOGIN_FAILED, context=AuditContext(actor=principal))
    assert admin_client.get("/admin/audit/auditevent/").status_code == 200
    assert admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403
    response = admin_client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_admin_refuses_duplicate_skolenhetskod_with_a_message(admin_client, grundskola, huvudman):
    response = admin_client.post(
        "/admin/schools/schoolunit/add/",
        {
            "code": grundskola.code,
            "name": "Dubblett",
            "huvudman": huvudman.pk,
            "forms": ["grundskola"],
        },
    )
    assert response.status_code == 200
    assert "Skolenhetskod finns redan" in response.content.decode()


@pytest.mark.parametrize(
    ("code", "forms", "field"),
    [
        ("1234567", ["grundskola"], "code"),
        ("1234567a", ["grundskola"], "code"),
        ("12345678", [], "forms"),
        ("12345678", ["förskola"], "forms"),
    ],
)
def test_admin_refuses_bad_school_unit_and_saves_nothing(
    admin_client, huvudman, code, forms, field
):
    response = admin_client.post(
        "/admin/schools/schoolunit/add/",
        {"code": code, "name": "Felskolan", "huvudman": huvudman.pk, "forms": forms},
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not SchoolUnit.objects.filter(name="Felskolan").exists()
