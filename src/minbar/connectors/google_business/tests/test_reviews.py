"""Reviews as inbox items, replies and their deletion, against the fake.

https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews
(list: pageSize at most 50, ``updateTime desc``; updateReply; deleteReply).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from minbar.connectors.errors import NotSupported, Rejected
from minbar.connectors.google_business.tests.conftest import Connected
from minbar.connectors.google_business.tests.fake import FakeBusinessProfile
from minbar.connectors.types import Interaction, InteractionKind, PostRequest, RemoteRef


def _review(
    shop: Connected, fake: FakeBusinessProfile, text: str, **extra: object
) -> dict[str, object]:
    return fake.add_review(shop.business.account, shop.result.account.remote_id, text, **extra)  # type: ignore[arg-type]


def _drain(shop: Connected, cursor: str = "", pages: int = 20) -> tuple[list[Interaction], str]:
    """Every page of one sweep (the inbox poller's loop, bounded)."""
    connector = shop.connector
    connector.interactions_min_interval = 0
    items: list[Interaction] = []
    for _page in range(pages):
        page = connector.interactions(cursor)
        items += page.items
        cursor = page.cursor
        if not json.loads(cursor)["p"]:
            break
    return items, cursor


def test_reviews_arrive_with_their_stars_author_and_text(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    review = _review(shop, fake, "Best cardamom coffee in Amman", stars=4, reviewer="Omar")
    items, _cursor = _drain(shop)
    assert len(items) == 1
    item = items[0]
    assert item.kind == InteractionKind.REVIEW
    assert item.remote_id == review["name"]
    assert item.rating == 4
    assert item.text == "Best cardamom coffee in Amman"
    assert item.author.display_name == "Omar" and item.author.remote_id == "reviewer:Omar"
    assert item.url == shop.result.account.url
    assert item.ref is not None and item.ref.extra["star_rating"] == "FOUR"


def test_anonymous_reviewers_never_merge_and_a_rating_without_text_still_counts(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    _review(shop, fake, "", stars=1, anonymous=True)
    _review(shop, fake, "", stars=2, anonymous=True)
    items, _cursor = _drain(shop)
    assert sorted(i.rating or 0 for i in items) == [1, 2]
    assert len({i.author.remote_id for i in items}) == 2
    assert all(i.author.remote_id.startswith("anonymous:") for i in items)
    assert all(i.text == "" for i in items)


def test_paging_delivers_each_review_once(shop: Connected, fake: FakeBusinessProfile) -> None:
    start = datetime.now(UTC) - timedelta(days=3)
    for n in range(120):
        _review(shop, fake, f"review {n}", at=start + timedelta(minutes=n))
    items, cursor = _drain(shop)
    # Pages go back in time; within each page the oldest comes first.
    assert [i.text for i in items][:3] == ["review 70", "review 71", "review 72"]
    assert {i.text for i in items} == {f"review {n}" for n in range(120)}
    assert len({i.remote_id for i in items}) == len(items) == 120
    assert all(c[2]["pageSize"] == ["50"] for c in fake.calls("GET", "/reviews"))
    # Nothing new: the next sweep reads one page and delivers nothing.
    more, cursor = _drain(shop, cursor)
    assert more == []
    _review(shop, fake, "a new one")
    newest, _cursor = _drain(shop, cursor)
    assert [i.text for i in newest] == ["a new one"]


def test_an_edited_review_comes_again_with_its_new_text_and_stars(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    review = _review(shop, fake, "Slow service", stars=2)
    _items, cursor = _drain(shop)
    fake.clock_offset = timedelta(seconds=5)
    fake.edit_review(str(review["name"]), "Slow, but they made it right", 4)
    items, _cursor = _drain(shop, cursor)
    assert [(i.remote_id, i.text, i.rating) for i in items] == [
        (review["name"], "Slow, but they made it right", 4)
    ]


def test_reviews_of_the_same_instant_at_a_sweep_boundary_are_not_lost(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    moment = datetime.now(UTC) - timedelta(hours=1)
    _review(shop, fake, "first", at=moment)
    _items, cursor = _drain(shop)
    _review(shop, fake, "same instant", at=moment)
    items, _cursor = _drain(shop, cursor)
    assert [i.text for i in items] == ["same instant"]


def test_sweeps_start_at_most_every_few_minutes(shop: Connected, fake: FakeBusinessProfile) -> None:
    first = shop.connector.interactions("")
    calls = len(fake.calls("GET", "/reviews"))
    again = shop.connector.interactions(first.cursor)
    assert again.items == [] and again.cursor == first.cursor
    assert len(fake.calls("GET", "/reviews")) == calls


def test_a_reply_is_put_on_the_review_and_a_second_replaces_it(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    review = _review(shop, fake, "Lovely staff")
    items, _cursor = _drain(shop)
    ref = items[0].ref
    assert ref is not None
    result = shop.connector.reply(ref, PostRequest(text="Thank you, see you soon! 🌟"))
    assert result.remote_id == f"{review['name']}/reply"
    assert (
        fake.reviews[str(review["name"])]["reviewReply"]["comment"] == "Thank you, see you soon! 🌟"
    )
    shop.connector.publish(PostRequest(text="شكراً لزيارتكم", reply_to=ref))
    assert fake.reviews[str(review["name"])]["reviewReply"]["comment"] == "شكراً لزيارتكم"
    # The reply is read back as the review's state, not as an inbox item of its own.
    fake.clock_offset = timedelta(seconds=5)
    fake.edit_review(str(review["name"]), "Lovely staff!", 5)
    again, _cursor = _drain(shop)
    assert {i.ref.extra.get("replied") for i in again if i.ref} == {"1"}


def test_a_reply_whose_answer_is_lost_is_sent_again_safely(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    review = _review(shop, fake, "Great")
    fake.fail("PUT", f"/v4/{review['name']}/reply", kind="drop")
    result = shop.connector.reply(RemoteRef(str(review["name"])), PostRequest(text="Thanks!"))
    assert result.remote_id.endswith("/reply")
    assert len(fake.calls("PUT", "/reply")) == 2
    assert fake.reviews[str(review["name"])]["reviewReply"]["comment"] == "Thanks!"


def test_replies_are_text_of_at_most_4096_bytes(shop: Connected, fake: FakeBusinessProfile) -> None:
    review = _review(shop, fake, "Great")
    ref = RemoteRef(str(review["name"]))
    with pytest.raises(Rejected, match="4,096 bytes"):
        shop.connector.reply(ref, PostRequest(text="ش" * 2049))
    with pytest.raises(Rejected, match="write a reply"):
        shop.connector.reply(ref, PostRequest(text="  "))
    assert not fake.calls("PUT", "/reply")


def test_the_business_reply_can_be_deleted_but_never_the_review(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    review = _review(shop, fake, "Meh", stars=3)
    result = shop.connector.reply(RemoteRef(str(review["name"])), PostRequest(text="Sorry!"))
    assert result.ref is not None
    shop.connector.delete_interaction(result.ref)
    assert "reviewReply" not in fake.reviews[str(review["name"])]
    shop.connector.delete_reply(RemoteRef(str(review["name"])))  # already gone: fine
    with pytest.raises(NotSupported, match="does not let a business delete reviews"):
        shop.connector.delete_interaction(RemoteRef(str(review["name"])))
    with pytest.raises(NotSupported):
        shop.connector.hide(RemoteRef(str(review["name"])))
    caps = shop.connector.account_capabilities()
    assert caps.can_reply_to == {InteractionKind.REVIEW}
    assert not caps.can_delete_interactions and not caps.can_hide
