"""Interactions come in once, whatever the order or repetition, with contacts and threads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from minbar.channels.actions import connector_for
from minbar.channels.models import Channel, Health
from minbar.connectors.types import (
    Author,
    Interaction,
    InteractionKind,
    PostRequest,
    RemoteRef,
)
from minbar.inbox import ingestion
from minbar.inbox.models import Activity, Contact, Conversation, Cursor, Item
from minbar.publishing.tests.test_dispatcher_helpers import (
    sandbox_account,
    set_faults,
)
from minbar.sandbox import actions as sandbox_actions

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _comment(remote_id: str, text: str = "Love it", *, parent: str = "p1", author: str = "u1"):
    return Interaction(
        remote_id=remote_id,
        kind=InteractionKind.COMMENT if parent == "p1" else InteractionKind.REPLY,
        author=Author(remote_id=author, handle=f"@{author}", display_name=author.upper()),
        created_at=T0,
        text=text,
        post=RemoteRef("p1"),
        parent=RemoteRef(parent),
        ref=RemoteRef(remote_id),
    )


def test_repeated_and_out_of_order_delivery_stores_each_once(world, channel):
    child = _comment("e2", "Me too", parent="e1", author="u2")
    parent = _comment("e1")
    assert ingestion.ingest(channel, [child]).created == 1
    assert ingestion.ingest(channel, [parent, child, parent]).created == 1
    assert ingestion.ingest(channel, [child, parent]).created == 0
    assert Item.objects.count() == 2
    assert Item.objects.get(remote_id="e2").parent == Item.objects.get(remote_id="e1")
    assert Contact.objects.count() == 2
    assert Contact.objects.get(remote_id="u1").interactions_count == 1


def test_an_edit_on_the_network_updates_the_text(world, channel):
    ingestion.ingest(channel, [_comment("e1", "Nice")])
    got = ingestion.ingest(channel, [_comment("e1", "Nice!! (edited)")])
    item = Item.objects.get()
    assert got.updated == 1 and item.text == "Nice!! (edited)" and item.edited_at is not None


def test_the_channels_own_account_is_not_an_inbox_item(world, channel):
    own = Interaction(
        remote_id="e9",
        kind=InteractionKind.REPLY,
        author=Author(remote_id=channel.remote_id, handle=channel.handle),
        created_at=T0,
        text="Thanks!",
    )
    assert ingestion.ingest(channel, [own]).created == 0
    assert not Item.objects.exists()


def test_polling_the_sandbox_brings_comments_dms_and_activity_once(world, busy_channel):
    channel = busy_channel
    for text in ("What is your favourite coffee? #coffee", "قهوة اليوم: إثيوبيا #قهوة"):
        connector_for(channel).publish(PostRequest(text=text))
    sandbox_actions.advance(sandbox_account(channel), 3 * 86400)
    assert not Cursor.objects.filter(channel=channel).exists()  # due_channels makes it
    assert ingestion.due_channels(datetime.now(UTC)) == [channel.pk]
    got = ingestion.poll_channel(channel.pk)
    assert got.created > 0 and got.activities > 0
    count = Item.objects.count()
    cursor = Cursor.objects.get(channel=channel)
    assert cursor.cursor and cursor.last_error == "" and cursor.lease_until is None
    # Read again from the start: nothing is stored twice.
    Cursor.objects.filter(pk=cursor.pk).update(cursor="", next_poll_at=T0)
    assert ingestion.poll_channel(channel.pk).created == 0
    assert Item.objects.count() == count
    assert Activity.objects.exists()
    dms = Item.objects.filter(kind="direct_message")
    assert dms.exists() and all(d.conversation_id for d in dms)
    assert Conversation.objects.count() == len({d.conversation_id for d in dms})
    # The simulated audience varies by account; whatever it said can be answered.
    assert all(item.answerable for item in Item.objects.all())
    assert all(c.handle.startswith("@") for c in Contact.objects.all())


def test_a_channel_polled_by_another_worker_is_left_alone(world, channel):
    ingestion.due_channels(datetime.now(UTC))
    Cursor.objects.filter(channel=channel).update(
        lease_until=datetime.now(UTC) + timedelta(minutes=1)
    )
    assert ingestion.due_channels(datetime.now(UTC)) == []
    assert ingestion.poll_channel(channel.pk).created == 0
    assert Cursor.objects.get(channel=channel).last_polled_at is None


def test_a_rate_limit_waits_for_the_networks_retry_after(world, channel):
    ingestion.due_channels(datetime.now(UTC))
    set_faults(channel, fail_next=["rate_limited"], retry_after=600)
    ingestion.poll_channel(channel.pk)
    cursor = Cursor.objects.get(channel=channel)
    assert cursor.last_error and cursor.next_poll_at > datetime.now(UTC) + timedelta(minutes=9)
    assert cursor.lease_until is None


def test_a_channel_needing_reconnection_is_not_polled(world, channel):
    Channel.objects.filter(pk=channel.pk).update(health=Health.NEEDS_RECONNECT)
    assert ingestion.due_channels(datetime.now(UTC)) == []


def test_a_batch_racing_another_worker_keeps_the_items_still_new(world, channel):
    # As if a push stored "e1" between this poll's check and its insert.
    ingestion.ingest(channel, [_comment("e1")])
    contacts = ingestion._contacts(channel, [_comment("e1"), _comment("e2", author="u2")])
    made = ingestion._create_items(channel, [_comment("e1"), _comment("e2", author="u2")], contacts)
    assert [item.remote_id for item in made] == ["e2"]
    assert Item.objects.filter(channel=channel).count() == 2


def test_a_removal_on_the_network_is_reflected_and_an_unseen_one_is_ignored(world, channel):
    from dataclasses import replace

    ingestion.ingest(channel, [_comment("e1", "Rude words")])
    got = ingestion.ingest(channel, [replace(_comment("e1"), deleted=True)])
    item = Item.objects.get(remote_id="e1")
    assert got.updated == 1 and item.deleted_at is not None and not item.answerable
    ingestion.ingest(channel, [replace(_comment("e2"), deleted=True)])
    assert not Item.objects.filter(remote_id="e2").exists()


def _review(stars: int | None, text: str = "Nice place") -> Interaction:
    return Interaction(
        remote_id="review-1",
        kind=InteractionKind.REVIEW,
        author=Author(remote_id="guest", handle="", display_name="Guest"),
        created_at=T0,
        text=text,
        ref=RemoteRef("review-1"),
        rating=stars,
    )


def test_a_review_keeps_its_stars_and_follows_the_reviewer_changing_them(world, channel):
    assert ingestion.ingest(channel, [_review(4)]).created == 1
    assert Item.objects.get(remote_id="review-1").rating == 4
    assert ingestion.ingest(channel, [_review(2)]).updated == 1  # same text, fewer stars
    assert Item.objects.get(remote_id="review-1").rating == 2
    # A delivery that does not say the stars does not erase them.
    assert ingestion.ingest(channel, [_review(None)]).updated == 0
    assert Item.objects.get(remote_id="review-1").rating == 2


def test_a_rating_outside_one_to_five_is_not_stored(world, channel):
    ingestion.ingest(channel, [_review(0)])
    assert Item.objects.get(remote_id="review-1").rating is None
    ingestion.ingest(channel, [_review(7)])
    assert Item.objects.get(remote_id="review-1").rating is None


def test_a_comment_finds_a_post_kept_as_several_messages_by_its_first(world, channel):
    """A Telegram album is one post of several messages ("501,502,503"); comments name 501."""
    from minbar.publishing.models import TargetState
    from minbar.publishing.tests.test_dispatcher_helpers import make_post, target_of

    album = target_of(make_post(world, [channel], state=TargetState.PUBLISHED))
    album.remote_id = "501,502,503"
    album.save(update_fields=["remote_id"])
    single = target_of(make_post(world, [channel], state=TargetState.PUBLISHED))
    single.remote_id = "50"
    single.save(update_fields=["remote_id"])

    def on(post: str, remote_id: str) -> Interaction:
        return replace(_comment(remote_id), post=RemoteRef(post), parent=RemoteRef(post))

    ingestion.ingest(channel, [on("501", "c1"), on("50", "c2"), on("5", "c3"), on("502", "c4")])
    linked = dict(Item.objects.values_list("remote_id", "target_id"))
    assert linked == {"c1": album.pk, "c2": single.pk, "c3": None, "c4": None}
