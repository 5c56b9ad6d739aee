"""The production settings, serving the bench's URLs: the API and the gapless-write ceiling."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
