"""First run on an empty installation, and owners adding workspaces."""

from __future__ import annotations

import pytest
from django.test import Client

from minbar.accounts.models import User
from minbar.workspaces.models import Membership, Workspace

SETUP = {
    "username": "founder",
    "email": "founder@example.com",
    "password": "a sturdy passphrase 7",
    "organization": "Nakhla Group",
    "workspace": "Nakhla Dates",
    "language": "ar",
    "time_zone": "Asia/Riyadh",
}


@pytest.mark.django_db
def test_fresh_installation_sends_visitors_to_setup_and_creates_the_owner():
    client = Client()
    assert client.get("/accounts/login/")["Location"] == "/setup/"
    response = client.post("/setup/", SETUP)
    workspace = Workspace.objects.get(name="Nakhla Dates")
    assert response["Location"] == f"/w/{workspace.slug}/"
    assert workspace.language == "ar" and workspace.time_zone == "Asia/Riyadh"
    founder = User.objects.get(username="founder")
    assert founder.is_superuser and founder.language == "ar"
    assert Membership.objects.get(user=founder, workspace=workspace).role == "owner"
    # Signed in straight away, in Arabic.
    assert 'lang="ar" dir="rtl"' in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_setup_refuses_a_weak_password_and_keeps_what_was_typed():
    response = Client().post("/setup/", {**SETUP, "password": "123"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nakhla Group" in html and "This password is too short" in html
    assert not User.objects.exists()


def test_setup_is_closed_once_anyone_has_an_account(world):
    client = Client()
    assert client.get("/setup/")["Location"] == "/accounts/login/"
    client.post("/setup/", {**SETUP, "username": "intruder"})
    assert not User.objects.filter(username="intruder").exists()


def test_owner_adds_a_workspace_to_their_organization(world):
    client = Client()
    client.force_login(world.alice)
    page = client.get("/workspaces/new/")
    assert page.status_code == 200 and "Acme Roasters Inc" in page.content.decode()
    response = client.post(
        "/workspaces/new/",
        {"organization": "acme-org", "name": "Acme Tea", "language": "en", "time_zone": "UTC"},
    )
    created = Workspace.objects.get(name="Acme Tea")
    assert response["Location"] == f"/w/{created.slug}/"
    assert created.organization == world.acme.organization


def test_owner_cannot_add_a_workspace_to_someone_elses_organization(world):
    client = Client()
    client.force_login(world.alice)
    client.post(
        "/workspaces/new/",
        {"organization": "globex-org", "name": "Sneaky", "language": "en", "time_zone": "UTC"},
    )
    assert not Workspace.objects.filter(name="Sneaky").exists()


def test_member_who_owns_nothing_cannot_create_workspaces(world):
    client = Client()
    client.force_login(world.bob)
    assert client.get("/workspaces/new/").status_code == 403
