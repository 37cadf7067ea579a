"""SimpleSAMLphp (Debian's package) as a school's identity provider: a
configuration generated per test run, served by PHP's built-in server on a
free port, with `exampleauth` users. One user's logins carry the REFEDS MFA
context (set by a `core:PHP` filter), the others' a password context."""

import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from federation.keys import self_signed_pair
from federation.models import REFEDS_MFA
from tests.processes import Server, free_port

WWW = Path("/usr/share/simplesamlphp/www")
# exampleauth users: username -> (password, attributes). "mfa" marks a
# two-factor login and is not released.
USERS = {
    "kim": (
        "kim-idp-pass",
        {"eduPersonPrincipalName": ["kim@testkommun.se"], "mail": ["kim@example.se"]},
    ),
    "rektor": (
        "rektor-idp-pass",
        {"eduPersonPrincipalName": ["rektor@testkommun.se"], "mfa": ["yes"]},
    ),
    # A principal whose school login asks for a password only.
    "bitr": (
        "bitr-idp-pass",
        {"eduPersonPrincipalName": ["bitr@testkommun.se"]},
    ),
}


def available() -> str:
    """Why SimpleSAMLphp cannot run here, or "" when it can."""
    if shutil.which("php") is None:
        return "PHP is not installed (apt-get install php8.2-cli php8.2-xml php8.2-mbstring)"
    if not (WWW / "index.php").exists():
        return "SimpleSAMLphp is not installed (apt-get install simplesamlphp)"
    return ""


def _php(value) -> str:
    """A Python value (str, bool, list, dict) as a PHP literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(_php(item) for item in value) + "]"
    return "[" + ", ".join(f"{_php(key)} => {_php(item)}" for key, item in value.items()) + "]"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _sp_entry(sp_entity_id: str, acs_url: str, sp_cert_file: str) -> str:
    cert = "".join(
        line for line in Path(sp_cert_file).read_text().splitlines() if "-----" not in line
    )
    entry = {
        "AssertionConsumerService": [
            {"Binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", "Location": acs_url}
        ],
        "certData": cert,
        "validate.authnrequest": True,
        "saml20.sign.assertion": True,
        "NameIDFormat": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        "signature.algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    }
    return f"<?php\n$metadata[{_php(sp_entity_id)}] = {_php(entry)};\n"


def start(*, sp_entity_id: str, acs_url: str, sp_cert_file: str, users=None) -> Server:
    """Configure and start the IdP; its `url` serves /saml2/idp/metadata.php.
    `users` replaces USERS (same shape) for a second, other school's IdP."""
    root = Path(tempfile.mkdtemp(prefix="behorighetsportalen-simplesamlphp-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    key, cert = self_signed_pair(root / "cert", name="idp")
    config = {
        "baseurlpath": base,
        "certdir": str(root / "cert") + "/",
        "loggingdir": str(root / "log") + "/",
        "datadir": str(root / "data") + "/",
        "tempdir": str(root / "tmp"),
        "metadatadir": str(root / "metadata") + "/",
        "secretsalt": "test-salt-0123456789abcdef",
        "auth.adminpassword": "test-admin-0123456789abcdef",
        "technicalcontact_name": "Test",
        "technicalcontact_email": "na@example.org",
        "timezone": "Europe/Stockholm",
        "enable.saml20-idp": True,
        "module.enable": {"exampleauth": True, "core": True, "saml": True},
        "session.cookie.secure": False,
        "logging.handler": "errorlog",
        "store.type": "phpsession",
        "session.phpsession.savepath": str(root / "sessions"),
        "metadata.sources": [{"type": "flatfile"}],
        "language.default": "en",
    }
    for folder in ("log", "data", "tmp", "sessions"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    _write(root / "config" / "config.php", f"<?php\n$config = {_php(config)};\n")
    users = {
        f"{name}:{password}": attributes
        for name, (password, attributes) in (users or USERS).items()
    }
    _write(
        root / "config" / "authsources.php",
        f"<?php\n$config = {_php({'example-userpass': {0: 'exampleauth:UserPass', **users}})};\n",
    )
    mfa = (
        "if (isset($attributes['mfa'])) { $state['saml:AuthnContextClassRef'] = "
        f"'{REFEDS_MFA}'; }} unset($attributes['mfa']);"
    )
    hosted = {
        "host": "__DEFAULT__",
        "privatekey": key,
        "certificate": cert,
        "auth": "example-userpass",
        "authproc": {"90": {"class": "core:PHP", "code": mfa}},
    }
    _write(
        root / "metadata" / "saml20-idp-hosted.php",
        f"<?php\n$metadata['__DYNAMIC:1__'] = {_php(hosted)};\n",
    )
    _write(
        root / "metadata" / "saml20-sp-remote.php", _sp_entry(sp_entity_id, acs_url, sp_cert_file)
    )
    log_path = root / "php.log"
    process = subprocess.Popen(
        [shutil.which("php") or "php", "-S", f"127.0.0.1:{port}", "-t", str(WWW)],
        env={"SIMPLESAMLPHP_CONFIG_DIR": str(root / "config"), "PATH": "/usr/bin:/bin"},
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = Server(name="simplesamlphp", process=process, log_path=log_path, port=port)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            metadata_url = f"{server.url}/saml2/idp/metadata.php"
            with urllib.request.urlopen(metadata_url, timeout=2) as answer:  # noqa: S310 (loopback)
                server.extra["metadata"] = answer.read().decode()
                server.extra["entity_id"] = f"{server.url}/saml2/idp/metadata.php"
                return server
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"SimpleSAMLphp did not start:\n{server.log()}")
