from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Events and their deliveries to the endpoints finance registers (Standard Webhooks)."""

    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"
