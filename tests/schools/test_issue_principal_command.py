"""`manage.py issue_principal`: what staff do in /huvudman/, for scripts."""

import json
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from accounts.models import Role, User
from audit.models import AuditEvent
from tests.fixtures.cards import answer

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("issue_principal", *args, stdout=out)
    return out.getvalue()


def test_command_prints_json_whose_password_and_card_work(grundskola):
    result = json.loads(
        run("--school", "11111111", "--name", "Rut Rektorsson", "--email", "rut@x.se", "--json")
    )
    assert set(result) >= {"username", "password", "card"}
    assert set(result["card"]) >= {"serial", "cells"}
    assert len(result["card"]["cells"]) == 80
    principal = User.objects.get(username=result["username"])
    assert principal.role == Role.PRINCIPAL
    assert list(principal.led_school_units.all()) == [grundskola]
    assert authenticate(username=result["username"], password=result["password"]) == principal
    assert answer(principal, result["card"]["cells"])
    event = AuditEvent.objects.get(action="principal_issued")
    assert event.school_unit == grundskola
    assert event.actor_username == ""


def test_command_prints_the_whole_card_as_text(grundskola):
    out = run("--school", "11111111", "--name", "Rut Rektorsson", "--email", "rut@x.se")
    principal = User.objects.get(role=Role.PRINCIPAL)
    assert principal.username in out
    assert len([line for line in out.splitlines() if line.strip()[:2].strip().isdigit()]) >= 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--school", "12345678", "--name", "Rut", "--email", "rut@x.se"], "12345678"),
        (["--school", "11111111", "--name", "  ", "--email", "rut@x.se"], "namn"),
        (["--school", "11111111", "--name", "Rut", "--email", "inte-en-adress"], "e-post"),
        # Longer than the database's 254 characters, though the shape is valid.
        (
            [
                "--school",
                "11111111",
                "--name",
                "Rut",
                "--email",
                "a" * 64 + "@" + "b" * 190 + ".se",
            ],
            "för lång",
        ),
        (
            ["--school", "11111111", "--name", "Rut\u202eSvensson", "--email", "rut@x.se"],
            "styrtecken",
        ),
    ],
)
def test_command_refuses_bad_input_clearly_and_saves_nothing(grundskola, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not User.objects.filter(role=Role.PRINCIPAL).exists()


def test_the_command_speaks_the_sites_language(grundskola, monkeypatch):
    """Found by the walk: its printout and errors were English, never
    translated. Every line goes through gettext (marked here) now."""
    monkeypatch.setattr("schools.management.commands.issue_principal._", lambda text: f"«{text}»")
    out = run("--school", "11111111", "--name", "Rut Rektorsson", "--email", "rut@x.se")
    assert out.startswith("«Principal issued for Testskolan")
    assert "«Shown once: hand these over now. Only hashes are stored.»" in out
    with pytest.raises(CommandError, match="«No school unit"):
        run("--school", "12345678", "--name", "Rut", "--email", "rut@y.se")
