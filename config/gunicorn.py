"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi` (overridable by env).

Sync workers, two per core plus one; a timeout above the idempotency wait (20 s) so that a
replay waiting for its first request answers before its worker is recycled.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Above 1, gunicorn runs gthread workers; each thread holds its own database connection.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
# One log line per request comes from api.request_log; gunicorn's access log would repeat it.
accesslog = None
errorlog = "-"
