# The two commands of the README: `make run` serves the API, `make test` passes the tests.
# Each does its own set-up on a fresh machine (virtual environment, packages, database).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# PostgreSQL when DATABASE_URL names it (CI); the SQLite file var/db.sqlite3 otherwise.
DATABASE_URL ?=
export DATABASE_URL

.PHONY: run test lint bench lock clean demo-db check-deploy document-deps

# WeasyPrint's system libraries (Pango, HarfBuzz) and the fonts documents are printed in,
# from Debian; installed only when missing.
DOCUMENT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (Python 3.11)"; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
	  echo "installing python3-venv"; apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

var:
	@mkdir -p var

demo-db: $(STAMP) var
	DEBUG=1 $(BIN)/python manage.py migrate --no-input
	DEBUG=1 $(BIN)/python manage.py loaddata demo

document-deps:
	@missing=$$(for package in $(DOCUMENT_PACKAGES); do \
	  dpkg-query -W -f='$${db:Status-Status}' $$package 2>/dev/null | grep -q '^installed$$' \
	    || echo $$package; done); \
	if [ -n "$$missing" ]; then echo "installing" $$missing "(Debian)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

# On SQLite each web process runs the jobs in a thread (core/outbox.py); on PostgreSQL a
# worker process runs beside gunicorn, stopped with it. E-mails go to this console.
run: demo-db document-deps
	DEBUG=1 $(BIN)/python manage.py collectstatic --no-input --verbosity 0
	@DEBUG=1 $(BIN)/python manage.py demo_help --base-url http://$(HOST):$(PORT)
	@export DEBUG=1 PUBLIC_BASE_URL=http://$(HOST):$(PORT); \
	case "$$DATABASE_URL" in \
	  postgres*) $(BIN)/python manage.py procrastinate worker & worker=$$!; \
	    trap 'kill $$worker 2>/dev/null' EXIT INT TERM ;; \
	esac; \
	GUNICORN_BIND=$(HOST):$(PORT) WEB_CONCURRENCY=2 $(BIN)/gunicorn -c config/gunicorn.py config.wsgi

lint: $(STAMP) var
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	SECRET_KEY=lint $(BIN)/python manage.py makemigrations --check --dry-run

test: lint document-deps
	@case "$$DATABASE_URL" in \
	  postgres*) echo "== tests on PostgreSQL ($$DATABASE_URL): every test, PostgreSQL ones included"; \
	    SECRET_KEY=test TESTING=1 $(BIN)/pytest -q ;; \
	  *) echo "== tests on SQLite: tests marked 'postgres' are deselected (run them with DATABASE_URL=postgres://...)"; \
	    SECRET_KEY=test TESTING=1 $(BIN)/pytest -q -m 'not postgres' ;; \
	esac

# Not part of `make test` or CI: about 6 minutes on 2 cores; see docs/performance.md.
# wrk (the HTTP load, on 127.0.0.1 only) and pgbench (the SQL ceiling) come from Debian.
bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "installing wrk (Debian)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	@command -v pgbench >/dev/null || { echo "installing pgbench (Debian postgresql-contrib)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-contrib; }
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} SECRET_KEY=bench \
	  $(BIN)/python -m bench

# Debian's Chromium for tests/browser (Playwright drives it; it never downloads a browser).
.PHONY: browser-deps
browser-deps:
	@test -x /usr/bin/chromium || { echo "installing chromium (Debian)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

check-deploy: $(STAMP)
	SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=billing.example.com \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

lock: $(STAMP)
	$(BIN)/pip freeze --exclude-editable | sed '1i # Exact versions for reproducible installs: pip install -c requirements.lock -e ".[dev]". Regenerate with `make lock`.' > requirements.lock

clean:
	rm -rf $(VENV) var staticfiles
