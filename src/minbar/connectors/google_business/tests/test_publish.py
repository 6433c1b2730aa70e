"""Local posts against the fake: updates, buttons, photos, events, offers, deletion, lookups.

https://developers.google.com/my-business/content/posts-data and
https://developers.google.com/my-business/reference/rest/v4/accounts.locations.localPosts
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from minbar.connectors.errors import OutcomeUnknown, Rejected
from minbar.connectors.google_business import (
    EventDetails,
    GoogleBusinessConnector,
    LocalPostOptions,
    OfferDetails,
)
from minbar.connectors.google_business.tests.conftest import Connected, photo
from minbar.connectors.google_business.tests.fake import FakeBusinessProfile
from minbar.connectors.types import MediaItem, PostRequest
from minbar.publishing.validation import problems_for, text_length


def _post(fake: FakeBusinessProfile, name: str) -> dict[str, Any]:
    return fake.posts[name]


def test_a_text_post_is_a_standard_update(shop: Connected, fake: FakeBusinessProfile) -> None:
    result = shop.connector.publish(PostRequest(text="Fresh beans today ☕", language="en"))
    post = _post(fake, result.remote_id)
    assert result.remote_id.startswith(f"{shop.parent}/localPosts/")
    assert post["topicType"] == "STANDARD"
    assert post["summary"] == "Fresh beans today ☕"
    assert post["languageCode"] == "en"
    assert "callToAction" not in post and "media" not in post
    assert result.url == post["searchUrl"]
    assert result.published_at is not None


def test_the_post_link_becomes_a_learn_more_button(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    result = shop.connector.publish(
        PostRequest(text="Our autumn menu", link="https://acme.example/menu")
    )
    assert _post(fake, result.remote_id)["callToAction"] == {
        "actionType": "LEARN_MORE",
        "url": "https://acme.example/menu",
    }


def test_the_channel_default_button_applies_to_every_post_with_a_link(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    shop.connector.set_post_defaults(action_type="ORDER")
    reopened = shop.reopen()
    result = reopened.publish(PostRequest(text="Order ahead", link="https://acme.example/order"))
    assert _post(fake, result.remote_id)["callToAction"]["actionType"] == "ORDER"
    with pytest.raises(Rejected, match="must be one of"):
        shop.connector.set_post_defaults(action_type="DANCE")


def test_a_call_button_carries_no_link(shop: Connected, fake: FakeBusinessProfile) -> None:
    result = shop.connector.publish_local_post(
        PostRequest(text="Call us to book a table"), LocalPostOptions(action_type="CALL")
    )
    assert _post(fake, result.remote_id)["callToAction"] == {"actionType": "CALL"}


def test_a_photo_is_handed_to_google_as_an_address_it_fetches(
    shop: Connected, fake: FakeBusinessProfile, tmp_path: Path
) -> None:
    image = photo(tmp_path)
    result = shop.connector.publish(PostRequest(text="Latte art", media=(image,)))
    media = _post(fake, result.remote_id)["media"]
    assert len(media) == 1 and media[0]["mediaFormat"] == "PHOTO"
    assert media[0]["sourceUrl"] in fake.fetched


def test_an_event_post_sends_its_title_and_schedule(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    event = EventDetails(
        title="Cupping night",
        start_date=date(2030, 10, 31),
        end_date=date(2030, 10, 31),
        start_time=time(18, 0),
        end_time=time(21, 30),
    )
    result = shop.connector.publish_local_post(
        PostRequest(text="Taste five origins with us", link="https://acme.example/events"),
        LocalPostOptions(topic="EVENT", event=event, action_type="SIGN_UP"),
    )
    post = _post(fake, result.remote_id)
    assert post["topicType"] == "EVENT"
    assert post["event"] == {
        "title": "Cupping night",
        "schedule": {
            "startDate": {"year": 2030, "month": 10, "day": 31},
            "endDate": {"year": 2030, "month": 10, "day": 31},
            "startTime": {"hours": 18, "minutes": 0, "seconds": 0, "nanos": 0},
            "endTime": {"hours": 21, "minutes": 30, "seconds": 0, "nanos": 0},
        },
    }
    assert post["callToAction"]["actionType"] == "SIGN_UP"


def test_an_offer_post_sends_its_code_terms_and_redeem_link_but_no_button(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    result = shop.connector.publish_local_post(
        PostRequest(text="Buy one, get one free", link="https://acme.example/redeem"),
        LocalPostOptions(
            topic="OFFER",
            action_type="SHOP",
            event=EventDetails("Two for one", date(2030, 11, 1), date(2030, 11, 7)),
            offer=OfferDetails(coupon_code="BOGO-2030", terms="One per customer."),
        ),
    )
    post = _post(fake, result.remote_id)
    assert post["topicType"] == "OFFER"
    assert post["offer"] == {
        "couponCode": "BOGO-2030",
        "redeemOnlineUrl": "https://acme.example/redeem",
        "termsConditions": "One per customer.",
    }
    assert "callToAction" not in post  # "Ignored for topic type OFFER"
    assert post["event"]["title"] == "Two for one"


@pytest.mark.parametrize(
    ("request_", "options", "words"),
    [
        (PostRequest(text="x" * 1501), LocalPostOptions(), "1,501/1,500"),
        (PostRequest(text=""), LocalPostOptions(), "write something"),
        (PostRequest(text="Come", thread=("more",)), LocalPostOptions(), "threads"),
        (PostRequest(text="Book"), LocalPostOptions(action_type="BOOK"), "needs a link"),
        (PostRequest(text="Party"), LocalPostOptions(topic="EVENT"), "needs a title and dates"),
        (
            PostRequest(text="Party"),
            LocalPostOptions(
                topic="EVENT", event=EventDetails("Party", date(2030, 1, 2), date(2030, 1, 1))
            ),
            "end comes before the start",
        ),
        (PostRequest(text="Hi"), LocalPostOptions(topic="ALERT"), "updates, events or offers"),
    ],
)
def test_what_google_would_refuse_is_refused_before_sending(
    shop: Connected,
    fake: FakeBusinessProfile,
    request_: PostRequest,
    options: LocalPostOptions,
    words: str,
) -> None:
    with pytest.raises(Rejected, match=words):
        shop.connector.publish_local_post(request_, options)
    assert not fake.calls("POST", "/localPosts")


def test_one_jpeg_or_png_photo_of_10_kb_to_5_mb(shop: Connected, tmp_path: Path) -> None:
    two = (photo(tmp_path, "a.jpg"), photo(tmp_path, "b.jpg"))
    with pytest.raises(Rejected, match="one photo"):
        shop.connector.publish(PostRequest(text="Two", media=two))
    gif = MediaItem(str(tmp_path / "a.jpg"), "image/gif")
    with pytest.raises(Rejected, match="JPEG or PNG"):
        shop.connector.publish(PostRequest(text="Gif", media=(gif,)))
    tiny = tmp_path / "tiny.png"
    tiny.write_bytes(b"\x89PNG" + b"\0" * 100)
    with pytest.raises(Rejected, match="between 10 KB and 5 MB"):
        shop.connector.publish(PostRequest(text="Tiny", media=(MediaItem(str(tiny), "image/png"),)))
    video = MediaItem(str(tmp_path / "a.jpg"), "video/mp4")
    with pytest.raises(Rejected, match="one photo"):
        shop.connector.publish(PostRequest(text="Video", media=(video,)))


def test_a_post_google_rejects_for_its_content_is_rejected_and_removed(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    with pytest.raises(Rejected, match="content policies"):
        shop.connector.publish(
            PostRequest(text="Win big at our casino night", idempotency_key="k-1")
        )
    assert not [n for n in fake.posts if n.startswith(shop.parent)]
    assert "k-1" not in shop.connector.credentials.data.get("attempts", {})


def test_delete_removes_the_post_and_a_post_already_gone_counts_as_deleted(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    result = shop.connector.publish(PostRequest(text="Short-lived"))
    shop.connector.delete(result.remote_id)
    assert result.remote_id not in fake.posts
    shop.connector.delete(result.remote_id)
    with pytest.raises(Rejected, match="not a local post"):
        shop.connector.delete("accounts/1/locations/2/reviews/3")


def test_lookup_by_id_finds_the_post_or_nothing(shop: Connected) -> None:
    result = shop.connector.publish(PostRequest(text="Find me"))
    found = shop.connector.lookup(remote_id=result.remote_id)
    assert found is not None and found.text == "Find me" and found.created_at is not None
    shop.connector.delete(result.remote_id)
    assert shop.connector.lookup(remote_id=result.remote_id) is None


def test_a_lost_answer_is_outcome_unknown_and_lookup_finds_the_post_by_its_key(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    shop.connector.publish(PostRequest(text="Something else"))
    fake.fail("POST", f"/v4/{shop.parent}/localPosts", kind="drop")
    request = PostRequest(text="Grand opening on Friday!", idempotency_key="attempt-7")
    with pytest.raises(OutcomeUnknown):
        shop.connector.publish(request)
    made = [p for p in fake.posts.values() if p["summary"] == "Grand opening on Friday!"]
    assert len(made) == 1
    other_worker = shop.reopen()
    found = other_worker.lookup(idempotency_key="attempt-7")
    assert found is not None and found.remote_id == made[0]["name"]
    # A second attempt with the same key returns that post instead of posting twice.
    again = other_worker.publish(request)
    assert again.remote_id == made[0]["name"]
    assert len([p for p in fake.posts.values() if p["summary"] == request.text]) == 1


def test_lookup_of_an_attempt_google_never_made_finds_nothing(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    fake.fail("POST", f"/v4/{shop.parent}/localPosts", status=503, message="unavailable")
    with pytest.raises(Exception, match="trouble"):
        shop.connector.publish(PostRequest(text="Never made", idempotency_key="attempt-8"))
    assert shop.reopen().lookup(idempotency_key="attempt-8") is None
    assert shop.connector.lookup(idempotency_key="never-sent") is None
    assert GoogleBusinessConnector.lookup_authoritative_seconds == 24 * 3600.0


def test_arabic_and_emoji_count_as_characters_up_to_1500(shop: Connected) -> None:
    caps = shop.connector.account_capabilities()
    arabic = "قهوة طازجة اليوم ☕️"
    assert text_length(arabic, caps) == len(arabic)
    assert problems_for(caps, text="ق" * 1500) == []
    assert problems_for(caps, text="☕" * 1501) == [f"{caps.label}: 1,501/1,500 characters"]
    result = shop.connector.publish(PostRequest(text="ق" * 1499 + "☕"))
    assert result.remote_id


def test_without_a_public_base_url_a_photo_cannot_be_handed_to_google(
    shop: Connected, tmp_path: Path, settings: Any
) -> None:
    settings.MINBAR_BASE_URL = "http://localhost:8000"
    connector = GoogleBusinessConnector(credentials=shop.connector.credentials)
    with pytest.raises(Rejected, match="MINBAR_BASE_URL"):
        connector.publish(PostRequest(text="Photo", media=(photo(tmp_path),)))


def test_the_composers_offer_settings_make_an_offer(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    """The composer's settings (google_business.posts.POST_OPTIONS) through publish()."""
    result = shop.connector.publish(
        PostRequest(
            text="Buy one, get one free",
            link="https://acme.example/redeem",
            options={
                "topic": "OFFER",
                "event_title": "Two for one",
                "event_start_date": "2030-11-01",
                "event_end_date": "2030-11-07",
                "coupon_code": "BOGO-2030",
                "terms": "One per customer.",
            },
        )
    )
    post = _post(fake, result.remote_id)
    assert post["topicType"] == "OFFER"
    assert post["offer"]["couponCode"] == "BOGO-2030"
    assert post["offer"]["redeemOnlineUrl"] == "https://acme.example/redeem"
    assert post["event"]["schedule"]["endDate"] == {"year": 2030, "month": 11, "day": 7}


def test_the_composers_event_settings_carry_times_and_the_button(
    shop: Connected, fake: FakeBusinessProfile
) -> None:
    result = shop.connector.publish(
        PostRequest(
            text="Taste five origins",
            link="https://acme.example/events",
            options={
                "topic": "EVENT",
                "event_title": "Cupping night",
                "event_start_date": "2030-10-31",
                "event_start_time": "18:00",
                "event_end_date": "2030-10-31",
                "event_end_time": "21:30",
                "action_type": "BOOK",
            },
        )
    )
    post = _post(fake, result.remote_id)
    assert post["event"]["schedule"]["startTime"]["hours"] == 18
    assert post["event"]["schedule"]["endTime"]["minutes"] == 30
    assert post["callToAction"] == {"actionType": "BOOK", "url": "https://acme.example/events"}


def test_an_event_setting_without_dates_is_refused_before_sending(shop: Connected) -> None:
    with pytest.raises(Rejected, match="start and an end date"):
        shop.connector.publish(
            PostRequest(text="Party", options={"topic": "EVENT", "event_title": "Party"})
        )
