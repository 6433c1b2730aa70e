from __future__ import annotations

from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "minbar.links"
    label = "links"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from minbar.core.server import on_shutdown
        from minbar.links.recorder import shutdown

        # `minbar serve` writes the buffered clicks after waitress has stopped.
        on_shutdown(shutdown)
