"""Connecting channels, their health, token refresh, and removal — with a fake connector."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from minbar.audit.models import AuditEvent
from minbar.channels import actions
from minbar.channels.models import Channel, Health, OAuthAttempt, ServerApp
from minbar.channels.tests.fakes import FakeConnector, FakeOAuthConnector
from minbar.connectors.errors import AuthExpired, RateLimited, Rejected
from minbar.connectors.types import Credentials
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed
from minbar.notifications.models import Notification
from minbar.workspaces.access import access_for

FIELDS = {"server_url": "https://fake.example", "handle": "acme.fake", "password": "right"}


@pytest.fixture(autouse=True)
def fake_networks(monkeypatch):
    registry = {"fakenet": FakeConnector, "fakeoauth": FakeOAuthConnector}

    def get(network: str):
        try:
            return registry[network]
        except KeyError:
            raise LookupError(network) from None

    monkeypatch.setattr(actions, "get_connector", get)
    monkeypatch.setattr(actions, "all_connectors", lambda: dict(registry))
    FakeConnector.next_verify_error = None
    FakeConnector.refresh_result = None
    FakeConnector.calls = []
    FakeOAuthConnector.registered = 0


def _connect(world) -> Channel:
    return actions.connect_with_fields(
        Actor(user=world.alice), access_for(world.alice, "acme"), "fakenet", FIELDS
    )


def test_owner_connects_with_an_app_password_from_the_page(world):
    client = Client()
    client.force_login(world.alice)
    page = client.get("/w/acme/channels/connect/fakenet/")
    assert 'type="password"' in page.content.decode()
    response = client.post("/w/acme/channels/connect/fakenet/", FIELDS)
    channel = Channel.objects.get(workspace=world.acme)
    assert response["Location"] == f"/w/acme/channels/{channel.pk}/"
    assert channel.handle == "acme.fake" and channel.health == Health.CONNECTED
    assert AuditEvent.objects.filter(action="channel.connected", workspace=world.acme).exists()
    listing = client.get("/w/acme/channels/").content.decode()
    assert "acme.fake" in listing and "Connected" in listing


def test_wrong_password_is_explained_and_nothing_is_saved(world):
    client = Client()
    client.force_login(world.alice)
    page = client.post("/w/acme/channels/connect/fakenet/", {**FIELDS, "password": "wrong"})
    assert "FakeNet did not accept these details: Invalid identifier or password" in (
        page.content.decode()
    )
    assert not Channel.objects.exists()


def test_credentials_are_encrypted_at_rest_and_never_in_the_api(world):
    channel = _connect(world)
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_blob FROM channels_channel WHERE id = %s", [channel.pk])
        stored = cursor.fetchone()[0]
    assert (
        "REFRESH_SECRET_1" not in stored
        and "ACCESS_SECRET_1" not in stored
        and stored.startswith("gAAAA")
    )
    assert channel.get_credentials().secrets == {
        "access": "ACCESS_SECRET_1",
        "refresh": "REFRESH_SECRET_1",
    }
    assert "REFRESH_SECRET_1" not in repr(channel.get_credentials())


def test_reconnecting_the_same_account_updates_it_and_keeps_the_refresh_token(world, monkeypatch):
    first = _connect(world)
    original = FakeConnector.connect_with_fields

    def without_refresh(self, fields):
        result = original(self, fields)
        result.credentials.secrets.pop("refresh")
        result.credentials.secrets["access"] = "ACCESS_SECRET_2"
        return result

    monkeypatch.setattr(FakeConnector, "connect_with_fields", without_refresh)
    again = _connect(world)
    assert again.pk == first.pk
    assert again.get_credentials().secrets == {
        "access": "ACCESS_SECRET_2",
        "refresh": "REFRESH_SECRET_1",
    }
    assert AuditEvent.objects.filter(action="channel.reconnected").exists()


def test_only_owners_and_admins_connect_or_remove(world):
    with pytest.raises(NotAllowed):
        actions.connect_with_fields(
            Actor(user=world.bob), access_for(world.bob, "acme"), "fakenet", FIELDS
        )
    channel = _connect(world)
    client = Client()
    client.force_login(world.bob)
    assert client.get("/w/acme/channels/connect/fakenet/").status_code == 403
    assert client.post(f"/w/acme/channels/{channel.pk}/remove/").status_code == 403
    # Members may still look at channels and test them.
    assert client.get(f"/w/acme/channels/{channel.pk}/").status_code == 200


def test_outsider_cannot_see_or_test_anothers_channel(world):
    channel = _connect(world)
    client = Client()
    client.force_login(world.charlie)
    assert client.get(f"/w/acme/channels/{channel.pk}/").status_code == 404
    assert client.get(f"/w/globex/channels/{channel.pk}/").status_code == 404
    assert client.post(f"/w/globex/channels/{channel.pk}/test/").status_code == 404


def test_expired_sign_in_marks_channel_and_tells_admins_once(
    world, django_capture_on_commit_callbacks
):
    channel = _connect(world)
    FakeConnector.next_verify_error = AuthExpired("FakeNet no longer accepts this sign-in.")
    with django_capture_on_commit_callbacks(execute=True):
        actions.check_channel(channel)
        actions.check_channel(channel)
    channel.refresh_from_db()
    assert channel.health == Health.NEEDS_RECONNECT
    notes = Notification.objects.filter(kind="channel.broken")
    assert [n.user for n in notes] == [world.alice]  # bob is an editor, not an admin
    assert len(mail.outbox) == 1 and "acme.fake" in mail.outbox[0].subject
    assert AuditEvent.objects.filter(action="channel.broken").count() == 1
    # Working again clears the state.
    FakeConnector.next_verify_error = None
    assert actions.check_channel(channel).health == Health.CONNECTED


def test_rate_limit_shows_until_when_and_a_rejection_does_not_break_the_channel(world):
    channel = _connect(world)
    actions.note_failure(channel, RateLimited("Slow down.", retry_after=120))
    channel.refresh_from_db()
    assert channel.health == Health.RATE_LIMITED
    assert channel.rate_limited_until is not None
    assert (
        timedelta(seconds=100)
        < channel.rate_limited_until - timezone.now()
        <= timedelta(seconds=121)
    )
    actions.note_success(channel)
    actions.note_failure(channel, Rejected("Text too long."))
    channel.refresh_from_db()
    assert channel.health == Health.CONNECTED


def test_test_connection_button_updates_the_health_in_place(world):
    channel = _connect(world)
    FakeConnector.next_verify_error = AuthExpired("Sign-in expired.")
    client = Client()
    client.force_login(world.bob)
    response = client.post(f"/w/acme/channels/{channel.pk}/test/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div id="channel-health-{channel.pk}"')
    assert "Needs reconnecting" in html and "Sign-in expired." in html


def test_tokens_expiring_soon_are_refreshed_without_losing_the_refresh_token(world):
    channel = _connect(world)
    Channel.objects.filter(pk=channel.pk).update(
        token_expires_at=timezone.now() + timedelta(minutes=5)
    )
    later = timezone.now() + timedelta(hours=2)
    FakeConnector.refresh_result = Credentials(
        secrets={"access": "ACCESS_SECRET_9", "refresh": ""}, expires_at=later
    )
    assert actions.refresh_expiring_tokens() == {"refreshed": 1, "failed": 0}
    channel.refresh_from_db()
    assert channel.get_credentials().secrets == {
        "access": "ACCESS_SECRET_9",
        "refresh": "REFRESH_SECRET_1",
    }
    assert channel.token_expires_at == later


def test_removing_a_channel_deletes_its_credentials_and_is_audited(world):
    channel = _connect(world)
    client = Client()
    client.force_login(world.alice)
    page = client.get(f"/w/acme/channels/{channel.pk}/remove/").content.decode()
    assert "Nothing already published on FakeNet is deleted." in page
    client.post(f"/w/acme/channels/{channel.pk}/remove/")
    assert not Channel.objects.exists()
    assert AuditEvent.objects.filter(
        action="channel.removed", target_label__contains="acme.fake"
    ).exists()


def test_oauth_round_trip_caches_the_server_app_and_is_single_use(world):
    client = Client()
    client.force_login(world.alice)
    response = client.post(
        "/w/acme/channels/connect/fakeoauth/", {"server_url": "https://social.example"}
    )
    location = response["Location"]
    assert location.startswith("https://social.example/oauth/authorize?")
    state = parse_qs(urlsplit(location).query)["state"][0]
    assert ServerApp.objects.get().client_secret == "csecret"
    assert OAuthAttempt.objects.get().code_verifier == "verifier-123"

    # Someone else cannot finish alice's sign-in.
    intruder = Client()
    intruder.force_login(world.charlie)
    assert (
        intruder.get(f"/channels/oauth/callback/?state={state}&code=good-code").status_code == 302
    )
    assert not Channel.objects.exists()

    done = client.get(f"/channels/oauth/callback/?state={state}&code=good-code")
    channel = Channel.objects.get()
    assert done["Location"] == f"/w/acme/channels/{channel.pk}/"
    assert channel.handle == "maha@social.example"
    assert client.get(f"/channels/oauth/callback/?state={state}&code=good-code").status_code == 302
    assert Channel.objects.count() == 1
    # A second connection to the same server reuses the registered app.
    client.post("/w/acme/channels/connect/fakeoauth/", {"server_url": "https://social.example"})
    assert FakeOAuthConnector.registered == 1


def test_oauth_refusal_on_the_network_is_explained(world):
    start = actions.start_oauth(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        "fakeoauth",
        "https://social.example",
    )
    state = parse_qs(urlsplit(start).query)["state"][0]
    with pytest.raises(InvalidInput) as exc:
        actions.finish_oauth(
            Actor(user=world.alice), world.alice, state=state, code="", error="access_denied"
        )
    assert "access_denied" in exc.value.message


def test_expired_oauth_attempt_is_refused(world):
    start = actions.start_oauth(
        Actor(user=world.alice),
        access_for(world.alice, "acme"),
        "fakeoauth",
        "https://social.example",
    )
    state = parse_qs(urlsplit(start).query)["state"][0]
    OAuthAttempt.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Exception, match="took too long"):
        actions.finish_oauth(Actor(user=world.alice), world.alice, state=state, code="good-code")
