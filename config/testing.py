"""Pytest plugin (``-p config.testing`` in pyproject): test defaults set before Django starts.

So that a plain ``pytest`` works as ``make test`` does; explicit environment values win.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("TESTING", "1")
