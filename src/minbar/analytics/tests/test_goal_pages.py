"""Goal pages and API: who sees and changes goals, what the form says, what dashboards show."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conftest import make_user
from minbar.analytics import actions
from minbar.analytics.models import Goal, TargetKind
from minbar.analytics.providers import reset_link_provider, set_link_provider
from minbar.analytics.store import LAG, Event, get_store
from minbar.analytics.tests.helpers import fake_channel, install_fake_networks
from minbar.core.actor import Actor
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Membership
from minbar.workspaces.roles import Role


@pytest.fixture(autouse=True)
def _no_links_app():
    set_link_provider(None)
    yield
    reset_link_provider()


@pytest.fixture
def pulse(world, monkeypatch):
    """A Pulse channel with 100 engagements 15 days ago and 30 two days ago (UTC days)."""
    world.acme.time_zone = "UTC"  # the goals' days and the test's "today" agree
    world.acme.save(update_fields=["time_zone"])
    install_fake_networks(monkeypatch)
    channel = fake_channel(world.acme, "pulse")
    now = timezone.now()
    get_store().record(
        [
            Event(world.acme.pk, channel.pk, 1, 1, "likes", now - timedelta(days=15), 100),
            Event(world.acme.pk, channel.pk, 1, 1, "likes", now - timedelta(days=2), 30),
        ]
    )
    get_store().roll_up(timezone.now() + LAG)
    return channel


def form_data(**fields: str) -> dict[str, str]:
    today = timezone.localdate()
    return {
        "name": "Spring engagement",
        "metric": "engagements",
        "target_kind": "absolute",
        "target_value": "200",
        "start_day": (today - timedelta(days=9)).isoformat(),
        "end_day": (today + timedelta(days=20)).isoformat(),
        "channel_id": "",
        "tag": "",
        "owner_id": "",
    } | fields


def a_goal(world, **fields) -> Goal:
    today = timezone.localdate()
    values: dict[str, Any] = {
        "name": "Spring engagement",
        "metric": "engagements",
        "target_kind": TargetKind.ABSOLUTE,
        "target_value": Decimal("200"),
        "start_day": today - timedelta(days=9),
        "end_day": today + timedelta(days=20),
    } | fields
    data = actions.GoalInput(**values)
    return actions.create_goal(Actor(user=world.alice), access_for(world.alice, "acme"), data)


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def analyst_and_client(world):
    analyst = make_user("ana")
    client_user = make_user("cleo")
    Membership.objects.create(user=analyst, workspace=world.acme, role=Role.ANALYST)
    Membership.objects.create(user=client_user, workspace=world.acme, role=Role.CLIENT)
    return analyst, client_user


# -- pages --------------------------------------------------------------------------


def test_owner_and_member_see_goals_outsider_gets_404(world, pulse):
    goal = a_goal(world)
    for user in (world.alice, world.bob):
        page = login(user).get("/w/acme/analytics/goals/")
        assert page.status_code == 200
        assert f'id="goal-{goal.pk}"' in page.content.decode()
    outsider = login(world.charlie)
    for url in (
        "/w/acme/analytics/goals/",
        "/w/acme/analytics/goals/new/",
        f"/w/acme/analytics/goals/{goal.pk}/edit/",
        f"/w/acme/analytics/goals/{goal.pk}/delete/",
    ):
        assert outsider.get(url).status_code == 404
    assert outsider.post(f"/w/acme/analytics/goals/{goal.pk}/delete/").status_code == 404
    assert Goal.objects.filter(pk=goal.pk).exists()


def test_outsider_cannot_reach_an_acme_goal_from_their_own_workspace(world, pulse):
    goal = a_goal(world)
    outsider = login(world.charlie)
    assert outsider.get(f"/w/globex/analytics/goals/{goal.pk}/edit/").status_code == 404
    assert outsider.post(f"/w/globex/analytics/goals/{goal.pk}/delete/").status_code == 404
    assert Goal.objects.filter(pk=goal.pk).exists()


def test_an_analyst_sees_goals_but_cannot_change_them_and_a_client_sees_none(world, pulse):
    goal = a_goal(world)
    analyst, client_user = analyst_and_client(world)
    page = login(analyst).get("/w/acme/analytics/goals/").content.decode()
    assert "Spring engagement" in page and 'data-testid="new-goal"' not in page
    assert login(analyst).get("/w/acme/analytics/goals/new/").status_code == 403
    assert login(analyst).post(f"/w/acme/analytics/goals/{goal.pk}/delete/").status_code == 403
    assert login(client_user).get("/w/acme/analytics/goals/").status_code == 403


def test_creating_a_goal_from_the_form(world, pulse):
    response = login(world.bob).post("/w/acme/analytics/goals/new/", form_data())
    goal = Goal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/w/acme/analytics/goals/#goal-{goal.pk}"
    assert goal.owner == world.bob and goal.created_by == world.bob
    assert goal.baseline == 100  # the 10 days before the first day
    page = login(world.bob).get("/w/acme/analytics/goals/").content.decode()
    assert 'data-testid="goal-current">30<' in page
    assert 'data-testid="goal-target">200<' in page
    assert 'data-testid="goal-chart"' in page and 'class="projected"' in page


def test_the_form_says_what_is_wrong(world, pulse):
    client = login(world.alice)
    today = timezone.localdate()
    backwards = client.post(
        "/w/acme/analytics/goals/new/",
        form_data(end_day=(today - timedelta(days=30)).isoformat()),
    )
    assert backwards.status_code == 422
    assert "The last day must be on or after the first day." in backwards.content.decode()
    zero = client.post("/w/acme/analytics/goals/new/", form_data(target_value="0"))
    assert "Enter a target above zero." in zero.content.decode()
    no_baseline = client.post(
        "/w/acme/analytics/goals/new/",
        form_data(
            target_kind="percent",
            target_value="15",
            start_day=(today - timedelta(days=12)).isoformat(),
            end_day=(today - timedelta(days=11)).isoformat(),
        ),
    ).content.decode()
    assert "A percentage needs a baseline above zero" in no_baseline
    assert "Enter a value to reach instead." in no_baseline
    assert Goal.objects.count() == 0


def test_editing_and_deleting_a_goal(world, pulse):
    goal = a_goal(world)
    client = login(world.bob)
    edit = client.get(f"/w/acme/analytics/goals/{goal.pk}/edit/")
    assert 'value="Spring engagement"' in edit.content.decode()
    saved = client.post(
        f"/w/acme/analytics/goals/{goal.pk}/edit/",
        form_data(name="Summer engagement", owner_id=str(world.alice.pk)),
    )
    assert saved.status_code == 302
    goal.refresh_from_db()
    assert goal.name == "Summer engagement" and goal.owner == world.alice
    confirm = client.get(f"/w/acme/analytics/goals/{goal.pk}/delete/")
    assert "Delete the goal" in confirm.content.decode()
    assert client.post(f"/w/acme/analytics/goals/{goal.pk}/delete/").status_code == 302
    assert not Goal.objects.exists()


def test_measuring_the_baseline_again(world, pulse):
    goal = a_goal(world)
    Goal.objects.filter(pk=goal.pk).update(baseline=None)
    response = login(world.alice).post(f"/w/acme/analytics/goals/{goal.pk}/baseline/")
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.baseline == 100


def test_dashboards_show_the_goals_of_their_scope(world, pulse):
    workspace_goal = a_goal(world)
    channel_goal = a_goal(world, name="Pulse only", channel_id=pulse.pk)
    tag_goal = a_goal(world, name="Launch", tag="launch")
    client = login(world.bob)
    overview = client.get("/w/acme/analytics/").content.decode()
    assert f'id="goal-{workspace_goal.pk}"' in overview
    assert f'id="goal-{channel_goal.pk}"' not in overview
    channel = client.get(f"/w/acme/analytics/channels/{pulse.pk}/").content.decode()
    assert f'id="goal-{channel_goal.pk}"' in channel
    assert f'id="goal-{workspace_goal.pk}"' not in channel
    assert f"/w/acme/analytics/goals/new/?channel={pulse.pk}" in channel
    tag = client.get("/w/acme/analytics/tags/launch/").content.decode()
    assert f'id="goal-{tag_goal.pk}"' in tag


def test_the_chart_is_mirrored_in_arabic(world, pulse):
    a_goal(world)
    world.bob.language = "ar"
    world.bob.save(update_fields=["language"])
    page = login(world.bob).get("/w/acme/analytics/goals/").content.decode()
    assert 'dir="rtl"' in page
    # The measured line starts at the first day, drawn on the right (x = 600.0).
    assert 'points="600.0,130.0' in page
    # SVG numbers are never localized: no Arabic decimal separator in coordinates.
    assert "\u066b" not in page.split('class="goal-chart"')[1].split("</svg>")[0]


# -- API ----------------------------------------------------------------------------


def api(client: Client, method: str, path: str, body: dict | None = None):
    return client.generic(
        method,
        f"/api/v1/workspaces{path}",
        data=json.dumps(body or {}),
        content_type="application/json",
    )


def test_api_creates_lists_measures_updates_and_deletes_goals(world, pulse):
    client = login(world.bob)
    today = timezone.localdate()
    created = api(
        client,
        "POST",
        "/acme/goals",
        {
            "name": "API goal",
            "metric": "engagements",
            "target_kind": "percent",
            "target_value": "50",
            "start_day": (today - timedelta(days=9)).isoformat(),
            "end_day": (today + timedelta(days=20)).isoformat(),
            "channel_id": pulse.pk,
        },
    )
    assert created.status_code == 201, created.content
    goal_id = created.json()["id"]
    assert created.json()["baseline"] == 100
    assert [g["id"] for g in api(client, "GET", "/acme/goals").json()] == [goal_id]
    progress = api(client, "GET", f"/acme/goals/{goal_id}/progress").json()
    assert progress["target"] == pytest.approx(150)
    assert progress["current"] == 30
    assert progress["total_days"] == 30 and progress["elapsed_days"] == 10
    assert progress["projection"] == pytest.approx(90)  # 30 * 30 / 10
    assert progress["status"] == "behind"
    assert progress["series"][-1] == {"day": today.isoformat(), "value": 30.0}
    patched = api(
        client, "PATCH", f"/acme/goals/{goal_id}", {"target_kind": "absolute", "target_value": 95}
    )
    assert patched.status_code == 200, patched.content
    assert Decimal(patched.json()["target_value"]) == 95
    assert patched.json()["channel_id"] == pulse.pk  # what was not sent is kept
    assert api(client, "GET", f"/acme/goals/{goal_id}/progress").json()["status"] == "at_risk"
    assert api(client, "POST", f"/acme/goals/{goal_id}/baseline").status_code == 200
    assert api(client, "DELETE", f"/acme/goals/{goal_id}").status_code == 204
    assert not Goal.objects.exists()


def test_api_reports_bad_goals_field_by_field(world, pulse):
    response = api(login(world.alice), "POST", "/acme/goals", {"name": "x", "metric": "x"})
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert {"metric", "target_value", "start_day", "end_day"} <= set(fields)


def test_api_permissions_for_goals(world, pulse):
    goal = a_goal(world)
    analyst, _client_user = analyst_and_client(world)
    as_analyst = login(analyst)
    assert api(as_analyst, "GET", "/acme/goals").status_code == 200
    assert api(as_analyst, "GET", f"/acme/goals/{goal.pk}/progress").status_code == 200
    assert api(as_analyst, "DELETE", f"/acme/goals/{goal.pk}").status_code == 403
    outsider = login(world.charlie)
    assert api(outsider, "GET", f"/acme/goals/{goal.pk}").status_code == 404
    assert api(outsider, "GET", f"/globex/goals/{goal.pk}").status_code == 404
    assert api(outsider, "DELETE", f"/globex/goals/{goal.pk}").status_code == 404
    assert Goal.objects.filter(pk=goal.pk).exists()


def test_goal_endpoints_are_in_the_openapi_schema(world):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/workspaces/{slug}/goals" in paths
    assert "/api/v1/workspaces/{slug}/goals/{goal_id}/progress" in paths


def test_pages_reuse_a_measurement_for_minutes_and_measure_again_after_an_edit(world, pulse):
    goal = a_goal(world)
    client = login(world.alice)
    assert (
        'data-testid="goal-current">30<' in client.get("/w/acme/analytics/goals/").content.decode()
    )
    get_store().record([Event(world.acme.pk, pulse.pk, 1, 1, "likes", timezone.now(), 5)])
    get_store().roll_up(timezone.now() + LAG)
    page = client.get("/w/acme/analytics/goals/").content.decode()
    assert 'data-testid="goal-current">30<' in page  # the card's numbers are a few minutes old
    api_view = api(client, "GET", f"/acme/goals/{goal.pk}/progress").json()
    assert api_view["current"] == 35  # the API always measures
    client.post(f"/w/acme/analytics/goals/{goal.pk}/edit/", form_data(name="Renamed"))
    page = client.get("/w/acme/analytics/goals/").content.decode()
    assert 'data-testid="goal-current">35<' in page
