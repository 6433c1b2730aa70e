"""Local posts: what a Business Profile post can carry beyond text, and the body Minbar sends.

A local post (https://developers.google.com/my-business/reference/rest/v4/accounts.locations.localPosts)
has a ``topicType``:

* ``STANDARD`` — an update: a summary, an optional photo and an optional button
  (``callToAction``: ``actionType`` BOOK, ORDER, SHOP, LEARN_MORE, SIGN_UP or CALL
  and a ``url``, which must be left out for CALL);
* ``EVENT`` — an update with an ``event``: a title and a schedule (start and end
  dates, optional times of day);
* ``OFFER`` — an event-like post (``event`` is "Required for topic types EVENT and
  OFFER") with an ``offer``: ``couponCode``, ``redeemOnlineUrl`` and
  ``termsConditions``; the ``callToAction`` "is ignored for topic type OFFER".

The examples of https://developers.google.com/my-business/content/posts-data show
the shapes. Google's help limits the summary to 1,500 characters, and photos to
JPEG or PNG between 10 KB and 5 MB; a local post's media item takes only
``sourceUrl`` ("sourceUrl is the only supported data field for a LocalPost
MediaItem"): Google fetches the file from that address.

Minbar's ``PostRequest`` has no fields for offers and events: :meth:`publish`
makes an update (``STANDARD``, with the post's link as the button), and
:meth:`GoogleBusinessConnector.publish_local_post` takes :class:`LocalPostOptions`
for the rest. The composer does not offer offers and events yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from minbar.connectors.errors import Rejected
from minbar.connectors.google_business.failures import LABEL
from minbar.connectors.types import PostRequest

SUMMARY_MAX = 1500
IMAGE_TYPES = ("image/jpeg", "image/png")
IMAGE_MIN_BYTES = 10 * 1024
IMAGE_MAX_BYTES = 5 * 1024 * 1024
TOPICS = ("STANDARD", "EVENT", "OFFER")
ACTION_TYPES = ("LEARN_MORE", "BOOK", "ORDER", "SHOP", "SIGN_UP", "CALL")
DEFAULT_ACTION = "LEARN_MORE"


@dataclass(frozen=True)
class EventDetails:
    """An event's title and schedule, in the business's own local time (Google takes
    civil dates and times of day, no time zone)."""

    title: str
    start_date: date
    end_date: date
    start_time: time | None = None
    end_time: time | None = None


@dataclass(frozen=True)
class OfferDetails:
    coupon_code: str = ""
    redeem_url: str = ""  # defaults to the post's link
    terms: str = ""


@dataclass(frozen=True)
class LocalPostOptions:
    """What a local post can set beyond the post's text, photo and link.

    ``topic``: STANDARD (an update), EVENT or OFFER. ``action_type``: the button
    for STANDARD and EVENT posts (LEARN_MORE when the post has a link and none is
    chosen; CALL needs no link: Google calls the profile's phone number).
    """

    topic: str = "STANDARD"
    action_type: str = ""
    event: EventDetails | None = None
    offer: OfferDetails | None = None


def _date(value: date) -> dict[str, int]:
    return {"year": value.year, "month": value.month, "day": value.day}


def _time(value: time) -> dict[str, int]:
    return {"hours": value.hour, "minutes": value.minute, "seconds": value.second, "nanos": 0}


def _schedule(event: EventDetails) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "startDate": _date(event.start_date),
        "endDate": _date(event.end_date),
    }
    if event.start_time is not None:
        schedule["startTime"] = _time(event.start_time)
    if event.end_time is not None:
        schedule["endTime"] = _time(event.end_time)
    return schedule


def problems(request: PostRequest, options: LocalPostOptions) -> list[str]:
    """What Google would refuse, in words people use; empty when the post fits."""
    found: list[str] = []
    text = request.text.strip()
    if options.topic not in TOPICS:
        found.append(f"{LABEL} posts are updates, events or offers.")
    if len(request.text) > SUMMARY_MAX:
        found.append(f"{LABEL}: {len(request.text):,}/{SUMMARY_MAX:,} characters.")
    if not text and not request.media and options.topic == "STANDARD":
        found.append(f"{LABEL}: write something or add a photo.")
    if request.thread:
        found.append(f"{LABEL} does not support threads.")
    action = options.action_type
    if action and action not in ACTION_TYPES:
        found.append(f"{LABEL} buttons are {', '.join(ACTION_TYPES)}.")
    if action and action != "CALL" and not request.link and options.topic != "OFFER":
        found.append(f"{LABEL}: a {action.replace('_', ' ').lower()} button needs a link.")
    if options.topic in ("EVENT", "OFFER"):
        event = options.event
        if event is None or not event.title.strip():
            found.append(f"{LABEL}: an event or offer needs a title and dates.")
        elif (event.end_date, event.end_time or time.max) < (
            event.start_date,
            event.start_time or time.min,
        ):
            found.append(f"{LABEL}: the end comes before the start.")
    images = [m for m in request.media if m.mime_type.startswith("image/")]
    if len(request.media) > 1 or len(images) != len(request.media):
        found.append(f"{LABEL} posts take one photo.")
    for image in images:
        if image.mime_type not in IMAGE_TYPES:
            found.append(f"{LABEL} photos are JPEG or PNG.")
    return found


def local_post_body(
    request: PostRequest, options: LocalPostOptions, media_urls: list[str]
) -> dict[str, Any]:
    """The ``LocalPost`` Minbar sends to ``localPosts.create``; Rejected when it would not fit."""
    found = problems(request, options)
    if found:
        raise Rejected(" ".join(found))
    body: dict[str, Any] = {"topicType": options.topic}
    if request.text.strip():
        body["summary"] = request.text
    if request.language:
        body["languageCode"] = request.language
    if media_urls:
        body["media"] = [{"mediaFormat": "PHOTO", "sourceUrl": url} for url in media_urls]
    if options.topic != "OFFER":
        action = options.action_type or (DEFAULT_ACTION if request.link else "")
        if action == "CALL":
            body["callToAction"] = {"actionType": "CALL"}
        elif action:
            body["callToAction"] = {"actionType": action, "url": request.link}
    if options.event is not None and options.topic in ("EVENT", "OFFER"):
        body["event"] = {"title": options.event.title.strip(), "schedule": _schedule(options.event)}
    if options.topic == "OFFER":
        offer = options.offer or OfferDetails()
        details = {
            "couponCode": offer.coupon_code,
            "redeemOnlineUrl": offer.redeem_url or request.link,
            "termsConditions": offer.terms,
        }
        body["offer"] = {k: v for k, v in details.items() if v}
    return body
