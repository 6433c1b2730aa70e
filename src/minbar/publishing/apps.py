from __future__ import annotations

from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "minbar.publishing"
    label = "publishing"
    default_auto_field = "django.db.models.BigAutoField"
