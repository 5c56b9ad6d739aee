"""WSGI entry point for gunicorn: `gunicorn config.wsgi`.

Where the outbox has no worker process (the SQLite demo, ``OUTBOX["IN_PROCESS_WORKER"]``),
each web process runs one in a thread; in production workers are their own processes
(``manage.py procrastinate worker``).
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

if settings.OUTBOX["IN_PROCESS_WORKER"]:
    from core import outbox

    outbox.start_in_process_worker()
