"""What a person chooses for TikTok posts, checked against what TikTok offers the account.

TikTok's Content Sharing Guidelines
(https://developers.tiktok.com/doc/content-sharing-guidelines/) ask apps that post
for a creator to:

* query ``creator_info`` before each post and show the creator's nickname;
* let the person pick who can see the post from ``privacy_level_options``, with
  **no default value**;
* offer "Allow comments / Duet / Stitch" switched off until the person turns them
  on, greyed out when the creator has them disabled in TikTok;
* refuse videos longer than ``max_video_post_duration_sec``;
* offer the commercial content disclosure ("Your brand", "Branded content"), with
  branded content never private.

How Minbar does this honestly: nothing is chosen for the person. The composer
shows these choices for each TikTok channel (``POST_OPTIONS``; the privacy has no
default and is required, the switches start off, those the creator disabled are
not offered); a post that carries them uses them (:meth:`PostSettings.from_options`),
otherwise the :class:`PostSettings` a person set for the channel
(``set_post_settings``) apply. Every post is checked against the ``creator_info``
TikTok answers just before it is sent. A post without a privacy does not go out:
publishing is refused with a message saying so.
The choice ``draft`` sends the video or photos to the creator's TikTok inbox
instead, where the creator picks everything in the TikTok app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from minbar.connectors.types import OptionKind, PostOption

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DRAFT = "draft"
# Minbar's names (a post's ``visibility``) and TikTok's privacy_level values.
PRIVACY_LEVELS: dict[str, str] = {
    "public": "PUBLIC_TO_EVERYONE",
    "friends": "MUTUAL_FOLLOW_FRIENDS",
    "followers": "FOLLOWER_OF_CREATOR",
    "only_me": "SELF_ONLY",
}
TIKTOK_TO_MINBAR = {level: name for name, level in PRIVACY_LEVELS.items()}
VISIBILITIES: tuple[str, ...] = (*PRIVACY_LEVELS, DRAFT)

PRIVACY_LABELS: dict[str, StrOrPromise] = {
    "public": _("Everyone"),
    "friends": _("Friends (followers you follow back)"),
    "followers": _("Followers"),
    "only_me": _("Only me"),
    DRAFT: _("Send to my TikTok inbox as a draft"),
}


def minbar_privacy(value: str) -> str:
    """A privacy named either way ("only_me" or "SELF_ONLY") in Minbar's words; "" if unknown."""
    value = (value or "").strip()
    if value in VISIBILITIES:
        return value
    return TIKTOK_TO_MINBAR.get(value.upper(), "")


@dataclass(frozen=True)
class CreatorInfo:
    """``POST /v2/post/publish/creator_info/query/``: what TikTok lets this creator post now.

    https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info/
    (the avatar URL lives two hours, so it is not kept for long).
    """

    username: str = ""
    nickname: str = ""
    avatar_url: str = ""
    privacy_level_options: tuple[str, ...] = ()
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 0

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> CreatorInfo:
        return cls(
            username=str(data.get("creator_username") or ""),
            nickname=str(data.get("creator_nickname") or ""),
            avatar_url=str(data.get("creator_avatar_url") or ""),
            privacy_level_options=tuple(str(o) for o in data.get("privacy_level_options") or ()),
            comment_disabled=bool(data.get("comment_disabled")),
            duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
            max_video_post_duration_sec=int(data.get("max_video_post_duration_sec") or 0),
        )

    @classmethod
    def from_data(cls, data: Any) -> CreatorInfo | None:
        if not isinstance(data, Mapping):
            return None
        return cls(
            username=str(data.get("username") or ""),
            nickname=str(data.get("nickname") or ""),
            privacy_level_options=tuple(str(o) for o in data.get("privacy_level_options") or ()),
            comment_disabled=bool(data.get("comment_disabled")),
            duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
            max_video_post_duration_sec=int(data.get("max_video_post_duration_sec") or 0),
        )

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("avatar_url")  # a two-hour link: not worth keeping
        data["privacy_level_options"] = list(self.privacy_level_options)
        return data

    @property
    def privacy_choices(self) -> tuple[str, ...]:
        """The privacy options in Minbar's words, in TikTok's order."""
        return tuple(
            TIKTOK_TO_MINBAR[o] for o in self.privacy_level_options if o in TIKTOK_TO_MINBAR
        )


@dataclass(frozen=True)
class PostSettings:
    """The person's choices for this channel's TikTok posts (stored with the channel).

    ``privacy`` is empty until a person picks it: Minbar never defaults it.
    ``allow_*`` start off, as the guidelines require. ``your_brand`` and
    ``branded_content`` are TikTok's commercial content disclosure
    (``brand_organic_toggle`` and ``brand_content_toggle``); ``ai_generated`` sets
    ``is_aigc`` on videos; ``auto_add_music`` lets TikTok add music to photo posts.
    """

    privacy: str = ""
    allow_comment: bool = False
    allow_duet: bool = False
    allow_stitch: bool = False
    your_brand: bool = False
    branded_content: bool = False
    ai_generated: bool = False
    auto_add_music: bool = False

    @classmethod
    def from_data(cls, data: Any) -> PostSettings:
        if not isinstance(data, Mapping):
            return cls()
        return cls(
            privacy=minbar_privacy(str(data.get("privacy") or "")),
            allow_comment=bool(data.get("allow_comment")),
            allow_duet=bool(data.get("allow_duet")),
            allow_stitch=bool(data.get("allow_stitch")),
            your_brand=bool(data.get("your_brand")),
            branded_content=bool(data.get("branded_content")),
            ai_generated=bool(data.get("ai_generated")),
            auto_add_music=bool(data.get("auto_add_music")),
        )

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_options(cls, privacy: str, options: Mapping[str, str]) -> PostSettings:
        """A post's own choices (the composer's ``POST_OPTIONS``; an absent switch is off)."""
        return cls(
            privacy=minbar_privacy(privacy),
            **{key: bool(options.get(key)) for key in SWITCHES},
        )


# The switches a post can turn on, in the order the guidelines show them.
SWITCHES = (
    "allow_comment",
    "allow_duet",
    "allow_stitch",
    "your_brand",
    "branded_content",
    "ai_generated",
    "auto_add_music",
)
SWITCH_LABELS: dict[str, StrOrPromise] = {
    "allow_comment": _("Allow comments"),
    "allow_duet": _("Allow Duet"),
    "allow_stitch": _("Allow Stitch"),
    "your_brand": _("Promotes your own brand (“Your brand”)"),
    "branded_content": _("Paid partnership (“Branded content”)"),
    "ai_generated": _("Made with AI (videos)"),
    "auto_add_music": _("Let TikTok add music (photo posts)"),
}


def post_options(info: CreatorInfo | None) -> tuple[PostOption, ...]:
    """The composer's TikTok settings: privacy (required, no default), then the switches
    this creator may use (those disabled in TikTok are not offered)."""
    disabled = set()
    if info is not None:
        disabled = {
            key
            for key, off in (
                ("allow_comment", info.comment_disabled),
                ("allow_duet", info.duet_disabled),
                ("allow_stitch", info.stitch_disabled),
            )
            if off
        }
    return (
        PostOption(
            "visibility",
            _("Who can watch"),
            OptionKind.CHOICE,
            tuple(PRIVACY_LABELS.items()),
            required=True,
            help=_("TikTok asks the person posting to choose; Minbar never picks one."),
        ),
        *(
            PostOption(key, SWITCH_LABELS[key], OptionKind.FLAG)
            for key in SWITCHES
            if key not in disabled
        ),
    )


def choice_problems(settings: PostSettings, info: CreatorInfo | None) -> list[str]:
    """Why these choices cannot be sent to TikTok for this creator now (empty when they can)."""
    found: list[str] = []
    if not settings.privacy:
        found.append(
            "Choose who can see this channel's TikTok posts first: TikTok requires the "
            "person posting to choose it, so Minbar does not pick one."
        )
        return found
    if settings.privacy == DRAFT:
        return found
    level = PRIVACY_LEVELS.get(settings.privacy, "")
    if info is not None and level not in info.privacy_level_options:
        offered = ", ".join(info.privacy_choices) or "none"
        found.append(
            f"TikTok does not offer the privacy “{settings.privacy}” to this account now "
            f"(it offers: {offered}). Choose again."
        )
    if settings.branded_content and settings.privacy == "only_me":
        found.append("TikTok does not allow branded content to be private (“Only me”).")
    return found
