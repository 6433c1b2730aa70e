"""The API's shared behaviour: error format, pagination, docs, authentication."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import make_user
from minbar.accounts.actions import create_api_token
from minbar.core.actor import Actor
from minbar.workspaces.models import Membership


@pytest.fixture
def alice_api(world) -> Client:
    secret = create_api_token(Actor.system(), world.alice, world.acme, name="t").secret
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_openapi_document_lists_the_operations(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "Minbar API"
    assert "/api/v1/workspaces/{slug}/members" in spec["paths"]
    assert spec["components"]["securitySchemes"]


def test_interactive_docs_are_served_without_any_cdn(client):
    html = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


def test_validation_errors_use_the_one_error_format(alice_api):
    response = alice_api.post(
        "/api/v1/workspaces/acme/invitations",
        {"email": "x@example.com"},
        content_type="application/json",
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid" and "role" in error["fields"]


def test_action_errors_name_the_field(alice_api):
    response = alice_api.patch(
        "/api/v1/workspaces/acme", {"time_zone": "Nowhere/City"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "time_zone": "Choose a time zone from the list, e.g. Asia/Riyadh."
    }


def test_members_are_paginated(world, alice_api):
    for i in range(7):
        Membership.objects.create(user=make_user(f"m{i}"), workspace=world.acme, role="analyst")
    page = alice_api.get("/api/v1/workspaces/acme/members?per_page=4&page=2").json()
    assert page["count"] == 9 and page["pages"] == 3 and page["page"] == 2
    assert len(page["items"]) == 4
    bad = alice_api.get("/api/v1/workspaces/acme/members?per_page=1000")
    assert bad.status_code == 422 and "per_page" in bad.json()["error"]["fields"]


def test_session_calls_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    assert client.get("/api/v1/me").json()["username"] == "alice"
    response = client.patch(
        "/api/v1/workspaces/acme", {"name": "X"}, content_type="application/json"
    )
    assert response.status_code in (401, 403)
    world.acme.refresh_from_db()
    assert world.acme.name == "Acme Roasters"


def test_invitation_created_by_api_returns_its_link_once(alice_api):
    created = alice_api.post(
        "/api/v1/workspaces/acme/invitations",
        {"email": "new@example.com", "role": "editor", "send_email": False},
        content_type="application/json",
    ).json()
    assert "/invitations/" in created["url"]
    listed = alice_api.get("/api/v1/workspaces/acme/invitations").json()["items"]
    assert listed[0]["email"] == "new@example.com" and "url" not in listed[0]


def test_audit_events_are_listed_for_admins_with_filters(world, alice_api):
    alice_api.patch(
        "/api/v1/workspaces/acme", {"name": "Acme Coffee"}, content_type="application/json"
    )
    events = alice_api.get("/api/v1/workspaces/acme/audit-events?action=workspace.updated").json()
    assert events["count"] == 1
    event = events["items"][0]
    assert event["actor"] == "alice" and event["via"] == "api"
    assert event["data"] == {"name": ["Acme Roasters", "Acme Coffee"]}


def test_member_removal_answers_204(world, alice_api):
    bob = Membership.objects.get(user=world.bob, workspace=world.acme)
    response = alice_api.delete(f"/api/v1/workspaces/acme/members/{bob.pk}")
    assert response.status_code == 204
    assert not Membership.objects.filter(pk=bob.pk).exists()
