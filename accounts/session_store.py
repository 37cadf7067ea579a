"""The session engine: Django's database sessions in `accounts.Session`, read
together with their user in one plain statement.

PERFORMANCE: every request with a session cookie reads the session row, and
every logged-in one its user too (accounts/rows.py says why plain
statements). The row carries the user's id (`accounts.Session.user`), so one
statement LEFT JOINs the user row in; `accounts.backends.AccountBackend`
uses it instead of a second query. Saving, expiry, key cycling and deletion
are Django's own `db` store; the read keeps its rule (the row with this key
whose expiry lies ahead), and every save writes the user id the session's
own data names.
"""

import functools

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils import timezone

from accounts.rows import instance_from_row


@functools.cache
def _select_session_sql(model, user_model, vendor: str) -> tuple[str, list[str], int]:
    """The statement, the attribute names of the user's columns it returns
    (after the session data), and where among them the user's key is."""
    quote = connections[router.db_for_read(model)].ops.quote_name
    meta, user_meta = model._meta, user_model._meta
    user_fields = list(user_meta.concrete_fields)
    user_columns = ", ".join(f"u.{quote(f.column)}" for f in user_fields)
    # SECURITY: only the models' own (quoted) names; key and time are parameters.
    sql = (
        f"SELECT s.{quote(meta.get_field('session_data').column)}, {user_columns}"  # noqa: S608
        f" FROM {quote(meta.db_table)} s"
        f" LEFT JOIN {quote(user_meta.db_table)} u"
        f" ON u.{quote(user_meta.pk.column)} = s.{quote(meta.get_field('user').column)}"
        f" WHERE s.{quote(meta.get_field('session_key').column)} = %s"
        f" AND s.{quote(meta.get_field('expire_date').column)} > %s"
    )
    return sql, [f.attname for f in user_fields], user_fields.index(user_meta.pk)


def user_id_of(data: dict):
    """The user id a session's data names, as the user table stores it, or None."""
    value = data.get(SESSION_KEY)
    if value is None:
        return None
    try:
        return get_user_model()._meta.pk.to_python(value)
    except ValidationError:
        return None


class SessionStore(db.SessionStore):
    # The user row read with the session (None: no row, or no user joined).
    # Only accounts.backends.AccountBackend reads it, and only for the user id
    # the session's data names.
    loaded_user = None

    @classmethod
    def get_model_class(cls):
        from accounts.models import Session

        return Session

    def load(self) -> dict:
        self.loaded_user = None
        if self.session_key is None:
            return {}
        user_model = get_user_model()
        connection = connections[router.db_for_read(self.model)]
        sql, user_fields, pk_index = _select_session_sql(self.model, user_model, connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            # As Django's store: an unknown or expired key gets a new one on save.
            self._session_key = None
            return {}
        if row[1 + pk_index] is not None:
            alias = router.db_for_read(user_model)
            self.loaded_user = instance_from_row(user_model, alias, user_fields, row[1:])
        return self.decode(row[0])

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        session.user_id = user_id_of(data)
        return session
