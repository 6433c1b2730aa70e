from __future__ import annotations

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "minbar.sandbox"
    label = "sandbox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the periodic task that advances the simulation.
        from minbar.sandbox import tasks  # noqa: F401
