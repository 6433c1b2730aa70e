"""Invitations, role changes and removals keep a workspace safe and owned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from minbar.audit.models import AuditEvent
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, InvalidInput, NotAllowed
from minbar.workspaces import actions
from minbar.workspaces.access import access_for
from minbar.workspaces.models import Invitation, Membership


def test_owner_invites_by_email_and_invitee_signs_up_and_joins(
    world, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(world.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/w/acme/members/invite/", {"email": "Dina@Example.com", "role": "contributor"}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dina@example.com"]
    link = next(line for line in message.body.splitlines() if "/invitations/" in line).strip()
    path = link.split("127.0.0.1:8000", 1)[-1] if "127.0.0.1" in link else link
    path = "/" + path.split("/", 3)[-1] if path.startswith("http") else path

    newcomer = Client()
    page = newcomer.get(path)
    assert page.status_code == 200
    assert "Acme Roasters" in page.content.decode()
    joined = newcomer.post(
        path, {"username": "dina", "first_name": "Dina", "password": "a-long-enough-passphrase"}
    )
    assert joined.status_code == 302 and joined["Location"] == "/w/acme/"
    membership = Membership.objects.get(user__username="dina", workspace=world.acme)
    assert membership.role == "contributor"
    assert AuditEvent.objects.filter(workspace=world.acme, action="member.joined").exists()
    # The link works once.
    assert Client().get(path).status_code == 410


def test_expired_invitation_is_refused_with_a_clear_page(world):
    created = actions.invite_member(
        Actor.system(),
        access_for(world.alice, "acme"),
        email="late@example.com",
        role="editor",
        send=False,
    )
    Invitation.objects.filter(pk=created.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = Client().get(f"/invitations/{created.token}/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_admin_cannot_make_anyone_owner(world):
    Membership.objects.filter(user=world.bob, workspace=world.acme).update(role="admin")
    access = access_for(world.bob, "acme")
    with pytest.raises(NotAllowed):
        actions.invite_member(
            Actor.system(), access, email="x@example.com", role="owner", send=False
        )
    alice_membership = Membership.objects.get(user=world.alice, workspace=world.acme)
    with pytest.raises(NotAllowed):
        actions.change_role(Actor.system(), access, alice_membership.pk, "editor")


def test_last_owner_can_neither_be_demoted_nor_leave(world):
    access = access_for(world.alice, "acme")
    own = Membership.objects.get(user=world.alice, workspace=world.acme)
    with pytest.raises(Conflict):
        actions.change_role(Actor.system(), access, own.pk, "admin")
    with pytest.raises(Conflict):
        actions.remove_member(Actor.system(), access, own.pk)
    assert Membership.objects.get(pk=own.pk).role == "owner"


def test_removed_member_loses_access_and_tokens(world):
    from minbar.accounts.actions import authenticate_api_token, create_api_token

    secret = create_api_token(Actor.system(), world.bob, world.acme, name="b").secret
    bob_membership = Membership.objects.get(user=world.bob, workspace=world.acme)
    actions.remove_member(
        Actor(user=world.alice), access_for(world.alice, "acme"), bob_membership.pk
    )
    assert authenticate_api_token(secret) is None
    client = Client()
    client.force_login(world.bob)
    assert client.get("/w/acme/").status_code == 404


def test_invalid_email_and_unknown_role_are_explained(world):
    access = access_for(world.alice, "acme")
    with pytest.raises(InvalidInput) as bad_email:
        actions.invite_member(Actor.system(), access, email="not-an-email", role="editor")
    assert "email" in bad_email.value.fields
    with pytest.raises(InvalidInput) as bad_role:
        actions.invite_member(Actor.system(), access, email="a@example.com", role="boss")
    assert "role" in bad_role.value.fields


def test_role_change_through_ui_is_audited(world):
    client = Client()
    client.force_login(world.alice)
    bob_membership = Membership.objects.get(user=world.bob, workspace=world.acme)
    client.post(f"/w/acme/members/{bob_membership.pk}/role/", {"role": "analyst"})
    bob_membership.refresh_from_db()
    assert bob_membership.role == "analyst"
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.data == {"from": "editor", "to": "analyst"}
    assert event.actor == world.alice and event.ip_address == "127.0.0.1"


def test_workspace_settings_reject_unknown_time_zone(world):
    with pytest.raises(InvalidInput) as exc:
        actions.update_workspace(
            Actor.system(), access_for(world.alice, "acme"), time_zone="Mars/Base"
        )
    assert "time_zone" in exc.value.fields
    world.acme.refresh_from_db()
    assert world.acme.time_zone == "Europe/London"


def test_role_change_from_the_page_updates_just_that_row(world):
    client = Client()
    client.force_login(world.alice)
    bob_membership = Membership.objects.get(user=world.bob, workspace=world.acme)
    response = client.post(
        f"/w/acme/members/{bob_membership.pk}/role/",
        {"role": "owner"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="member-{bob_membership.pk}">')
    assert "Role updated." in html and "<html" not in html
    assert '<option value="owner" selected>' in html


def test_refused_role_change_explains_why_in_the_row(world):
    Membership.objects.filter(user=world.bob, workspace=world.acme).update(role="admin")
    client = Client()
    client.force_login(world.bob)
    alice_membership = Membership.objects.get(user=world.alice, workspace=world.acme)
    response = client.post(
        f"/w/acme/members/{alice_membership.pk}/role/",
        {"role": "editor"},
        headers={"HX-Request": "true"},
    )
    assert "Only an owner can change another owner" in response.content.decode()
    assert Membership.objects.get(pk=alice_membership.pk).role == "owner"
