"""gunicorn's configuration for production, and for the CI test that runs two
servers behind nginx (tests/deploy/), so that production runs what CI ran:

    gunicorn -c deploy/gunicorn.conf.py config.wsgi:application

Every value can be overridden on the command line (`--bind`, `--workers`).
"""

import glob
import multiprocessing
import os
import tempfile

# Where the app server listens; nginx's upstream block points here.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: one request at a time per process. The app is CPU-bound
# (password hashing, templates, PDFs) and keeps no state in memory, so
# processes are the simplest way to use every core; nginx buffers slow
# clients so that they do not hold a worker. gunicorn's rule of thumb,
# 2 × cores + 1, keeps the cores busy while some workers wait on PostgreSQL.
# WEB_CONCURRENCY, the usual variable, overrides it.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 0) or multiprocessing.cpu_count() * 2 + 1

# A worker silent for this long is killed and replaced. Pages answer in
# milliseconds, logins in under a second, slip PDFs of a 1,000-row import in
# about one second; 30 s leaves room without letting a stuck worker linger.
timeout = 30
# Time for a worker to finish its request on a restart (SIGHUP, deploy).
graceful_timeout = 30

# Replace each worker after about 1,000 requests, the jitter spreading the
# restarts so the workers never all restart at once: a guard against slow
# memory growth in any library. (Each replaced worker leaves its metrics file
# behind; PROMETHEUS_MULTIPROC_DIR is emptied at every start.)
max_requests = 1000
max_requests_jitter = 100

# The application writes its own request log (core.middleware, JSON with
# LOG_FORMAT=json); gunicorn's access log would duplicate it. Errors to stderr.
accesslog = None
errorlog = "-"
loglevel = "info"

# gunicorn's control socket has one default path per user
# (~/.gunicorn/gunicorn.ctl), which every instance on the host would fight
# over; manage the servers with signals through the process manager instead.
control_socket_disable = True

# Heartbeat files in memory, not on a disk that may stall (gunicorn makes
# them with mkstemp, so a shared directory is safe).
SHARED_MEMORY = "/dev/shm"  # noqa: S108
if os.path.isdir(SHARED_MEMORY):
    worker_tmp_dir = SHARED_MEMORY

# prometheus_client's multiprocess mode (core/metrics.py): every worker
# writes its samples to files in this directory, and a scrape adds them up.
# It must be set before any worker imports prometheus_client, hence here.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="behorighet-metrics-")


def _remove_metrics_files(directory: str) -> None:
    # Only prometheus_client's own files: a configured directory is the operator's.
    for path in glob.glob(os.path.join(directory, "*.db")):
        os.remove(path)


def on_starting(server):
    """Start every master with empty metrics: old files would add a previous
    run's counts to this one's."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    _remove_metrics_files(directory)


def child_exit(server, worker):
    """A replaced worker's counters stay summed; its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Leave no metrics files behind; and no directory, if it was our own."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    _remove_metrics_files(directory)
    if _OWN_METRICS_DIR:
        os.rmdir(directory)


# --- Logs ---------------------------------------------------------------------------
# With LOG_FORMAT=json gunicorn's own lines (start, worker boots and exits,
# timeouts) are JSON too, in the application's format (core.logs), so one
# parser reads the whole of stderr.
if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "core.logs.JsonFormatter"}},
        "handlers": {
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
    }


# --- Metrics of the workers (core/metrics.py) ---------------------------------------


def post_worker_init(worker):
    from core import metrics

    metrics.worker_started()


def pre_request(worker, req):
    from core import metrics

    metrics.worker_busy(True)


def post_request(worker, req, environ, resp):
    from core import metrics

    metrics.worker_busy(False)
    metrics.pool_observed()


# --- /healthz from the master ---------------------------------------------------------
# The app answers /healthz in a worker, so with every sync worker busy (20
# downloads, a burst of PDFs) the probe waits in the queue like any request
# and a balancer may take a healthy server out. With GUNICORN_HEALTH_BIND set
# (an address such as 127.0.0.1:8001, reachable by the balancer only) the
# master answers /healthz itself, from a thread of its own: the master serves
# no requests, so it answers whatever the workers do. It says how many
# workers are alive (200 with at least one, else 503); /readyz stays the
# workers' (it checks what they need: the database, the key, the store).
# A listener of its own rather than threaded workers: threads would still all
# be busy under the same load, and would change the app's concurrency.
_health = {}


def when_ready(server):
    address = os.environ.get("GUNICORN_HEALTH_BIND", "")
    if not address:
        return
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    host, _, port = address.rpartition(":")

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path.rstrip("/") != "/healthz":
                self.send_error(404)
                return
            alive = len(server.WORKERS)
            body = json.dumps({"status": "ok" if alive else "no_workers", "workers": alive})
            self.send_response(200 if alive else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format, *args):  # noqa: A002 (one probe a second: no log)
            pass

    listener = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Health)
    listener.daemon_threads = True
    _health["listener"] = listener
    threading.Thread(target=listener.serve_forever, name="healthz", daemon=True).start()
    server.log.info("Master answers /healthz at %s", address)


def post_fork(server, worker):
    """A worker has no business with the master's /healthz socket."""
    listener = _health.get("listener")
    if listener is not None:
        listener.socket.close()
