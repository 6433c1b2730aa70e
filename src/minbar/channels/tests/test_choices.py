"""One sign-in, several accounts: the picker after signing in (Pages, organizations, locations)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from minbar.channels import actions
from minbar.channels.choices import choices_of
from minbar.channels.models import Channel
from minbar.channels.tests.fakes import FakeOAuthConnector


@pytest.fixture(autouse=True)
def fake_networks(monkeypatch):
    registry = {"fakeoauth": FakeOAuthConnector}
    monkeypatch.setattr(actions, "get_connector", lambda network: registry[network])
    monkeypatch.setattr(actions, "all_connectors", lambda: dict(registry))


def _sign_in(client: Client, code: str = "pages-code") -> Channel:
    started = client.post(
        "/w/acme/channels/connect/fakeoauth/", {"server_url": "https://social.example"}
    )
    state = parse_qs(urlsplit(started["Location"]).query)["state"][0]
    done = client.get(f"/channels/oauth/callback/?state={state}&code={code}")
    channel = Channel.objects.get(remote_id="42")
    if code == "pages-code":
        assert done["Location"] == f"/w/acme/channels/{channel.pk}/accounts/"
    return channel


def test_owner_picks_more_pages_after_signing_in(world):
    client = Client()
    client.force_login(world.alice)
    channel = _sign_in(client)
    assert [c.remote_id for c in choices_of(channel)] == ["p-1", "p-2", "p-gone"]
    page = client.get(f"/w/acme/channels/{channel.pk}/accounts/").content.decode()
    assert "Acme Riyadh" in page and "أكمي جدة" in page and "1,200 followers" in page
    response = client.post(f"/w/acme/channels/{channel.pk}/accounts/", {"accounts": ["p-1", "p-2"]})
    assert response.status_code == 302
    made = {c.remote_id: c for c in Channel.objects.filter(workspace=world.acme)}
    assert set(made) == {"42", "p-1", "p-2"}
    # Each page acts with its own token, not the person's.
    assert made["p-1"].get_credentials().secrets["access_token"] == "page-token-p-1"
    # Connected accounts show as such and are not offered twice.
    again = client.get(f"/w/acme/channels/{channel.pk}/accounts/").content.decode()
    assert again.count('name="accounts"') == 1  # only "Old Page" is left to tick
    detail = client.get(f"/w/acme/channels/{channel.pk}/").content.decode()
    assert f"/w/acme/channels/{channel.pk}/accounts/" in detail


def test_a_plain_sign_in_goes_straight_to_the_channel(world):
    client = Client()
    client.force_login(world.alice)
    channel = _sign_in(client, code="good-code")
    assert choices_of(channel) == []
    assert client.get(f"/w/acme/channels/{channel.pk}/accounts/").status_code == 200


def test_nothing_ticked_or_not_offered_is_refused_and_nothing_changes(world):
    client = Client()
    client.force_login(world.alice)
    channel = _sign_in(client)
    url = f"/w/acme/channels/{channel.pk}/accounts/"
    assert "Tick at least one account" in client.post(url, {}).content.decode()
    refused = client.post(url, {"accounts": ["someone-else"]}).content.decode()
    assert "does not offer that account" in refused
    gone = client.post(url, {"accounts": ["p-gone"]}).content.decode()
    assert "no longer shares this Page" in gone
    assert Channel.objects.filter(workspace=world.acme).count() == 1


def test_member_cannot_pick_and_outsider_gets_404(world):
    owner = Client()
    owner.force_login(world.alice)
    channel = _sign_in(owner)
    url = f"/w/acme/channels/{channel.pk}/accounts/"
    member = Client()
    member.force_login(world.bob)
    assert member.post(url, {"accounts": ["p-1"]}).status_code in (403, 404)
    outsider = Client()
    outsider.force_login(world.charlie)
    assert outsider.get(url).status_code == 404
    assert Channel.objects.filter(workspace=world.acme).count() == 1


def test_api_lists_and_connects_the_offered_accounts(world):
    from minbar.accounts.actions import create_api_token
    from minbar.core.actor import Actor

    owner = Client()
    owner.force_login(world.alice)
    channel = _sign_in(owner)
    secret = create_api_token(Actor.system(), world.alice, world.acme, name="t").secret
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = f"/api/v1/workspaces/acme/channels/{channel.pk}/account-choices"
    listed = api.get(url).json()
    assert [c["remote_id"] for c in listed] == ["p-1", "p-2", "p-gone"]
    assert all(c["channel_id"] is None for c in listed)
    made = api.post(url, {"remote_ids": ["p-2"]}, content_type="application/json")
    assert made.status_code == 201 and made.json()[0]["handle"] == "أكمي جدة"
    refused = api.post(url, {"remote_ids": ["nope"]}, content_type="application/json")
    assert refused.status_code == 422
    assert api.get(url).json()[1]["channel_id"] == made.json()[0]["id"]
