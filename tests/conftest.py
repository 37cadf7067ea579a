"""The shared cast: two huvudmän, their schools, and one person of each role."""

import datetime
from importlib import import_module

import pytest
import pytest_django.fixtures
from django.apps import apps as django_apps
from django.conf import settings
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from audit.context import AuditContext
from permissions.models import Membership, Subject, TestAdministrator
from schools.models import Huvudman, PrincipalAssignment, SchoolUnit

# The shared cast beyond this file: cards, staff and schools, material.
pytest_plugins = [
    "tests.fixtures.cards",
    "tests.fixtures.staff",
    "tests.fixtures.material",
    "tests.fixtures.ss12000",
]

# A school day inside the school year 2026/27 (which ends 31 July 2027).
SCHOOL_DAY = datetime.date(2026, 11, 28)
END_OF_YEAR = datetime.date(2027, 7, 31)


# The data migrations that seed rows, each with a model it always fills.
MIGRATION_SEEDS = {
    "schools.migrations.0002_seed_school_forms": "schools.SchoolForm",
    "permissions.migrations.0002_seed_subjects_and_policy": "permissions.LevelPolicy",
}

# Every way a test gets a database (the django_db marker, `db`,
# `transactional_db`, `live_server`, request.getfixturevalue) goes through this
# pytest-django fixture; fail loudly if a new version renames it.
DATABASE_FIXTURE = "_django_db_helper"
assert hasattr(pytest_django.fixtures, DATABASE_FIXTURE), "pytest-django renamed its db fixture"


def restore_migration_rows() -> None:
    """Put back the rows the data migrations seed, if a flush removed them.

    A transactional test (every browser test) ends with a flush that empties
    every table, seeded ones included, and tests that only ask for a
    database later (request.getfixturevalue) may run after it. The seeds are
    idempotent; an untouched table costs one query.
    """
    for module, model in MIGRATION_SEEDS.items():
        if not django_apps.get_model(model).objects.exists():
            import_module(module).seed(django_apps, None)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    result = yield
    if fixturedef.argname == DATABASE_FIXTURE:
        restore_migration_rows()
    return result


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language: a request to an
    /en/ page (the admin's, say) leaves English active in the thread, which
    would change what later tests render outside a request (PDFs, mail)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session", autouse=True)
def _end_stray_test_database_sessions(django_db_setup, django_db_blocker):
    """Let Django drop the PostgreSQL test database at the end of the run.

    Tests that start threads (concurrent card answers, parallel password
    guesses) or the live server can leave a pooled connection checked out by
    a thread that has ended; the pool never gets it back, so DROP DATABASE
    would fail with "being accessed by other users". Set up after the test
    database, this is torn down before it and ends such sessions. (Production
    runs gunicorn's sync workers: one thread per process, no such leak.)
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )


def deliver_mail():
    """Run the outbox worker once, as `manage.py send_queued_mail --once` does."""
    from core.outbox import outbox_send_due

    return outbox_send_due()


def make_school(code: str, name: str, huvudman: Huvudman, forms: list[str]) -> SchoolUnit:
    unit = SchoolUnit.objects.create(code=code, name=name, huvudman=huvudman)
    unit.forms.set(forms)
    return unit


def make_user(username: str, role: Role, **extra) -> User:
    return User.objects.create_user(
        username=username,
        password=f"{username}-password-1234",
        role=role,
        first_name=username.capitalize(),
        last_name="Testsson",
        email=f"{username}@example.se",
        **extra,
    )


def verify_session(client: Client, user: User, device=None) -> Client:
    """Log `user` in with both factors passed, without driving the login pages.

    Principals and test administrators get a matrix card (E-tjänster accepts
    nothing else); admin-site users a TOTP device.
    """
    if device is None and user.uses_etjanster:
        from accounts.services.cards import card_issue, current_card

        device = (
            current_card(user=user) or card_issue(user=user, context=AuditContext.system()).device
        )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def huvudman(db) -> Huvudman:
    return Huvudman.objects.create(
        name="Testkommun",
        organisationsnummer="212000-0142",
        contact_name="Kim Kontakt",
        contact_email="kontakt@testkommun.se",
        contact_phone="010-111 22 33",
    )


@pytest.fixture
def other_huvudman(db) -> Huvudman:
    return Huvudman.objects.create(name="Andra skolbolaget AB", organisationsnummer="556036-0793")


@pytest.fixture
def grundskola(huvudman) -> SchoolUnit:
    return make_school("11111111", "Testskolan F–9", huvudman, ["grundskola"])


@pytest.fixture
def gymnasium(huvudman) -> SchoolUnit:
    return make_school("22222222", "Testgymnasiet", huvudman, ["gymnasieskola"])


@pytest.fixture
def other_school(other_huvudman) -> SchoolUnit:
    return make_school("99999999", "Annan skola", other_huvudman, ["grundskola"])


@pytest.fixture
def national_admin(db) -> User:
    return make_user("nationell", Role.NATIONAL_ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def huvudman_staff(huvudman) -> User:
    return make_user("personal", Role.HUVUDMAN_STAFF, is_staff=True, huvudman=huvudman)


@pytest.fixture
def principal(grundskola, gymnasium) -> User:
    user = make_user("rektor", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=user, school_unit=grundskola)
    PrincipalAssignment.objects.create(user=user, school_unit=gymnasium)
    return user


@pytest.fixture
def test_admin(grundskola) -> User:
    user = make_user("provadmin", Role.TEST_ADMIN)
    TestAdministrator.objects.create(user=user, school_unit=grundskola, valid_until=END_OF_YEAR)
    return user


@pytest.fixture
def teacher(grundskola) -> User:
    user = make_user("larare", Role.TEACHER)
    membership = Membership.objects.create(
        user=user, school_unit=grundskola, valid_until=END_OF_YEAR
    )
    membership.subjects.set(Subject.objects.filter(code__in=["GRGRMAT01", "GRGRSVE01"]))
    return user


@pytest.fixture
def principal_client(client, principal) -> Client:
    return verify_session(client, principal)


# --- The S3 API server (moto), a process of its own -----------------------------


@pytest.fixture(scope="session")
def s3_account(tmp_path_factory):
    """moto's S3 server for the whole run, with keys it checks and one bucket."""
    from tests.processes import start_s3_server

    server, account = start_s3_server(tmp_path_factory.mktemp("s3-server"))
    yield account
    server.stop()


@pytest.fixture
def s3_storage(s3_account, settings, monkeypatch):
    """Material storage on S3 for this test, in a fresh bucket, configured from
    the environment exactly as STORAGE_BACKEND=s3 configures production."""
    import uuid

    from config.env import s3_storage_from_env

    account = s3_account.create_bucket(f"test-{uuid.uuid4().hex[:16]}")
    for name, value in account.env().items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage_from_env()}
    return account
