# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench install lock lint format messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Every dependency from the lock, each file checked against its sha256: the
# very files CI and the image install. `make lock` remakes the lock after a
# change in pyproject.toml (tests/test_lock.py fails until it is remade).
$(STAMP): requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python .ci/lock.py

# The printed login addresses and the slips use SITE_URL. DEBUG off: the demo
# shows the Swedish 404/403/500 pages people meet, never Django's debug pages
# (which list every URL pattern); `DEBUG=true make run` for a developer.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: export DEBUG ?= false
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo "Serving http://$(HOST):$(PORT)/ with gunicorn, the mail worker and the SS 12000 sync (Ctrl-C stops all)."
	@export DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-config.settings.dev}; \
	$(BIN)/python manage.py send_queued_mail & worker=$$!; \
	(while sleep 30; do $(BIN)/python manage.py ss12000_sync >/dev/null; done) & sync=$$!; \
	trap 'kill $$worker $$sync 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn -c deploy/gunicorn.conf.py config.wsgi:application \
		--bind $(HOST):$(PORT) --workers 2

# pytest-xdist: one worker per core (at most 4), each with its own test
# database (test_<name>_gw0, ...); a slow test (a browser crawl) does not hold
# up the rest. TEST_WORKERS=0 runs everything in this one process.
TEST_WORKERS ?= auto
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=config.settings.test
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses=4 --dist worksteal

# The page benchmark (docs/performance.md); not part of `make test`. Needs
# DATABASE_URL pointing at a PostgreSQL server where it may create databases,
# and wrk. Prints the table and writes bench.json and the generated results
# page docs/performance-results.md (never edit that page by hand).
bench: install
	$(BIN)/python -m bench.run

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh both catalogues (locale/sv and locale/en) after changing UI strings:
# fill every new empty msgstr in locale/sv, check and remove any "#, fuzzy"
# flag there, then run `make messages` again to compile. English entries need
# no hand work: the source strings are English, so new and changed ones get
# their msgid (a fuzzy English entry is an old text, so it is reset too).
# tests/config/test_catalogues.py fails while either catalogue lags behind.
MAKEMESSAGES_FLAGS := --no-location --no-obsolete --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'tests/*'
messages: install
	$(BIN)/python manage.py makemessages --locale sv --locale en $(MAKEMESSAGES_FLAGS)
	msgattrib --clear-fuzzy --empty --clear-previous --output-file=locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
	msgen --output-file=locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
	$(BIN)/python manage.py compilemessages --locale sv --locale en --ignore '.venv/*'

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
