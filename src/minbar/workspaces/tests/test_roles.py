"""What each of the six roles may and may not do, in the UI and the API."""

from __future__ import annotations

import pytest
from django.test import Client

from conftest import make_user
from minbar.accounts.actions import create_api_token
from minbar.core.actor import Actor
from minbar.workspaces.models import Membership

# (page, roles that may open it); everyone else who is a member gets 403.
PAGES = {
    "/w/acme/": {"owner", "admin", "editor", "contributor", "analyst", "client"},
    "/w/acme/members/": {"owner", "admin", "editor", "contributor", "analyst"},
    "/w/acme/settings/": {"owner", "admin"},
    "/w/acme/audit/": {"owner", "admin"},
    "/w/acme/audit.csv": {"owner", "admin"},
    "/w/acme/publishing/": {"owner", "admin", "editor", "contributor", "analyst"},
    "/w/acme/publishing/new/": {"owner", "admin", "editor", "contributor"},
    "/w/acme/analytics/": {"owner", "admin", "editor", "contributor", "analyst"},
    "/w/acme/m/audience/": {"owner", "admin", "editor", "contributor", "analyst"},
}
ROLES = ["owner", "admin", "editor", "contributor", "analyst", "client"]


@pytest.fixture
def member_with_role(world):
    def make(role: str):
        user = make_user(f"{role}-person")
        Membership.objects.create(user=user, workspace=world.acme, role=role)
        return user

    return make


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_its_pages(member_with_role, role):
    client = Client()
    client.force_login(member_with_role(role))
    for url, allowed in PAGES.items():
        status = client.get(url).status_code
        if role in allowed:
            assert status == 200, f"{role} should open {url}, got {status}"
        else:
            # A module hidden from a role is as absent as a missing page.
            assert status in (403, 404), f"{role} must not open {url}, got {status}"


@pytest.mark.parametrize("role", ROLES)
def test_navigation_shows_only_what_the_role_may_open(member_with_role, role):
    client = Client()
    client.force_login(member_with_role(role))
    html = client.get("/w/acme/").content.decode()
    assert ('href="/w/acme/audit/"' in html) == (role in {"owner", "admin"})
    assert ('href="/w/acme/settings/"' in html) == (role in {"owner", "admin"})
    assert ('href="/w/acme/analytics/"' in html) == (role != "client")


@pytest.mark.parametrize("role", ROLES)
def test_only_owners_and_admins_can_invite_through_the_api(world, member_with_role, role):
    user = member_with_role(role)
    secret = create_api_token(Actor.system(), user, world.acme, name="t").secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    response = client.post(
        "/api/v1/workspaces/acme/invitations",
        {"email": f"new-{role}@example.com", "role": "analyst", "send_email": False},
        content_type="application/json",
    )
    if role in {"owner", "admin"}:
        assert response.status_code == 201
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


def test_analyst_token_is_read_only_even_for_an_owner(world):
    secret = create_api_token(
        Actor.system(), world.alice, world.acme, name="ro", role="analyst"
    ).secret
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/v1/workspaces/acme").json()["role"] == "analyst"
    response = client.patch(
        "/api/v1/workspaces/acme", {"name": "Hacked"}, content_type="application/json"
    )
    assert response.status_code == 403
    world.acme.refresh_from_db()
    assert world.acme.name == "Acme Roasters"


def test_client_sees_only_the_dashboard_until_content_is_shared_with_them(member_with_role):
    client = Client()
    client.force_login(member_with_role("client"))
    html = client.get("/w/acme/").content.decode()
    for hidden in ("inbox", "audience", "analytics", "links", "campaigns"):
        assert f'href="/w/acme/m/{hidden}/"' not in html
    assert 'href="/w/acme/analytics/"' not in html
    assert 'href="/w/acme/publishing/"' not in html
    assert 'href="/w/acme/channels/"' not in html
