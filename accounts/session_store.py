"""The session engine: Django's database sessions in `accounts.Session`, read
together with their user and their matrix card in one plain statement.

PERFORMANCE: every request with a session cookie reads the session row, and
every logged-in one its user too, and in E-tjänster the card it was verified
with (core/rows.py says why plain statements). The row carries the
user's id and the card's (`accounts.Session.user`, `.card_device`), so one
statement LEFT JOINs both rows in; `accounts.backends.AccountBackend` and
`accounts.middleware.OTPMiddleware` use them instead of a query each.
Saving, expiry, key cycling and deletion are Django's own `db` store; the
read keeps its rule (the row with this key whose expiry lies ahead), and
every save writes the ids the session's own data names.
"""

import functools

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.backends import db
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import MatrixCardDevice, Session
from core.rows import instance_from_row

# Device fields that no request needs before a verification, which reads the
# device again itself (locked, through django_otp.verify_token).
UNREAD_DEVICE_FIELDS = frozenset({"cell_macs"})


@functools.cache
def _select_session_sql(model, user_model, card_model, vendor: str):
    """The statement; the attribute names of the user's and the card's
    columns it returns (after the session data, in that order); and where
    among each the key is."""
    quote = connections[router.db_for_read(model)].ops.quote_name
    meta, user_meta, card_meta = model._meta, user_model._meta, card_model._meta
    user_fields = list(user_meta.concrete_fields)
    card_fields = [f for f in card_meta.concrete_fields if f.attname not in UNREAD_DEVICE_FIELDS]
    columns = ", ".join(
        [f"u.{quote(f.column)}" for f in user_fields]
        + [f"d.{quote(f.column)}" for f in card_fields]
    )
    # SECURITY: only the models' own (quoted) names; key and time are parameters.
    sql = (
        f"SELECT s.{quote(meta.get_field('session_data').column)}, {columns}"  # noqa: S608
        f" FROM {quote(meta.db_table)} s"
        f" LEFT JOIN {quote(user_meta.db_table)} u"
        f" ON u.{quote(user_meta.pk.column)} = s.{quote(meta.get_field('user').column)}"
        f" LEFT JOIN {quote(card_meta.db_table)} d"
        f" ON d.{quote(card_meta.pk.column)} = s.{quote(meta.get_field('card_device').column)}"
        f" WHERE s.{quote(meta.get_field('session_key').column)} = %s"
        f" AND s.{quote(meta.get_field('expire_date').column)} > %s"
    )
    return (
        sql,
        [f.attname for f in user_fields],
        user_fields.index(user_meta.pk),
        [f.attname for f in card_fields],
        card_fields.index(card_meta.pk),
    )


def card_device_id_of(data: dict):
    """The id of the matrix card a session's data names as its OTP device
    (django-otp's persistent id, `accounts.matrixcarddevice/<id>`), or None."""
    value = data.get(DEVICE_ID_SESSION_KEY)
    if not isinstance(value, str):
        return None
    label, _, device_id = value.rpartition("/")
    if label != MatrixCardDevice._meta.label_lower:
        return None
    try:
        return MatrixCardDevice._meta.pk.to_python(device_id)
    except ValidationError:
        return None


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
    # The user row and the card row read with the session (None: no row, or
    # none joined). Only accounts.backends.AccountBackend reads the user, and
    # only for the user id the session's data names; only
    # accounts.middleware.OTPMiddleware the card, and only for the device id
    # the data names (django-otp then checks its owner and confirmation).
    loaded_user = None
    loaded_card = None

    @classmethod
    def get_model_class(cls):
        return Session

    def load(self) -> dict:
        self.loaded_user = self.loaded_card = None
        if self.session_key is None:
            return {}
        user_model = get_user_model()
        connection = connections[router.db_for_read(self.model)]
        sql, user_fields, user_pk, card_fields, card_pk = _select_session_sql(
            self.model, user_model, MatrixCardDevice, connection.vendor
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            # As Django's store: an unknown or expired key gets a new one on save.
            self._session_key = None
            return {}
        user_row = row[1 : 1 + len(user_fields)]
        card_row = row[1 + len(user_fields) :]
        if user_row[user_pk] is not None:
            alias = router.db_for_read(user_model)
            self.loaded_user = instance_from_row(user_model, alias, user_fields, user_row)
        if card_row[card_pk] is not None:
            alias = router.db_for_read(MatrixCardDevice)
            # from_db marks the unread fields deferred, as .defer() would.
            self.loaded_card = instance_from_row(MatrixCardDevice, alias, card_fields, card_row)
        return self.decode(row[0])

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        session.user_id = user_id_of(data)
        session.card_device_id = card_device_id_of(data)
        return session
