from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from minbar.links.rollups import recompute


class Command(BaseCommand):
    help = "Rebuild the hourly and daily click rollups of the last N UTC days from raw clicks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=2, help="UTC days back, today included")

    def handle(self, *args: Any, **options: Any) -> None:
        days = max(1, int(options["days"]))
        last = timezone.now().astimezone(UTC).date()
        first = last - timedelta(days=days - 1)
        read = recompute(first, last)
        self.stdout.write(f"Rebuilt click rollups for {first} to {last} from {read} clicks.")
