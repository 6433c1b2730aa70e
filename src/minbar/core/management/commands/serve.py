from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from minbar.core.server import serve
from minbar.i18n_build import compile_catalogues


class Command(BaseCommand):
    help = "Serve Minbar: web server plus the embedded worker and scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=settings.MINBAR_PORT,
            help="port (default $MINBAR_PORT or 8000)",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not run tasks in this process (use 'minbar worker')",
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="do not apply database migrations on start"
        )
        parser.add_argument("--threads", type=int, default=8, help="web request threads")

    def handle(self, *args: Any, **options: Any) -> None:
        compile_catalogues()
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        serve(
            options["host"],
            options["port"],
            with_worker=not options["no_worker"],
            threads=options["threads"],
        )
