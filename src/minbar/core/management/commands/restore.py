from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from minbar.core import backup


class Command(BaseCommand):
    help = "Restore a backup written by 'minbar backup' (database and media)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="the .tar.gz written by 'minbar backup'")
        parser.add_argument(
            "--yes", action="store_true", help="do not ask for confirmation (for scripts)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interactive = sys.stdin is not None and sys.stdin.isatty()
        # Refuse before unpacking anything: nobody could answer the question.
        if not options["yes"] and not interactive:
            raise CommandError(
                "restore replaces the database and media; pass --yes to "
                "confirm when not running in a terminal"
            )
        progress = self.stdout.write if options["verbosity"] > 0 else backup.quiet
        try:
            with backup.check_archive(options["archive"], progress) as checked:
                if not options["yes"] and not self._confirm(checked):
                    raise CommandError("restore cancelled; nothing was changed")
                result = backup.restore_backup(checked, progress)
        except backup.BackupError as exc:
            raise CommandError(f"restore failed: {exc}") from None
        self._report(result, options["verbosity"])

    def _confirm(self, checked: backup.CheckedArchive) -> bool:
        manifest = checked.manifest
        vendor = backup.VENDOR_NAMES[connection.vendor]
        database = connection.settings_dict["NAME"]
        self.stdout.write(
            f"This replaces the {vendor} database {database} and the media in "
            f"{settings.MEDIA_ROOT} with the backup made {manifest.get('created_at')} by "
            f"Minbar {manifest.get('minbar_version')}. Stop 'minbar serve' and workers first."
        )
        self.stdout.write("Type 'yes' to restore: ", ending="")
        self.stdout.flush()
        return sys.stdin.readline().strip().lower() == "yes"

    def _report(self, result: backup.RestoreResult, verbosity: int) -> None:
        if not result.audit_recorded:
            self.stderr.write(
                "The restore could not be recorded in the audit log; run "
                "'minbar migrate' to update the restored database."
            )
        if result.pending_migrations:
            count = result.pending_migrations
            self.stdout.write(
                f"The backup is from an older version: {count} "
                f"{'migration is' if count == 1 else 'migrations are'} pending. Run "
                "'minbar migrate' (or start 'minbar serve', which applies them)."
            )
        if verbosity > 0:
            self.stdout.write(self.style.SUCCESS("Restore complete."))
