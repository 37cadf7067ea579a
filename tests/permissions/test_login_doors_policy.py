"""Which role uses which login, and when a session counts: permissions.policy."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from permissions import policy
from tests.conftest import verify_session

pytestmark = pytest.mark.django_db

DOORS = ["can_use_etjanster", "can_use_portal", "can_use_national_admin", "can_use_huvudman_site"]


@pytest.mark.parametrize(
    ("who", "door"),
    [
        ("principal", "can_use_etjanster"),
        ("test_admin", "can_use_etjanster"),
        ("teacher", "can_use_portal"),
        ("national_admin", "can_use_national_admin"),
        ("huvudman_staff", "can_use_huvudman_site"),
    ],
)
def test_each_role_has_exactly_one_door(request, who, door):
    user = request.getfixturevalue(who)
    assert [name for name in DOORS if getattr(policy, name)(user=user)] == [door]
    user.is_active = False
    assert not any(getattr(policy, name)(user=user) for name in DOORS)


def test_anonymous_has_no_door():
    anonymous = AnonymousUser()
    assert not policy.can_use_etjanster(user=anonymous)
    assert not policy.can_use_portal(user=anonymous)
    assert not policy.is_etjanster_verified(user=anonymous)
    assert not policy.can_open_national_admin(user=anonymous)
    assert not policy.can_open_huvudman_site(user=anonymous)


def session_user(client: Client):
    request = client.get("/hjalp/").wsgi_request
    return request.user


def test_e_tjanster_counts_only_the_matrix_card_as_second_factor(principal):
    password_only = Client()
    password_only.force_login(principal)
    user = session_user(password_only)
    assert policy.is_etjanster_half_logged_in(user=user)
    assert not policy.is_etjanster_verified(user=user)

    from django_otp.plugins.otp_totp.models import TOTPDevice

    totp = TOTPDevice.objects.create(user=principal, name="app", confirmed=True)
    user = session_user(verify_session(Client(), principal, device=totp))
    assert not policy.is_etjanster_verified(user=user)

    user = session_user(verify_session(Client(), principal))
    assert policy.is_etjanster_verified(user=user)
    assert not policy.is_etjanster_half_logged_in(user=user)


@pytest.mark.parametrize(
    ("who", "opens"),
    [("national_admin", "can_open_national_admin"), ("huvudman_staff", "can_open_huvudman_site")],
)
def test_an_admin_site_opens_only_for_its_role_past_totp(request, who, opens):
    user = request.getfixturevalue(who)
    password_only = Client()
    password_only.force_login(user)
    assert not getattr(policy, opens)(user=session_user(password_only))
    verified = session_user(verify_session(Client(), user))
    assert getattr(policy, opens)(user=verified)
    other = {"can_open_national_admin", "can_open_huvudman_site"} - {opens}
    assert not getattr(policy, other.pop())(user=verified)
