"""The channels API: same rules as the pages, credentials never returned."""

from __future__ import annotations

import pytest
from django.test import Client

from minbar.accounts.actions import create_api_token
from minbar.channels.models import Channel
from minbar.channels.tests.test_channels import fake_networks  # noqa: F401 - autouse fixture
from minbar.core.actor import Actor

FIELDS = {"server_url": "https://fake.example", "handle": "acme.fake", "password": "right"}


@pytest.fixture
def api(world):
    def client_for(user, role=None):
        workspace = world.globex if user == world.charlie else world.acme
        secret = create_api_token(Actor.system(), user, workspace, name="t", role=role).secret
        return Client(headers={"Authorization": f"Bearer {secret}"})

    return client_for


def test_admin_connects_lists_tests_and_removes_a_channel(world, api):
    client = api(world.alice)
    created = client.post(
        "/api/v1/workspaces/acme/channels",
        {"network": "fakenet", "fields": FIELDS},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["handle"] == "acme.fake" and body["health"] == "connected"
    assert "REFRESH_SECRET_1" not in created.content.decode() and "credentials" not in body
    listed = client.get("/api/v1/workspaces/acme/channels").json()
    assert listed["count"] == 1
    tested = client.post(f"/api/v1/workspaces/acme/channels/{body['id']}/test")
    assert tested.status_code == 200 and tested.json()["health"] == "connected"
    assert client.delete(f"/api/v1/workspaces/acme/channels/{body['id']}").status_code == 204
    assert not Channel.objects.exists()


def test_bad_credentials_come_back_as_a_422_with_the_reason(world, api):
    response = api(world.alice).post(
        "/api/v1/workspaces/acme/channels",
        {"network": "fakenet", "fields": {**FIELDS, "password": "wrong"}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "Invalid identifier or password" in response.json()["error"]["message"]


def test_missing_fields_are_named(world, api):
    response = api(world.alice).post(
        "/api/v1/workspaces/acme/channels",
        {"network": "fakenet", "fields": {"handle": "x"}},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"password": "Required."}


def test_editor_cannot_connect_and_unknown_network_is_404(world, api):
    editor = api(world.bob)
    response = editor.post(
        "/api/v1/workspaces/acme/channels",
        {"network": "fakenet", "fields": FIELDS},
        content_type="application/json",
    )
    assert response.status_code == 403
    unknown = api(world.alice).post(
        "/api/v1/workspaces/acme/channels",
        {"network": "myspace", "fields": {}},
        content_type="application/json",
    )
    assert unknown.status_code == 404


def test_oauth_start_returns_the_page_to_open_and_the_redirect_uri(world, api):
    response = api(world.alice).post(
        "/api/v1/workspaces/acme/channel-sign-ins",
        {"network": "fakeoauth", "server_url": "https://s.example"},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["authorize_url"].startswith("https://s.example/oauth/authorize")
    assert body["redirect_uri"].endswith("/channels/oauth/callback/")


def test_networks_lists_capabilities(world, api):
    networks = {n["network"]: n for n in api(world.bob).get("/api/v1/networks").json()}
    assert networks["fakenet"]["auth"] == "app_password"
    assert [f["name"] for f in networks["fakenet"]["auth_fields"]] == [
        "server_url",
        "handle",
        "password",
    ]
