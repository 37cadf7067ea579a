"""Production settings refuse to start without their secrets and pass check --deploy."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.prod",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "behorighet.example.se",
    "MATRIX_CARD_KEY": secrets.token_hex(32),
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    # A clean environment: nothing of the test run's own (DATABASE_URL, the
    # browser tests' DJANGO_ALLOW_ASYNC_UNSAFE) may leak into the check.
    leave_out = {*PROD_ENV, "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in leave_out}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_prod_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "MATRIX_CARD_KEY"])
def test_prod_settings_refuse_to_start_without(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_prod_settings_refuse_a_short_card_key():
    result = manage("check", env={**PROD_ENV, "MATRIX_CARD_KEY": "short"})
    assert result.returncode != 0
    assert "MATRIX_CARD_KEY" in result.stderr


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": "material"}, "S3_REGION"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
        ({"SAML_SP_KEY_FILE": "/etc/hostname"}, "SAML_SP_CERT_FILE"),
        (
            {"SAML_SP_KEY_FILE": "/nonexistent.key", "SAML_SP_CERT_FILE": "/nonexistent.crt"},
            "SAML_SP_KEY_FILE",
        ),
    ],
)
def test_prod_settings_refuse_half_configured_storage_or_metrics(extra, named):
    result = manage("check", env={**PROD_ENV, **extra})
    assert result.returncode != 0
    assert named in result.stderr


def test_prod_renders_templates_through_the_cached_loader_without_bench_urls():
    code = (
        "from django.conf import settings; from django.template import engines; "
        "print(type(engines['django'].engine.template_loaders[0]).__module__, "
        "settings.ROOT_URLCONF, settings.DEBUG)"
    )
    result = manage("shell", "-c", code, env=PROD_ENV)
    assert result.returncode == 0, result.stderr
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.split() == ["django.template.loaders.cached", "config.urls", "False"]
