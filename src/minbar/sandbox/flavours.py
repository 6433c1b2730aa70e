"""The three flavours of sandbox account and the real limits each one copies.

A flavour makes a sandbox account behave like a network people know: its text
and media limits, its posting limits and how its feed spreads posts. The server
enforces these rules and the sandbox connector describes them
(``capabilities_for``), so the composer sees the same limits either way. The
numbers follow each network's public documentation at the time of writing; see
docs/sandbox.md for the sources and where the sandbox had to choose.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from minbar.connectors.types import MediaRules, RateLimitRule, TextCounting, TextRules


class Flavour(models.TextChoices):
    FACEBOOK = "facebook", _("Facebook-like")
    X = "x", _("X-like")
    INSTAGRAM = "instagram", _("Instagram-like")


MB = 1024 * 1024


@dataclass(frozen=True)
class FlavourSpec:
    flavour: str
    title: str  # the network it imitates, for people reading API answers
    text: TextRules
    media: MediaRules
    # Posting limits per account (sliding windows over real time) and the
    # general request limit (a fixed window).
    publish_limits: tuple[RateLimitRule, ...]
    request_limit: RateLimitRule
    max_hashtags: int | None = None
    max_mentions: int | None = None
    replies_count_as_posts: bool = False  # X counts replies in its posting cap
    threads: bool = False
    first_comment: bool = False
    reviews: bool = False  # page recommendations (Facebook)
    links_clickable: bool = True  # Instagram captions do not link
    # The feed: how long a post keeps being shown and how much of an active
    # follower's session it gets (see simulation.py).
    window_hours: int = 48
    freshness_hours: float = 8.0
    feed_share: float = 0.3


IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
VIDEO_TYPES = ("video/mp4", "video/quicktime")

SPECS: dict[str, FlavourSpec] = {
    Flavour.X: FlavourSpec(
        flavour=Flavour.X,
        title="X",
        text=TextRules(max_length=280, counting=TextCounting.WEIGHTED, url_length=23),
        media=MediaRules(
            image_types=IMAGE_TYPES,
            video_types=VIDEO_TYPES,
            max_images=4,
            max_videos=1,
            max_image_bytes=5 * MB,
            max_video_bytes=512 * MB,
            mix_images_and_video=False,
            alt_text=True,
            alt_text_max_length=1000,
        ),
        publish_limits=(
            RateLimitRule("publish", 50, 15 * 60),
            RateLimitRule("publish", 300, 3 * 60 * 60),
        ),
        request_limit=RateLimitRule("request", 900, 15 * 60),
        replies_count_as_posts=True,
        threads=True,
        window_hours=24,
        freshness_hours=3.0,
        feed_share=0.35,
    ),
    Flavour.FACEBOOK: FlavourSpec(
        flavour=Flavour.FACEBOOK,
        title="Facebook",
        text=TextRules(max_length=63_206),
        media=MediaRules(
            image_types=IMAGE_TYPES,
            video_types=VIDEO_TYPES,
            max_images=10,
            max_videos=1,
            max_image_bytes=10 * MB,
            max_video_bytes=10 * 1024 * MB,
            mix_images_and_video=False,
            alt_text=True,
        ),
        publish_limits=(RateLimitRule("publish", 50, 24 * 60 * 60),),
        request_limit=RateLimitRule("request", 200, 60 * 60),
        first_comment=True,
        reviews=True,
        window_hours=48,
        freshness_hours=8.0,
        feed_share=0.25,
    ),
    Flavour.INSTAGRAM: FlavourSpec(
        flavour=Flavour.INSTAGRAM,
        title="Instagram",
        text=TextRules(max_length=2_200),
        media=MediaRules(
            image_types=("image/jpeg",),
            video_types=VIDEO_TYPES,
            max_images=10,
            max_videos=10,
            max_image_bytes=8 * MB,
            max_video_bytes=300 * MB,
            mix_images_and_video=True,
            min_aspect_ratio=4 / 5,
            max_aspect_ratio=1.91,
            alt_text=True,
            media_required=True,
        ),
        publish_limits=(RateLimitRule("publish", 100, 24 * 60 * 60),),
        request_limit=RateLimitRule("request", 200, 60 * 60),
        max_hashtags=30,
        max_mentions=20,
        first_comment=True,
        links_clickable=False,
        window_hours=48,
        freshness_hours=6.0,
        feed_share=0.45,
    ),
}

# A carousel may hold this many items in total (images and videos together).
INSTAGRAM_CAROUSEL_MAX = 10


def spec_for(flavour: str) -> FlavourSpec:
    try:
        return SPECS[flavour]
    except KeyError:
        raise ValueError(f"unknown sandbox flavour {flavour!r}") from None
