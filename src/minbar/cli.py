"""The ``minbar`` command: Django's management commands plus Minbar's own."""

from __future__ import annotations

import os
import sys

MINBAR_COMMANDS = {
    "serve": "web server with the embedded worker and scheduler",
    "worker": "task worker only, for scale-out",
    "demo": "set up demo data and serve it on 127.0.0.1:$MINBAR_PORT",
    "token": "create, list or revoke API tokens",
    "backup": "write a consistent copy of the database and media",
    "restore": "restore a backup written by 'minbar backup'",
    "check_config": "validate the configuration and check the database and queue",
    "networks": "the networks Minbar can connect to and their capabilities",
    "sandbox": "the built-in sandbox network: serve it alone, create accounts, advance its clock",
    "rotate_secrets": "re-encrypt stored secrets with the newest encryption key",
}


def _usage() -> str:
    lines = ["usage: minbar <command> [options]", "", "Minbar commands:"]
    lines += [f"  {name:<13} {text}" for name, text in MINBAR_COMMANDS.items()]
    lines += [
        "",
        "Every Django management command works too (migrate, createsuperuser, …).",
        "Run 'minbar help <command>' for a command's options.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_usage())
        return 0
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minbar.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"minbar: configuration error: {exc}", file=sys.stderr)
        return 2
    from django.core.management import execute_from_command_line
    from django.db import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError

    try:
        execute_from_command_line(["minbar", *args])
    except KeyboardInterrupt:
        return 130
    except OperationalError as exc:
        print(f"minbar: cannot use the database: {_first_line(exc)}", file=sys.stderr)
        return 1
    except RedisConnectionError as exc:
        print(
            f"minbar: cannot reach the queue (MINBAR_QUEUE_URL): {_first_line(exc)}",
            file=sys.stderr,
        )
        return 1
    return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
