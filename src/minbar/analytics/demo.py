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
