"""Transaction-scoped advisory locks: one wait-for-each-other across app servers."""

from django.db import connection


def advisory_lock(*keys: str) -> None:
    """Hold a lock on each key until the current transaction ends.

    SECURITY: a count-then-write (a throttle, a rate limit, a create when no
    row exists yet) read by two app servers at once lets both pass. On
    PostgreSQL `pg_advisory_xact_lock` on a hash of each key makes the second
    wait until the first has committed; it needs no row, so it works for a
    key nothing is stored under yet. A hash collision only makes two
    unrelated keys wait for each other. Several keys are taken in one
    statement, in one order, so that two callers with overlapping keys
    cannot deadlock. SQLite, for development only, serializes every write
    transaction anyway, so this does nothing there.

    Call it inside `transaction.atomic`: outside one the lock would end with
    the statement.
    """
    if connection.vendor != "postgresql" or not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM ("
            " SELECT DISTINCT hashtext(key) AS k FROM unnest(%s::text[]) AS key ORDER BY k"
            ") AS keys",
            [list(keys)],
        )


def advisory_try_lock(key: str) -> bool:
    """Take the lock on `key` until the current transaction ends, or return
    False at once when another transaction holds it (one job per key across
    app servers, the second one skipping rather than waiting). SQLite: True."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [key])
        return bool(cursor.fetchone()[0])
