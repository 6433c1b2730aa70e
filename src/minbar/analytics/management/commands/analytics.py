from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Analytics maintenance. `rebuild` recomputes every hourly and daily rollup from the "
        "stored events (after a restore, a change of post tags, or a bug fix); `collect` "
        "fetches the counters that are due now; `keys` prints which engagement counters each "
        "network reports (the table in docs/metrics.md); `goals` prints each goal's progress "
        "and status; `check-goals` runs the daily goal check now (alerts included)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["rebuild", "collect", "keys", "goals", "check-goals"]
        )
        parser.add_argument("--workspace", default="", help="only this workspace (its slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        from minbar.analytics import collection
        from minbar.analytics.store import get_store
        from minbar.workspaces.models import Workspace

        if options["action"] == "keys":
            from minbar.analytics.definitions import engagement_table
            from minbar.connectors.registry import all_connectors

            self.stdout.write(engagement_table(all_connectors().values()), ending="")
            return
        workspace_id = None
        if options["workspace"]:
            workspace = Workspace.objects.filter(slug=options["workspace"]).first()
            if workspace is None:
                raise CommandError(f"No workspace with the slug {options['workspace']!r}.")
            workspace_id = workspace.pk
        if options["action"] in ("goals", "check-goals"):
            self._goals(options["action"], workspace_id)
            return
        if options["action"] == "rebuild":
            began = time.perf_counter()
            tags = collection.resync_tags(workspace_id)
            rows = get_store().rebuild(workspace_id)
            self.stdout.write(
                f"Rebuilt {rows:,} rollup rows ({tags:,} post tags) "
                f"in {time.perf_counter() - began:.1f} s."
            )
            return
        from django.utils import timezone

        tracked = collection.track_published()
        channels = collection.due_channels(timezone.now(), limit=10_000)
        posts = 0
        for channel_id in channels:
            got = collection.collect_channel(channel_id)
            posts += got.posts
            if got.error:
                self.stderr.write(f"channel {channel_id}: {got.error}")
        hours = get_store().roll_up()
        self.stdout.write(
            f"Tracked {tracked} new post(s); collected {posts} post snapshot(s) on "
            f"{len(channels)} channel(s); re-summed {hours} hour(s)."
        )

    def _goals(self, action: str, workspace_id: int | None) -> None:
        from minbar.analytics import actions
        from minbar.analytics import goals as g
        from minbar.workspaces.models import Workspace

        if action == "check-goals":
            self.stdout.write(f"Checked {actions.check_goals()} goal(s).")
            return
        workspaces = Workspace.objects.order_by("slug")
        if workspace_id is not None:
            workspaces = workspaces.filter(pk=workspace_id)
        for workspace in workspaces:
            for s in g.all_summaries(g.reading_access(workspace)):
                metric = g.METRICS[s.metric]
                self.stdout.write(
                    f"{workspace.slug}\t{s.goal_id}\t{s.name}\t{s.metric}\t"
                    f"now {actions.value_text(metric, s.current)}\t"
                    f"target {actions.value_text(metric, s.target)}\t"
                    f"projected {actions.value_text(metric, s.projection)}\t{s.status}"
                )
