"""The settings pages and the API: owners and admins manage webhooks, nobody else sees them."""

from __future__ import annotations

import pytest
from django.test import Client

from minbar.accounts.actions import create_api_token
from minbar.audit.models import AuditEvent
from minbar.core.actor import Actor
from minbar.webhooks import delivery
from minbar.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from minbar.webhooks.tests.helpers import make_endpoint
from minbar.webhooks.tests.receiver import receiver


@pytest.fixture
def hook():
    with receiver() as r:
        yield r


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_owner_adds_a_webhook_reveals_rotates_tests_and_deletes_it(world, hook):
    client = _client(world.alice)
    page = client.get("/w/acme/settings/webhooks/")
    assert page.status_code == 200 and "Add a webhook" in page.content.decode()
    response = client.post(
        "/w/acme/settings/webhooks/",
        {"url": hook.url, "description": "CRM", "events": ["post.failed", "channel.broken"]},
    )
    endpoint = WebhookEndpoint.objects.get()
    page_url = f"/w/acme/settings/webhooks/{endpoint.pk}/"
    assert response.status_code == 302 and response["Location"] == page_url
    assert endpoint.events == ["channel.broken", "post.failed"]
    detail = client.get(page_url).content.decode()
    assert endpoint.secret not in detail  # hidden until revealed
    revealed = client.post(f"{page_url}secret/")
    assert endpoint.secret in revealed.content.decode()
    assert revealed["Cache-Control"] == "no-store"
    old = endpoint.secret
    rotated = client.post(f"{page_url}rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in rotated.content.decode()
    client.post(f"{page_url}test/")
    (test_event,) = WebhookDelivery.objects.filter(event_type="webhook.test")
    delivery.deliver_due()
    assert hook.requests[0].headers["minbar-event"] == "webhook.test"
    log = client.get(page_url).content.decode()
    assert "webhook.test" in log and str(test_event.uid) in log
    client.post(f"{page_url}active/", {"active": "0"})
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_reason == "Turned off by alice."
    client.post(f"{page_url}delete/")
    assert not WebhookEndpoint.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="webhook.").values_list("action", flat=True)
    )
    assert sorted(actions) == [
        "webhook.created",
        "webhook.deleted",
        "webhook.disabled",
        "webhook.secret_rotated",
    ]


def test_a_bad_address_is_shown_on_the_form_and_nothing_is_saved(world, settings):
    settings.MINBAR_ALLOW_PRIVATE_URLS = False
    response = _client(world.alice).post(
        "/w/acme/settings/webhooks/", {"url": "https://10.0.0.5/hook", "events": ["all"]}
    )
    assert response.status_code == 200
    assert "points inside Minbar&#x27;s own network" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_failed_delivery_is_sent_again_from_the_log(world, hook, settings):
    settings.MINBAR_WEBHOOK_RETRY_SCHEDULE = []
    endpoint = make_endpoint(world, hook.url)
    hook.script = [500]
    client = _client(world.alice)
    client.post(f"/w/acme/settings/webhooks/{endpoint.pk}/test/")
    delivery.deliver_due()
    failed = WebhookDelivery.objects.get()
    assert failed.state == DeliveryState.FAILED
    assert "Send again" in client.get(f"/w/acme/settings/webhooks/{endpoint.pk}/").content.decode()
    client.post(f"/w/acme/settings/webhooks/{endpoint.pk}/deliveries/{failed.pk}/redeliver/")
    delivery.deliver_due()
    failed.refresh_from_db()
    assert failed.state == DeliveryState.DELIVERED


def test_editor_cannot_see_or_manage_webhooks(world):
    endpoint = make_endpoint(world, "http://127.0.0.1:9/x")
    client = _client(world.bob)
    assert client.get("/w/acme/settings/webhooks/").status_code == 403
    assert client.get(f"/w/acme/settings/webhooks/{endpoint.pk}/").status_code == 403
    assert client.post(f"/w/acme/settings/webhooks/{endpoint.pk}/secret/").status_code == 403
    assert client.post(f"/w/acme/settings/webhooks/{endpoint.pk}/delete/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert "Webhooks" not in client.get("/w/acme/publishing/").content.decode()


def test_outsider_gets_404_for_another_workspace_webhook(world):
    endpoint = make_endpoint(world, "http://127.0.0.1:9/x")
    client = _client(world.charlie)
    assert client.get(f"/w/acme/settings/webhooks/{endpoint.pk}/").status_code == 404
    # Even through their own workspace's address.
    assert client.get(f"/w/globex/settings/webhooks/{endpoint.pk}/").status_code == 404
    assert client.post(f"/w/globex/settings/webhooks/{endpoint.pk}/delete/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def _api(user, workspace, role=None) -> Client:
    token = create_api_token(Actor.system(), user, workspace, name="t", role=role)
    return Client(headers={"Authorization": f"Bearer {token.secret}"})


def test_api_manages_endpoints_and_lists_deliveries(world, hook):
    api = _api(world.alice, world.acme)
    created = api.post(
        "/api/v1/workspaces/acme/webhooks",
        {"url": hook.url, "events": ["post.failed"]},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["post.failed"]
    base = f"/api/v1/workspaces/acme/webhooks/{body['id']}"
    listed = api.get("/api/v1/workspaces/acme/webhooks").json()
    assert [e["id"] for e in listed["items"]] == [body["id"]] and "secret" not in listed["items"][0]
    assert api.get(f"{base}/secret").json() == {"secret": body["secret"]}
    patched = api.patch(
        base, {"events": ["all"], "description": "ERP"}, content_type="application/json"
    )
    assert patched.json()["events"] == ["all"] and patched.json()["description"] == "ERP"
    rotated = api.post(f"{base}/rotate-secret").json()
    assert rotated["secret"] != body["secret"]
    sent = api.post(f"{base}/test")
    assert sent.status_code == 202 and sent.json()["event_type"] == "webhook.test"
    delivery.deliver_due()
    deliveries = api.get(f"{base}/deliveries").json()["items"]
    assert deliveries[0]["state"] == "delivered"
    assert deliveries[0]["payload"]["type"] == "webhook.test"
    conflict = api.post(f"{base}/deliveries/{deliveries[0]['id']}/redeliver")
    assert conflict.status_code == 409
    invalid = api.patch(base, {"events": ["post.exploded"]}, content_type="application/json")
    assert invalid.status_code == 422 and "events" in invalid.json()["error"]["fields"]
    off = api.patch(base, {"active": False}, content_type="application/json")
    assert off.json()["active"] is False
    assert api.delete(base).status_code == 204
    assert api.get(base).status_code == 404


def test_api_editor_gets_403_and_outsider_404(world):
    endpoint = make_endpoint(world, "http://127.0.0.1:9/x")
    editor = _api(world.bob, world.acme)
    assert editor.get("/api/v1/workspaces/acme/webhooks").status_code == 403
    assert editor.get(f"/api/v1/workspaces/acme/webhooks/{endpoint.pk}/secret").status_code == 403
    # An owner's token capped at editor cannot either.
    capped = _api(world.alice, world.acme, role="editor")
    assert capped.delete(f"/api/v1/workspaces/acme/webhooks/{endpoint.pk}").status_code == 403
    outsider = _api(world.charlie, world.globex)
    response = outsider.get(f"/api/v1/workspaces/acme/webhooks/{endpoint.pk}")
    assert response.status_code == 404
    assert outsider.get(f"/api/v1/workspaces/globex/webhooks/{endpoint.pk}").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
