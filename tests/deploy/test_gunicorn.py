"""One production app server as the operator runs it: gunicorn's own /healthz
from the master while every worker is busy, its log lines in JSON, Django's
lines without usernames from paths, and the metrics of workers, pool and
outbox."""

import json
import signal
import socket
import time
import urllib.error
import urllib.request

import pytest

from core.models import OutboxMessage
from tests.deploy.browser import Browser
from tests.deploy.conftest import database_url, server_env
from tests.processes import free_port, start_gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

METRICS_TOKEN = "gunicorn-test-metrics-token-0123456789abcdef"


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker, static_root, tmp_path_factory):
    with django_db_blocker.unblock():
        url = database_url()
    health = free_port()
    env = server_env(
        database_url=url,
        static_root=static_root,
        METRICS_TOKEN=METRICS_TOKEN,
        GUNICORN_HEALTH_BIND=f"127.0.0.1:{health}",
    )
    server = start_gunicorn("one", env, tmp_path_factory.mktemp("gunicorn"), workers=1)
    server.extra["health"] = health
    yield server
    server.process.send_signal(signal.SIGINT)
    server.stop()


def _get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_master_answers_healthz_while_the_only_worker_is_busy(app):
    master = f"http://127.0.0.1:{app.extra['health']}/healthz"
    assert _get(master, 2) == (200, b'{"status": "ok", "workers": 1}')
    # A client that sends half a request holds the one sync worker.
    holder = socket.create_connection(("127.0.0.1", app.port))
    try:
        holder.sendall(b"GET /hjalp/ HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.3)
        with pytest.raises(OSError):
            urllib.request.urlopen(app.url + "/healthz", timeout=1)  # noqa: S310
        started = time.monotonic()
        assert _get(master, 2)[0] == 200
        assert time.monotonic() - started < 0.5
    finally:
        holder.close()


def test_gunicorn_and_django_write_json_lines_without_usernames_from_paths(app):
    # Django's own warning for a refused form names the path; a path may
    # hold a username (here "kalle42" in a teacher's address).
    path = "/e-tjanster/skolor/11111111/larare/kalle42/"
    refused = Browser(app.port).request("POST", path, body=b"x=1")
    assert refused.status == 403
    deadline = time.monotonic() + 5
    while "CSRF" not in app.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = app.log()
    assert "kalle42" not in log
    lines = [line for line in log.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON, gunicorn's too
    assert any(
        r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records
    )
    csrf = [r for r in records if r["logger"] == "django.security.csrf"]
    assert csrf and "[route etjanster:" in csrf[0]["message"]


def test_metrics_count_workers_busy_workers_the_pool_and_the_oldest_mail(app):
    OutboxMessage.objects.create(kind="test", payload=b"sealed")
    direct = Browser(app.port)
    assert direct.get("/hjalp/").status == 200
    scrape = direct.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in scrape.text.splitlines()
        if line.startswith("behorighet_")
    }
    assert values["behorighet_gunicorn_workers"] == 1
    # The scrape itself keeps the one worker busy.
    assert values["behorighet_gunicorn_busy_workers"] == 1
    assert values['behorighet_db_pool_connections{state="max"}'] == 4
    assert 1 <= values['behorighet_db_pool_connections{state="open"}'] <= 4
    assert values["behorighet_outbox_messages"] == 1
    assert values["behorighet_outbox_oldest_age_seconds"] >= 0
