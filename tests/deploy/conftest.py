"""Tests that run the production stack as separate processes: gunicorn with
deploy/gunicorn.conf.py and config.settings.prod, nginx with the shipped
site file, moto's S3 server, on the test database.

They need PostgreSQL (several processes on one database; on SQLite they skip
and say so). The two-server test also needs Debian's nginx: outside CI a
missing nginx skips it, with CI=true it fails (.ci/run installs nginx).

The servers are other processes: they see only committed data, so these
tests use `transactional_db` or create their data through the servers.
"""

import contextlib
import os
import select
import socket
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import User
from permissions.passwords import hash_generated_password
from schools.models import Huvudman, SchoolUnit
from tests.processes import collectstatic, nginx_binary

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# The variables a server process gets from this one; everything else it is
# given explicitly, so nothing of the test run (DATABASE_URL, the settings
# module, the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE) leaks into it.
PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/deploy/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.deployment)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: several server processes share one database (CI runs it)")


@pytest.fixture(scope="session")
def nginx():
    binary = nginx_binary()
    if binary is None:
        if IN_CI:
            pytest.fail("CI=true but Debian's nginx is not installed: .ci/run installs it.")
        pytest.skip("Debian's nginx is not installed (apt-get install nginx).")
    return binary


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """Production settings serve static files from a collected manifest."""
    root = tmp_path_factory.mktemp("static")
    collectstatic(root, env=server_env(database_url="", static_root=root))
    return root


def database_url(name: str | None = None, port: int | None = None) -> str:
    """The test database (or `name`) as the servers reach it."""
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{port or db['PORT'] or 5432}/{name or db['NAME']}"
    )


def server_env(*, database_url: str, static_root: Path, **extra: str) -> dict[str, str]:
    """The environment of a production server, as .env.example describes it."""
    env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.prod",
            # The test settings' keys, so that what this process issues
            # (cards, throttle hashes) is valid on the servers.
            "SECRET_KEY": settings.SECRET_KEY,
            "MATRIX_CARD_KEY": settings.MATRIX_CARD_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP between loopback processes; production ends TLS in nginx.
            "SECURE_SSL_REDIRECT": "false",
            "STATIC_ROOT": str(static_root),
            "LOG_FORMAT": "json",
            "DATABASE_URL": database_url,
        }
    )
    env.update(extra)
    return env


# --- People and schools, committed so that the servers see them ------------------------


def person(username: str, role: str, **extra) -> User:
    user = User(username=username, role=role, first_name=username.capitalize(), **extra)
    # Production's hashers, not the test settings' MD5: PBKDF2 with a small
    # iteration count, which the servers verify and upgrade to Argon2.
    user.password = hash_generated_password(f"{username}-password-1234")
    user.save()
    return user


def password_form(username: str, password: str | None = None) -> dict:
    return {"username": username, "password": password or f"{username}-password-1234"}


@pytest.fixture
def school() -> SchoolUnit:
    huvudman = Huvudman.objects.create(name="Servkommun", organisationsnummer="212000-0142")
    unit = SchoolUnit.objects.create(code="11111111", name="Serverskolan", huvudman=huvudman)
    unit.forms.set(["grundskola"])
    return unit


class TcpProxy:
    """A TCP relay between an app server and PostgreSQL that the test can cut.

    `stop()` closes the listening socket and every relayed connection, as a
    database that went down would: new connections are refused, open ones end.
    `start()` listens again on the same port.
    """

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._running = False

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._running = True
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self._running and listener is self._listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update({client, upstream})
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    def _relay(self, one: socket.socket, other: socket.socket) -> None:
        pair = [one, other]
        try:
            while True:
                readable, _, _ = select.select(pair, [], [], 0.5)
                if not self._running and not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (other if sock is one else one).sendall(data)
        except OSError:
            return
        finally:
            for sock in pair:
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def stop(self) -> None:
        self._running = False
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            self._close(sock)
