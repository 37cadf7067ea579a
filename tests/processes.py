"""Real servers as separate processes for the tests: moto's S3 API server,
gunicorn with the shipped config, nginx with the shipped site file.

Every process is started here and stopped here by its own pid; every port is
found by binding port 0, so test runs on one machine never collide.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
S3_REGION = "eu-north-1"


def free_port() -> int:
    """A port nothing listens on now. (The caller binds it a moment later;
    another process could take it in between, which the caller's start-up
    check then reports.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    log_path: Path
    port: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _spawn(name: str, args: list[str], env: dict, log_dir: Path, **kwargs) -> Server:
    log_path = log_dir / f"{name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 (the child writes to it until it ends)
    process = subprocess.Popen(  # noqa: S603 (fixed arguments, no shell)
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, **kwargs
    )
    log.close()
    return Server(name=name, process=process, log_path=log_path)


def wait_for_http(server: Server, path: str = "/healthz", timeout: float = 60) -> None:
    """Until `path` answers at all (any status), or fail with the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited:\n{server.log()}")
        try:
            urllib.request.urlopen(server.url + path, timeout=2)  # noqa: S310 (loopback)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer within {timeout} s:\n{server.log()}")


# --- moto's S3 API server -------------------------------------------------------


@dataclass(frozen=True)
class S3Account:
    """The S3 server, its bucket, and keys that the server checks."""

    endpoint_url: str
    bucket: str
    access_key: str
    secret_key: str

    def env(self) -> dict[str, str]:
        return {
            "STORAGE_BACKEND": "s3",
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_BUCKET": self.bucket,
            "S3_REGION": S3_REGION,
            "S3_ACCESS_KEY_ID": self.access_key,
            "S3_SECRET_ACCESS_KEY": self.secret_key,
        }

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=S3_REGION,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )

    def with_bucket(self, bucket: str) -> "S3Account":
        return S3Account(self.endpoint_url, bucket, self.access_key, self.secret_key)

    def create_bucket(self, bucket: str) -> "S3Account":
        self.client().create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": S3_REGION}
        )
        return self.with_bucket(bucket)

    def object_keys(self, bucket: str | None = None) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket or self.bucket)
        return [item["Key"] for item in listing.get("Contents", [])]


def start_s3_server(log_dir: Path) -> tuple[Server, S3Account]:
    """moto's server, with an IAM user whose keys it then enforces.

    moto accepts any keys until told otherwise; the tests need wrong keys to
    fail as they would against a real store. So: create the user, its keys
    and its S3 policy while moto still accepts anything, then switch
    authentication on (moto's /moto-api/reset-auth).
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log_path = log_dir / "s3.log"
    log = open(log_path, "wb")  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tests.s3_server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
    )
    log.close()
    first = process.stdout.readline().decode()
    if not first.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"The S3 server did not start: {first!r}\n{log_path.read_text()}")
    server = Server(name="s3", process=process, log_path=log_path, port=int(first.split()[1]))
    setup = dict(
        endpoint_url=server.url,
        region_name=S3_REGION,
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="behorighet")
    key = iam.create_access_key(UserName="behorighet")["AccessKey"]
    iam.put_user_policy(
        UserName="behorighet",
        PolicyName="material",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    request = urllib.request.Request(  # noqa: S310 (loopback)
        server.url + "/moto-api/reset-auth",
        data=b"0",
        method="POST",
        # Not urllib's default form type, which Flask would parse away.
        headers={"Content-Type": "application/octet-stream"},
    )
    urllib.request.urlopen(request, timeout=10)  # noqa: S310 (loopback)
    account = S3Account(server.url, "", key["AccessKeyId"], key["SecretAccessKey"])
    return server, account.create_bucket("behorighet-material")


# --- gunicorn and nginx ------------------------------------------------------------


def collectstatic(static_root: Path, env: dict) -> None:
    """The production static files (with their manifest) into `static_root`."""
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


def start_gunicorn(
    name: str, env: dict, log_dir: Path, workers: int = 2, wait: bool = True
) -> Server:
    """`gunicorn -c deploy/gunicorn.conf.py config.wsgi:application`, as in
    production. With `wait=False` the caller waits (`wait_for_http`), so that
    several servers boot side by side."""
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = _spawn(
        name,
        [
            gunicorn,
            "-c",
            "deploy/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "config.wsgi:application",
        ],
        {**env, "WEB_CONCURRENCY": str(workers), "PYTHONUNBUFFERED": "1"},
        log_dir,
    )
    server.port = port
    if wait:
        wait_for_http(server)
    return server


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def start_nginx(
    upstreams: list[Server],
    log_dir: Path,
    *,
    media_root: Path | None = None,
    s3_endpoint: str = "",
    exempt: tuple[str, ...] = (),
) -> Server:
    """nginx with the shipped site files, included unchanged, in front of `upstreams`.

    Only what differs per host is written here (the same parts as in
    deploy/nginx/site.example.conf): the upstream addresses, a plain-HTTP
    listen on a free port, where the material files are (`media_root` or the
    S3 server at `s3_endpoint`), and the addresses exempt from the request
    limits. `X-Upstream` tells the test which server answered.
    """
    prefix = Path(tempfile.mkdtemp(prefix="nginx-", dir=log_dir))
    port = free_port()
    servers = "\n".join(f"        server 127.0.0.1:{u.port};" for u in upstreams)
    s3_upstream = s3_endpoint.removeprefix("http://").rstrip("/")
    s3_block = f"upstream behorighet_s3 {{ server {s3_upstream}; }}" if s3_upstream else ""
    s3_origin = "http://behorighet_s3" if s3_upstream else ""
    exempted = "\n".join(f"        {address} 1;" for address in exempt)
    user = "user root;" if os.geteuid() == 0 else ""
    config = f"""
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    geo $behorighet_limit_exempt {{
        default 0;
{exempted}
    }}
    include {ROOT}/deploy/nginx/behorighet-http.conf;
    upstream behorighet_app {{
{servers}
    }}
    {s3_block}
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        add_header X-Upstream $upstream_addr always;
        set $behorighet_media_root "{media_root or prefix / "no-media"}";
        set $behorighet_s3_origin "{s3_origin}";
        include {ROOT}/deploy/nginx/behorighet.conf;
    }}
}}
"""
    conf = prefix / "nginx.conf"
    conf.write_text(config)
    binary = nginx_binary()
    check = subprocess.run(  # noqa: S603
        [binary, "-t", "-q", "-p", str(prefix), "-e", "stderr", "-c", str(conf)],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise RuntimeError(f"nginx refused its configuration:\n{check.stderr}")
    server = _spawn(
        "nginx",
        [binary, "-p", str(prefix), "-e", "stderr", "-c", str(conf), "-g", "daemon off;"],
        dict(os.environ),
        log_dir,
    )
    server.port = port
    server.extra["access_log"] = prefix / "access.log"
    wait_for_http(server)
    return server
