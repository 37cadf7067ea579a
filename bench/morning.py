"""The test morning of `make bench`: distinct teachers, each logging in,
opening the catalogue, three material pages and downloading the protected
item, through the shipped nginx (bench/downloads.py starts it).

Reported: teachers a minute, the p95 of one teacher's whole visit, and the
CPU one teacher costs the servers (gunicorn, nginx, PostgreSQL); the target
is at least 0.6 of what that CPU allows on this machine's cores
(cores × 60 s / CPU seconds per teacher). The load generator runs on the
same cores, which is why the bound is not 1.

    python -m bench.morning prepare N TEACHER SLUG   # (by the benchmark) N teachers, as JSON
"""

import http.client
import json
import multiprocessing
import os
import re
import statistics
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from bench.downloads import from_run

BASE_DIR = Path(__file__).resolve().parent.parent
MORNING_SECONDS = int(os.environ.get("BENCH_MORNING_SECONDS") or 20)
MORNING_CLIENTS = int(os.environ.get("BENCH_MORNING_CLIENTS") or 8)
MORNING_TEACHERS = 2000  # more than any run gets through: each teacher comes once
SHARE_OF_BOUND = 0.6


def prepare(count: int, teacher_username: str, material_slug: str) -> dict:
    """`count` new teachers with the cast teacher's password, school and
    subjects; and the slugs of three material pages. Run inside Django."""
    from accounts.models import Role, User
    from bench.data import username_for
    from permissions.models import Membership
    from portal.models import Material

    model = User.objects.get(username=teacher_username)
    membership = Membership.objects.filter(user=model).order_by("pk").first()
    subjects = list(membership.subjects.all())
    users = User.objects.bulk_create(
        User(
            username=username_for(50_000_000 + number),
            role=Role.TEACHER,
            password=model.password,
            first_name="Morgon",
            last_name=f"Lärare {number}",
            email=f"morgon{number}@skola.example",
        )
        for number in range(count)
    )
    memberships = Membership.objects.bulk_create(
        Membership(
            user=user, school_unit=membership.school_unit, valid_until=membership.valid_until
        )
        for user in users
    )
    through = Membership.subjects.through
    through.objects.bulk_create(
        through(membership=m, subject=s) for m in memberships for s in subjects
    )
    # The protected item the download is of, and open items: pages that open.
    opened = list(
        Material.objects.filter(is_protected=False).order_by("slug").values_list("slug", flat=True)
    )
    slugs = [material_slug, *opened, material_slug, material_slug][:3]
    return {"teachers": [user.username for user in users], "pages": slugs}


class Visitor:
    """One teacher's browser through nginx (plain HTTP on loopback, as nginx
    hands it on: no Origin header, Host without the port)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, int]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            if response.getheader("Content-Type", "").startswith("text/html"):
                text, length = response.read().decode("utf-8", "replace"), 0
            else:
                buffer, text, length = bytearray(1 << 20), "", 0
                while chunk := response.readinto(buffer):
                    length += chunk
        finally:
            connection.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, text, length


def visit(port: int, username: str, password: str, pages: list[str], download: str) -> None:
    visitor = Visitor(port)
    login = "/bedomningsportalen/logga-in/"
    _status, page, _ = visitor.request("GET", login)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    status, _, _ = visitor.request("POST", login, form)
    if status != 302:
        raise RuntimeError(f"login of {username}: {status}")
    for path in ["/bedomningsportalen/", *(f"/bedomningsportalen/material/{s}/" for s in pages)]:
        status, _, _ = visitor.request("GET", path)
        if status != 200:
            raise RuntimeError(f"{path}: {status}")
    status, _, length = visitor.request("GET", download)
    if status != 200 or not length:
        raise RuntimeError(f"{download}: {status}, {length} bytes")


def client(
    port: int, teachers: list[str], password: str, pages: list[str], download: str, deadline: float
) -> tuple[list[float], list[str]]:
    """One client process: its teachers one after the other until the deadline."""
    durations = []
    for username in teachers:
        if time.time() >= deadline:
            break
        started = time.monotonic()
        try:
            visit(port, username, password, pages, download)
        except Exception as error:  # noqa: BLE001 - reported as the run's failure
            return durations, [str(error)]
        durations.append(time.monotonic() - started)
    return durations, []


def run(bench, scale: str, cast: dict, front) -> dict:
    """The morning against `front` (bench.downloads.Front), for MORNING_SECONDS."""
    BenchFailed, cpu_seconds = from_run("BenchFailed", "cpu_seconds")

    prepared = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.morning", "prepare", str(MORNING_TEACHERS)]
        + [cast["teacher"]["username"], cast["material"]],
        cwd=BASE_DIR,
        env=bench.env(scale),
        capture_output=True,
        text=True,
    )
    if prepared.returncode != 0:
        raise BenchFailed(f"preparing the morning failed:\n{prepared.stderr[-3000:]}")
    plan = json.loads(prepared.stdout.strip().splitlines()[-1])
    download = f"/bedomningsportalen/material/{cast['material']}/fil/"
    # Client processes, not threads: one Python process would be the
    # bottleneck (its lock), not the servers. Each takes its own teachers.
    shares = [plan["teachers"][n::MORNING_CLIENTS] for n in range(MORNING_CLIENTS)]
    deadline = time.time() + MORNING_SECONDS
    pids = front.pids() + database_pids(bench, scale)
    cpu_before = cpu_seconds(pids)
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(MORNING_CLIENTS) as pool:
        outcomes = pool.starmap(
            client,
            [(front.port, share, cast["password"], plan["pages"], download, deadline)
             for share in shares],
        )  # fmt: skip
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(set(pids) | set(front.pids() + database_pids(bench, scale))) - cpu_before
    durations = [seconds for outcome in outcomes for seconds in outcome[0]]
    failures = [failure for outcome in outcomes for failure in outcome[1]]
    if failures:
        raise BenchFailed("the test morning failed: " + failures[0])
    if len(durations) < 20:
        raise BenchFailed(f"the test morning finished only {len(durations)} teachers")
    cores = os.cpu_count() or 1
    cpu_per_teacher = cpu / len(durations)
    return {
        "teachers": len(durations),
        "seconds": round(elapsed, 1),
        "clients": MORNING_CLIENTS,
        "teachers_per_minute": round(len(durations) / elapsed * 60, 1),
        "p95_seconds": round(statistics.quantiles(durations, n=20)[-1], 3),
        "cpu_ms_per_teacher": round(cpu_per_teacher * 1000, 1),
        "bound_per_minute": round(cores * 60 / cpu_per_teacher, 1),
        "cores": cores,
    }


def database_pids(bench, scale: str) -> list[int]:
    """PostgreSQL's backends serving the benchmark's database (on this machine)."""
    server_connection = from_run("server_connection")

    try:
        with server_connection(bench.url) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [bench.databases[scale]]
            ).fetchall()
    except Exception:  # noqa: BLE001 - a remote database: its CPU is not ours to count
        return []
    return [row[0] for row in rows]


def targets(result: dict) -> list[dict]:
    share = result["teachers_per_minute"] / result["bound_per_minute"]
    return [
        {
            "target": f"test morning: {result['teachers_per_minute']:g} teachers a minute"
            f" (p95 {result['p95_seconds']:g} s, {result['cpu_ms_per_teacher']:g} ms CPU each)"
            f" / the {result['bound_per_minute']:g} that CPU allows on {result['cores']} cores",
            "value": round(share, 3),
            "goal": f"≥ {SHARE_OF_BOUND}",
            "pass": share >= SHARE_OF_BOUND,
        }
    ]


def main() -> int:
    if len(sys.argv) != 5 or sys.argv[1] != "prepare":
        raise SystemExit("usage: python -m bench.morning prepare N TEACHER_USERNAME MATERIAL_SLUG")
    import django

    django.setup()
    print(json.dumps(prepare(int(sys.argv[2]), sys.argv[3], sys.argv[4])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
