from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

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
            ("email backend", str(settings.MAILERS["default"]["BACKEND"]).rsplit(".", 2)[-2]),
            (
                "encryption keys",
                f"{len(settings.MINBAR_ENCRYPTION_KEYS)} configured"
                + ("" if settings.MINBAR_ENCRYPTION_KEYS else " (derived from the secret key)"),
            ),
        ]
        for name, value in rows:
            self.stdout.write(f"{name:<22} {value}")
        self.stdout.write(self.style.SUCCESS("Configuration is valid."))
        problems = 0
        for name, check in (("database", _check_database), ("queue", _check_queue)):
            error = check()
            if error:
                problems += 1
                self.stderr.write(f"{name:<22} unreachable: {error}")
            else:
                self.stdout.write(f"{name:<22} reachable")
        if problems:
            raise CommandError("a service Minbar needs is unreachable", returncode=1)


def _check_database() -> str:
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        return str(exc).strip().splitlines()[0]
    return ""


def _check_queue() -> str:
    from huey.contrib.djhuey import HUEY

    try:
        HUEY.storage.queue_size()
    except Exception as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ""
