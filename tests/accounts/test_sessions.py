"""Ending one user's sessions, and nobody else's."""

import pytest
from django.test import Client

from accounts.models import Session
from accounts.sessions import sessions_end, sessions_end_many
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


def test_a_session_row_carries_the_id_of_the_user_its_data_names(teacher):
    client = Client()
    assert client.get("/").status_code == 200
    client.force_login(teacher)
    row = Session.objects.get(pk=client.session.session_key)
    assert row.user_id == teacher.pk
    assert row.get_decoded()["_auth_user_id"] == str(teacher.pk)


def test_a_session_without_a_login_has_no_user_id(teacher):
    client = Client()
    session = client.session
    session["something"] = 1
    session.save()
    assert Session.objects.get(pk=session.session_key).user_id is None


def test_logging_out_leaves_no_row_with_the_user_id(teacher):
    client = Client()
    client.force_login(teacher)
    client.logout()
    assert not Session.objects.filter(user_id=teacher.pk).exists()


def test_sessions_end_finds_the_rows_by_user_id_without_decoding_any(
    principal, teacher, django_assert_max_num_queries
):
    for _ in range(3):
        verify_session(Client(), principal)
    other = Client()
    other.force_login(teacher)
    with django_assert_max_num_queries(2):
        assert sessions_end(user=principal) == 3
    assert list(Session.objects.values_list("user_id", flat=True)) == [teacher.pk]


def test_sessions_end_spares_the_session_to_keep(principal):
    kept, ended = verify_session(Client(), principal), verify_session(Client(), principal)
    keep = kept.session.session_key
    assert sessions_end_many(user_ids=[principal.pk], keep_session_key=keep) == {principal.pk: 1}
    assert Session.objects.filter(pk=kept.session.session_key).exists()
    assert ended.session.get("_auth_user_id") is None


def test_deleting_a_user_deletes_its_sessions(teacher):
    client = Client()
    client.force_login(teacher)
    teacher.delete()
    assert not Session.objects.exists()
