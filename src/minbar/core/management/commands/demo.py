from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from minbar.core.demo import PEOPLE, credentials_path, seed_demo
from minbar.core.server import serve
from minbar.i18n_build import compile_catalogues


class Command(BaseCommand):
    help = "Create the demo organization (once) and serve it on 127.0.0.1:$MINBAR_PORT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=settings.MINBAR_PORT)
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="only set up the demo data, do not start the server",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        compile_catalogues()
        self.stdout.write("Applying database migrations…")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Setting up the demo organization…")
        creds = seed_demo()
        port = options["port"]
        others = ", ".join(f"{p[0]} ({p[4].label})" for p in PEOPLE[1:])
        self.stdout.write(self.style.SUCCESS("\nMinbar demo is ready."))
        self.stdout.write(f"  Open:      http://127.0.0.1:{port}/")
        self.stdout.write(f"  Username:  {creds.username}")
        self.stdout.write(f"  Password:  {creds.password}")
        self.stdout.write(f"  Other users, same password: {others}")
        self.stdout.write(f"  API token: {creds.api_token}")
        self.stdout.write(
            f"  Try:       curl -H 'Authorization: Bearer {creds.api_token}' "
            f"http://127.0.0.1:{port}/api/v1/workspaces"
        )
        self.stdout.write(f"  Saved in:  {credentials_path()}\n")
        if not options["no_serve"]:
            from minbar.core.tasks import demo_inbox_warm_up

            # The sandbox network is served by this same server: read it once it is up.
            demo_inbox_warm_up.schedule(delay=15)
            from minbar.analytics.tasks import demo_warm_up

            demo_warm_up.schedule(delay=20)  # bounded: a few rounds in the first half hour
            serve("127.0.0.1", port, with_worker=True)
