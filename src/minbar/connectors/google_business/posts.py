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

The composer's settings (``POST_OPTIONS``, in ``PostRequest.options``) choose an
update, an event or an offer and its details (:meth:`LocalPostOptions.from_request`);
without them :meth:`publish` makes an update with the post's link as the button.
:meth:`GoogleBusinessConnector.publish_local_post` also takes :class:`LocalPostOptions`
directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from django.utils.translation import gettext_lazy as _

from minbar.connectors.errors import Rejected
from minbar.connectors.google_business.failures import LABEL
from minbar.connectors.types import OptionKind, PostOption, PostRequest

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

    @classmethod
    def from_request(cls, request: PostRequest, default_action: str = "") -> LocalPostOptions:
        """The composer's settings (keys of ``POST_OPTIONS``); Rejected for a malformed date."""
        chosen = request.options
        topic = chosen.get("topic", "") or "STANDARD"
        event = None
        if topic in ("EVENT", "OFFER") and chosen.get("event_title", "").strip():
            start_date = _parsed(chosen.get("event_start_date", ""), date.fromisoformat, "date")
            end_date = _parsed(chosen.get("event_end_date", ""), date.fromisoformat, "date")
            if start_date is None or end_date is None:
                raise Rejected(f"{LABEL}: an event or offer needs a start and an end date.")
            event = EventDetails(
                title=chosen["event_title"],
                start_date=start_date,
                end_date=end_date,
                start_time=_parsed(chosen.get("event_start_time", ""), time.fromisoformat, "time"),
                end_time=_parsed(chosen.get("event_end_time", ""), time.fromisoformat, "time"),
            )
        offer = None
        if topic == "OFFER":
            offer = OfferDetails(
                coupon_code=chosen.get("coupon_code", ""),
                redeem_url=chosen.get("redeem_url", ""),
                terms=chosen.get("terms", ""),
            )
        return cls(
            topic=topic,
            action_type=chosen.get("action_type", "") or default_action,
            event=event,
            offer=offer,
        )


def _parsed(value: str, parse: Any, what: str) -> Any:
    if not value:
        return None
    try:
        return parse(value)
    except ValueError:
        raise Rejected(f"{LABEL}: “{value}” is not a {what}.") from None


_EVENTS = ("EVENT", "OFFER")
_WITH_BUTTON = ("STANDARD", "EVENT")
POST_OPTIONS = (
    PostOption(
        "topic",
        _("Post type"),
        OptionKind.CHOICE,
        (("STANDARD", _("Update")), ("EVENT", _("Event")), ("OFFER", _("Offer"))),
        default="STANDARD",
    ),
    PostOption(
        "event_title",
        _("Event or offer title"),
        required=True,
        max_length=58,
        shown_when=("topic", _EVENTS),
    ),
    PostOption(
        "event_start_date",
        _("Starts on"),
        OptionKind.DATE,
        required=True,
        shown_when=("topic", _EVENTS),
    ),
    PostOption(
        "event_start_time",
        _("Starts at"),
        OptionKind.TIME,
        help=_("The business's local time; empty: all day."),
        shown_when=("topic", _EVENTS),
    ),
    PostOption(
        "event_end_date",
        _("Ends on"),
        OptionKind.DATE,
        required=True,
        shown_when=("topic", _EVENTS),
    ),
    PostOption("event_end_time", _("Ends at"), OptionKind.TIME, shown_when=("topic", _EVENTS)),
    PostOption("coupon_code", _("Coupon code"), shown_when=("topic", ("OFFER",))),
    PostOption(
        "redeem_url",
        _("Where to redeem it online"),
        OptionKind.URL,
        help=_("Empty: the post's link."),
        shown_when=("topic", ("OFFER",)),
    ),
    PostOption(
        "terms",
        _("Terms and conditions"),
        OptionKind.LONG_TEXT,
        max_length=5000,
        shown_when=("topic", ("OFFER",)),
    ),
    PostOption(
        "action_type",
        _("Button"),
        OptionKind.CHOICE,
        (
            ("LEARN_MORE", _("Learn more")),
            ("BOOK", _("Book")),
            ("ORDER", _("Order online")),
            ("SHOP", _("Buy")),
            ("SIGN_UP", _("Sign up")),
            ("CALL", _("Call now")),
        ),
        help=_("Opens the post's link (Call now dials the profile's phone number)."),
        shown_when=("topic", _WITH_BUTTON),
    ),
)


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
