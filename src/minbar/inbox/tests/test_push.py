"""Pushes: the sandbox network verifies Minbar's address, then pushes signed interactions.

Signatures as Meta documents them (X-Hub-Signature-256, hub.challenge) and X's CRC,
https://developers.facebook.com/docs/graph-api/webhooks/getting-started and
https://docs.x.com/x-api/webhooks/introduction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import httpx
import pytest
from django.test import Client

from minbar.channels.actions import connector_for
from minbar.connectors import webhooks
from minbar.connectors.types import PostRequest
from minbar.inbox import ingestion
from minbar.inbox.models import Cursor, Item, PushHook
from minbar.publishing.tests.test_dispatcher_helpers import sandbox_account
from minbar.sandbox import actions as sandbox_actions
from minbar.sandbox import push as sandbox_push
from minbar.sandbox.tests.helpers import InProcessApp


def test_meta_signature_and_challenge_as_documented():
    body = b'{"object":"page","entry":[]}'
    expected = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert webhooks.hub_signature("app-secret", body) == expected
    assert webhooks.hub_signature_valid("app-secret", body, expected)
    assert not webhooks.hub_signature_valid("app-secret", body + b" ", expected)
    assert not webhooks.hub_signature_valid("other", body, expected)
    assert not webhooks.hub_signature_valid("app-secret", body, None)
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert webhooks.hub_challenge(params, "tok") == "1158201444"
    assert webhooks.hub_challenge(params | {"hub.verify_token": "nope"}, "tok") is None
    assert webhooks.hub_challenge(params | {"hub.mode": "unsubscribe"}, "tok") is None


def test_x_crc_response_as_documented():
    digest = hmac.new(b"consumer-secret", b"challenge-123", hashlib.sha256).digest()
    expected = "sha256=" + base64.b64encode(digest).decode()
    assert webhooks.x_crc_response("consumer-secret", "challenge-123") == {
        "response_token": expected
    }
    body = b'{"for_user_id":"1"}'
    signed = webhooks.x_crc_token("consumer-secret", body)
    assert webhooks.x_signature_valid("consumer-secret", body, signed)
    assert not webhooks.x_signature_valid("consumer-secret", body + b"x", signed)


@pytest.fixture
def pushes(monkeypatch, settings):
    settings.MINBAR_BASE_URL = "http://testserver"
    monkeypatch.setattr(
        sandbox_push, "transport_factory", lambda: httpx.WSGITransport(app=InProcessApp())
    )


def test_the_sandbox_verifies_minbar_then_pushes_what_happens_and_minbar_stores_it_once(
    world, busy_channel, pushes, django_capture_on_commit_callbacks
):
    channel = busy_channel
    ingestion.due_channels(datetime.now(UTC))
    ingestion.poll_channel(channel.pk)  # the first poll subscribes
    assert Cursor.objects.get(channel=channel).push_state == "active"
    hook = PushHook.objects.get(channel=channel)
    assert hook.active
    account = sandbox_account(channel)
    assert account.webhook_url.endswith(f"/hooks/inbox/{hook.token}/")

    connector_for(channel).publish(PostRequest(text="Tell us about your morning coffee"))
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_actions.advance(account, 2 * 86400)  # the release pushes at once
    hook.refresh_from_db()
    pushed = Item.objects.filter(channel=channel).count()
    assert hook.pushes >= 1 and pushed > 0
    # The next poll reads the same things again: nothing is stored twice.
    Cursor.objects.filter(channel=channel).update(cursor="", next_poll_at=datetime.now(UTC))
    assert ingestion.poll_channel(channel.pk).created == 0
    assert Item.objects.filter(channel=channel).count() == pushed


def test_a_push_with_a_wrong_signature_is_refused_and_stores_nothing(world, busy_channel, pushes):
    ingestion.due_channels(datetime.now(UTC))
    ingestion.poll_channel(busy_channel.pk)
    hook = PushHook.objects.get(channel=busy_channel)
    body = json.dumps(
        {
            "object": "sandbox",
            "items": [
                {
                    "id": "e999",
                    "kind": "comment",
                    "author": {"id": "9", "handle": "mallory"},
                    "text": "fake",
                    "created_at": "2026-11-26T10:00:00Z",
                }
            ],
        }
    ).encode()
    client = Client()
    url = f"/hooks/inbox/{hook.token}/"
    wrong = client.post(
        url, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256="sha256=00"
    )
    assert wrong.status_code == 403 and not Item.objects.filter(remote_id="e999").exists()
    signed = client.post(
        url,
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=webhooks.hub_signature(hook.secret, body),
    )
    assert signed.status_code == 200 and Item.objects.filter(remote_id="e999").exists()
    assert (
        client.post("/hooks/inbox/not-a-token/", body, content_type="application/json").status_code
        == 403
    )
    hook.refresh_from_db()
    assert hook.rejected == 1 and hook.pushes == 1


def test_verification_needs_the_hooks_own_token(world, busy_channel, pushes):
    ingestion.due_channels(datetime.now(UTC))
    ingestion.poll_channel(busy_channel.pk)
    hook = PushHook.objects.get(channel=busy_channel)
    client = Client()
    params = {"hub.mode": "subscribe", "hub.challenge": "abc", "hub.verify_token": "guess"}
    assert client.get(f"/hooks/inbox/{hook.token}/", params).status_code == 403
    ok = client.get(f"/hooks/inbox/{hook.token}/", params | {"hub.verify_token": hook.verify_token})
    assert ok.status_code == 200 and ok.content == b"abc"


def test_a_network_without_pushes_is_remembered_and_polling_goes_on(world, monkeypatch, settings):
    from minbar.channels.tests.test_channels import _connect

    settings.MINBAR_BASE_URL = "http://testserver"
    from minbar.channels import actions as channel_actions
    from minbar.channels.tests.fakes import FakeConnector

    registry = {"fakenet": FakeConnector}
    monkeypatch.setattr(channel_actions, "get_connector", registry.__getitem__)
    from minbar.connectors.types import Page

    monkeypatch.setattr(FakeConnector, "interactions", lambda self, cursor="": Page(items=[]))
    channel = _connect(world)
    ingestion.due_channels(datetime.now(UTC))
    ingestion.poll_channel(channel.pk)
    assert Cursor.objects.get(channel=channel).push_state == "unsupported"
    assert not PushHook.objects.exists()
