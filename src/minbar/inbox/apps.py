from __future__ import annotations

from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "minbar.inbox"
    label = "inbox"
    default_auto_field = "django.db.models.BigAutoField"
