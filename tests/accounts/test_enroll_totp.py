import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db


def test_enroll_totp_prints_uri_and_replaces_the_old_device(national_admin, tmp_path):
    out = StringIO()
    call_command("enroll_totp", national_admin.username, "--json", stdout=out)
    first = json.loads(out.getvalue())["totp_uri"]
    png = tmp_path / "qr.png"
    call_command("enroll_totp", national_admin.username, "--png", str(png), stdout=StringIO())
    assert png.read_bytes().startswith(b"\x89PNG")
    device = TOTPDevice.objects.get(user=national_admin)
    assert first.startswith("otpauth://totp/")
    assert device.config_url != first


def test_enroll_totp_refuses_a_teacher(teacher):
    with pytest.raises(CommandError):
        call_command("enroll_totp", teacher.username, stdout=StringIO())
