"""`make bench`, behind the shipped nginx: protected downloads against nginx
serving the same file as a static file, the logged-in `hello` while 20
downloads run, and the test morning (bench/morning.py).

Its own gunicorn on the national database, with NGINX_SENDS_FILES=true (the
page benchmark's servers stay as they are), and nginx with the shipped site
files (deploy/nginx/), the benchmark's address exempt from the request
limits as the site file allows. The protected item's file is replaced by
BENCH_DOWNLOAD_MB (50) megabytes, and the same file is also put where nginx
serves it as a plain static file: the yardstick.

    python -m bench.downloads      # alone, on a small database of its own (one school)
"""

import contextlib
import importlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DOWNLOAD_MB = int(os.environ.get("BENCH_DOWNLOAD_MB") or 50)
DOWNLOAD_SECONDS = int(os.environ.get("BENCH_DOWNLOAD_SECONDS") or 4)
DOWNLOAD_ROUNDS = 3
DOWNLOAD_CLIENTS = 4
CONCURRENT_DOWNLOADS = 20
HELLO_CONNECTIONS = 4


def from_run(*names: str):
    """Names from bench/run.py, as the running process has them: `make bench`
    runs it as __main__, whose BenchFailed is the one its `except` catches
    (an import of bench.run there would load a second copy)."""
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", "") == "bench.run":
        module = main
    else:
        module = importlib.import_module("bench.run")
    values = tuple(getattr(module, name) for name in names)
    return values[0] if len(values) == 1 else values


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Front:
    """The download gunicorn and nginx in front of it."""

    app: subprocess.Popen
    app_port: int
    nginx: subprocess.Popen
    port: int
    prefix: Path

    def pids(self) -> list[int]:
        """gunicorn's master and workers, nginx's master and workers."""
        pids = []
        for parent in (self.app.pid, self.nginx.pid):
            pids.append(parent)
            with contextlib.suppress(OSError):
                children = Path(f"/proc/{parent}/task/{parent}/children").read_text()
                pids += [int(pid) for pid in children.split()]
        return pids

    def stop(self) -> None:
        for process in (self.nginx, self.app):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(
                        process.pid, signal.SIGQUIT if process is self.nginx else signal.SIGINT
                    )
        for process in (self.nginx, self.app):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


NGINX_CONF = """
{user}
worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    # The benchmark's load generator runs here: exempt, as the site file allows.
    geo $behorighet_limit_exempt {{ default 0; 127.0.0.1 1; }}
    include {root}/deploy/nginx/behorighet-http.conf;
    upstream behorighet_app {{ server 127.0.0.1:{app_port}; }}
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        server_name localhost;
        set $behorighet_media_root "{media}";
        set $behorighet_s3_origin "";
        # The yardstick: the same file as a plain static file.
        location /bench-static/ {{ alias {static}/; }}
        include {root}/deploy/nginx/behorighet.conf;
    }}
}}
"""


def start_front(bench, scale: str) -> Front:
    """gunicorn (NGINX_SENDS_FILES=true) on `scale`'s database, and nginx."""
    BenchFailed, gunicorn_options = from_run("BenchFailed", "gunicorn_options")

    prefix = Path(tempfile.mkdtemp(prefix="nginx-", dir=bench.tmp))
    (prefix / "static").mkdir()
    app_port, port = free_port(), free_port()
    env = bench.env(scale)
    # Behind nginx over plain HTTP on loopback: nginx says "http" in
    # X-Forwarded-Proto, so production's HTTPS redirect is off here.
    env.update(NGINX_SENDS_FILES="true", SECURE_SSL_REDIRECT="false")
    log = open(bench.tmp / "gunicorn-downloads.log", "w")  # noqa: SIM115
    bench.log_files.append(log)
    app = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", *gunicorn_options(), "config.wsgi:application"]
        + ["--bind", f"127.0.0.1:{app_port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    conf = prefix / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            # nginx's workers read the media files, which only this user may.
            user="user root;" if os.geteuid() == 0 else "",
            prefix=prefix,
            root=BASE_DIR,
            app_port=app_port,
            port=port,
            media=env["MEDIA_ROOT"],
            static=prefix / "static",
        )
    )
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if binary is None:
        app.kill()
        raise BenchFailed("the download benchmark needs Debian's nginx (apt-get install nginx)")
    nginx = subprocess.Popen(  # noqa: S603
        [binary, "-p", str(prefix), "-e", "stderr", "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(prefix / "stderr.log", "w"),  # noqa: SIM115
        start_new_session=True,
    )
    front = Front(app=app, app_port=app_port, nginx=nginx, port=port, prefix=prefix)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.poll() is not None or nginx.poll() is not None:
            front.stop()
            raise BenchFailed("the download servers exited:\n" + bench.server_log("downloads"))
        with contextlib.suppress(OSError):
            if http_get(port, "/bench/hello/")[0] == 200:
                return front
        time.sleep(0.3)
    front.stop()
    raise BenchFailed("the download servers did not answer")


def http_get(port: int, path: str, cookies: dict | None = None) -> tuple[int, int]:
    """(status, bytes read) of one GET, reading the body in large chunks."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": "127.0.0.1"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        buffer = bytearray(1 << 20)
        total = 0
        while chunk := response.readinto(buffer):
            total += chunk
        return response.status, total
    finally:
        connection.close()


def make_the_big_file(bench, scale: str, slug: str, front: Front) -> int:
    """The protected item's file, DOWNLOAD_MB of bytes, also as a static file."""
    script = (
        "import django, os; django.setup();"
        "from portal.models import Material;"
        f"m = Material.objects.get(slug={slug!r});"
        "assert m.is_protected; print(m.file.path)"
    )
    path = Path(
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", script],
            cwd=BASE_DIR,
            env=bench.env(scale),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    size = DOWNLOAD_MB * 1024 * 1024
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as handle:
        handle.write(b"%PDF-1.4\n")
        for _ in range(DOWNLOAD_MB):
            handle.write(block)
    shutil.copyfile(path, front.prefix / "static" / "material.pdf")
    return size + len(b"%PDF-1.4\n")


def wrk_latency(port: int, path: str, cookies: dict, *, connections: int, seconds: int) -> dict:
    """wrk with --latency: requests a second and the latency percentiles in ms."""
    WRK_SCRIPT, BenchFailed = from_run("WRK_SCRIPT", "BenchFailed")

    command = ["wrk", "-t2" if connections > 1 else "-t1", f"-c{connections}", f"-d{seconds}s"]
    command += ["--latency", "--timeout", "30s", "-s", str(WRK_SCRIPT)]
    if cookies:
        command += ["-H", "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
    command.append(f"http://127.0.0.1:{port}{path}")
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))  # noqa: S603
    output = result.stdout + result.stderr
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    # Bytes a second, partial answers included: with files of 50 MB, a few
    # seconds complete only a handful, so requests a second are too coarse.
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)([KMG]?B)", output)
    scale = {"B": 1 / 1024 / 1024, "KB": 1 / 1024, "MB": 1, "GB": 1024}
    bad = re.search(r"BENCH_BAD (\d+)", output)
    if result.returncode != 0 or not rps or not bad or int(bad.group(1)):
        raise BenchFailed(f"wrk failed on {path}:\n{output}")
    percentiles = {}
    for share, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M):
        percentiles[int(share)] = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    return {
        "rps": float(rps.group(1)),
        "mb_per_s": float(transfer.group(1)) * scale[transfer.group(2)] if transfer else 0.0,
        "p50": percentiles.get(50),
        "p99": percentiles.get(99),
    }


def measure(bench, scale: str, cast: dict) -> tuple[dict, list[dict]]:
    """The download figures and their targets (the table's rows)."""
    login_teacher, say = from_run("login_teacher", "say")

    front = start_front(bench, scale)
    try:
        # Logged in straight at the app server, as the page benchmark does
        # (its client says it came through a TLS proxy); the session then
        # works through nginx as well.
        teacher_cookies = login_teacher(front.app_port, cast).cookies
        size = make_the_big_file(bench, scale, cast["material"], front)
        protected = f"/bedomningsportalen/material/{cast['material']}/fil/"
        status, length = http_get(front.port, protected, teacher_cookies)
        if (status, length) != (200, size):
            BenchFailed = from_run("BenchFailed")

            raise BenchFailed(f"the protected download answered {status} with {length} bytes")
        say(f"Downloads of {DOWNLOAD_MB} MB behind nginx …")
        # Interleaved rounds (a warm-up first), so that the drifts of a
        # shared machine hit both sides of the ratio alike.
        rounds: dict[str, list[float]] = {"static": [], "protected": []}
        for number in range(DOWNLOAD_ROUNDS + 1):
            for kind, path, cookies in (
                ("static", "/bench-static/material.pdf", {}),
                ("protected", protected, teacher_cookies),
            ):
                run = wrk_latency(
                    front.port, path, cookies, connections=DOWNLOAD_CLIENTS,
                    seconds=DOWNLOAD_SECONDS if number else 1,
                )  # fmt: skip
                if number:
                    rounds[kind].append(run["mb_per_s"])
        hello = "/bench/hello/inloggad/"
        idle = wrk_latency(
            front.port,
            hello,
            teacher_cookies,
            connections=HELLO_CONNECTIONS,
            seconds=DOWNLOAD_SECONDS,
        )
        loaded = under_downloads(front.port, protected, hello, teacher_cookies)
        say("The test morning …")
        # Lazy: bench/morning.py imports this module (its from_run).
        from bench import morning

        morning_result = morning.run(bench, scale, cast, front)
    finally:
        front.stop()
    figures = {
        "download_mb": DOWNLOAD_MB,
        "static_mb_per_s": round(statistics.median(rounds["static"]), 1),
        "protected_mb_per_s": round(statistics.median(rounds["protected"]), 1),
        "hello_p99_idle_ms": idle["p99"],
        "hello_p99_under_downloads_ms": loaded["p99"],
        "morning": morning_result,
    }
    ratio = statistics.median(
        p / s if s else 0.0 for p, s in zip(rounds["protected"], rounds["static"], strict=True)
    )
    p99_ratio = loaded["p99"] / idle["p99"] if idle["p99"] else float("inf")
    targets = [
        {
            "target": f"protected {DOWNLOAD_MB} MB download / nginx static file (throughput,"
            f" {figures['protected_mb_per_s']:g} vs {figures['static_mb_per_s']:g} MB/s)",
            "value": round(ratio, 3), "goal": "≥ 0.8", "pass": ratio >= 0.8,
        },
        {
            "target": f"logged-in `hello` p99 with {CONCURRENT_DOWNLOADS} downloads running /"
            f" idle p99 ({loaded['p99']:.1f} vs {idle['p99']:.1f} ms)",
            "value": round(p99_ratio, 3), "goal": "≤ 2", "pass": p99_ratio <= 2,
        },
        *morning.targets(morning_result),
    ]  # fmt: skip
    return figures, targets


def under_downloads(port: int, download: str, hello: str, cookies: dict) -> dict:
    """The `hello` measured while CONCURRENT_DOWNLOADS downloads keep running.

    The downloads are fetched by a wrk of their own at the lowest CPU
    priority: their clients stand in for teachers' own computers, whose work
    of receiving the bytes is no part of the server's. (Python threads
    reading 50 MB bodies took a whole core from the servers they measured.)
    Every download still passes the gate and leaves its audit event.
    """
    WRK_SCRIPT, BenchFailed = from_run("WRK_SCRIPT", "BenchFailed")
    command = ["nice", "-n", "19", "wrk", "-t1", f"-c{CONCURRENT_DOWNLOADS}"]
    command += [f"-d{DOWNLOAD_SECONDS + 30}s", "--timeout", "60s", "-s", str(WRK_SCRIPT)]
    command += ["-H", "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
    command.append(f"http://127.0.0.1:{port}{download}")
    downloads = subprocess.Popen(  # noqa: S603
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        time.sleep(0.5)
        measured = wrk_latency(
            port, hello, cookies, connections=HELLO_CONNECTIONS, seconds=DOWNLOAD_SECONDS
        )
    finally:
        # wrk stops on SIGINT and still writes its summary (and the script's count).
        downloads.send_signal(signal.SIGINT)
        output = downloads.communicate(timeout=60)[0]
    # The hello was measured under load only if the downloads really ran.
    done = re.search(r"(\d+) requests in", output)
    bad = re.search(r"BENCH_BAD (\d+)", output)
    if not done or not bad or int(bad.group(1)) or int(done.group(1)) < 1:
        raise BenchFailed(f"the downloads beside the hello did not all succeed:\n{output}")
    return measured


def build_single(bench) -> dict:
    """The one-school database alone (the page benchmark builds both)."""
    import json

    BenchFailed, create_database, drop_database = from_run(
        "BenchFailed", "create_database", "drop_database"
    )

    name = bench.databases["single"]
    drop_database(bench.url, name)
    create_database(bench.url, name)
    bench.manage("single", "migrate", "--noinput", "-v0")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.data", "single"],
        cwd=BASE_DIR,
        env=bench.env("single"),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BenchFailed(f"loading failed:\n{result.stderr[-3000:]}")
    bench.manage("single", "collectstatic", "--noinput", "-v0")
    return json.loads(result.stdout)


def main() -> int:
    """Alone, on a one-school database of its own: for working on these figures."""
    Bench, BenchFailed, say = from_run("Bench", "BenchFailed", "say")

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        say("needs DATABASE_URL=postgres://…")
        return 1
    bench = Bench(url)
    try:
        cast = build_single(bench)
        figures, targets = measure(bench, "single", cast)
    except BenchFailed as failure:
        say(f"BENCH FAILED: {failure}")
        return 1
    finally:
        bench.cleanup()
    for item in targets:
        verdict = "pass" if item["pass"] else "**FAIL**"
        say(f"| {item['target']} | {item['value']:g} | {item['goal']} | {verdict} |")
    say(str(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
