import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from accounts.models import Role, User
from accounts.usernames import USERNAME_ALPHABET, generate_password, generate_username

pytestmark = pytest.mark.django_db


def test_huvudman_staff_must_belong_to_a_huvudman():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="x", role=Role.HUVUDMAN_STAFF)


def test_only_huvudman_staff_belong_to_a_huvudman(huvudman):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="x", role=Role.TEACHER, huvudman=huvudman)


def test_only_national_admins_are_superusers():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="x", role=Role.PRINCIPAL, is_superuser=True)


def test_unknown_role_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="x", role="janitor")


def test_createsuperuser_makes_a_national_admin():
    call_command("createsuperuser", username="chef", email="chef@example.se", interactive=False)
    assert User.objects.get(username="chef").role == Role.NATIONAL_ADMIN


def test_generated_usernames_avoid_ambiguous_characters():
    names = {generate_username() for _ in range(200)}
    assert len(names) == 200
    for name in names:
        assert set(name) <= set(USERNAME_ALPHABET)
        assert not set(name) & set("0oO1lIi")


def test_generated_passwords_avoid_ambiguous_characters():
    password = generate_password()
    assert len(password.replace("-", "")) == 16
    assert not set(password) & set("0oO1lIi")
