"""Health endpoints, the demo data set and the shell's honest module pages."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client

from minbar.accounts.actions import authenticate_api_token
from minbar.accounts.models import User
from minbar.core.demo import PEOPLE, seed_demo
from minbar.publishing.models import Post
from minbar.workspaces.models import Invitation, Membership, Workspace


def test_healthz_answers_without_the_database(client):
    # No django_db mark: any query here would raise "Database access not allowed".
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_and_queue(client):
    body = client.get("/readyz").json()
    assert body == {"status": "ok", "checks": {"database": "ok", "queue": "ok"}}


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_queue_with_503(client, monkeypatch):
    from huey.contrib.djhuey import HUEY

    def broken() -> int:
        raise ConnectionError("queue down")

    monkeypatch.setattr(HUEY.storage, "queue_size", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"] == "error: ConnectionError"


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_writes_credentials(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first = seed_demo()
    counts = (
        User.objects.count(),
        Workspace.objects.count(),
        Membership.objects.count(),
        Invitation.objects.count(),
        Post.objects.count(),
    )
    second = seed_demo()
    assert counts == (
        User.objects.count(),
        Workspace.objects.count(),
        Membership.objects.count(),
        Invitation.objects.count(),
        Post.objects.count(),
    )
    assert first == second
    # A week of planned posts per brand, one of them waiting for approval.
    for slug in ("oasis-coffee", "waha-coffee"):
        posts = Post.objects.filter(workspace__slug=slug)
        assert posts.filter(state="scheduled").count() >= 3
        assert posts.filter(state="awaiting_approval").count() == 1
    # Each brand's inbox has business hours, saved replies in its language and two rules.
    from minbar.inbox.models import InboxSettings, Rule, SavedReply

    for slug in ("oasis-coffee", "waha-coffee"):
        assert Rule.objects.filter(workspace__slug=slug).count() == 2
        assert SavedReply.objects.filter(workspace__slug=slug).count() == 2
        assert InboxSettings.objects.filter(workspace__slug=slug).exists()
    # The English brand routes posts through an editor, then the client.
    waiting = Post.objects.get(workspace__slug="oasis-coffee", state="awaiting_approval")
    assert [step["name"] for step in waiting.approval_steps] == [
        "Editor review",
        "Client sign-off",
    ]
    # Each brand has sandbox channels that already show activity.
    from minbar.channels.models import Channel

    for slug in ("oasis-coffee", "waha-coffee"):
        flavours = {
            c.get_credentials().data["flavour"]
            for c in Channel.objects.filter(workspace__slug=slug, network="sandbox")
        }
        assert flavours == {"x", "facebook", "instagram"}
    saved = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert {"username", "password", "api_token", "workspace"} <= set(saved)
    token = authenticate_api_token(saved["api_token"])
    assert token is not None and token.workspace.slug == saved["workspace"]
    assert Workspace.objects.get(slug="waha-coffee").language == "ar"
    roles = set(
        Membership.objects.filter(workspace__slug="oasis-coffee").values_list("role", flat=True)
    )
    assert roles == {p[4].value for p in PEOPLE}
    client = Client()
    assert (
        client.post(
            "/accounts/login/", {"username": saved["username"], "password": saved["password"]}
        ).status_code
        == 302
    )


@pytest.mark.django_db
def test_demo_command_without_serving_prints_the_login(settings, tmp_path, capsys):
    settings.DATA_DIR = tmp_path
    call_command("demo", "--no-serve")
    out = capsys.readouterr().out
    saved = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert saved["password"] in out and saved["api_token"] in out


def test_planned_module_page_says_what_it_will_do_without_numbers(world):
    client = Client()
    client.force_login(world.alice)
    html = client.get("/w/acme/m/audience/").content.decode()
    assert "What this module will do" in html
    assert "being built" in html
    assert client.get("/w/acme/m/no-such-module/").status_code == 404
    # A module that is built sends people to its own page.
    assert client.get("/w/acme/m/analytics/")["Location"] == "/w/acme/analytics/"


def test_dates_and_numbers_follow_the_users_language(world):
    from datetime import UTC, datetime

    from django.template import Context, Template
    from django.utils import translation

    template = Template('{% load humanize %}{{ when|date:"DATETIME_FORMAT" }} {{ n|intcomma }}')
    context = Context({"when": datetime(2026, 3, 5, 14, 30, tzinfo=UTC), "n": 1234567})
    with translation.override("ar"):
        assert template.render(context) == "5 مارس 2026، 14:30 1٬234٬567"
    with translation.override("en"):
        assert template.render(context) == "March 5, 2026, 2:30 p.m. 1,234,567"


@pytest.mark.django_db
def test_the_demo_inbox_fills_and_a_member_answers(settings, tmp_path, monkeypatch):
    from datetime import UTC, datetime

    from minbar.core.demo import warm_up_inbox
    from minbar.inbox.models import Item
    from minbar.sandbox import actions as sandbox_actions
    from minbar.sandbox import clock
    from minbar.sandbox.models import SandboxAccount
    from minbar.sandbox.tests.helpers import Clock, route_sandbox_in_process

    settings.DATA_DIR = tmp_path
    # The audience is busier at some hours: fix the network's clock so the test is stable.
    monkeypatch.setattr(clock, "now", Clock(datetime.now(UTC).replace(hour=12, minute=0)))
    route_sandbox_in_process(monkeypatch)
    seed_demo()
    for account in SandboxAccount.objects.all():
        sandbox_actions.advance(account, 6 * 3600)  # some hours of the audience's life
    assert warm_up_inbox() >= 2
    for slug in ("oasis-coffee", "waha-coffee"):
        items = Item.objects.filter(workspace__slug=slug)
        assert items.exists() and items.exclude(sentiment="").exists()
        assert items.filter(first_response_at__isnull=False).exists()
    assert warm_up_inbox() == 0  # once is enough
