"""Time and profile the benchmark's pages in-process (no wrk, no gunicorn).

    DATABASE_URL=postgres://… python -m bench.profile [--build] [--profile KEY] [N]

A machine shared with other work moves the rates of `make bench` a lot; the
CPU time of one page in one process, and its function calls, move far less.
This loads the one-school database once (`<name>_profile`, kept between runs;
`--build` makes it again), logs in each role through the real login forms with
Django's test client, and prints for every page of `make bench` the median
milliseconds of N requests (default 200) and its SQL queries. With
`--profile KEY` it runs that page N times under cProfile and prints the
costliest functions (`--sort tottime|cumulative`).
"""

import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from bench import run

CAST_FILE = Path(__file__).resolve().parent.parent / ".bench-profile-cast.json"


def environment(url: str, name: str) -> dict[str, str]:
    bench = run.Bench.__new__(run.Bench)
    bench.url = url
    bench.databases = {"single": name}
    bench.tmp = Path("/tmp/behorighet-profile")  # noqa: S108 - scratch for media files
    bench.secret_key = "profile-" + "x" * 50
    bench.card_key = "0" * 64
    env = bench.env("single")
    env["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    # The request log would print a line per request; the timing is the point.
    env["LOG_LEVEL"] = "WARNING"
    return env


def build(url: str, name: str, env: dict[str, str]) -> dict:
    run.drop_database(url, name)
    run.create_database(url, name)
    for command in (["migrate"], ["collectstatic", "--noinput"]):
        subprocess.run([sys.executable, "manage.py", *command, "-v0"], env=env, check=True)
    loaded = subprocess.run(
        [sys.executable, "-m", "bench.data", "single"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    cast = json.loads(loaded.stdout)
    CAST_FILE.write_text(json.dumps(cast))
    return cast


def logged_in(cast: dict) -> dict:
    from django.test import Client

    def client() -> Client:
        return Client(HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR=run.CLIENT_ADDRESS)

    teacher = client()
    answer = teacher.post(
        "/bedomningsportalen/logga-in/",
        {"username": cast["teacher"]["username"], "password": cast["password"]},
    )
    assert answer.status_code == 302, answer.status_code
    principal = client()
    principal.post(
        "/e-tjanster/logga-in/",
        {"username": cast["principal"]["username"], "password": cast["password"]},
    )
    page = principal.get("/e-tjanster/logga-in/matris/").content.decode()
    import re

    asked = sorted(set(re.findall(r'<input[^>]*\bname="([A-H](?:10|[1-9]))"', page)))
    card = cast["principal"]["card"]
    answer = principal.post("/e-tjanster/logga-in/matris/", {c: card[c] for c in asked})
    assert answer.status_code == 302, answer.status_code
    admin = client()
    for attempt in range(2):
        # A TOTP code is good once: a second run within 30 s waits for the next.
        if attempt:
            time.sleep(30 - time.time() % 30 + 1)
        answer = admin.post(
            "/admin/login/",
            {
                "username": cast["national_admin"]["username"],
                "password": cast["password"],
                "otp_token": run.totp_now(cast["national_admin"]["totp_key"]),
                "next": "/admin/",
            },
        )
        if answer.status_code == 302:
            break
    assert answer.status_code == 302, answer.status_code
    return {"anonymous": client(), "teacher": teacher, "principal": principal, "admin": admin}


def measured(
    clients: dict, page_list: list, count: int, backends
) -> dict[str, tuple[float, float, float, int]]:
    """Per page: median wall and CPU milliseconds of this process, the
    database backends' CPU per request (a mean: /proc counts in ticks), and
    its SQL statements. The pages take turns, ten requests each, so a change
    in the machine's load falls on all of them alike."""
    from django.db import connection

    statements: list[str] = []

    def counting(execute, sql, *args):
        statements.append(sql)
        return execute(sql, *args)

    wall: dict[str, list[float]] = {page.key: [] for page in page_list}
    cpu: dict[str, list[float]] = {page.key: [] for page in page_list}
    database = dict.fromkeys(wall, 0.0)
    queries = {}
    for page in page_list:
        client = clients[page.role]
        for _ in range(5):
            answer = client.get(page.path)
            assert answer.status_code == 200, (page.path, answer.status_code)
        statements.clear()
        with connection.execute_wrapper(counting):
            client.get(page.path)
        queries[page.key] = len(statements)
    for _ in range(max(1, count // 10)):
        for page in page_list:
            client = clients[page.role]
            before = run.cpu_seconds(backends())
            for _ in range(10):
                started, started_cpu = time.perf_counter(), time.process_time()
                client.get(page.path)
                wall[page.key].append((time.perf_counter() - started) * 1000)
                cpu[page.key].append((time.process_time() - started_cpu) * 1000)
            database[page.key] += run.cpu_seconds(backends()) - before
    return {
        key: (
            statistics.median(wall[key]),
            statistics.median(cpu[key]),
            database[key] * 1000 / len(cpu[key]),
            queries[key],
        )
        for key in wall
    }


AREAS = [
    ("template engine", "django/template/"),
    ("ORM", "django/db/models/"),
    ("database driver", ("psycopg", "django/db/backends/")),
    ("forms", "django/forms/"),
    ("translation", "django/utils/translation/"),
    ("URLs", "django/urls/"),
    (
        "middleware and handlers",
        (
            "django/middleware/",
            "django/core/handlers",
            "csp/",
            "whitenoise/",
            "django/contrib/sessions",
            "django/contrib/messages",
        ),
    ),
    ("test client", "django/test/"),
    ("lazy strings", "django/utils/functional"),
    ("escaping and safe strings", ("django/utils/html", "django/utils/safestring")),
    ("asgiref locals", "asgiref/"),
    ("other Django", "django/"),
    ("project", "/work/"),
]


def area_of(filename: str) -> str | None:
    for name, parts in AREAS:
        if any(part in filename for part in ((parts,) if isinstance(parts, str) else parts)):
            return name
    return None


def print_areas(stats: pstats.Stats, count: int) -> None:
    """Own CPU time (tottime) per request, summed by where the function lives;
    the time of built-ins and the standard library goes to their callers'."""
    totals: dict[str, float] = {}

    def add(function, seconds: float, depth: int = 0) -> None:
        area = area_of(function[0])
        callers = stats.stats[function][4] if function in stats.stats else {}
        if area is None and callers and depth < 6:
            # Shared out among the callers as each caller's calls spent it.
            spent = sum(value[2] for value in callers.values()) or 1.0
            for caller, value in callers.items():
                add(caller, seconds * value[2] / spent, depth + 1)
            return
        area = area or "Python and the rest"
        totals[area] = totals.get(area, 0.0) + seconds

    for function, (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        add(function, tottime)
    whole = sum(totals.values())
    for area, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"{area:<26} {seconds * 1000 / count:6.2f} ms  {seconds / whole:5.1%}")


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("needs DATABASE_URL=postgres://…")
        return 1
    args = sys.argv[1:]
    count = int(next((a for a in args if a.isdigit()), "200"))
    name = (unquote(urlparse(url).path.lstrip("/")) or "behorighet") + "_profile"
    env = environment(url, name)
    if "--build" in args or not CAST_FILE.exists():
        cast = build(url, name, env)
    else:
        cast = json.loads(CAST_FILE.read_text())
    os.environ.update(env)
    import django

    django.setup()
    clients = logged_in(cast)
    page_list = run.pages(cast)
    if "--profile" in args:
        key = args[args.index("--profile") + 1]
        sort = args[args.index("--sort") + 1] if "--sort" in args else "tottime"
        page = next(p for p in page_list if p.key == key)
        client = clients[page.role]
        for _ in range(5):
            client.get(page.path)
        # CPU time: waiting for the database (and for a busy machine) is not counted.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(count):
            client.get(page.path)
        profiler.disable()
        stats = pstats.Stats(profiler)
        if "--by-area" in args:
            print_areas(stats, count)
            return 0
        restrict = [args[args.index("--match") + 1]] if "--match" in args else []
        if "--callers" in args:
            stats.sort_stats(sort).print_callers(*restrict, 12)
            return 0
        stats.sort_stats(sort).print_stats(*restrict, 45)
        return 0
    if "--only" in args:
        wanted = set(args[args.index("--only") + 1].split(","))
        page_list = [page for page in page_list if page.key in wanted]

    def backends() -> list[int]:
        with run.server_connection(url) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]
            ).fetchall()
        return [row[0] for row in rows]

    results = measured(clients, page_list, count, backends)
    for page in page_list:
        wall, cpu, database, queries = results[page.key]
        hello = results.get(run.hello_of(page))
        ratio = ""
        if hello:
            ratio = f"{(hello[1] + hello[2]) / (cpu + database):6.3f} of its hello's rate"
        print(
            f"{page.key:<16} {wall:6.2f} ms wall {cpu:6.2f} ms CPU + {database:5.2f} ms database"
            f" {queries:2d} queries {ratio}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
