from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from minbar.taskqueue import describe_queue


class Command(BaseCommand):
    help = "Run a task worker (and the scheduler) without the web server, for scale-out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=2, help="worker threads (default 2)")
        parser.add_argument(
            "--no-periodic", action="store_true", help="do not run periodic tasks in this worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from huey.consumer_options import ConsumerConfig
        from huey.contrib.djhuey import HUEY

        config = ConsumerConfig(
            workers=options["workers"], worker_type="thread", periodic=not options["no_periodic"]
        )
        config.setup_logger(logging.getLogger("huey"))
        self.stdout.write(
            f"Minbar worker on queue {describe_queue(settings.MINBAR_QUEUE_URL)} "
            f"with {options['workers']} threads. Ctrl-C to stop."
        )
        # Under a supervisor stdout is a pipe or file: without a flush the banner waits in
        # the buffer, and a worker stopped early would leave no line saying it ever started.
        self.stdout.flush()
        consumer = HUEY.create_consumer(**config.values)
        consumer.run()
