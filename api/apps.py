from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The HTTP edge: errors, request fields, pagination, schema, permissions, login."""

    name = "api"
    verbose_name = "HTTP API"
