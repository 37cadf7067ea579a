"""The outbox worker: sends queued mail, retrying with a growing delay.

    python manage.py send_queued_mail            # loop until Ctrl-C / SIGTERM
    python manage.py send_queued_mail --once     # one pass (cron, tests)

`make run` starts it beside gunicorn. Run one or more per installation: rows
are taken with SKIP LOCKED, so two workers never send the same mail.
"""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from core.outbox import outbox_length, outbox_prune, outbox_send_due


class Command(BaseCommand):
    help = "Send queued mail from the outbox (loops; --once for a single pass)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="seconds between passes (default 5)"
        )

    def handle(self, *args, once: bool, interval: float, **options):
        stop = threading.Event()
        if not once:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            self.stdout.write(f"Sending queued mail every {interval:g} s (Ctrl-C stops).")
        passes = 0
        while True:
            report = outbox_send_due()
            if passes % 720 == 0:
                outbox_prune()
            passes += 1
            if report.sent or report.retried or report.failed or report.discarded:
                self.stdout.write(
                    f"sent {report.sent}, nothing to send {report.discarded}, "
                    f"retry later {report.retried}, gave up {report.failed}; "
                    f"queued {outbox_length()}"
                )
            if once or stop.is_set():
                break
            close_old_connections()
            stop.wait(interval)
            if stop.is_set():
                break
