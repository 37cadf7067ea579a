import json

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import User
from demo.management.commands.seed_demo import Command
from permissions.models import Membership
from schools.models import SchoolUnit

pytestmark = pytest.mark.django_db


def seed() -> dict:
    from io import StringIO

    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_seed_demo_is_idempotent_and_prints_fresh_working_passwords():
    first = seed()
    users, units, memberships = (
        User.objects.count(),
        SchoolUnit.objects.count(),
        Membership.objects.count(),
    )
    second = seed()
    assert (User.objects.count(), SchoolUnit.objects.count(), Membership.objects.count()) == (
        users,
        units,
        memberships,
    )
    for person in ("principal", "teacher", "huvudman_staff"):
        assert first[person]["username"] == second[person]["username"]
        assert first[person]["password"] != second[person]["password"]
        assert authenticate(
            username=second[person]["username"], password=second[person]["password"]
        )
        assert not authenticate(
            username=first[person]["username"], password=first[person]["password"]
        )


def test_seed_demo_makes_three_schools_of_the_three_forms():
    result = seed()
    forms = [school["forms"] for school in result["schools"]]
    assert ["grundskola"] in forms
    assert any("gymnasieskola" in f for f in forms)
    assert ["kommunal_vuxenutbildning"] in forms
    assert result["teacher"]["school"] == result["schools"][0]["code"]
    assert len(result["teacher"]["subjects"]) == 2
    assert result["huvudman_staff"]["totp_uri"].startswith("otpauth://totp/")


def test_seed_demo_prints_the_principals_whole_current_card():
    from django_otp import verify_token

    from accounts.models import CARD_CELLS, CardState, MatrixCardDevice

    first = seed()["principal"]["card"]
    second = seed()["principal"]
    card = second["card"]
    assert sorted(card["cells"]) == sorted(CARD_CELLS)
    assert card["serial"] != first["serial"]
    principal = User.objects.get(username=second["username"])
    device = MatrixCardDevice.objects.get(user=principal, state=CardState.ACTIVE)
    assert device.serial == card["serial"]
    assert card["issued_on"] == device.issued_on.isoformat()
    cells = device.generate_challenge().split(",")
    token = "".join(card["cells"][cell] for cell in cells)
    assert verify_token(principal, device.persistent_id, token)


def test_seed_demo_text_output_shows_the_grid():
    from io import StringIO

    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert "matrix card" in text
    assert "   A   B   C   D   E   F   G   H" in text
    assert "      10 " in text


CELLS = [f"{column}{row}" for column in "ABCDEFGH" for row in range(1, 11)]


def test_the_printout_names_school_forms_in_words():
    """Found by the walk: it printed "kommunal_vuxenutbildning"."""
    line = Command().describe(
        {
            "principal": {
                "username": "r",
                "password": "p",
                "card": {
                    "serial": "S",
                    "cells": {f"{c}{r}": "AB" for c in "ABCDEFGH" for r in range(1, 11)},
                },
            },
            "teacher": {"username": "t", "password": "p", "school": "1", "subjects": []},
            "huvudman_staff": {"username": "s", "password": "p", "totp_uri": "u"},
            "national_admin": {"username": "a", "password": "p", "totp_uri": "u"},
            "schools": [{"code": "1", "name": "Vux", "forms": ["kommunal_vuxenutbildning"]}],
        }
    )
    assert "1 Vux (Kommunal vuxenutbildning)" in line
