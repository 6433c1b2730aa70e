"""A post's version history: word diffs, the versions page, restoring an earlier version."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from minbar.channels.tests.test_channels import fake_networks  # noqa: F401 - autouse fixture
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, NotFound
from minbar.publishing import actions
from minbar.publishing.actions import PostInput, Variant
from minbar.publishing.models import PostState, TargetState
from minbar.publishing.versions import Segment, changes, word_diff
from minbar.workspaces.access import access_for


def test_word_diff_marks_added_and_removed_words_in_any_script():
    assert word_diff("قهوة اليوم: إثيوبيا", "قهوة الغد: إثيوبيا ☕") == [
        Segment("same", "قهوة "),
        Segment("removed", "اليوم"),
        Segment("added", "الغد"),
        Segment("same", ": إثيوبيا"),
        Segment("added", " ☕"),
    ]
    assert word_diff("same", "same") == [Segment("same", "same")]


def test_changes_list_only_the_fields_that_differ():
    before = {"text": "Hello", "tags": ["a"], "targets": [{"channel": 1, "text": None}]}
    after = {"text": "Hello", "tags": ["a", "b"], "targets": [{"channel": 1, "text": "Hi"}]}
    found = changes(before, after, {1: "acme.one"})
    assert [str(c.label) for c in found] == ["Tags", "Channels and their variants"]


def _edit(user, post, channels, **extra):
    extra.setdefault("when", "at")
    extra.setdefault("scheduled_at", post.scheduled_at)
    return actions.update_post(
        Actor(user=user),
        access_for(user, "acme"),
        post.pk,
        PostInput(channel_ids=[c.pk for c in channels], **extra),
    )


def test_restoring_a_version_brings_back_its_content_and_keeps_the_schedule(world, channels):
    when = timezone.now() + timedelta(days=1)
    alice = (Actor(user=world.alice), access_for(world.alice, "acme"))
    post = actions.create_post(
        *alice,
        PostInput(
            text="First words",
            channel_ids=[c.pk for c in channels],
            variants={channels[1].pk: Variant(text="Short")},
            when="at",
            scheduled_at=when,
        ),
    )
    _edit(world.alice, post, channels[:1], text="Second words", tags=["launch"])
    post = actions.restore_version(*alice, post.pk, 1)
    assert (post.version, post.text, post.tags, post.state, post.scheduled_at) == (
        3,
        "First words",
        [],
        PostState.SCHEDULED,
        when,
    )
    targets = {t.channel_id: t for t in post.targets.all()}
    assert set(targets) == {channels[0].pk, channels[1].pk}
    assert targets[channels[1].pk].effective_text == "Short"
    assert post.events.filter(kind="restored", data__restored_version=1).exists()
    with pytest.raises(NotFound):
        actions.restore_version(*alice, post.pk, 99)


def test_a_contributors_restore_goes_back_through_approval(world, channels, contributor):
    when = timezone.now() + timedelta(days=1)
    cora = (Actor(user=contributor), access_for(contributor, "acme"))
    post = actions.create_post(
        *cora,
        PostInput(text="v1", channel_ids=[c.pk for c in channels], when="at", scheduled_at=when),
    )
    _edit(contributor, post, channels, text="v2")
    actions.approve_post(Actor(user=world.bob), access_for(world.bob, "acme"), post.pk)
    post = actions.restore_version(*cora, post.pk, 1)
    assert post.state == PostState.AWAITING_APPROVAL and post.text == "v1"


def test_a_published_post_cannot_be_restored(world, channels):
    alice = (Actor(user=world.alice), access_for(world.alice, "acme"))
    post = actions.create_post(
        *alice, PostInput(text="v1", channel_ids=[channels[0].pk], when="draft")
    )
    _edit(world.alice, post, channels[:1], text="v2", when="draft")
    post.targets.update(state=TargetState.PUBLISHED)
    post.state = PostState.PUBLISHED
    post.save()
    with pytest.raises(Conflict):
        actions.restore_version(*alice, post.pk, 1)


def test_versions_page_shows_diffs_to_members_and_404_to_outsiders(world, channels):
    alice = (Actor(user=world.alice), access_for(world.alice, "acme"))
    post = actions.create_post(
        *alice, PostInput(text="Cold brew", channel_ids=[channels[0].pk], when="draft")
    )
    _edit(world.alice, post, channels[:1], text="Cold brew tonight", when="draft")
    client = Client()
    client.login(username="bob", password=PASSWORD)
    page = client.get(f"/w/acme/publishing/posts/{post.pk}/versions/")
    assert page.status_code == 200
    assert "<ins> tonight</ins>" in page.content.decode()
    restored = client.post(f"/w/acme/publishing/posts/{post.pk}/versions/1/restore/")
    assert restored.status_code == 302
    post.refresh_from_db()
    assert post.text == "Cold brew" and post.version == 3
    outsider = Client()
    outsider.login(username="charlie", password=PASSWORD)
    assert outsider.get(f"/w/acme/publishing/posts/{post.pk}/versions/").status_code == 404
    assert (
        outsider.post(f"/w/acme/publishing/posts/{post.pk}/versions/1/restore/").status_code == 404
    )
