"""The session engine: Django's database sessions, read with one plain statement.

PERFORMANCE: every request with a session cookie reads the session row
(accounts/rows.py says why a plain statement). Saving, expiry, key cycling
and deletion are Django's own `db` store; only the read differs, and it
keeps its rule: the row with this key whose expiry lies ahead.
"""

import functools

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


@functools.cache
def _select_session_sql(model, vendor: str) -> str:
    quote = connections[router.db_for_read(model)].ops.quote_name
    meta = model._meta
    # SECURITY: only the model's own (quoted) names; key and time are parameters.
    return (
        f"SELECT {quote(meta.get_field('session_data').column)} FROM {quote(meta.db_table)}"  # noqa: S608
        f" WHERE {quote(meta.get_field('session_key').column)} = %s"
        f" AND {quote(meta.get_field('expire_date').column)} > %s"
    )


class SessionStore(db.SessionStore):
    def load(self) -> dict:
        if self.session_key is None:
            return {}
        connection = connections[router.db_for_read(self.model)]
        with connection.cursor() as cursor:
            cursor.execute(
                _select_session_sql(self.model, connection.vendor),
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            # As Django's store: an unknown or expired key gets a new one on save.
            self._session_key = None
            return {}
        return self.decode(row[0])
