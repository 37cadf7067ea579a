"""Whether this server's MATRIX_CARD_KEY is the one the database's cards were
issued under (`core.models.KeyCheck`), for /readyz."""

import hmac

from django.db import DatabaseError, IntegrityError, transaction

from core.models import KeyCheck
from core.sealed import derived_key

CARD_KEY = "matrix_card_key"


def card_key_value() -> str:
    """This server's check value: nothing to do with any card's MAC."""
    return derived_key("key-check").hex()


def card_key_check() -> tuple[str, str]:
    """("ok", "") when the stored check value is this server's (storing it
    when there is none yet: the first start), ("mismatch", why) when not,
    ("unknown", "") when the database does not answer."""
    mine = card_key_value()
    try:
        stored = KeyCheck.objects.filter(name=CARD_KEY).first()
        if stored is None:
            try:
                with transaction.atomic():
                    stored = KeyCheck.objects.create(name=CARD_KEY, value=mine)
            except IntegrityError:
                # Another server stored its value at the same moment.
                stored = KeyCheck.objects.get(name=CARD_KEY)
    except DatabaseError:
        return "unknown", ""
    if hmac.compare_digest(stored.value, mine):
        return "ok", ""
    return "mismatch", (
        "MATRIX_CARD_KEY is not the key this database's cards were issued under "
        f"(its check value was stored {stored.created_at:%Y-%m-%d %H:%M} UTC): "
        "no card would be accepted and no queued mail opened. Start the server "
        "with the installation's key."
    )
