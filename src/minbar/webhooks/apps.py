from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "minbar.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from minbar.webhooks import receivers  # noqa: F401 - connects the signal handlers
