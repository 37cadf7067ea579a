"""`make bench`: the page benchmark (see bench/run.py and docs/performance.md).

Never imported by production: the bench-only views and the stock admin site
live in `bench.urls`, reached only through `bench.settings`.
"""
