from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from minbar.taskqueue import describe_queue


class Command(BaseCommand):
    help = "Validate the configuration and print it, with secrets hidden."

    def handle(self, *args: Any, **options: Any) -> None:
        db = settings.DATABASES["default"]
        rows = [
            ("MINBAR_ENV", settings.MINBAR_ENV),
            ("MINBAR_DATA_DIR", str(settings.DATA_DIR)),
            ("database", f"{str(db['ENGINE']).rsplit('.', 1)[-1]} {db.get('NAME')}"),
            ("MINBAR_QUEUE_URL", describe_queue(settings.MINBAR_QUEUE_URL)),
            ("MINBAR_PORT", str(settings.MINBAR_PORT)),
            ("MINBAR_BASE_URL", settings.MINBAR_BASE_URL),
            ("MINBAR_ALLOWED_HOSTS", ", ".join(settings.ALLOWED_HOSTS)),
            ("email backend", settings.EMAIL_BACKEND.rsplit(".", 2)[-2]),
            (
                "encryption keys",
                f"{len(settings.MINBAR_ENCRYPTION_KEYS)} configured"
                + ("" if settings.MINBAR_ENCRYPTION_KEYS else " (derived from the secret key)"),
            ),
        ]
        for name, value in rows:
            self.stdout.write(f"{name:<22} {value}")
        self.stdout.write(self.style.SUCCESS("Configuration is valid."))
