"""Pytest plugin (``-p config.testing`` in pyproject): test defaults set before Django starts.

So that a plain ``pytest`` works as ``make test`` does; explicit environment values win.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("TESTING", "1")
# Rendered documents of this run go to a directory of its own (workers started by the tests
# inherit it), never to var/documents.
os.environ.setdefault("DOCUMENTS_ROOT", tempfile.mkdtemp(prefix="test-documents-"))
