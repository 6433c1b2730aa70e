"""Autosave in the composer: typing is kept, offered back, and never changes a post by itself."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from minbar.channels.tests.test_channels import fake_networks  # noqa: F401 - autouse fixture
from minbar.core.actor import Actor
from minbar.publishing import actions
from minbar.publishing.actions import PostInput
from minbar.publishing.models import ComposerDraft, PostState
from minbar.workspaces.access import access_for


def _client(username: str) -> Client:
    client = Client()
    client.login(username=username, password=PASSWORD)
    return client


def test_what_is_typed_in_a_new_post_is_offered_back_and_cleared_on_save(world, channels):
    bob = _client("bob")
    typed = {"text": "Half-written launch post", "channels": [str(channels[0].pk)], "when": "draft"}
    assert bob.post("/w/acme/publishing/check/", typed).status_code == 200
    page = bob.get("/w/acme/publishing/new/").content.decode()
    assert 'data-testid="unsaved"' in page and "Half-written launch post" not in page
    restored = bob.get("/w/acme/publishing/new/?restore=1").content.decode()
    assert 'data-testid="restored"' in restored and "Half-written launch post" in restored
    # Alice has her own autosave: she is not offered Bob's typing.
    assert (
        'data-testid="unsaved"'
        not in _client("alice").get("/w/acme/publishing/new/").content.decode()
    )
    assert bob.post("/w/acme/publishing/new/", typed).status_code == 302
    assert not ComposerDraft.objects.filter(user=world.bob).exists()


def test_autosave_never_changes_a_scheduled_post_and_can_be_discarded(world, channels):
    when = timezone.now() + timedelta(days=1)
    post = actions.create_post(
        Actor(user=world.bob),
        access_for(world.bob, "acme"),
        PostInput(text="Final text", channel_ids=[channels[0].pk], when="at", scheduled_at=when),
    )
    bob = _client("bob")
    bob.post(
        "/w/acme/publishing/check/",
        {
            "post_id": str(post.pk),
            "text": "Typo fix in progress",
            "channels": [str(channels[0].pk)],
        },
    )
    post.refresh_from_db()
    assert (post.text, post.state) == ("Final text", PostState.SCHEDULED)
    edit = f"/w/acme/publishing/posts/{post.pk}/edit/"
    assert 'data-testid="unsaved"' in bob.get(edit).content.decode()
    assert bob.post(edit, {"discard_autosave": "1"}).status_code == 302
    assert 'data-testid="unsaved"' not in bob.get(edit).content.decode()


def test_autosave_ignores_another_workspaces_post(world, channels):
    charlie = _client("charlie")
    charlie.post("/w/globex/publishing/check/", {"post_id": "999999", "text": "x"})
    assert not ComposerDraft.objects.exists()
