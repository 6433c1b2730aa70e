from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from minbar.core import backup


class Command(BaseCommand):
    help = "Write a consistent copy of the database and media while Minbar keeps serving."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            help="archive file or directory (default: $MINBAR_DATA_DIR/backups/"
            "minbar-YYYYmmdd-HHMMSS.tar.gz)",
        )
        parser.add_argument(
            "--force", action="store_true", help="overwrite the output file if it exists"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbose = options["verbosity"] > 0
        try:
            result = backup.create_backup(
                options["output"],
                force=options["force"],
                progress=self.stdout.write if verbose else backup.quiet,
            )
        except backup.BackupError as exc:
            raise CommandError(f"backup failed: {exc}") from None
        if verbose:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Backup saved: {result.path} ({backup.human_size(result.size)})"
                )
            )
