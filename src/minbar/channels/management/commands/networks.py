from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from minbar.channels.actions import available_networks
from minbar.channels.capabilities_table import markdown_table


class Command(BaseCommand):
    help = "List the networks Minbar can connect to and what it can do on each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--markdown",
            action="store_true",
            help="print the capabilities table in Markdown (docs/networks)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        connectors = available_networks()
        if options["markdown"]:
            self.stdout.write(markdown_table(connectors), ending="")
            return
        for cls in connectors:
            caps = cls.capabilities
            self.stdout.write(
                f"{caps.network:<12} {caps.label:<20} {caps.auth.value:<13} "
                f"{caps.text.max_length} {caps.text.counting.value}"
            )
