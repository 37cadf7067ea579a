"""The connection pool's health check, skipped for a connection that was
healthy a moment ago.

psycopg's pool can check each connection it hands out (`check`), with a
round trip to the server: what Django's CONN_HEALTH_CHECKS asks for. Every
request that touches the database paid that round trip, and on the logged-in
`hello` it was a fifth of the work that being logged in adds (docs/performance.md).

So, much as HikariCP does (its `aliveBypassWindowMs`, 500 ms by default), a
connection the pool handed out less than BYPASS_SECONDS ago (and that came
back: psycopg drops one returned broken or inside an operation) is handed
out again without the round trip; one that rested longer is checked as
before. A connection psycopg already knows to be broken or closed is never
handed out. What the window costs: a server that goes away within it fails
the one request that gets such a connection (the Swedish 503 page), and the
pool then drops that connection; the others rested longer and are checked,
or are new.

(No `reset` callback records the time instead: with one, psycopg's pool
gives every connection back through a worker thread, a thread hand-over per
request.)
"""

import time
import weakref

from psycopg_pool import ConnectionPool

BYPASS_SECONDS = 1.0

# When each pooled connection was last handed out (weak: a connection the
# pool drops leaves no entry).
_handed_out_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def check(conn) -> None:
    """The pool's `check` callback: raise when the connection cannot be used."""
    if conn.broken or conn.closed:
        raise ConnectionError("the pooled connection is closed")
    now = time.monotonic()
    last = _handed_out_at.get(conn)
    if last is None or now - last >= BYPASS_SECONDS:
        ConnectionPool.check_connection(conn)
    _handed_out_at[conn] = now
