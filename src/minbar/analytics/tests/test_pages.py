"""Dashboards, CSV exports and the API: who sees what, and what they are shown."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from conftest import make_user
from minbar.accounts.actions import create_api_token
from minbar.analytics import collection
from minbar.analytics.models import AccountSnapshot, Collector, Tracker
from minbar.analytics.providers import LinkScope, LinkTotals, reset_link_provider, set_link_provider
from minbar.analytics.store import LAG, get_store
from minbar.analytics.tests.helpers import (
    FakeNetwork,
    fake_channel,
    install_fake_networks,
    published,
)
from minbar.core.actor import Actor
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Role


class FakeLinks:
    """A links app stand-in: fixed clicks and conversions, remembering what it was asked."""

    def __init__(self) -> None:
        self.scopes: list[LinkScope] = []

    def totals(self, scope: LinkScope, start: datetime, end: datetime) -> LinkTotals:
        self.scopes.append(scope)
        return LinkTotals(clicks=40, unique_visitors=31, conversions=6, revenue=Decimal("120.50"))

    def by_channel(self, scope, start, end):
        return {cid: LinkTotals(clicks=40) for cid in scope.channel_ids or ()}

    def daily(self, scope: LinkScope, start: datetime, end: datetime, zone: ZoneInfo):
        return {start.astimezone(zone).date(): LinkTotals(clicks=40)}


@pytest.fixture(autouse=True)
def _no_links_app():
    set_link_provider(None)
    yield
    reset_link_provider()


@pytest.fixture
def measured(world, monkeypatch):
    """Acme with a Pulse and an Echo channel, three measured posts, followers counted."""
    install_fake_networks(monkeypatch)
    pulse = fake_channel(world.acme, "pulse")
    echo = fake_channel(world.acme, "echo", "@acme.echo")
    out = timezone.now() - timedelta(hours=3)
    published(pulse, "p1", out, text="Iced latte is back", tags=["launch"])
    published(pulse, "p2", out, text="Monday blend")
    published(echo, "e1", out, text="Echo news")
    FakeNetwork.counters.update(
        {
            "p1": {"likes": 30, "comments": 5, "clicks": 5, "impressions": 1000},
            "p2": {"likes": 2, "comments": 0, "clicks": 0, "impressions": 400},
            "e1": {"likes": 8, "shares": 2, "reach": 250},
            "@account": {"followers": 1500},
        }
    )
    collection.track_published()
    for channel in (pulse, echo):
        collection.collect_channel(channel.pk)
    get_store().roll_up(timezone.now() + LAG)
    return pulse, echo


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


def test_owner_and_member_see_the_dashboard_outsider_gets_404(world, measured):
    url = "/w/acme/analytics/"
    assert login(Client(), world.alice).get(url).status_code == 200
    assert login(Client(), world.bob).get(url).status_code == 200
    assert login(Client(), world.charlie).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to sign in


def test_a_client_cannot_see_analytics_but_an_analyst_can(world, measured):
    client_user = make_user("cleo")
    analyst = make_user("ana")
    Membership.objects.create(user=client_user, workspace=world.acme, role=Role.CLIENT)
    Membership.objects.create(user=analyst, workspace=world.acme, role=Role.ANALYST)
    assert login(Client(), client_user).get("/w/acme/analytics/").status_code == 403
    assert login(Client(), analyst).get("/w/acme/analytics/").status_code == 200


def test_kpis_are_the_hand_computed_numbers_with_not_provided_notes(world, measured):
    page = login(Client(), world.alice).get("/w/acme/analytics/?days=7").content.decode()
    # engagements: Pulse 30+5+5 + 2 = 42, Echo 8+2 = 10 -> 52
    assert 'data-testid="kpi-engagements">52<' in page
    assert 'data-testid="kpi-impressions">1,400<' in page
    # rate by impressions over Pulse only: 42 / 1400 = 3.0 %
    assert 'data-testid="kpi-engagement_rate">3.0%<' in page
    assert 'data-testid="note-engagement_rate">not provided by Echo<' in page
    # reach only from Echo's post: 10 / 250 = 4.0 %, average 250
    assert 'data-testid="kpi-engagement_rate_reach">4.0%<' in page
    assert 'data-testid="kpi-average_reach">250.0<' in page
    assert 'data-testid="note-average_reach">not provided by Pulse<' in page
    assert 'data-testid="kpi-followers">1,500<' in page
    assert 'data-testid="kpi-shares">2<' in page
    assert 'data-testid="note-shares">not provided by Pulse<' in page
    assert 'data-testid="kpi-referrals">—<' in page
    assert "the links app is not installed" in page
    assert 'data-testid="kpi-saves"' not in page  # no network here has saves at all


def test_the_funnel_shows_what_exists_and_names_the_missing_source(world, measured):
    page = login(Client(), world.alice).get("/w/acme/analytics/").content.decode()
    funnel = page[page.index('data-testid="funnel"') :]
    funnel = funnel[: funnel.index("</figure>")]
    assert "1,400" in funnel and "52" in funnel
    assert funnel.count("the links app is not installed") == 2


def test_a_link_provider_fills_referrals_conversions_and_revenue(world, measured):
    links = FakeLinks()
    set_link_provider(links)
    pulse, _echo = measured
    response = login(Client(), world.alice).get(f"/w/acme/analytics/channels/{pulse.pk}/")
    page = response.content.decode()
    assert 'data-testid="kpi-referrals">40<' in page
    assert 'data-testid="kpi-conversions">6<' in page
    assert 'data-testid="kpi-revenue">120.50<' in page
    assert "not installed" not in page
    assert links.scopes[0] == LinkScope(workspace_id=world.acme.pk, channel_ids=(pulse.pk,))


def test_channel_post_and_tag_pages_narrow_the_numbers(world, measured):
    pulse, _echo = measured
    client = login(Client(), world.alice)
    channel_page = client.get(f"/w/acme/analytics/channels/{pulse.pk}/").content.decode()
    assert 'data-testid="kpi-engagements">42<' in channel_page
    post = Tracker.objects.get(remote_id="p1").post_id
    post_page = client.get(f"/w/acme/analytics/posts/{post}/").content.decode()
    assert 'data-testid="kpi-engagements">40<' in post_page
    tag_page = client.get("/w/acme/analytics/tags/launch/").content.decode()
    assert 'data-testid="kpi-engagements">40<' in tag_page
    assert 'data-testid="kpi-posts">1<' in tag_page


def test_other_workspaces_channels_and_posts_are_404(world, measured, monkeypatch):
    theirs = fake_channel(world.globex, "pulse", "@globex")
    target = published(theirs, "g1", timezone.now())
    client = login(Client(), world.alice)
    assert client.get(f"/w/acme/analytics/channels/{theirs.pk}/").status_code == 404
    assert client.get(f"/w/acme/analytics/posts/{target.post_id}/").status_code == 404
    assert login(Client(), world.charlie).get("/w/acme/analytics/tags/launch/").status_code == 404


def test_top_posts_rank_by_engagements_or_rate(world, measured):
    client = login(Client(), world.alice)
    page = client.get("/w/acme/analytics/").content.decode()
    top = page[page.index('data-testid="top-posts"') :]
    assert top.index("Iced latte is back") < top.index("Echo news") < top.index("Monday blend")
    by_rate = client.get("/w/acme/analytics/?rank=rate").content.decode()
    top = by_rate[by_rate.index('data-testid="top-posts"') :]
    # Echo's post has no impressions: it cannot be ranked by rate. 40/1000 > 2/400.
    assert top.index("Iced latte is back") < top.index("Monday blend")
    assert "Echo news" not in top[: top.index("</table>")]


def test_comparison_with_the_previous_period(world, measured):
    pulse, _echo = measured
    tracker = Tracker.objects.get(remote_id="p1")
    # Ten days ago, the same post gathered 20 likes (an earlier snapshot).
    from minbar.analytics.store import Event

    get_store().record(
        [
            Event(
                workspace_id=world.acme.pk,
                channel_id=pulse.pk,
                post_id=tracker.post_id,
                target_id=tracker.target_id,
                metric="likes",
                occurred_at=timezone.now() - timedelta(days=10),
                value=26,
            )
        ]
    )
    get_store().roll_up(timezone.now() + LAG)
    page = login(Client(), world.alice).get("/w/acme/analytics/?days=7").content.decode()
    # Now 52 engagements, the 7 days before 26: +100 %
    assert 'data-testid="change-engagements">+100%<' in page


def test_custom_range_and_bad_ranges(world, measured):
    client = login(Client(), world.alice)
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    ok = client.get(f"/w/acme/analytics/?start={today - timedelta(days=2)}&end={today}")
    assert "(3 days, Europe/London)" in ok.content.decode()
    bad = client.get(f"/w/acme/analytics/?start={today}&end={today - timedelta(days=2)}")
    assert bad.status_code == 200
    assert "The last day comes before the first day." in bad.content.decode()
    assert (
        "Enter the day as YYYY-MM-DD."
        in client.get("/w/acme/analytics/?start=yesterday&end=today").content.decode()
    )


@pytest.mark.parametrize("table", ["kpis", "daily", "networks", "posts", "heatmap", "funnel"])
def test_every_table_downloads_as_csv(world, measured, table):
    response = login(Client(), world.alice).get(
        f"/w/acme/analytics/?days=7&format=csv&table={table}"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"-workspace-{table}-" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert len(rows) >= 2
    if table == "kpis":
        values = {r[0]: r for r in rows[1:]}
        assert values["engagements"][1] == "52"
        assert values["impressions"][4] == "Echo"  # not provided by
        assert values["referrals"][1] == ""  # not 0
        assert values["referrals"][5] == "the links app is not installed"
    if table == "daily":
        assert rows[0] == ["day", "engagements", "impressions", "referrals"]
        assert sum(int(r[1]) for r in rows[1:]) == 52
    if table == "heatmap":
        assert sum(int(v) for r in rows[1:] for v in r[1:]) == 52


def test_csv_export_is_for_members_only(world, measured):
    assert login(Client(), world.charlie).get("/w/acme/analytics/?format=csv").status_code == 404


def test_arabic_page_is_right_to_left_with_the_time_axis_mirrored(world, measured):
    world.alice.language = "ar"
    world.alice.save(update_fields=["language"])
    client = login(Client(), world.alice)
    client.cookies["django_language"] = "ar"
    page = client.get("/w/acme/analytics/?days=7", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'dir="rtl"' in page
    chart = page[page.index('data-testid="engagement-chart"') :]
    chart = chart[: chart.index("</svg>")]
    bars = re.findall(r'<rect x="([^"]+)" y="[^"]+" width="[^"]+" height="([^"]+)"', chart)
    assert len(bars) == 7
    # Today (the last day, where the engagement is) is drawn leftmost in Arabic, and
    # coordinates stay machine numbers ("0.0", never localized digits or separators).
    assert [x for x, height in bars if height != "0.0"] == ["0.0"]


# -- API ---------------------------------------------------------------------------------


def api(client: Client, path: str, token: str = ""):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(f"/api/v1{path}", headers=headers)


def test_api_gives_the_same_numbers(world, measured):
    token = create_api_token(
        Actor.system(), world.alice, world.acme, name="t", role=Role.OWNER
    ).secret
    response = api(Client(), "/workspaces/acme/analytics?days=7&tz=Asia/Riyadh", token)
    assert response.status_code == 200, response.content
    data = response.json()
    kpis = {k["key"]: k for k in data["kpis"]}
    assert kpis["engagements"]["value"] == 52
    assert kpis["engagement_rate"]["value"] == pytest.approx(0.03)
    assert kpis["engagement_rate"]["not_provided_by"] == ["Echo"]
    assert kpis["referrals"]["value"] is None
    assert kpis["referrals"]["unavailable"] == "the links app is not installed"
    assert data["period"]["time_zone"] == "Asia/Riyadh"
    assert len(data["daily"]) == 7
    assert sum(day["engagements"] for day in data["daily"]) == 52
    assert data["links_installed"] is False
    networks = {n["network"]: n for n in data["networks"]}
    assert networks["echo"]["totals"]["impressions"] is None
    assert networks["pulse"]["engagement_rate"] == pytest.approx(0.03)


def test_api_permissions_and_bad_input(world, measured):
    outsider = create_api_token(Actor.system(), world.charlie, world.globex, name="c").secret
    assert api(Client(), "/workspaces/acme/analytics", outsider).status_code == 404
    cleo = make_user("cleo")
    Membership.objects.create(user=cleo, workspace=world.acme, role=Role.CLIENT)
    client_token = create_api_token(
        Actor.system(), cleo, world.acme, name="c", role=Role.CLIENT
    ).secret
    denied = api(Client(), "/workspaces/acme/analytics", client_token)
    assert denied.status_code == 403
    owner = create_api_token(
        Actor.system(), world.alice, world.acme, name="o", role=Role.OWNER
    ).secret
    bad_zone = api(Client(), "/workspaces/acme/analytics?tz=Mars/Olympus", owner)
    assert bad_zone.status_code == 422
    assert bad_zone.json()["error"]["fields"]["tz"]
    backwards = api(Client(), "/workspaces/acme/analytics?start=2026-03-05&end=2026-03-01", owner)
    assert backwards.status_code == 422
    assert backwards.json()["error"]["fields"]["end"]


def test_followers_change_uses_the_snapshots_before_each_period(world, measured):
    pulse, _echo = measured
    AccountSnapshot.objects.create(
        workspace=world.acme,
        channel=pulse,
        day=date.today() - timedelta(days=9),
        fetched_at=timezone.now() - timedelta(days=9),
        values={"followers": 1200},
    )
    Collector.objects.all()
    page = login(Client(), world.alice).get("/w/acme/analytics/?days=7").content.decode()
    assert 'data-testid="kpi-followers">1,500<' in page
    assert 'data-testid="change-followers">+25%<' in page  # 1,500 vs 1,200


def test_reach_in_sql_matches_the_definition(world, monkeypatch):
    from minbar.analytics import definitions as d
    from minbar.analytics.reports import _post_stats

    install_fake_networks(monkeypatch)
    echo = fake_channel(world.acme, "echo")
    samples = [
        {"likes": 10, "shares": 2, "reach": 400},
        {"likes": 5, "reach": 100},
        {"likes": 7},
        {"likes": 1, "reach": 0},
    ]
    for i, values in enumerate(samples):
        published(echo, f"e{i}", timezone.now() - timedelta(hours=2))
        FakeNetwork.counters[f"e{i}"] = values
    collection.track_published()
    collection.collect_channel(echo.pk)
    count, in_sql = _post_stats(Tracker.objects.all())
    by_hand = d.reach(samples)
    assert count == 4
    assert in_sql.posts == by_hand.posts == 3
    assert in_sql.average == pytest.approx(by_hand.average)  # (400 + 100 + 0) / 3
    assert in_sql.highest == by_hand.highest == 400
    assert in_sql.engagement_rate == pytest.approx(by_hand.engagement_rate)  # (0.03 + 0.05) / 2


@pytest.mark.parametrize("scope", ["workspace", "channel", "tag"])
def test_figures_only_gives_the_dashboards_values_with_fewer_queries(world, measured, scope):
    """What goals measure (overview(figures_only=True)) is the dashboard's own numbers."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from minbar.analytics import reports
    from minbar.workspaces.access import access_for

    set_link_provider(FakeLinks())
    pulse, _echo = measured
    access = access_for(world.alice, "acme")
    narrowing = {"channel": {"channel_id": pulse.pk}, "tag": {"tag": "launch"}}.get(scope, {})
    where = reports.resolve_scope(access, **narrowing)
    period = reports.period_for(ZoneInfo("Asia/Riyadh"), timezone.now().date(), days=30)
    with CaptureQueriesContext(connection) as full_queries:
        full = reports.overview(access, where, period)
    with CaptureQueriesContext(connection) as lean_queries:
        lean = reports.overview(access, where, period, figures_only=True)
    assert [(k.key, k.value) for k in lean.kpis] == [(k.key, k.value) for k in full.kpis]
    followers = {k.key: k for k in full.kpis}.get("followers")
    for kpi in lean.kpis:
        if kpi.key == "followers":
            assert followers is not None and kpi.previous == followers.previous
        else:
            assert kpi.previous is None
    assert lean.daily == [] and lean.top_posts == [] and lean.heatmap == []
    assert len(lean_queries) < len(full_queries)
