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
