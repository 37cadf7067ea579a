"""The deploy artefacts an operator installs: the systemd units (checked by
`systemd-analyze verify`) and the Containerfile (non-root, read-only root
file system, a health check, dependencies from the hashed lock).

The image itself is not built here: this machine has no container registry
to pull a base image from, and `podman run` cannot start containers in its
sandbox (NOTES.md, checked 2026-12-07), so CI inspects the Containerfile
instead of running it."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent.parent
UNITS = ROOT / "deploy" / "systemd"


@pytest.fixture(autouse=True)
def _postgresql_only():
    """No database here (the folder's rule is for app servers sharing one)."""


@pytest.fixture
def systemd_analyze():
    binary = shutil.which("systemd-analyze")
    if binary is None:
        if IN_CI:
            pytest.fail("CI=true but systemd-analyze is missing (Debian's systemd package).")
        pytest.skip("systemd-analyze is not installed (Debian's systemd package).")
    return binary


def _units_for_this_checkout(tmp_path: Path) -> list[Path]:
    """The units with /srv/behorighet replaced by this checkout, so that
    verify finds the executables they name (it checks that they exist)."""
    copies = []
    for unit in sorted(UNITS.iterdir()):
        text = unit.read_text().replace("/srv/behorighet", str(ROOT))
        copy = tmp_path / unit.name
        copy.write_text(text)
        copies.append(copy)
    return copies


def test_the_units_pass_systemd_analyze_verify(systemd_analyze, tmp_path):
    units = _units_for_this_checkout(tmp_path)
    assert {u.name for u in units} >= {
        "behorighet.service",
        "behorighet-mail.service",
        "behorighet-purge.service",
        "behorighet-purge.timer",
        "behorighet-notify.service",
        "behorighet-notify.timer",
        "behorighet-ss12000.service",
        "behorighet-ss12000.timer",
    }
    if not (ROOT / ".venv" / "bin" / "gunicorn").exists():
        pytest.skip("no .venv in this checkout (make install) for the units' ExecStart")
    result = subprocess.run(
        [systemd_analyze, "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    assert result.returncode == 0, result.stderr
    assert "behorighet" not in result.stderr, result.stderr


def test_systemd_analyze_verify_can_fail(systemd_analyze, tmp_path):
    broken = tmp_path / "broken.service"
    broken.write_text("[Service]\nExecStart=manage.py send_queued_mail\n")
    result = subprocess.run(
        [systemd_analyze, "verify", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0


def test_the_units_run_the_app_the_mail_worker_and_every_purge_as_the_service_user():
    app = (UNITS / "behorighet.service").read_text()
    assert "gunicorn -c deploy/gunicorn.conf.py config.wsgi:application" in app
    assert "send_queued_mail" in (UNITS / "behorighet-mail.service").read_text()
    purge = (UNITS / "behorighet-purge.service").read_text()
    for command in ("purge_audit", "purge_tickets", "purge_removed_accounts"):
        assert f"manage.py {command}" in purge
        assert (ROOT / next(ROOT.glob(f"*/management/commands/{command}.py"))).exists()
    assert "Unit=behorighet-purge.service" in (UNITS / "behorighet-purge.timer").read_text()
    for unit in UNITS.glob("*.service"):
        text = unit.read_text()
        assert "User=behorighet" in text and "NoNewPrivileges=yes" in text, unit.name
        assert "ProtectSystem=strict" in text, unit.name


def test_the_containerfile_runs_non_root_read_only_with_a_health_check():
    image = (ROOT / "deploy" / "Containerfile").read_text()
    user = re.findall(r"^USER (\S+)", image, re.M)
    assert user and user[-1].split(":")[0] not in {"0", "root"}
    assert "pip install --require-hashes --no-deps -r requirements.prod.lock" in image
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", image, re.M)
    assert "--read-only" in image and "PYTHONDONTWRITEBYTECODE=1" in image
    assert "compileall" in image  # no bytecode written at run time
    assert re.search(r'^CMD \["gunicorn", "-c", "deploy/gunicorn.conf.py"', image, re.M)
    ignored = (ROOT / ".containerignore").read_text().split()
    assert {".git", ".venv", ".matrix-card-key"} <= set(ignored)
