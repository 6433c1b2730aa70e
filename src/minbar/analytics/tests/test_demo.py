"""The demo's sandbox posts are measured soon after it starts, with rising counters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from minbar.analytics import demo
from minbar.analytics.models import Goal, MetricEvent, Tracker
from minbar.analytics.store import LAG, get_store
from minbar.core.demo import ARABIC_SLUG, ENGLISH_SLUG, seed_demo
from minbar.publishing.models import Target, TargetState

SLUGS = [ENGLISH_SLUG, ARABIC_SLUG]


@pytest.mark.django_db
def test_demo_posts_are_tracked_and_the_warm_up_measures_them(settings, tmp_path, monkeypatch):
    from minbar.sandbox import actions as sandbox_actions
    from minbar.sandbox import clock
    from minbar.sandbox.models import SandboxAccount, SandboxPost
    from minbar.sandbox.tests.helpers import Clock, route_sandbox_in_process

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(clock, "now", Clock(datetime.now(UTC).replace(hour=12, minute=0)))
    route_sandbox_in_process(monkeypatch)
    seed_demo()
    out = Target.objects.filter(state=TargetState.PUBLISHED).exclude(remote_id="")
    top_level = SandboxPost.objects.filter(reply_to_post__isnull=True, reply_to_event__isnull=True)
    assert out.count() == top_level.count() > 0
    seed_demo()
    assert out.count() == top_level.count()  # recorded once
    # One running goal per demo workspace, in its language, made once.
    assert sorted(Goal.objects.values_list("workspace__slug", "name")) == [
        (ENGLISH_SLUG, "Engagement this month"),
        (ARABIC_SLUG, "تفاعل هذا الشهر"),
    ]

    first = demo.warm_up(SLUGS)
    assert first == out.count()
    impressions_before = sum(t.values.get("impressions", 0) for t in Tracker.objects.all())
    for account in SandboxAccount.objects.all():
        sandbox_actions.advance(account, 3 * 3600)  # three minutes of the demo's time
    demo.warm_up(SLUGS)
    impressions_after = sum(t.values.get("impressions", 0) for t in Tracker.objects.all())
    assert impressions_after > impressions_before > 0
    # The schedule is untouched by the extra snapshots: the +1 h one is still ahead.
    assert all(t.step == 0 for t in Tracker.objects.all())
    assert MetricEvent.objects.filter(workspace__slug=ARABIC_SLUG).exists()
    get_store().roll_up(timezone.now() + LAG)
    from minbar.analytics import reports
    from minbar.workspaces.access import access_for
    from minbar.workspaces.models import Membership

    owner = Membership.objects.filter(workspace__slug=ENGLISH_SLUG, role="owner").first()
    assert owner is not None
    access = access_for(owner.user, ENGLISH_SLUG)
    zone = reports.ZoneInfo("America/New_York")
    period = reports.period_for(zone, timezone.now().astimezone(zone).date(), days=7)
    result = reports.overview(access, reports.resolve_scope(access), period)
    engagements = next(k for k in result.kpis if k.key == "engagements").value
    assert engagements is not None and engagements > 0
