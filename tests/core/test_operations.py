"""/healthz, /readyz and /metrics: cheap, JSON, and /metrics only for its token
or network."""

import ipaddress
import re

import pytest
from django.db import DatabaseError

from core import operations
from core.models import KeyCheck
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-0123456789abcdef-0123456789"


def metric(text: str, name: str, **labels) -> float | None:
    """The value of one sample in Prometheus' text format, or None."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_healthz_answers_without_the_database_or_the_allowed_hosts(
    client, settings, django_assert_num_queries
):
    # Balancers probe each server by its internal address over plain HTTP.
    settings.SECURE_SSL_REDIRECT = True
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.0.0.11:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readyz_checks_the_database_migrations_and_card_key_in_three_cheap_queries(
    client, django_assert_num_queries
):
    operations._migrations_in_code()  # read once per process, from disk
    client.get("/readyz/")  # the first start stores the card key's check value
    with django_assert_num_queries(3):
        response = client.get("/readyz/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "card_key": "ok",
            "storage": "not_checked",
        },
    }


def test_the_first_start_stores_the_card_key_check_and_another_key_is_not_ready(client, settings):
    KeyCheck.objects.all().delete()  # a new installation (a server process may have probed)
    assert client.get("/readyz").status_code == 200
    stored = KeyCheck.objects.get(name="matrix_card_key")
    assert settings.MATRIX_CARD_KEY not in stored.value and len(stored.value) == 64

    settings.MATRIX_CARD_KEY = "another-matrix-card-key-0123456789abcdef"
    refused = client.get("/readyz")
    assert refused.status_code == 503
    body = refused.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["card_key"] == "mismatch"
    assert (
        "MATRIX_CARD_KEY is not the key this database's cards were issued under"
        in (body["reasons"][0])
    )
    # The wrong key stored nothing: the installation's key is ready again.
    assert KeyCheck.objects.get().value == stored.value
    settings.MATRIX_CARD_KEY = "test-matrix-card-key-0123456789abcdef"
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_while_a_migration_is_pending(client, monkeypatch):
    in_code = operations._migrations_in_code() | {("permissions", "9999_not_yet_applied")}
    monkeypatch.setattr(operations, "_migrations_in_code", lambda: in_code)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "pending"


def test_readyz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def unavailable():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(operations.connection, "cursor", unavailable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": "unavailable",
            "migrations": "unknown",
            "card_key": "unknown",
            "storage": "not_checked",
        },
    }


# The project's own metrics, each announced with its type in every scrape.
PROJECT_METRICS = (
    "# TYPE behorighet_http_requests_total counter",
    "# TYPE behorighet_http_request_duration_seconds histogram",
    "# TYPE behorighet_logins_total counter",
    "# TYPE behorighet_throttle_hits_total counter",
)


def is_metrics(response) -> bool:
    """The Prometheus text of this project's metrics."""
    text = response.content.decode()
    return (
        response.status_code == 200
        and response["Content-Type"].startswith("text/plain")
        and all(line in text.splitlines() for line in PROJECT_METRICS)
    )


def is_hidden(response) -> bool:
    """A 404 that gives nothing of the metrics away."""
    return response.status_code == 404 and "behorighet_" not in response.content.decode()


def test_probes_refuse_changes(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_metrics_are_a_404_unless_a_token_or_network_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert is_hidden(client.get("/metrics"))
    assert is_hidden(client.get("/metrics", HTTP_AUTHORIZATION="Bearer "))


def test_metrics_answer_to_the_token_and_to_nothing_else(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    assert is_metrics(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    for wrong in ("Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}", ""):
        assert is_hidden(client.get("/metrics", HTTP_AUTHORIZATION=wrong)), wrong


def test_metrics_answer_a_direct_peer_in_the_allowed_network_but_never_via_a_proxy(
    client, settings
):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.1.0.0/16")]
    assert is_metrics(client.get("/metrics", REMOTE_ADDR="10.1.2.3"))
    assert is_hidden(client.get("/metrics", REMOTE_ADDR="10.2.0.1"))
    # SECURITY: behind nginx the peer is the proxy, perhaps in the network;
    # a forwarded request gets in only with the token.
    settings.TRUSTED_PROXY_COUNT = 1
    forwarded = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="10.1.9.9")
    assert is_hidden(forwarded)


@pytest.fixture
def scraper(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def scrape() -> str:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert is_metrics(response)
        return response.content.decode()

    return scrape


def test_requests_are_counted_by_route_name_and_status_and_timed(client, scraper):
    before = metric(scraper(), "behorighet_http_requests_total", route="home", status="200") or 0
    client.get("/")
    client.get("/finns-inte/")
    text = scraper()
    assert metric(text, "behorighet_http_requests_total", route="home", status="200") == before + 1
    assert metric(text, "behorighet_http_requests_total", route="unmatched", status="404") >= 1
    assert metric(text, "behorighet_http_request_duration_seconds_count", route="home") >= 1


def test_login_outcomes_and_throttle_hits_are_counted(client, scraper, teacher):
    labels = {"door": "bedomningsportalen", "factor": "password"}

    def count(outcome: str) -> float:
        return metric(scraper(), "behorighet_logins_total", outcome=outcome, **labels) or 0

    def throttled() -> float:
        return (
            metric(scraper(), "behorighet_throttle_hits_total", throttle="password_username") or 0
        )

    failed, succeeded, hits = count("failed"), count("succeeded"), throttled()
    login = "/bedomningsportalen/logga-in/"
    for _ in range(3):  # the free failures; the fourth attempt waits
        client.post(login, {"username": "larare", "password": "fel-losenord"})
    client.post(login, {"username": "larare", "password": "larare-password-1234"})
    assert count("failed") == failed + 3
    assert count("throttled") >= 1
    assert throttled() == hits + 1
    assert count("succeeded") == succeeded


def test_the_outbox_gauge_reads_the_configured_function_at_each_scrape(scraper, settings):
    settings.METRICS_OUTBOX_LENGTH = "tests.core.test_operations.seven_waiting"
    assert metric(scraper(), "behorighet_outbox_messages") == 7
    settings.METRICS_OUTBOX_LENGTH = ""
    assert metric(scraper(), "behorighet_outbox_messages") is None


def test_a_database_outage_leaves_out_the_outbox_gauge_but_the_rest_answers(scraper, settings):
    settings.METRICS_OUTBOX_LENGTH = "tests.core.test_operations.outbox_unreachable"
    text = scraper()
    assert metric(text, "behorighet_outbox_messages") is None
    assert "behorighet_http_requests_total" in text


def seven_waiting() -> int:
    return 7


def outbox_unreachable() -> int:
    raise DatabaseError("the database is down")


def test_metrics_never_name_a_user(client, scraper):
    make_user("hemlig-anvandare", "teacher")
    client.get("/e-tjanster/skolor/11111111/larare/hemlig-anvandare/")
    assert "hemlig-anvandare" not in scraper()
