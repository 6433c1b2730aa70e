"""The demo's posts are measured from the start (``minbar demo``).

The demo's sandbox accounts already have posts out when the demo opens (made in
the sandbox directly, before the server runs). :func:`record_demo_posts` records
them in Minbar as published posts, the way the dispatcher would have, so
analytics tracks them; :func:`warm_up` then takes a few extra snapshots in the
first half hour, while the simulated audience keeps reacting, so the dashboard
shows curves within minutes instead of after the first scheduled snapshot.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from minbar.channels.models import Channel

WARM_UP_ROUNDS = 10
WARM_UP_EVERY_SECONDS = 180
_HASHTAG = re.compile(r"#(\w+)")


@transaction.atomic
def record_demo_posts(workspace_slugs: list[str]) -> int:
    """Each demo sandbox post as a published Minbar post (once); returns how many were new."""
    from minbar.publishing.models import Post, PostState, Target, TargetState
    from minbar.sandbox import actions as sandbox_actions
    from minbar.sandbox.models import SandboxPost

    made = 0
    for channel in Channel.objects.filter(workspace__slug__in=workspace_slugs, network="sandbox"):
        account = sandbox_actions.authenticate(
            channel.get_credentials().secrets.get("access_token", "")
        )
        if account is None:
            continue
        known = set(
            Target.objects.filter(channel=channel)
            .exclude(remote_id="")
            .values_list("remote_id", flat=True)
        )
        for sandbox_post in SandboxPost.objects.filter(
            account=account,
            deleted_at__isnull=True,
            reply_to_post__isnull=True,
            reply_to_event__isnull=True,
        ).order_by("number"):
            if sandbox_post.remote_id in known:
                continue
            post = Post.objects.create(
                workspace=channel.workspace,
                text=sandbox_post.text,
                state=PostState.PUBLISHED,
                tags=list(dict.fromkeys(_HASHTAG.findall(sandbox_post.text))),
                created_at=sandbox_post.created_at,
                updated_at=sandbox_post.created_at,
            )
            Target.objects.create(
                post=post,
                channel=channel,
                state=TargetState.PUBLISHED,
                remote_id=sandbox_post.remote_id,
                published_at=sandbox_post.created_at,
            )
            made += 1
    demo_goals(workspace_slugs)
    return made


# The demo's goal, in each demo workspace's language (names are data, not UI strings).
DEMO_GOAL_NAMES = {"ar": "تفاعل هذا الشهر", "en": "Engagement this month"}
DEMO_GOAL_ENGAGEMENTS = 2000


def demo_goals(workspace_slugs: list[str]) -> int:
    """A running goal per demo workspace (once), so the goals page has one to show."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from minbar.analytics import goals as g
    from minbar.analytics.models import Goal, TargetKind
    from minbar.workspaces.models import Membership, Workspace
    from minbar.workspaces.roles import Role

    made = 0
    for workspace in Workspace.objects.filter(slug__in=workspace_slugs):
        name = DEMO_GOAL_NAMES.get(workspace.language, DEMO_GOAL_NAMES["en"])
        if Goal.objects.filter(workspace=workspace, name=name).exists():
            continue
        owner = Membership.objects.filter(workspace=workspace, role=Role.OWNER).first()
        today = timezone.now().astimezone(ZoneInfo(workspace.time_zone or "UTC")).date()
        goal = Goal(
            workspace=workspace,
            name=name,
            metric="engagements",
            target_kind=TargetKind.ABSOLUTE,
            target_value=DEMO_GOAL_ENGAGEMENTS,
            start_day=today - timedelta(days=2),
            end_day=today + timedelta(days=27),
            time_zone=workspace.time_zone or "UTC",
            owner_id=owner.user_id if owner else None,
            created_by_id=owner.user_id if owner else None,
        )
        goal.baseline = g.compute_baseline(g.reading_access(workspace), goal)
        goal.baseline_computed_at = timezone.now()
        goal.save()
        made += 1
    return made


def warm_up(workspace_slugs: list[str]) -> int:
    """One extra snapshot of every demo post now; returns the posts measured."""
    from minbar.analytics import collection

    collection.track_published()
    measured = 0
    now = timezone.now()
    for channel in Channel.objects.filter(workspace__slug__in=workspace_slugs, network="sandbox"):
        measured += collection.collect_channel(channel.pk, now, extra=True).posts
    return measured
