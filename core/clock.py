"""The clocks: the edge reads the wall clock once per request; issue dates read the database's.

Domain code never reads a clock: views and commands call ``now()`` once and pass it down,
so a job that runs after midnight still knows which day it is about. The one exception is an
issued document's date, read from the database clock inside the numbering transaction after
the number, so that every app server dates documents from one clock and dates never go
backwards against numbers.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone


def now() -> datetime:
    """Return the current instant (aware, UTC): read once at the edge and passed down."""
    return timezone.now()


def read_database_clock() -> datetime:
    """Return the database server's current time (not the transaction's start time).

    On PostgreSQL ``clock_timestamp()``; SQLite has one writer on one machine, whose clock
    serves.
    """
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        (instant,) = cursor.fetchone()
    return instant
