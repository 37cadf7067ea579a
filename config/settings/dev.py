"""Development: `make run` on a laptop. SQLite unless DATABASE_URL is set."""

import secrets

from config.env import env_bool, env_str
from federation.keys import self_signed_pair

from .base import *  # noqa: F403
from .base import BASE_DIR, MATRIX_CARD_KEY, SAML_SP_CERT_FILE, SAML_SP_KEY_FILE

# On for a developer's own runserver; `make run` (the demo) turns it off, so
# that it shows the Swedish error pages people meet, not Django's debug pages.
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "") or "dev-only-insecure-secret-key-do-not-use-in-production"
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")


def _local_card_key() -> str:
    # A key generated once into an ignored file, so that demo cards keep
    # working across restarts without anyone choosing a weak key by hand.
    path = BASE_DIR / ".matrix-card-key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


MATRIX_CARD_KEY = MATRIX_CARD_KEY or _local_card_key()

# The SP's key and a self-signed certificate, generated once into var/saml
# (ignored by git), like the card key: an IdP given the metadata keeps working.
if not (SAML_SP_KEY_FILE and SAML_SP_CERT_FILE):
    SAML_SP_KEY_FILE, SAML_SP_CERT_FILE = self_signed_pair(BASE_DIR / "var" / "saml")

# The test SS 12000 server (tests/ss12000_server.py) speaks plain http.
SS12000_ALLOW_HTTP = True
