"""The public forms' rate limit, counted in database rows shared by every app server."""

import threading
import time

import pytest
from django.db import connection

from core.models import RateLimitHit
from core.ratelimit import rate_limit_hit


@pytest.mark.django_db
def test_a_full_key_refuses_and_counts_nothing():
    keys = {"addr:192.0.2.1": 2, "email:a@example.se": 5}
    assert [rate_limit_hit(scope="test", keys=keys) for _ in range(3)] == [True, True, False]
    assert RateLimitHit.objects.filter(key="email:a@example.se").count() == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the advisory lock needs PostgreSQL; SQLite refuses concurrent writers (CI runs PG)",
)
@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_on_several_servers_cannot_all_pass_the_limit(monkeypatch):
    """Six requests at the same moment under a limit of three (say six app
    server workers asked to mail one principal): only three are let through."""
    # A slow insert opens the window between counting and writing.
    original = RateLimitHit.objects.bulk_create

    def slow_bulk_create(objs, *args, **kwargs):
        time.sleep(0.3)
        return original(objs, *args, **kwargs)

    monkeypatch.setattr(RateLimitHit.objects, "bulk_create", slow_bulk_create)
    barrier = threading.Barrier(6)
    answers = []

    def attempt() -> None:
        try:
            barrier.wait()
            answers.append(rate_limit_hit(scope="test", keys={"email:a@example.se": 3}))
        except Exception as error:
            answers.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [False] * 3 + [True] * 3
    assert RateLimitHit.objects.count() == 3
