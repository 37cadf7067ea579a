"""The backup runbook works: a pg_dump restored into a fresh database lets a
principal log in with password and card on a production server, given the
same MATRIX_CARD_KEY; without that key the cards are dead (docs/operations.md, "Backups")."""

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Role
from accounts.services.cards import card_issue
from audit.context import AuditContext
from config.env import database_from_url
from schools.models import PrincipalAssignment
from tests.deploy.browser import Browser, asked_cells
from tests.deploy.conftest import IN_CI, database_url, password_form, person, server_env
from tests.processes import start_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"CI=true but {name} is not installed: .ci/run installs PostgreSQL.")
        pytest.skip(f"{name} is not installed (apt-get install postgresql-client).")
    return path


def admin_sql(sql: str) -> None:
    """A statement outside any database's transaction (CREATE/DROP DATABASE)."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(sql)


@pytest.fixture
def restored_name():
    # Beside the configured database's name (bp_<you>_restore), so that
    # several checkouts on one machine never share it.
    name = database_from_url(os.environ["DATABASE_URL"])["NAME"] + "_restore"
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    yield name
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def log_in(port: int, cells: dict[str, str]) -> int:
    """Password, then the card: the status of the E-tjänster start page."""
    browser = Browser(port)
    step1 = browser.post("/e-tjanster/logga-in/", password_form("rektor"))
    assert (step1.status, step1.location) == (302, "/e-tjanster/logga-in/matris/"), step1.text
    asked = asked_cells(browser.get("/e-tjanster/logga-in/matris/").text)
    browser.post("/e-tjanster/logga-in/matris/", {cell: cells[cell] for cell in asked})
    return browser.get("/e-tjanster/").status


def test_a_restored_dump_logs_in_a_principal_with_password_and_card_given_the_card_key(
    school, restored_name, static_root, tmp_path
):
    principal = person("rektor", Role.PRINCIPAL)
    PrincipalAssignment.objects.create(user=principal, school_unit=school)
    card = card_issue(user=principal, context=AuditContext.system())

    dump = tmp_path / "behorighet.dump"
    source = urlparse(database_url())
    env = {**os.environ, "PGPASSWORD": source.password or ""}
    # The runbook's commands (docs/operations.md, "Backups").
    subprocess.run(  # noqa: S603
        [tool("pg_dump"), "--format=custom", "--file", str(dump), database_url()],
        env=env,
        check=True,
        timeout=120,
    )
    admin_sql(f'CREATE DATABASE "{restored_name}"')
    subprocess.run(  # noqa: S603
        [
            tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            database_url(name=restored_name),
            str(dump),
        ],
        env=env,
        check=True,
        timeout=120,
    )

    restored = database_url(name=restored_name)
    server = start_gunicorn(
        "restored", server_env(database_url=restored, static_root=static_root), tmp_path, 1
    )
    try:
        assert log_in(server.port, card.cells) == 200
    finally:
        server.stop()

    # The dump alone is not enough: with another card key no card opens.
    other_key = server_env(
        database_url=restored, static_root=static_root, MATRIX_CARD_KEY="another-key-" + "x" * 32
    )
    assert other_key["MATRIX_CARD_KEY"] != settings.MATRIX_CARD_KEY
    server = start_gunicorn("wrong-key", other_key, Path(tmp_path), 1)
    try:
        assert log_in(server.port, card.cells) == 302
    finally:
        server.stop()
