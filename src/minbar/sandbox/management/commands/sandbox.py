"""``minbar sandbox``: serve the sandbox network alone, create accounts, move the clock."""

from __future__ import annotations

import json
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from minbar.core.errors import ActionError
from minbar.sandbox import actions
from minbar.sandbox.flavours import Flavour
from minbar.sandbox.models import SandboxAccount


class Command(BaseCommand):
    help = "The built-in sandbox network: serve it alone, create accounts, advance the clock."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        serve = sub.add_parser("serve", help="serve only the sandbox network's URLs")
        serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
        serve.add_argument("--port", type=int, default=8765, help="port (default 8765)")
        serve.add_argument("--threads", type=int, default=4, help="request threads (default 4)")
        serve.add_argument(
            "--no-migrate", action="store_true", help="do not apply database migrations on start"
        )

        create = sub.add_parser("create", help="create an account and print its token")
        create.add_argument("--flavour", choices=Flavour.values, default=Flavour.X)
        create.add_argument("--name", required=True)
        create.add_argument("--handle", default="")
        create.add_argument("--seed", type=int, default=None)
        create.add_argument("--audience-size", type=int, default=actions.DEFAULT_SIZE)
        create.add_argument("--arabic-share", type=float, default=actions.DEFAULT_ARABIC_SHARE)
        create.add_argument("--follower-share", type=float, default=actions.DEFAULT_FOLLOWER_SHARE)
        create.add_argument("--topics", default="", help="comma-separated, e.g. coffee,food")
        create.add_argument("--speed", type=float, default=actions.DEFAULT_SPEED)

        advance = sub.add_parser("advance", help="move an account's simulated clock forward")
        advance.add_argument("handle")
        advance.add_argument("seconds", type=float)

        sub.add_parser("tick", help="release due events for every account (what the task does)")
        sub.add_parser("list", help="list sandbox accounts")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, f"_{action}")(options)
        except ActionError as exc:
            raise CommandError(exc.message) from None

    def _serve(self, options: dict[str, Any]) -> None:
        from minbar.sandbox.server import serve

        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        serve(options["host"], options["port"], threads=options["threads"])

    def _create(self, options: dict[str, Any]) -> None:
        created = actions.create_account(
            flavour=options["flavour"],
            name=options["name"],
            handle=options["handle"],
            seed=options["seed"],
            audience_size=options["audience_size"],
            arabic_share=options["arabic_share"],
            follower_share=options["follower_share"],
            topics=options["topics"],
            speed=options["speed"],
        )
        account = created.account
        self.stdout.write(
            json.dumps(
                {"handle": account.handle, "flavour": account.flavour, "token": created.token},
                ensure_ascii=False,
            )
        )

    def _account(self, handle: str) -> SandboxAccount:
        account = SandboxAccount.objects.filter(handle=handle.lstrip("@").lower()).first()
        if account is None:
            raise CommandError(f"No sandbox account @{handle}.")
        return account

    def _advance(self, options: dict[str, Any]) -> None:
        account = self._account(options["handle"])
        released = actions.advance(account, options["seconds"])
        self.stdout.write(f"@{account.handle}: {released} events released.")

    def _tick(self, options: dict[str, Any]) -> None:
        self.stdout.write(f"{actions.release_all()} events released.")

    def _list(self, options: dict[str, Any]) -> None:
        for account in SandboxAccount.objects.all():
            self.stdout.write(
                f"@{account.handle}\t{account.flavour}\tspeed {account.speed:g}\t"
                f"audience {account.audience_size}\t{account.name}"
            )
