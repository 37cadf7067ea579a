"""Production settings plus the benchmark's own URLs (the `hello` views and
the stock admin changelist). Used only by `make bench`; production runs
`config.settings.prod`, which never sees these URLs."""

from config.settings.prod import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
