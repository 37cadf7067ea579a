"""Each person sees their notices and switches the optional ones off: on
E-tjänster's "My account", and for huvudman staff on /huvudman/aviseringar/."""

import pytest
from django.test import Client

from audit.models import AuditEvent
from notifications.models import NotificationKind, NotificationSetting
from tests.conftest import verify_session

pytestmark = pytest.mark.django_db

ACCOUNT = "/e-tjanster/mitt-konto/"
SAVE = "/e-tjanster/mitt-konto/aviseringar/"
STAFF_PAGE = "/huvudman/aviseringar/"


def off(user) -> set[str]:
    return set(
        NotificationSetting.objects.filter(user=user, enabled=False).values_list("kind", flat=True)
    )


def test_a_principal_sees_every_notice_and_switches_the_optional_ones(principal_client, principal):
    page = principal_client.get("/en" + ACCOUNT).content.decode()
    assert 'name="notify" value="weekly_digest"' in page
    assert 'name="notify" value="link_answered"' in page
    # Not optional: listed, no switch.
    assert 'value="card_locked"' not in page and "A matrix card locked" in page
    response = principal_client.post(SAVE, {"notify": ["link_answered"]})
    assert response.status_code == 302 and response["Location"].endswith("#notifications")
    assert off(principal) == {NotificationKind.WEEKLY_DIGEST}
    event = AuditEvent.objects.get(action="notifications_changed")
    assert event.details == {"on": [], "off": ["weekly_digest"]}
    # Saving the same again changes and records nothing.
    principal_client.post(SAVE, {"notify": ["link_answered"]})
    assert AuditEvent.objects.filter(action="notifications_changed").count() == 1
    # A kind that is not optional cannot be switched off by posting it away.
    principal_client.post(SAVE, {"notify": ["card_locked", "weekly_digest"]})
    assert off(principal) == {NotificationKind.LINK_ANSWERED}


def test_a_test_admin_has_only_optional_notices(test_admin):
    client = verify_session(Client(), test_admin)
    page = client.get("/en" + ACCOUNT).content.decode()
    assert 'value="weekly_digest"' in page
    assert "Always sent" not in page


def test_the_settings_need_an_etjanster_login_and_a_post(client, principal, teacher):
    assert client.post(SAVE, {}).status_code == 302
    client.force_login(teacher)
    assert client.post(SAVE, {}).status_code in (302, 403)
    assert not NotificationSetting.objects.exists()
    assert verify_session(Client(), principal).get(SAVE).status_code == 405


def test_staff_switch_units_without_a_principal_on_their_own_page(staff_client, huvudman_staff):
    page = staff_client.get("/en" + STAFF_PAGE).content.decode()
    assert 'value="unit_without_principal"' in page
    assert 'href="/en/huvudman/aviseringar/"' in page  # linked from every page
    response = staff_client.post(STAFF_PAGE, {})
    assert response.status_code == 302
    assert off(huvudman_staff) == {NotificationKind.UNIT_WITHOUT_PRINCIPAL}
    assert AuditEvent.objects.get(action="notifications_changed").huvudman == (
        huvudman_staff.huvudman
    )


def test_the_staff_page_is_for_staff_only(client, principal, national_admin):
    assert client.get(STAFF_PAGE).status_code == 302
    for user in (principal, national_admin):
        response = verify_session(Client(), user).get(STAFF_PAGE)
        assert response.status_code == 302 and "/huvudman/login/" in response["Location"]
