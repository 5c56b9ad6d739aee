from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel below every app: errors, transactions, local time, the clock, roles."""

    name = "core"
    verbose_name = "Kernel"
