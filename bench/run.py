"""`make bench`: the pages of the site under load, at national scale and with one school.

    DATABASE_URL=postgres://user:pass@host:5432/name make bench

Needs a PostgreSQL server where the role may create databases, and `wrk`
(Debian package). What it does, all in one run so that every figure is a
ratio measured side by side:

1. builds two throwaway databases, `<name>_bench_single` (the cast: a
   principal with two schools of 100 and 30 teachers, a teacher, five items)
   and `<name>_bench_national` (the same cast inside 5,000 school units,
   150,000 teachers, 300,000 subject grants, 150,000 audit events), loaded
   with COPY, then VACUUM ANALYZE;
2. starts one gunicorn per database as production runs (deploy/gunicorn.conf.py,
   production settings, sync workers, behind a TLS proxy: X-Forwarded-Proto
   and -For; worker recycling off, see `gunicorn_options`), with
   `bench.settings`, which adds the bench-only `hello` views and the stock
   admin changelist;
3. logs in each role through the real login forms (the principal with the
   password and the three asked cells of the card it issued);
4. measures every page with wrk in interleaved rounds (each page on both
   servers back to back), checking that every answer is a 200 — never a
   redirect to a login — and takes medians of the per-round ratios;
5. times logins (portal login POSTs, 4 clients, 4 teachers) and, as one
   line, the CSV import of 5,000 rows (`bench_import`);
6. prints the table with the targets and, beside each rate, the CPU per
   answer of the server's workers and database backends; writes
   `bench.json` and the same table as `docs/performance-results.md` (the
   page the docs link to; never edited by hand), and drops both databases,
   also on failure.

Exit status: 0 when every target holds, 2 when one does not, 1 when the
measurement itself failed (an answer that was not the expected status, a
login that did not work, a server that did not start).

Tuning (environment): BENCH_ROUNDS (6), BENCH_SECONDS per page and round (2),
BENCH_CONNECTIONS (16), BENCH_WORKERS (default: production's gunicorn
configuration, 2 × cores + 1), BENCH_PORT (first of two ports; default: free
ones), BENCH_IMPORT_ROWS (5000; 0 skips the import line).
"""

import contextlib
import dataclasses
import datetime
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import unquote, urlencode, urlparse

from bench import downloads as bench_downloads

BASE_DIR = Path(__file__).resolve().parent.parent
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk.lua"
# Production's gunicorn configuration, where the deployment keeps it.
GUNICORN_CONFIGS = ("deploy/gunicorn.conf.py", "gunicorn.conf.py")
SCALES = ("national", "single")
# The client address the "proxy" reports; logins are throttled per address.
CLIENT_ADDRESS = "10.11.0.1"


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


# Even, so that each server goes first in as many rounds as the other.
ROUNDS = env_int("BENCH_ROUNDS", 6)
SECONDS = env_int("BENCH_SECONDS", 2)
CONNECTIONS = env_int("BENCH_CONNECTIONS", 16)
# 0: as production's gunicorn configuration says (2 × cores + 1).
WORKERS = env_int("BENCH_WORKERS", 0)
IMPORT_ROWS = env_int("BENCH_IMPORT_ROWS", 5000)
LOGIN_CLIENTS = 4
LOGIN_SECONDS = 5
LOGIN_ROUNDS = 3


class BenchFailed(Exception):
    """The measurement is not valid: say why and stop."""


def say(text: str) -> None:
    print(text, flush=True)


# --- Pages ----------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    role: str  # "anonymous", "teacher", "principal" or "admin"
    path: str
    # (marker, how many times at least it must occur): the page shows its rows.
    marker: tuple[str, int] | None = None


def pages(cast: dict) -> list[Page]:
    school_a, school_b = cast["school_a"], cast["school_b"]
    return [
        Page("hello_anonymous", "`hello`, anonymous", "anonymous", "/bench/hello/"),
        Page("hello_teacher", "`hello`, teacher logged in", "teacher", "/bench/hello/inloggad/"),
        Page(
            "hello_principal",
            "`hello`, principal logged in",
            "principal",
            "/bench/hello/inloggad/",
        ),
        Page("start", "anonymous start page `/`", "anonymous", "/"),
        Page("etjanster_home", "E-tjänster start page (principal, 2 schools)", "principal",
             "/e-tjanster/", (f"/e-tjanster/skolor/{school_b}/larare/", 1)),
        Page("log", "school log (50 events)", "principal", f"/e-tjanster/skolor/{school_a}/logg/"),
        Page("teachers_30", "teacher list, 30 teachers", "principal",
             f"/e-tjanster/skolor/{school_b}/larare/", ('name="teacher"', 30)),
        Page("teachers_100", "teacher list, 100 teachers", "principal",
             f"/e-tjanster/skolor/{school_a}/larare/", ('name="teacher"', 100)),
        Page("admin_100", "Django admin changelist of the same 100 memberships", "admin",
             "/bench/admin/permissions/membership/", ('name="_selected_action"', 100)),
        Page("catalogue", "catalogue (teacher, 5 items)", "teacher", "/bedomningsportalen/"),
        Page("account", "account page `/konto/`", "teacher", "/bedomningsportalen/konto/"),
        Page("material", "material page (protected, opens)", "teacher",
             f"/bedomningsportalen/material/{cast['material']}/"),
    ]  # fmt: skip


HELLO_OF_ROLE = {"teacher": "hello_teacher", "principal": "hello_principal"}


def hello_of(page: Page) -> str:
    """What a page's ratio is taken to: the logged-in `hello` of its role (the
    admin's session is like the principal's: user and device), the anonymous
    one for anonymous pages and for the logged-in `hello`s themselves."""
    if page.role == "anonymous" or page.key in HELLO_OF_ROLE.values():
        return "hello_anonymous"
    return HELLO_OF_ROLE.get(page.role, "hello_principal")


# Pages that must reach this share of the logged-in `hello` of their role
# (issue 23: at most three times the framework's floor).
LIGHT_PAGES = ("etjanster_home", "catalogue", "account", "material", "log")
LIGHT_GOAL = 0.33


# --- A small browser: cookies, the proxy's headers, forms --------------------------


class Browser:
    """Just enough of a browser for the login forms, behind a "TLS proxy"."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def headers(self) -> dict[str, str]:
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT_ADDRESS}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def request(self, method: str, path: str, form: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = self.headers()
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers, content

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, form: dict):
        return self.request("POST", path, form)


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not found:
        raise BenchFailed("no CSRF token on the login page")
    return found.group(1)


def expect_redirect(result, where: str, what: str) -> None:
    status, headers, _body = result
    location = headers.get("Location", "")
    if status != 302 or urlparse(location).path != where:
        raise BenchFailed(f"{what}: expected a redirect to {where}, got {status} {location}")


def login_teacher(port: int, cast: dict, username: str | None = None) -> Browser:
    browser = Browser(port)
    path = "/bedomningsportalen/logga-in/"
    _status, _headers, page = browser.get(path)
    form = {
        "csrfmiddlewaretoken": csrf_token(page),
        "username": username or cast["teacher"]["username"],
        "password": cast["password"],
    }
    expect_redirect(browser.post(path, form), "/bedomningsportalen/", "teacher login")
    return browser


def login_principal(port: int, cast: dict) -> Browser:
    browser = Browser(port)
    path = "/e-tjanster/logga-in/"
    _status, _headers, page = browser.get(path)
    form = {
        "csrfmiddlewaretoken": csrf_token(page),
        "username": cast["principal"]["username"],
        "password": cast["password"],
    }
    matrix = "/e-tjanster/logga-in/matris/"
    expect_redirect(browser.post(path, form), matrix, "principal password step")
    _status, _headers, page = browser.get(matrix)
    asked = sorted(set(re.findall(r'<input[^>]*\bname="([A-H](?:10|[1-9]))"', page)))
    if len(asked) != 3:
        raise BenchFailed(f"the matrix step asked for {asked}, not three cells")
    card = cast["principal"]["card"]
    answers = {cell: card[cell] for cell in asked}
    expect_redirect(
        browser.post(matrix, {"csrfmiddlewaretoken": csrf_token(page), **answers}),
        "/e-tjanster/",
        "principal card step",
    )
    return browser


def totp_now(key_hex: str) -> str:
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(key_hex)):06d}"


def login_admin(port: int, cast: dict) -> Browser:
    browser = Browser(port)
    path = "/admin/login/"
    _status, _headers, page = browser.get(path)
    form = {
        "csrfmiddlewaretoken": csrf_token(page),
        "username": cast["national_admin"]["username"],
        "password": cast["password"],
        "otp_token": totp_now(cast["national_admin"]["totp_key"]),
        "next": "/admin/",
    }
    expect_redirect(browser.post(path, form), "/admin/", "national admin login")
    return browser


# --- Databases and servers ---------------------------------------------------------


def database_url(url: str, name: str) -> str:
    return urlparse(url)._replace(path="/" + name).geturl()


@contextlib.contextmanager
def server_connection(url: str):
    """A connection for CREATE/DROP DATABASE: to the named database, else `postgres`."""
    import psycopg

    parsed = urlparse(url)
    params = {
        "host": parsed.hostname or "",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or ""),
        "password": unquote(parsed.password or ""),
        "autocommit": True,
    }
    last_error = None
    for dbname in (unquote(parsed.path.lstrip("/")), "postgres", "template1"):
        try:
            connection = psycopg.connect(dbname=dbname, **params)
        except psycopg.OperationalError as error:
            last_error = error
            continue
        try:
            yield connection
        finally:
            connection.close()
        return
    raise BenchFailed(f"cannot connect to the PostgreSQL server: {last_error}")


def drop_database(url: str, name: str) -> None:
    from psycopg import sql

    with server_connection(url) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def create_database(url: str, name: str, template: str | None = None) -> None:
    from psycopg import sql

    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with server_connection(url) as connection:
        connection.execute(statement)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_options() -> list[str]:
    """Production's gunicorn configuration, with two changes for the benchmark.

    Worker recycling is off: a new worker's start-up (importing Django and
    the project) spread over `max_requests` requests adds the same cost to
    every request, more than a whole anonymous `hello`, so it would flatten
    every ratio. docs/performance.md says what recycling costs in production.
    """
    config = next((p for p in GUNICORN_CONFIGS if (BASE_DIR / p).exists()), None)
    options = ["--config", config] if config else []
    workers = WORKERS or (0 if config else 3)
    if workers:
        options += ["--workers", str(workers)]
    return [*options, "--worker-class", "sync", "--max-requests", "0"]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """User + system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry.name))
    return found


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Bench:
    def __init__(self, url: str):
        self.url = url
        base = unquote(urlparse(url).path.lstrip("/")) or "behorighet"
        self.databases = {scale: f"{base}_bench_{scale}" for scale in SCALES}
        self.tmp = Path(tempfile.mkdtemp(prefix="behorighet-bench-"))
        self.servers: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self.secret_key = secrets.token_urlsafe(50)
        self.card_key = secrets.token_hex(32)
        self.log_files: list = []

    def env(self, scale: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            DATABASE_URL=database_url(self.url, self.databases[scale]),
            SECRET_KEY=self.secret_key,
            MATRIX_CARD_KEY=self.card_key,
            ALLOWED_HOSTS="127.0.0.1",
            # Behind one TLS-terminating proxy, as production runs.
            TRUSTED_PROXY_COUNT="1",
            MEDIA_ROOT=str(self.tmp / "media"),
            STATIC_ROOT=str(self.tmp / "static"),
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            # One JSON line per request, as production logs (to the server's log file).
            LOG_FORMAT="json",
            PYTHONPATH=str(BASE_DIR),
        )
        return env

    def manage(self, scale: str, *args: str, capture: bool = False) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env(scale),
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BenchFailed(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    # -- databases

    def build(self) -> dict:
        for name in self.databases.values():
            drop_database(self.url, name)
        single, national = self.databases["single"], self.databases["national"]
        create_database(self.url, single)
        started = time.perf_counter()
        self.manage("single", "migrate", "--noinput", "-v0")
        migrate_seconds = time.perf_counter() - started
        # One migration run for both: the national database starts as a copy.
        create_database(self.url, national, template=single)
        casts = {}
        for scale in SCALES:
            say(f"Loading the {scale} database ({self.databases[scale]}) …")
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "bench.data", scale],
                cwd=BASE_DIR,
                env=self.env(scale),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BenchFailed(f"loading {scale} failed:\n{result.stderr[-3000:]}")
            casts[scale] = json.loads(result.stdout)
            casts[scale]["total_seconds"] = round(time.perf_counter() - started, 1)
            say(
                f"  {casts[scale]['counts']} in {casts[scale]['load_seconds']} s"
                f" + VACUUM ANALYZE {casts[scale]['analyze_seconds']} s"
            )
        casts["migrate_seconds"] = round(migrate_seconds, 1)
        self.manage("single", "collectstatic", "--noinput", "-v0")
        return casts

    def drop(self) -> None:
        for name in self.databases.values():
            try:
                drop_database(self.url, name)
            except Exception as error:  # noqa: BLE001 - report and go on cleaning
                say(f"Could not drop {name}: {error}")

    # -- servers

    def start(self) -> None:
        first = env_int("BENCH_PORT", 0)
        for index, scale in enumerate(SCALES):
            port = first + index if first else free_port()
            if not port_is_free(port):
                raise BenchFailed(f"port {port} is in use (BENCH_PORT={first})")
            self.ports[scale] = port
            log = open(self.tmp / f"gunicorn-{scale}.log", "w")  # noqa: SIM115
            self.log_files.append(log)
            command = [sys.executable, "-m", "gunicorn", *gunicorn_options()]
            command += ["config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
            self.servers[scale] = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=self.env(scale),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        for scale, port in self.ports.items():
            self.wait_until_up(scale, port)

    def wait_until_up(self, scale: str, port: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.servers[scale].poll() is not None:
                raise BenchFailed(f"gunicorn ({scale}) exited:\n{self.server_log(scale)}")
            with contextlib.suppress(OSError):
                status, _headers, _body = Browser(port).get("/bench/hello/")
                if status == 200:
                    return
            time.sleep(0.3)
        raise BenchFailed(f"gunicorn ({scale}) did not answer:\n{self.server_log(scale)}")

    def wrk_with_cpu(self, scale: str, path: str, **options) -> "Run":
        before_pids = self.server_pids(scale)
        before = cpu_seconds(before_pids)
        run = wrk(self.ports[scale], path, **options)
        # Processes that started during the run (a new pool connection) count whole.
        after = cpu_seconds(set(before_pids) | set(self.server_pids(scale)))
        return dataclasses.replace(run, cpu_ms=(after - before) * 1000 / max(run.requests, 1))

    def server_pids(self, scale: str) -> list[int]:
        """gunicorn's workers and, when PostgreSQL runs on this machine, the
        backends serving this database: whose CPU a request costs."""
        pids = children_of(self.servers[scale].pid)
        if urlparse(self.url).hostname in {"127.0.0.1", "localhost", "::1"}:
            with contextlib.suppress(Exception), server_connection(self.url) as connection:
                rows = connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s",
                    [self.databases[scale]],
                ).fetchall()
                pids += [row[0] for row in rows]
        return pids

    def server_log(self, scale: str) -> str:
        path = self.tmp / f"gunicorn-{scale}.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def stop(self) -> None:
        for process in self.servers.values():
            if process.poll() is None:
                # gunicorn's own process group (start_new_session): the master and its workers.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.servers.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in self.log_files:
            log.close()

    def cleanup(self) -> None:
        self.stop()
        self.drop()
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- wrk ------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    rps: float
    requests: int
    bad: int
    detail: str
    # CPU of the server's workers and database backends per answer (ms).
    cpu_ms: float = 0.0


def wrk(
    port: int,
    path: str,
    *,
    cookies: dict[str, str],
    seconds: int,
    connections: int,
    threads: int,
    expect: int = 200,
    bodies: list[str] | None = None,
    origin: str = "",
) -> Run:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        "-H",
        "X-Forwarded-Proto: https",
        "-H",
        f"X-Forwarded-For: {CLIENT_ADDRESS}",
    ]
    if cookies:
        command += ["-H", "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
    if origin:
        command += ["-H", f"Origin: {origin}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    env = dict(os.environ, BENCH_EXPECT=str(expect), BENCH_BODIES="\n".join(bodies or []))
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    output = result.stdout + result.stderr
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    bad = re.search(r"BENCH_BAD (\d+)(.*)", output)
    if result.returncode != 0 or not (rps and total and bad):
        raise BenchFailed(f"wrk failed on {path}:\n{output}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
    return Run(
        rps=float(rps.group(1)),
        requests=int(total.group(1)),
        bad=int(bad.group(1)) + socket_errors,
        detail=(
            bad.group(2).strip() + (f" socket errors {errors.group(0)}" if socket_errors else "")
        ),
    )


# --- The run ------------------------------------------------------------------------


def check_pages(port: int, scale: str, sessions: dict[str, Browser], page_list: list[Page]) -> None:
    """Each page once, as its role: a 200 with its rows, before anything is timed."""
    for page in page_list:
        browser = sessions[page.role]
        status, headers, body = browser.get(page.path)
        if status != 200:
            raise BenchFailed(
                f"{page.path} ({scale}, {page.role}): {status} {headers.get('Location', '')}"
            )
        if page.marker and body.count(page.marker[0]) < page.marker[1]:
            raise BenchFailed(
                f"{page.path} ({scale}): {body.count(page.marker[0])} × {page.marker[0]!r},"
                f" expected at least {page.marker[1]}"
            )


def measure_pages(bench: Bench, sessions: dict, page_list: list[Page]) -> tuple[dict, dict]:
    """Interleaved rounds: in each, every page on both servers back to back
    (which server goes first alternates), so slow drifts of a shared machine
    hit both sides of every ratio alike."""
    runs: dict[str, dict[str, list[float]]] = {p.key: {s: [] for s in SCALES} for p in page_list}
    cpu: dict[str, dict[str, list[float]]] = {p.key: {s: [] for s in SCALES} for p in page_list}
    failures = []

    def one(page: Page, scale: str, seconds: int) -> Run:
        cookies = sessions[scale][page.role].cookies
        run = bench.wrk_with_cpu(
            scale,
            page.path,
            cookies=cookies,
            seconds=seconds,
            connections=CONNECTIONS,
            threads=2,
        )
        if run.bad:
            failures.append(
                f"{page.key} ({scale}): {run.bad} of {run.requests} not 200: {run.detail}"
            )
        elif run.requests == 0 and seconds == SECONDS:
            failures.append(f"{page.key} ({scale}): no answer at all in {seconds} s")
        return run

    say("Warming up every page on both servers …")
    for page in page_list:
        for scale in SCALES:
            one(page, scale, 1)
    for round_number in range(ROUNDS):
        say(f"Round {round_number + 1} of {ROUNDS} …")
        order = SCALES if round_number % 2 == 0 else tuple(reversed(SCALES))
        for page in page_list:
            for scale in order:
                run = one(page, scale, SECONDS)
                runs[page.key][scale].append(run.rps)
                cpu[page.key][scale].append(run.cpu_ms)
            say(
                f"  {page.key:<16} national {runs[page.key]['national'][-1]:7.1f}/s"
                f"  single {runs[page.key]['single'][-1]:7.1f}/s"
            )
    if failures:
        raise BenchFailed("answers that were not 200, or none:\n  " + "\n  ".join(failures))
    return runs, cpu


def measure_logins(bench: Bench, cast: dict) -> tuple[list[float], list[float]]:
    """Portal login POSTs per second, LOGIN_CLIENTS clients, each its own teacher
    (the password step serializes attempts on one username). Each POST comes
    without a session, so each is a whole login: throttle, hash, session, audit."""
    port = bench.ports["national"]
    browser = Browser(port)
    path = "/bedomningsportalen/logga-in/"
    _status, _headers, page = browser.get(path)
    token = csrf_token(page)
    cookies = {name: value for name, value in browser.cookies.items() if "csrf" in name}
    users = cast["login_teachers"][:LOGIN_CLIENTS]
    # Each account logs in once the real way first: a hash from an older
    # hasher would be upgraded (a write) at its first login, not at every one.
    for username in users:
        login_teacher(port, cast, username)
    bodies = [
        urlencode({"csrfmiddlewaretoken": token, "username": u, "password": cast["password"]})
        for u in users
    ]
    rates, cpu = [], []
    for _round in range(LOGIN_ROUNDS):
        run = bench.wrk_with_cpu(
            "national",
            path,
            cookies=cookies,
            seconds=LOGIN_SECONDS,
            connections=LOGIN_CLIENTS,
            threads=LOGIN_CLIENTS,
            expect=302,
            bodies=bodies,
            origin=browser.origin,
        )
        if run.bad:
            raise BenchFailed(f"logins: {run.bad} of {run.requests} were not 302: {run.detail}")
        rates.append(run.rps)
        cpu.append(run.cpu_ms)
    return rates, cpu


def measure_import(bench: Bench) -> dict | None:
    if IMPORT_ROWS <= 0:
        return None
    output = bench.manage("single", "bench_import", "--rows", str(IMPORT_ROWS), "--json")
    return json.loads(output.strip().splitlines()[-1])


def worst_ratio(numerators: list[float], denominators: list[float]) -> float:
    """The lowest of the ratios measured within each round."""
    return min(n / d for n, d in zip(numerators, denominators, strict=True))


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median over rounds of the ratio measured within each round."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def evaluate(
    page_list: list[Page],
    runs: dict,
    cpu: dict,
    logins: tuple[list[float], list[float]],
    imported: dict | None,
    casts: dict,
):
    """The table: one row per page, then the targets.

    The targets are ratios of answers per second, measured side by side. The
    CPU per answer (server workers and database backends) is beside them: on
    a machine shared with other work it moves much less than the rates, and
    2 cores divided by it is what the pages would reach on an idle machine.
    """
    login_rates, login_cpu = logins
    rows = []
    for page in page_list:
        national, single = runs[page.key]["national"], runs[page.key]["single"]
        rows.append(
            {
                "key": page.key,
                "page": page.label,
                "role": page.role,
                "path": page.path,
                "rps_national": round(statistics.median(national), 1),
                "rps_single": round(statistics.median(single), 1),
                "vs_hello": round(median_ratio(national, runs[hello_of(page)]["national"]), 3),
                "vs_hello_of": hello_of(page),
                # > 1: slower at national scale.
                "national_slowdown": round(median_ratio(single, national), 3),
                "cpu_ms_national": round(statistics.median(cpu[page.key]["national"]), 2),
                "cpu_ms_single": round(statistics.median(cpu[page.key]["single"]), 2),
            }
        )
    by_key = {row["key"]: row for row in rows}
    targets = []

    def target(name: str, value: float, goal: str, ok: bool) -> None:
        targets.append({"target": name, "value": round(value, 3), "goal": goal, "pass": ok})

    for role in ("teacher", "principal"):
        key = HELLO_OF_ROLE[role]
        value = worst_ratio(runs[key]["national"], runs["hello_anonymous"]["national"])
        target(
            f"logged-in `hello` ({role}) / anonymous `hello`, worst round",
            value,
            "≥ 0.5 in every round",
            value >= 0.5,
        )
    for key in LIGHT_PAGES:
        value = by_key[key]["vs_hello"]
        target(
            f"{by_key[key]['page']} / logged-in `hello`",
            value,
            f"≥ {LIGHT_GOAL}",
            value >= LIGHT_GOAL,
        )
    value = worst_ratio(runs["teachers_100"]["national"], runs["admin_100"]["national"])
    target(
        "teacher list (100) / Django admin changelist (100), worst round",
        value,
        "≥ 3 in every round",
        value >= 3,
    )
    # The site's pages; the `hello`s read no data, and the stock admin is
    # only the yardstick of the teacher list.
    worst = max(
        (row for row in rows if not row["key"].startswith("hello") and row["key"] != "admin_100"),
        key=lambda row: row["national_slowdown"],
    )
    target(
        f"slowest page at national scale vs one school ({worst['key']})",
        worst["national_slowdown"],
        "≤ 1.10",
        worst["national_slowdown"] <= 1.10,
    )
    load_seconds = casts["national"]["load_seconds"] + casts["national"]["analyze_seconds"]
    target("national data loaded and analyzed, seconds", load_seconds, "< 180", load_seconds < 180)
    login_rate = statistics.median(login_rates)
    target(f"logins per second, {LOGIN_CLIENTS} clients", login_rate, "≥ 25", login_rate >= 25)
    if imported is not None:
        seconds = imported["apply_seconds"]
        target(
            f"CSV import of {imported['rows']} rows applied, seconds",
            seconds,
            "< 5",
            seconds < 5,
        )
    return rows, targets


def results_table(rows: list[dict], targets: list[dict], logins: tuple, *, cores: int) -> list[str]:
    """The table `make bench` prints, as Markdown lines: the pages, the
    targets and the logins. The results page holds the same lines."""
    login_rates, login_cpu = logins
    lines = [
        "| page | req/s | ratio to `hello` | national vs one school"
        " | CPU ms per answer (app + database) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['page']} | {row['rps_national']:.0f} | {row['vs_hello']:.3f} |"
            f" {row['national_slowdown']:.2f}× | {row['cpu_ms_national']:.2f} |"
        )
    lines += ["", "| target | measured | goal | |", "|---|---|---|---|"]
    for item in targets:
        verdict = "pass" if item["pass"] else "**FAIL**"
        lines.append(f"| {item['target']} | {item['value']:g} | {item['goal']} | {verdict} |")
    cpu_per_login = statistics.median(login_cpu)
    lines += [
        "",
        f"Logins per second by round: {', '.join(f'{rate:.1f}' for rate in login_rates)};"
        f" CPU per login {cpu_per_login:.1f} ms (app + database), so {cores} idle cores"
        f" would take at most {cores * 1000 / cpu_per_login:.0f} a second.",
    ]
    return lines


def print_table(rows: list[dict], targets: list[dict], logins: tuple) -> None:
    say("")
    for line in results_table(rows, targets, logins, cores=os.cpu_count() or 1):
        say(line)


# --- Results ----------------------------------------------------------------------

# Both written at the end of every complete run: the whole measurement as JSON
# (git-ignored), and the page the documentation links to, so that no figure is
# ever typed into the docs by hand.
RESULTS_JSON = Path("bench.json")
RESULTS_PAGE = Path("docs") / "performance-results.md"


def results_page(report: dict) -> str:
    """docs/performance-results.md: what `make bench` printed, with when, at
    which commit and on what machine."""
    machine = report["machine"]
    settings = report["settings"]
    before, after = machine["load_average_before"][0], machine["load_average_after"][0]
    lines = [
        "<!-- Generated by `make bench` (bench/run.py). Do not edit by hand. -->",
        "",
        "# Performance results",
        "",
        "Written by `make bench` (`bench/run.py`) at the end of its last complete run;"
        " do not edit this file by hand: run `make bench` again to replace it. What the"
        " figures mean and how they are measured: [performance](performance.md).",
        "",
        f"- Date: {report['when']}",
        f"- Commit: `{report['commit'] or 'unknown'}`",
        f"- Machine: {machine['cpus']} cores, load average {before:.2f} before the run,"
        f" {after:.2f} after",
        f"- Measured: {settings['rounds']} rounds of {settings['seconds']} s per page and"
        f" server, {settings['connections']} connections, {settings['login_clients']}"
        f" login clients; the whole run took {report['seconds']} s",
        "",
        *results_table(
            report["pages"],
            report["targets"],
            (report["logins_per_second"], report["cpu_ms_per_login"]),
            cores=machine["cpus"] or 1,
        ),
    ]
    return "\n".join(lines) + "\n"


def results_write(report: dict, *, base_dir: Path = BASE_DIR) -> list[Path]:
    """Write bench.json and the results page under `base_dir`; return their paths."""
    json_path, page_path = base_dir / RESULTS_JSON, base_dir / RESULTS_PAGE
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    page_path.parent.mkdir(parents=True, exist_ok=True)
    page_path.write_text(results_page(report))
    return [json_path, page_path]


def serve(bench: Bench, sessions: dict, page_list: list[Page]) -> None:
    """`python -m bench.run --serve`: the servers and sessions, for profiling
    by hand (py-spy on a worker while wrk runs); Ctrl-C or SIGTERM stops the
    servers and drops the databases."""
    for scale in SCALES:
        say(
            f"{scale}: http://127.0.0.1:{bench.ports[scale]}/ (pids: gunicorn master"
            f" {bench.servers[scale].pid})"
        )
        for role in ("teacher", "principal", "admin"):
            cookies = "; ".join(f"{k}={v}" for k, v in sessions[scale][role].cookies.items())
            say(f"  {role}: Cookie: {cookies}")
    say("Headers for every request: X-Forwarded-Proto: https")
    say("Environment of the national server (to start variants by hand):")
    env = bench.env("national")
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY", "MATRIX_CARD_KEY"):
        say(f"  export {name}='{env[name]}'")
    say("  export ALLOWED_HOSTS=127.0.0.1 TRUSTED_PROXY_COUNT=1 LOG_FORMAT=json")
    for page in page_list:
        say(f"  {page.key:<16} {page.role:<10} {page.path}")
    say("Serving until Ctrl-C …")
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)


def git_commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
    )
    return result.stdout.strip()


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        say("make bench needs DATABASE_URL=postgres://… (a server where it may create databases).")
        return 1
    if not shutil.which("wrk"):
        say("make bench needs wrk (apt-get install wrk).")
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    started = time.perf_counter()
    load_before = os.getloadavg()
    bench = Bench(url)
    try:
        casts = bench.build()
        bench.start()
        sessions = {}
        for scale in SCALES:
            port, cast = bench.ports[scale], casts[scale]
            sessions[scale] = {
                "anonymous": Browser(port),
                "teacher": login_teacher(port, cast),
                "principal": login_principal(port, cast),
                "admin": login_admin(port, cast),
            }
        page_list = pages(casts["national"])
        for scale in SCALES:
            check_pages(bench.ports[scale], scale, sessions[scale], page_list)
        if "--serve" in sys.argv:
            serve(bench, sessions, page_list)
            return 0
        runs, cpu = measure_pages(bench, sessions, page_list)
        say("Logins …")
        logins = measure_logins(bench, casts["national"])
        imported = None
        if IMPORT_ROWS > 0:
            say(f"CSV import of {IMPORT_ROWS} rows (bench_import, rolled back) …")
            imported = measure_import(bench)
        # Downloads and the test morning behind the shipped nginx (bench/downloads.py).
        downloads, download_targets = bench_downloads.measure(bench, "national", casts["national"])
    except BenchFailed as failure:
        say(f"\nBENCH FAILED: {failure}")
        return 1
    finally:
        say("Stopping the servers and dropping the benchmark databases …")
        bench.cleanup()
    rows, targets = evaluate(page_list, runs, cpu, logins, imported, casts)
    targets += download_targets
    print_table(rows, targets, logins)
    load_after = os.getloadavg()
    report = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
        },
        "settings": {
            "rounds": ROUNDS,
            "seconds": SECONDS,
            "connections": CONNECTIONS,
            "gunicorn": gunicorn_options(),
            "login_clients": LOGIN_CLIENTS,
        },
        "data": {
            scale: {
                key: casts[scale][key]
                for key in ("counts", "load_seconds", "analyze_seconds", "total_seconds")
            }
            for scale in SCALES
        },
        "pages": rows,
        "raw_rps": runs,
        "raw_cpu_ms": cpu,
        "logins_per_second": logins[0],
        "cpu_ms_per_login": logins[1],
        "csv_import": imported,
        "downloads": downloads,
        "targets": targets,
        "seconds": round(time.perf_counter() - started),
    }
    written = results_write(report)
    load_seconds = casts["national"]["total_seconds"]
    say(
        f"National data loaded in {load_seconds} s (target < 180 s). Machine: {os.cpu_count()}"
        f" CPUs, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after."
        f" Whole run {report['seconds']} s. Written to"
        f" {' and '.join(str(path.relative_to(BASE_DIR)) for path in written)}."
    )
    return 0 if all(item["pass"] for item in targets) else 2


if __name__ == "__main__":
    sys.exit(main())
