from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "api.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"
