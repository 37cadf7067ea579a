"""Ending one user's sessions, and nobody else's."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.sessions import sessions_end
from tests.conftest import verify_session

pytestmark = pytest.mark.django_db


def test_sessions_end_deletes_every_session_of_the_user_and_only_theirs(principal, teacher):
    first, second = verify_session(Client(), principal), verify_session(Client(), principal)
    other = Client()
    other.force_login(teacher)
    assert Session.objects.count() == 3

    assert sessions_end(user=principal) == 2

    assert Session.objects.count() == 1
    assert first.session.get("_auth_user_id") is None
    assert second.session.get("_auth_user_id") is None
    assert other.session.get("_auth_user_id") == str(teacher.pk)
