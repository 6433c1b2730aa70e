from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minbar.accounts import actions
from minbar.accounts.models import ApiToken, User
from minbar.core.actor import Actor
from minbar.core.errors import ActionError
from minbar.workspaces.models import Workspace


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print it once")
        create.add_argument("--user", required=True, help="username of the token's owner")
        create.add_argument("--workspace", required=True, help="workspace address (slug)")
        create.add_argument("--role", help="role the token acts with (default: the user's role)")
        create.add_argument("--name", default="cli", help="a name to recognise the token by")
        create.add_argument("--expires-days", type=int, help="days until it expires")
        listing = sub.add_parser("list", help="list tokens (never their secrets)")
        listing.add_argument("--user", help="only this user's tokens")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix or full value")
        revoke.add_argument("token", help="the prefix shown by 'list', or the token itself")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except ActionError as exc:
            raise CommandError(exc.message) from None

    def _create(self, options: dict[str, Any]) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user named {options['user']!r}")
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"no workspace with address {options['workspace']!r}")
        created = actions.create_api_token(
            Actor.cli(),
            user,
            workspace,
            name=options["name"],
            role=options["role"],
            expires_in_days=options["expires_days"],
        )
        self.stderr.write(
            f"Token {created.token.prefix} for {user.username} in "
            f"{workspace.slug} as {created.token.role}. It is shown only once:"
        )
        self.stdout.write(created.secret)

    def _list(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.select_related("user", "workspace").order_by("user__username")
        if options["user"]:
            tokens = tokens.filter(user__username=options["user"])
        self.stdout.write(
            f"{'prefix':<10} {'user':<16} {'workspace':<20} {'role':<12} {'state':<8} name"
        )
        for t in tokens:
            state = "active" if t.is_active else ("revoked" if t.revoked_at else "expired")
            self.stdout.write(
                f"{t.prefix:<10} {t.user.username:<16} {t.workspace.slug:<20} "
                f"{t.role:<12} {state:<8} {t.name}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        token = actions.revoke_api_token(Actor.cli(), None, options["token"])
        self.stdout.write(f"Revoked token {token.prefix} ({token.name}) of {token.user.username}.")
