"""API tokens: hashed, scoped to one workspace and capped at the owner's role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from minbar.accounts import actions
from minbar.accounts.models import ApiToken
from minbar.core.actor import Actor
from minbar.core.errors import NotAllowed, NotFound


def test_token_is_stored_only_as_a_hash(world):
    created = actions.create_api_token(Actor.system(), world.alice, world.acme, name="ci")
    row = ApiToken.objects.get(pk=created.token.pk)
    assert created.secret.startswith("mbr_")
    assert created.secret not in (row.token_hash, row.prefix, row.name)
    assert len(row.token_hash) == 64


def test_token_cannot_exceed_its_owners_role(world):
    with pytest.raises(NotAllowed):
        actions.create_api_token(Actor.system(), world.bob, world.acme, name="x", role="owner")


def test_token_for_a_workspace_the_user_is_not_in_is_refused(world):
    with pytest.raises(NotFound):
        actions.create_api_token(Actor.system(), world.charlie, world.acme, name="x")


def test_revoked_and_expired_tokens_get_401_in_the_error_format(world):
    revoked = actions.create_api_token(Actor.system(), world.alice, world.acme, name="r")
    actions.revoke_api_token(Actor.system(), world.alice, revoked.token.prefix)
    expired = actions.create_api_token(
        Actor.system(), world.alice, world.acme, name="e", expires_in_days=1
    )
    ApiToken.objects.filter(pk=expired.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    for secret in (revoked.secret, expired.secret, "mbr_nothing_here", "garbage"):
        response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_role_follows_a_later_demotion_of_its_owner(world):
    from minbar.workspaces.models import Membership

    secret = actions.create_api_token(Actor.system(), world.bob, world.acme, name="b").secret
    Membership.objects.filter(user=world.bob, workspace=world.acme).update(role="analyst")
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    assert client.get("/api/v1/workspaces/acme").json()["role"] == "analyst"


def test_user_creates_and_revokes_a_token_in_the_ui(world):
    client = Client()
    client.force_login(world.bob)
    page = client.post(
        "/accounts/tokens/", {"name": "script", "workspace": "acme", "role": "analyst"}
    )
    html = page.content.decode()
    token = ApiToken.objects.get(user=world.bob)
    assert 'data-testid="new-token"' in html
    secret = html.split('data-testid="new-token">', 1)[1].split("<", 1)[0]
    assert (
        Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    )
    client.post(f"/accounts/tokens/{token.prefix}/revoke/")
    assert (
        Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_outsider_cannot_revoke_someone_elses_token(world):
    token = actions.create_api_token(Actor.system(), world.alice, world.acme, name="a").token
    client = Client()
    client.force_login(world.charlie)
    client.post(f"/accounts/tokens/{token.prefix}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is None


def test_cli_creates_lists_and_revokes_tokens(world, capsys):
    call_command(
        "token",
        "create",
        "--user",
        "alice",
        "--workspace",
        "acme",
        "--role",
        "editor",
        "--name",
        "deploy",
    )
    secret = capsys.readouterr().out.strip()
    assert (
        Client()
        .get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        .json()["token_role"]
        == "editor"
    )
    call_command("token", "list", "--user", "alice")
    listing = capsys.readouterr().out
    assert "deploy" in listing and secret not in listing
    call_command("token", "revoke", secret)
    assert (
        Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )
