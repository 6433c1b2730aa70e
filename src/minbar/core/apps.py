from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "minbar.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers periodic tasks with the queue in every process that loads Django.
        from minbar.channels import tasks as channel_tasks  # noqa: F401
        from minbar.core import tasks  # noqa: F401
        from minbar.publishing import tasks as publishing_tasks  # noqa: F401
        from minbar.workspaces import tasks as workspace_tasks  # noqa: F401
