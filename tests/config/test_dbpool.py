"""The pool's health check (config/dbpool.py): skipped for a connection
handed out a moment ago, made for one that rested, never passed by a
connection psycopg knows to be broken."""

import os

import pytest
from django.db import connection

from config import dbpool


class Connection:
    """What the check reads of a psycopg connection, counting round trips."""

    def __init__(self, *, broken=False, closed=False):
        self.broken, self.closed, self.autocommit = broken, closed, True
        self.round_trips = 0

    def execute(self, query):
        self.round_trips += 1


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(dbpool.time, "monotonic", lambda: now[0])
    return now


def test_a_connection_handed_out_a_moment_ago_is_handed_out_again_without_a_round_trip(clock):
    conn = Connection()
    dbpool.check(conn)  # new to the check: checked
    for _ in range(3):
        clock[0] += dbpool.BYPASS_SECONDS / 2
        dbpool.check(conn)
    assert conn.round_trips == 1


def test_a_connection_that_rested_or_was_never_handed_out_is_checked(clock):
    rested, new = Connection(), Connection()
    dbpool.check(rested)
    clock[0] += dbpool.BYPASS_SECONDS
    dbpool.check(rested)
    dbpool.check(new)
    assert (rested.round_trips, new.round_trips) == (2, 1)


@pytest.mark.parametrize("state", [{"broken": True}, {"closed": True}])
def test_a_broken_or_closed_connection_is_refused_even_within_the_window(clock, state):
    conn = Connection()
    dbpool.check(conn)
    for name, value in state.items():
        setattr(conn, name, value)
    with pytest.raises(ConnectionError):
        dbpool.check(conn)
    assert conn.round_trips == 1  # the first check only


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="needs PostgreSQL"
)
@pytest.mark.django_db
def test_a_pool_replaces_a_rested_connection_whose_server_process_ended(clock):
    """A connection whose server process ended while it rested fails its
    check, and the pool hands out a working one instead of the error."""
    # The backend's own pool (config/postgresql), opened for this test.
    assert connection.pool._check is dbpool.check
    pool = type(connection.pool)(
        kwargs={**connection.get_connection_params(), "autocommit": True},
        min_size=1,
        max_size=1,
        check=dbpool.check,
        open=True,
    )
    try:
        with pool.connection() as conn:
            pid = conn.info.backend_pid
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        clock[0] += dbpool.BYPASS_SECONDS
        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.info.backend_pid != pid
    finally:
        pool.close()
