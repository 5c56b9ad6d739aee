"""The project's URLs plus the bench's gapless-write ceiling (``bench.settings`` only)."""

from django.urls import path

from bench.gapless import GaplessWrite
from config import urls

urlpatterns = [
    *urls.urlpatterns,
    path("bench/gapless-write/", GaplessWrite.as_view(), name="bench-gapless-write"),
]

handler404 = urls.handler404
