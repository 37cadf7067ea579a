"""Sealing secrets that must wait somewhere: AES-256-GCM, stdlib-free of tricks.

Two things wait in the database for a short while and may carry a password
in clear: a mail in the outbox (a slip sent to a new teacher) and the slips
of a CSV import until the principal downloads them. SECURITY: the SPEC says
the database keeps only hashes of credentials, so neither is stored in
clear. The outbox is sealed under a key derived from `MATRIX_CARD_KEY`
(environment, never the database); an import's slips under a random key that
only the principal's browser holds (it is in the result page, not stored).
"""

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

NONCE_BYTES = 12


class SealBroken(Exception):
    """The sealed bytes were changed, or the key is not the one they were sealed with."""


def derived_key(purpose: str) -> bytes:
    """A 256-bit key for one purpose, derived from MATRIX_CARD_KEY (HMAC-SHA256).

    Distinct purposes get unrelated keys, so the outbox key tells nothing
    about the card MACs' key and the reverse.
    """
    key = settings.MATRIX_CARD_KEY
    if not key:
        raise ImproperlyConfigured("MATRIX_CARD_KEY is not set.")
    label = f"behorighetsportalen:{purpose}".encode()
    return hmac.new(key.encode(), label, hashlib.sha256).digest()


def seal(data: bytes, *, key: bytes, label: str) -> bytes:
    """Encrypt and authenticate `data`; `label` is bound in (a row's kind or id)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data, label.encode())


def unseal(sealed: bytes, *, key: bytes, label: str) -> bytes:
    sealed = bytes(sealed)
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], label.encode())
    except (InvalidTag, ValueError) as error:
        raise SealBroken from error
