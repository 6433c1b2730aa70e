"""Plain data exchanged between Minbar and connectors; no Django models cross this line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class AuthKind(StrEnum):
    OAUTH2 = "oauth2"  # authorization code flow; PKCE when ``Capabilities.pkce``
    APP_PASSWORD = "app_password"  # identifier + app password against a server URL
    TOKEN = "token"  # a token the user pastes (bot tokens)
    BUILT_IN = "built_in"  # the sandbox network: nothing to enter


class PostType(StrEnum):
    TEXT = "text"
    LINK = "link"
    IMAGE = "image"
    GALLERY = "gallery"
    VIDEO = "video"
    THREAD = "thread"
    REPLY = "reply"
    STORY = "story"
    REEL = "reel"


class InteractionKind(StrEnum):
    COMMENT = "comment"
    REPLY = "reply"
    MENTION = "mention"
    QUOTE = "quote"
    DIRECT_MESSAGE = "direct_message"
    REVIEW = "review"
    # Activity, not inbox items:
    LIKE = "like"
    REPOST = "repost"
    FOLLOW = "follow"


class TextCounting(StrEnum):
    GRAPHEMES = "graphemes"  # user-perceived characters (Bluesky, Mastodon)
    CHARACTERS = "characters"  # Unicode code points
    WEIGHTED = "weighted"  # X's weighted length (some scripts count double)
    UTF16 = "utf16"


# The metric keys every connector reports (``Metrics.values``, ``Capabilities.post_metrics``).
# A network's own words map onto them: a repost or retweet is a share, a reply to the post
# a comment, a bookmark a save, a link click or URL click a click. Analytics sums them into
# engagements (minbar.analytics) without knowing any network.
POST_METRIC_KEYS = (
    "likes",
    "comments",
    "shares",
    "quotes",
    "saves",
    "clicks",
    "impressions",
    "reach",
    "video_views",
)
ACCOUNT_METRIC_KEYS = (
    "followers",
    "following",
    "posts",
    "impressions",
    "reach",
    "profile_views",
)


@dataclass(frozen=True)
class TextRules:
    max_length: int
    counting: TextCounting = TextCounting.CHARACTERS
    max_bytes: int | None = None  # a second limit in UTF-8 bytes (Bluesky: 3,000)
    url_length: int | None = None  # every URL counts as this many (Mastodon 23, X 23)
    required: bool = False  # a post must have text


@dataclass(frozen=True)
class MediaRules:
    image_types: tuple[str, ...] = ()
    video_types: tuple[str, ...] = ()
    max_images: int = 0
    max_videos: int = 0
    max_image_bytes: int | None = None
    max_video_bytes: int | None = None
    mix_images_and_video: bool = False
    min_aspect_ratio: float | None = None  # width / height
    max_aspect_ratio: float | None = None
    alt_text: bool = False
    alt_text_max_length: int | None = None
    media_required: bool = False
    # Documents (PDF) a post can carry alone, as LinkedIn's document posts.
    document_types: tuple[str, ...] = ()
    max_documents: int = 0
    max_document_bytes: int | None = None


class OptionKind(StrEnum):
    CHOICE = "choice"
    TEXT = "text"
    LONG_TEXT = "long_text"
    TAGS = "tags"  # comma-separated words, stored as written
    DATE = "date"  # a civil date (YYYY-MM-DD), no time zone
    TIME = "time"  # a civil time of day (HH:MM), no time zone
    DATE_TIME = "datetime"  # entered in the person's time zone, stored as UTC ISO 8601
    URL = "url"
    FLAG = "flag"  # "1" when on, absent when off


@dataclass(frozen=True)
class PostOption:
    """A per-post setting a network offers beyond text and media (YouTube's title, a
    Google Business offer's coupon, TikTok's privacy), shown by the composer per channel.

    Values travel as strings in ``PostRequest.options`` (``visibility`` and
    ``content_warning`` in their own fields). ``shown_when`` names another option and the
    values for which this one applies; otherwise it is hidden and not sent.
    """

    key: str
    label: StrOrPromise
    kind: OptionKind = OptionKind.TEXT
    choices: tuple[tuple[str, StrOrPromise], ...] = ()
    default: str = ""
    required: bool = False
    help: StrOrPromise = ""
    max_length: int | None = None
    shown_when: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class RateLimitRule:
    """A documented limit; ``scope`` is "account", "app" or "ip"."""

    action: str  # "publish", "request", "reply"…
    limit: int
    window_seconds: int
    scope: str = "account"


@dataclass(frozen=True)
class Capabilities:
    network: str
    label: StrOrPromise
    auth: AuthKind
    text: TextRules
    media: MediaRules = field(default_factory=MediaRules)
    pkce: bool = False
    needs_server_url: bool = False  # Mastodon instances, Bluesky PDS
    default_server_url: str = ""
    post_types: frozenset[PostType] = frozenset({PostType.TEXT})
    first_comment: bool = False
    threads: bool = False
    content_warning: bool = False
    visibility: tuple[str, ...] = ()  # e.g. ("public", "unlisted", "private", "direct")
    # Per-post settings the composer offers (minbar.connectors.options); a "visibility"
    # option here names the choices of ``visibility`` in the network's words.
    post_options: tuple[PostOption, ...] = ()
    post_metrics: frozenset[str] = frozenset()  # likes, replies, reposts, quotes, …
    account_metrics: frozenset[str] = frozenset()  # followers, following, posts
    interactions: frozenset[InteractionKind] = frozenset()
    can_reply_to: frozenset[InteractionKind] = frozenset()
    can_hide: bool = False
    can_delete_interactions: bool = False
    search: bool = False
    rate_limits: tuple[RateLimitRule, ...] = ()
    docs_url: str = ""  # the network's API documentation the connector follows
    setup_doc: str = ""  # docs/networks/<network>.md


@dataclass(frozen=True)
class AccountInfo:
    remote_id: str  # stable id on the network (a DID, an account id)
    handle: str
    display_name: str = ""
    avatar_url: str = ""
    url: str = ""
    followers: int | None = None


@dataclass
class Credentials:
    """What a connector needs to act for an account. Stored encrypted, never logged.

    ``secrets`` holds the sensitive values (tokens, app passwords); ``data``
    holds the rest (server URL, scopes, DID). A refresh that returns no new
    refresh token keeps the old one (see :meth:`merged`).
    """

    secrets: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None

    def merged(self, newer: Credentials) -> Credentials:
        secrets = dict(self.secrets)
        for key, value in newer.secrets.items():
            if value:  # never overwrite a token with an empty one
                secrets[key] = value
        return Credentials(
            secrets=secrets,
            data={**self.data, **newer.data},
            expires_at=newer.expires_at or self.expires_at,
        )

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"Credentials(secrets=<{len(self.secrets)} hidden>, data={self.data!r})"


@dataclass(frozen=True)
class AccountChoice:
    """Another account one sign-in can act as (a Page, an organization, a business location)."""

    remote_id: str
    name: str
    kind: str = ""  # "page", "organization", "location", "member"…, shown to the user
    detail: str = ""  # a handle, an address, a follower count…


@dataclass(frozen=True)
class ConnectResult:
    account: AccountInfo
    credentials: Credentials
    # When one sign-in can act for several accounts, the others; the channels app
    # asks the user which one this channel is and calls ``Connector.connect_choice``.
    choices: tuple[AccountChoice, ...] = ()


@dataclass(frozen=True)
class MediaItem:
    path: str  # a local file Minbar has already validated and converted
    mime_type: str
    alt_text: str = ""
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class RemoteRef:
    """A post or interaction on the network, enough to reply to or quote it."""

    remote_id: str
    url: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # e.g. Bluesky's cid and thread root


@dataclass(frozen=True)
class PostRequest:
    text: str
    media: tuple[MediaItem, ...] = ()
    link: str = ""  # a link to preview (card) when the network supports it
    reply_to: RemoteRef | None = None
    quote: RemoteRef | None = None
    thread: tuple[str, ...] = ()  # further posts chained under the first
    first_comment: str = ""
    visibility: str = ""
    content_warning: str = ""
    language: str = ""
    # The network's own settings for this post, by ``PostOption.key`` (strings).
    options: Mapping[str, str] = field(default_factory=dict)
    # Minbar's id for this attempt, used by ``lookup`` to find a post whose
    # outcome is unknown. Connectors embed it where the network allows.
    idempotency_key: str = ""


@dataclass(frozen=True)
class PublishResult:
    remote_id: str
    url: str = ""
    published_at: datetime | None = None
    thread_ids: tuple[str, ...] = ()  # remote ids of the chained posts, in order
    ref: RemoteRef | None = None


@dataclass(frozen=True)
class RemotePost:
    remote_id: str
    url: str = ""
    text: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class Metrics:
    """Counter values; a name absent from ``values`` is "not provided by <network>", never 0."""

    values: dict[str, int]
    fetched_at: datetime


@dataclass(frozen=True)
class Author:
    remote_id: str
    handle: str
    display_name: str = ""
    avatar_url: str = ""
    url: str = ""
    followers: int | None = None


@dataclass(frozen=True)
class Interaction:
    remote_id: str
    kind: InteractionKind
    author: Author
    created_at: datetime
    text: str = ""
    url: str = ""
    post: RemoteRef | None = None  # the channel's own post this belongs to
    parent: RemoteRef | None = None  # what it answers (post or interaction)
    ref: RemoteRef | None = None  # how to reply to it
    language: str = ""
    conversation_id: str = ""  # direct messages
    # The author removed it on the network (a push such as Meta's "verb": "remove").
    deleted: bool = False
    # A review's stars out of five (Google Business Profile); None for everything else.
    rating: int | None = None


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    cursor: str = ""  # pass back to get what came next; "" when nothing more yet
