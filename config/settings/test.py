"""The test suite: fast hashing, mail in memory, a fixed card key."""

import tempfile
from pathlib import Path

from federation.keys import self_signed_pair

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnop"
MATRIX_CARD_KEY = "test-matrix-card-key-0123456789abcdef"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True

# Uploaded and seeded material goes to a throwaway directory, never into var/media.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="behorighetsportalen-test-media-"))

# The SP's key pair, made once per test run in a throwaway directory.
SAML_SP_KEY_FILE, SAML_SP_CERT_FILE = self_signed_pair(
    Path(tempfile.mkdtemp(prefix="behorighetsportalen-test-saml-"))
)

# Tests that start threads (ten parallel logins, concurrent card answers)
# queue for the pool's few connections, each held for a slow hash; the
# production timeout of 1 s is for gunicorn's sync workers, which never queue.
if "pool" in DATABASES["default"].get("OPTIONS", {}):  # noqa: F405
    DATABASES["default"]["OPTIONS"]["pool"]["timeout"] = 30  # noqa: F405

# The test SS 12000 server (tests/ss12000_server.py) speaks plain http.
SS12000_ALLOW_HTTP = True
