"""Working the inbox: permissions, filters, assign/close/tag, notes and replies that are kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from conftest import PASSWORD, make_user
from minbar.accounts.models import User
from minbar.channels.actions import connector_for
from minbar.connectors.types import Author, Interaction, InteractionKind, PostRequest, RemoteRef
from minbar.core.actor import Actor
from minbar.core.errors import Conflict, NotAllowed, NotFound
from minbar.inbox import actions, ingestion
from minbar.inbox.models import Item, ReplyState
from minbar.publishing.tests.test_dispatcher_helpers import (
    network_posts,
    sandbox_account,
    sandbox_channel,
    set_faults,
)
from minbar.sandbox import actions as sandbox_actions
from minbar.sandbox.tests.helpers import route_sandbox_in_process
from minbar.workspaces.access import WorkspaceAccess, access_for
from minbar.workspaces.models import Membership


@pytest.fixture
def items(world, monkeypatch):
    route_sandbox_in_process(monkeypatch)
    channel = sandbox_channel(world)
    post = channel_post = None

    channel_post = connector_for(channel).publish(PostRequest(text="New blend"))
    post = channel_post.remote_id
    ingestion.ingest(
        channel,
        [
            Interaction(
                remote_id=f"x{n}",
                kind=InteractionKind.COMMENT,
                author=Author(remote_id=f"u{n}", handle=f"@fan{n}", display_name=f"Fan {n}"),
                created_at=datetime(2026, 11, 20, 9, n, tzinfo=UTC),
                text=text,
                post=RemoteRef(post),
                parent=RemoteRef(post),
                ref=RemoteRef(post),
            )
            for n, text in enumerate(["Where is the shop?", "القهوة رائعة", "Too pricey"])
        ],
    )
    return list(Item.objects.order_by("remote_id"))


def _as(user: User) -> tuple[Actor, WorkspaceAccess]:
    return Actor(user=user), access_for(user, "acme")


def test_outsider_gets_404_and_client_403_for_the_inbox(world, items):
    outsider = Client()
    outsider.login(username="charlie", password=PASSWORD)
    assert outsider.get("/w/acme/inbox/").status_code == 404
    assert outsider.get(f"/w/acme/inbox/{items[0].pk}/").status_code == 404
    assert outsider.post(f"/w/acme/inbox/{items[0].pk}/reply/", {"text": "hi"}).status_code == 404
    client_user = make_user("cliff")
    Membership.objects.create(user=client_user, workspace=world.acme, role="client")
    viewer = Client()
    viewer.login(username="cliff", password=PASSWORD)
    assert viewer.get("/w/acme/inbox/").status_code == 403
    with pytest.raises(NotFound):
        actions.get_item(access_for(world.charlie, "globex"), items[0].pk)


def test_analyst_reads_but_cannot_act(world, items):
    ann = make_user("ann")
    Membership.objects.create(user=ann, workspace=world.acme, role="analyst")
    analyst = Client()
    analyst.login(username="ann", password=PASSWORD)
    assert analyst.get("/w/acme/inbox/").status_code == 200
    assert (
        analyst.post(f"/w/acme/inbox/{items[0].pk}/act/", {"action": "closed"}).status_code == 403
    )
    with pytest.raises(NotAllowed):
        actions.set_status(*_as(ann), [items[0].pk], "closed")


def test_filters_narrow_the_list(world, items):
    member = Client()
    member.login(username="bob", password=PASSWORD)
    actions.assign(*_as(world.alice), [items[0].pk], world.bob.pk)
    actions.set_status(*_as(world.alice), [items[2].pk], "closed")
    page = member.get("/w/acme/inbox/").content.decode()
    assert "Where is the shop?" in page and "Too pricey" not in page
    mine = member.get("/w/acme/inbox/?assignee=me").content.decode()
    assert "Where is the shop?" in mine and "القهوة رائعة" not in mine
    search = member.get("/w/acme/inbox/?q=%D8%A7%D9%84%D9%82%D9%87%D9%88%D8%A9").content.decode()
    assert "القهوة رائعة" in search and "Where is the shop?" not in search
    closed = member.get("/w/acme/inbox/?status=closed").content.decode()
    assert "Too pricey" in closed


def test_bulk_assign_close_and_tag(world, items):
    member = Client()
    member.login(username="bob", password=PASSWORD)
    ids = [str(items[0].pk), str(items[1].pk)]
    member.post("/w/acme/inbox/bulk/", {"items": ids, "action": "tag", "tag": "question, shop"})
    member.post(
        "/w/acme/inbox/bulk/", {"items": ids, "action": "assign", "assignee": str(world.bob.pk)}
    )
    member.post("/w/acme/inbox/bulk/", {"items": ids, "action": "closed"})
    for item in Item.objects.filter(pk__in=ids):
        assert item.tags == ["question", "shop"] and item.assignee == world.bob
        assert item.status == "closed" and item.closed_at is not None
    tagged = member.get("/w/acme/inbox/?status=all&tag=shop").content.decode()
    assert "Where is the shop?" in tagged and "Too pricey" not in tagged


def test_assigning_someone_outside_the_workspace_is_refused(world, items):
    from minbar.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        actions.assign(*_as(world.alice), [items[0].pk], world.charlie.pk)


def test_reply_goes_out_in_the_thread_and_counts_as_the_first_response(world, items):
    answer = actions.reply(*_as(world.bob), items[0].pk, "Riyadh, King Fahd Road")
    assert answer.state == ReplyState.SENT and answer.remote_id
    item = Item.objects.get(pk=items[0].pk)
    assert item.first_response_at == answer.sent_at
    replies = network_posts(item.channel, replies=True)
    assert any(p.text == "Riyadh, King Fahd Road" for p in replies)


def test_a_reply_that_fails_is_kept_with_the_reason_and_can_be_sent_again(world, items):
    set_faults(items[0].channel, fail_next=["server_error"])
    answer = actions.reply(*_as(world.bob), items[0].pk, "On its way")
    assert answer.state == ReplyState.FAILED and answer.error_message
    assert Item.objects.get(pk=items[0].pk).first_response_at is None
    again = actions.retry_reply(*_as(world.bob), answer.pk)
    assert again.state == ReplyState.SENT


def test_a_reply_whose_outcome_is_unknown_is_not_sent_again_blindly(world, items):
    set_faults(items[0].channel, fail_next=["ambiguous"])
    answer = actions.reply(*_as(world.bob), items[0].pk, "Maybe")
    assert answer.state == ReplyState.UNCONFIRMED
    from minbar.core.errors import Conflict

    with pytest.raises(Conflict):
        actions.retry_reply(*_as(world.bob), answer.pk)


def test_detail_page_shows_the_thread_notes_and_reply_form(world, items):
    member = Client()
    member.login(username="bob", password=PASSWORD)
    member.post(f"/w/acme/inbox/{items[1].pk}/note/", {"body": "VIP, answer in Arabic"})
    page = member.get(f"/w/acme/inbox/{items[1].pk}/").content.decode()
    assert "القهوة رائعة" in page and "VIP, answer in Arabic" in page
    assert 'name="text"' in page and 'dir="auto"' in page


def test_inbox_through_the_api(world, items):
    api = Client()
    api.login(username="bob", password=PASSWORD)
    listed = api.get("/api/v1/workspaces/acme/inbox").json()
    assert listed["count"] == 3 and listed["items"][0]["contact"]["handle"].startswith("@fan")
    changed = api.post(
        "/api/v1/workspaces/acme/inbox-changes",
        {"items": [items[2].pk], "status": "closed", "add_tags": ["price"]},
        content_type="application/json",
    ).json()
    assert changed[0]["status"] == "closed" and changed[0]["tags"] == ["price"]
    sent = api.post(
        f"/api/v1/workspaces/acme/inbox/{items[0].pk}/replies",
        {"text": "Olaya Street"},
        content_type="application/json",
    )
    assert sent.status_code == 201 and sent.json()["state"] == "sent"
    outsider = Client()
    outsider.login(username="charlie", password=PASSWORD)
    assert outsider.get(f"/api/v1/workspaces/acme/inbox/{items[0].pk}").status_code == 404


def test_saved_replies_fill_in_the_person_and_the_brand(world, items):
    saved = actions.save_reply_template(
        *_as(world.bob), "Thanks", "Thank you {first_name}! — {agent}, {brand}", "en"
    )
    assert actions.fill(saved, items[0], world.bob) == "Thank you Fan! — Bob, Acme Roasters"
    from minbar.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="fix"):
        actions.save_reply_template(*_as(world.bob), "Bad", "Hi {nickname}")
    member = Client()
    member.login(username="bob", password=PASSWORD)
    page = member.get(f"/w/acme/inbox/{items[0].pk}/").content.decode()
    assert "Thank you Fan! — Bob, Acme Roasters" in page


def test_someone_else_answering_is_shown_and_a_late_reply_is_held_back(world, items):
    alice, bob = Client(), Client()
    alice.login(username="alice", password=PASSWORD)
    bob.login(username="bob", password=PASSWORD)
    alice.get(f"/w/acme/inbox/{items[0].pk}/")
    page = bob.get(f"/w/acme/inbox/{items[0].pk}/")
    assert 'data-testid="others-viewing"' in page.content.decode()
    loaded_at = page.context["loaded_at"]
    actions.reply(*_as(world.alice), items[0].pk, "Olaya Street")
    held = bob.post(
        f"/w/acme/inbox/{items[0].pk}/reply/", {"text": "King Fahd Road", "loaded_at": loaded_at}
    )
    assert held.status_code == 409 and "King Fahd Road" in held.content.decode()
    assert Item.objects.get(pk=items[0].pk).replies.count() == 1
    sent = bob.post(
        f"/w/acme/inbox/{items[0].pk}/reply/",
        {"text": "King Fahd Road", "loaded_at": loaded_at, "send_anyway": "1"},
    )
    assert sent.status_code == 302
    assert Item.objects.get(pk=items[0].pk).replies.count() == 2


def test_hiding_and_deleting_a_comment_on_the_network(world, busy_channel):
    channel = busy_channel
    connector = connector_for(channel)
    connector.publish(PostRequest(text="Tell us about your morning coffee"))
    sandbox_actions.advance(sandbox_account(channel), 2 * 86400)
    ingestion.due_channels(datetime.now(UTC))
    ingestion.poll_channel(channel.pk)
    comment = Item.objects.filter(channel=channel, kind="comment").first()
    assert comment is not None
    caps = connector.account_capabilities()
    assert caps.can_hide and caps.can_delete_interactions
    actions.moderate(*_as(world.bob), comment.pk, "hide")
    assert Item.objects.get(pk=comment.pk).hidden
    actions.moderate(*_as(world.bob), comment.pk, "delete")
    deleted = Item.objects.get(pk=comment.pk)
    assert deleted.deleted_at is not None and deleted.status == "closed"
    with pytest.raises(Conflict):
        actions.moderate(*_as(world.bob), comment.pk, "delete")


def test_search_folds_arabic_letter_forms_and_finds_authors(world, items):
    from minbar.inbox import ingestion as ing

    channel = items[0].channel
    ing.ingest(
        channel,
        [
            Interaction(
                remote_id="refund-1",
                kind=InteractionKind.COMMENT,
                author=Author(remote_id="u-refund", handle="@nora", display_name="Nora Q"),
                created_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
                text="أريد الإسترجاع",
            )
        ],
    )
    member = Client()
    member.login(username="bob", password=PASSWORD)
    found = member.get("/w/acme/inbox/", {"q": "الاسترجاع"}).content.decode()
    assert "أريد الإسترجاع" in found and "Too pricey" not in found
    by_name = member.get("/w/acme/inbox/", {"q": "nora"}).content.decode()
    assert "أريد الإسترجاع" in by_name


def test_a_note_mentions_a_teammate(world, items):
    from minbar.notifications.models import Notification

    actions.add_note(*_as(world.bob), items[0].pk, "@alice can you take this one?")
    assert Notification.objects.filter(user=world.alice, kind="inbox.mention").exists()


def test_saved_views_keep_filters_show_counts_and_stay_private_unless_shared(world, items):
    actions.set_status(*_as(world.alice), [items[2].pk], "closed")
    bob = Client()
    bob.login(username="bob", password=PASSWORD)
    bob.post("/w/acme/inbox/views/", {"name": "Closed ones", "query": "status=closed&page=3"})
    bob.post("/w/acme/inbox/views/", {"name": "Team open", "query": "status=open", "shared": "1"})
    page = bob.get("/w/acme/inbox/").content.decode()
    assert "Closed ones (1)" in page and "Team open (2)" in page
    from minbar.inbox.models import SavedView

    assert SavedView.objects.get(name="Closed ones").query == "status=closed"
    alice = Client()
    alice.login(username="alice", password=PASSWORD)
    seen = alice.get("/w/acme/inbox/").content.decode()
    assert "Team open (2)" in seen and "Closed ones" not in seen
    private = SavedView.objects.get(name="Closed ones")
    dave = make_user("dave")
    Membership.objects.create(user=dave, workspace=world.acme, role="editor")
    with pytest.raises(NotAllowed):
        actions.delete_view(*_as(dave), private.pk)
    actions.delete_view(*_as(world.bob), private.pk)
    assert not SavedView.objects.filter(pk=private.pk).exists()


def test_more_filters_vip_language_links_and_dates(world, items):
    member = Client()
    member.login(username="bob", password=PASSWORD)
    arabic = member.get("/w/acme/inbox/", {"language": "ar"}).content.decode()
    assert "القهوة رائعة" in arabic and "Too pricey" not in arabic
    actions.set_vip(*_as(world.bob), items[2].pk, True)
    vip = member.get("/w/acme/inbox/", {"vip": "yes"}).content.decode()
    assert "Too pricey" in vip and "Where is the shop?" not in vip
    none_with_links = member.get("/w/acme/inbox/", {"link": "yes"}).content.decode()
    assert "Where is the shop?" not in none_with_links
    dated = member.get("/w/acme/inbox/", {"since": "2026-11-21"}).content.decode()
    assert "Where is the shop?" not in dated
    same_day = member.get(
        "/w/acme/inbox/", {"since": "2026-11-20", "until": "2026-11-20", "network": "sandbox"}
    ).content.decode()
    assert "Where is the shop?" in same_day
    assert member.get("/w/acme/inbox/", {"since": "yesterday"}).status_code == 200


def test_a_reply_can_carry_an_image_from_the_library(world, busy_channel, media_root):
    from minbar.media import actions as media_actions
    from minbar.media.tests.conftest import image_bytes, upload
    from minbar.sandbox.models import SandboxPost

    channel = busy_channel
    connector_for(channel).publish(PostRequest(text="Show us your cup"))
    sandbox_actions.advance(sandbox_account(channel), 2 * 86400)
    ingestion.due_channels(datetime.now(UTC))
    ingestion.poll_channel(channel.pk)
    comment = Item.objects.filter(channel=channel, kind="comment").first()
    assert comment is not None
    asset = media_actions.upload(
        *_as(world.bob), [upload("cup.png", image_bytes("PNG"))], alt_text="Our latte art"
    )[0].asset
    answer = actions.reply(*_as(world.bob), comment.pk, "Here is ours", [asset.pk])
    assert answer.state == ReplyState.SENT, answer.error_message
    sent = SandboxPost.objects.get(text="Here is ours")
    assert [m["alt_text"] for m in sent.media] == ["Our latte art"]
    with pytest.raises(NotFound):
        actions.reply(*_as(world.bob), comment.pk, "Nope", [999999])


def test_the_assigned_tab_lists_open_items_someone_has_taken(world, items):
    actions.assign(*_as(world.alice), [items[0].pk], world.bob.pk)
    member = Client()
    member.login(username="bob", password=PASSWORD)
    page = member.get("/w/acme/inbox/", {"status": "assigned"}).content.decode()
    assert "Where is the shop?" in page and "Too pricey" not in page
    assert "Assigned (1)" in page


def _review(remote_id: str, stars: int | None, text: str = "", minute: int = 0) -> Interaction:
    return Interaction(
        remote_id=remote_id,
        kind=InteractionKind.REVIEW,
        author=Author(remote_id=f"r-{remote_id}", handle="", display_name=f"Guest {remote_id}"),
        created_at=datetime(2026, 11, 21, 9, minute, tzinfo=UTC),
        text=text,
        ref=RemoteRef(remote_id),
        rating=stars,
    )


@pytest.fixture
def reviews(world, items):
    channel = items[0].channel
    ingestion.ingest(
        channel,
        [
            _review("rv5", 5, "Best coffee in town", 1),
            _review("rv1", 1, "Cold and late", 2),
            _review("rv2", 2, "", 3),  # stars without a word still count
        ],
    )
    return {i.remote_id: i for i in Item.objects.filter(kind="review")}


def test_review_stars_are_stored_shown_in_words_and_filtered(world, reviews):
    assert {k: r.rating for k, r in reviews.items()} == {"rv5": 5, "rv1": 1, "rv2": 2}
    assert Item.objects.filter(kind="comment", rating__isnull=False).count() == 0
    member = Client()
    member.login(username="bob", password=PASSWORD)
    page = member.get("/w/acme/inbox/").content.decode()
    assert '<span aria-hidden="true">★★★★★</span>' in page
    assert "5 stars out of 5" in page and "1 star out of 5" in page
    assert '<span aria-hidden="true">★☆☆☆☆</span>' in page
    one = member.get("/w/acme/inbox/?rating=1").content.decode()
    assert "Cold and late" in one and "Best coffee in town" not in one
    assert "Where is the shop?" not in one  # comments carry no stars
    low = member.get("/w/acme/inbox/?rating=low").content.decode()
    assert "Cold and late" in low and f"/inbox/{reviews['rv2'].pk}/" in low
    assert "Best coffee in town" not in low
    odd = member.get("/w/acme/inbox/?rating=9").content.decode()  # ignored, not an error
    assert "Best coffee in town" in odd and "Where is the shop?" in odd
    detail = member.get(f"/w/acme/inbox/{reviews['rv5'].pk}/").content.decode()
    assert 'data-rating="5"' in detail and "5 stars out of 5" in detail


def test_review_stars_read_in_arabic_and_fill_from_the_start_of_the_line(world, reviews):
    world.bob.language = "ar"
    world.bob.save(update_fields=["language"])
    member = Client()
    member.login(username="bob", password=PASSWORD)
    page = member.get("/w/acme/inbox/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'dir="rtl"' in page
    assert "5 stars out of 5" not in page and "5 نجوم من 5" in page and "★★★★★" in page
    # No forced direction: in Arabic the filled stars come first from the right.
    stars = page.split('data-rating="2"')[1].split("</span></span>")[0]
    assert 'dir="ltr"' not in stars and "★★☆☆☆" in stars


def test_review_stars_through_the_api_with_filters(world, reviews):
    api = Client()
    api.login(username="bob", password=PASSWORD)
    listed = api.get("/api/v1/workspaces/acme/inbox?kind=review").json()
    assert sorted(i["rating"] for i in listed["items"]) == [1, 2, 5]
    comments = api.get("/api/v1/workspaces/acme/inbox?kind=comment").json()
    assert {i["rating"] for i in comments["items"]} == {None}
    exact = api.get("/api/v1/workspaces/acme/inbox?rating=5").json()
    assert [i["text"] for i in exact["items"]] == ["Best coffee in town"]
    low = api.get("/api/v1/workspaces/acme/inbox?max_rating=2").json()
    assert sorted(i["rating"] for i in low["items"]) == [1, 2]
    one = api.get(f"/api/v1/workspaces/acme/inbox/{reviews['rv1'].pk}").json()
    assert one["rating"] == 1
    bad = api.get("/api/v1/workspaces/acme/inbox?rating=6")
    assert bad.status_code == 422 and "rating" in bad.json()["error"]["fields"]
