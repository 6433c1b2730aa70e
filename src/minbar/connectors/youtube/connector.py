"""The YouTube connector: one YouTube channel, through the YouTube Data API v3.

API reference: https://developers.google.com/youtube/v3/docs; the user guide is
``docs/networks/youtube.md``. Every call goes through :meth:`YouTubeConnector._call`,
which refreshes the access token when needed, counts the call's quota cost
(:mod:`.quota`) and turns Google's errors into Minbar's taxonomy (:mod:`.failures`).

What the connector keeps in ``Credentials``:

* ``secrets``: ``access_token`` (about an hour) and ``refresh_token``;
* ``data``: ``channel_id``, ``uploads_playlist`` (the channel's "uploads"
  playlist, for lookups), ``scopes`` (as Google granted them), ``quota`` (today's
  spending, see :class:`.quota.QuotaLedger`), ``uploads`` (resumable upload
  sessions by idempotency key, see :meth:`YouTubeConnector.publish_video`),
  ``video_defaults`` (the channel's defaults for privacy, category, tags,
  audience and playlist, see :meth:`YouTubeConnector.set_video_defaults`) and
  ``uploads_locked_private`` (set when YouTube kept a public upload private, the
  sign of an unaudited Google Cloud project; cleared when a public upload stays
  public) with ``locked_private_videos`` (the newest such videos' ids).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from django.utils.translation import gettext_lazy as _

from minbar.connectors import google_oauth
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import (
    ConnectorError,
    NotSupported,
    OutcomeUnknown,
    Rejected,
    TemporaryError,
)
from minbar.connectors.google_oauth import GoogleAccount, GoogleSignIn
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.types import (
    AccountInfo,
    AuthKind,
    Capabilities,
    ConnectResult,
    Credentials,
    Interaction,
    InteractionKind,
    MediaItem,
    MediaRules,
    Metrics,
    Page,
    PostRequest,
    PostType,
    PublishResult,
    RateLimitRule,
    RemotePost,
    RemoteRef,
    TextCounting,
    TextRules,
)
from minbar.connectors.youtube import oauth, upload
from minbar.connectors.youtube.failures import LABEL, parse_error, translate, transport_error
from minbar.connectors.youtube.mapping import (
    account_info,
    account_metric_values,
    comment_author_id,
    comment_url,
    interaction_from_comment,
    post_metric_values,
    remote_post,
    video_url,
    when,
)
from minbar.connectors.youtube.options import POST_OPTIONS
from minbar.connectors.youtube.quota import (
    DEFAULT_DAILY_UNITS,
    DEFAULT_DAILY_UPLOADS,
    UNITS,
    UPLOAD_METHODS,
    UPLOADS,
    QuotaLedger,
    QuotaStatus,
    pacific_day,
)
from minbar.connectors.youtube.text import problems, title_and_description

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger("minbar.connectors.youtube")

GOOGLE_APIS = "https://www.googleapis.com"
ANALYTICS_HOST = "https://youtubeanalytics.googleapis.com"
PRIVACY = ("public", "unlisted", "private")
# videos.list and comments.list take at most 50 ids, commentThreads.list 100 a page.
ID_BATCH = 50
THREAD_PAGE = 100
# Replies fetched per thread at most (comments.list pages of 100).
REPLY_PAGES = 3
# Threads whose reply count the cursor remembers (the latest ones).
REMEMBERED_THREADS = 200
# Uploads remembered by idempotency key, and for how long (session URIs are
# good for about a week; Minbar needs them for minutes).
UPLOAD_MEMORY = 50
UPLOAD_MEMORY_DAYS = 7
# How far before the session started a video may be dated when matched by title.
LOOKUP_SLACK = timedelta(minutes=10)

VIDEO_TYPES = (
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-msvideo",
    "video/mpeg",
    "video/3gpp",
    "video/x-flv",
    "video/x-ms-wmv",
    "video/x-matroska",
)
# thumbnails.set: JPEG or PNG, at most 2 MB
# (https://developers.google.com/youtube/v3/docs/thumbnails/set).
THUMBNAIL_TYPES = ("image/jpeg", "image/png")
THUMBNAIL_MAX_BYTES = 2 * 1024 * 1024
VIDEO_MAX_BYTES = 256 * 1024**3  # "Maximum file size: 256GB" (videos.insert)
# Videos remembered as locked private, for the posts' pages (the newest ones matter).
LOCKED_VIDEOS_KEPT = 50


@dataclass(frozen=True)
class Endpoints:
    """Google's hosts; a ``MINBAR_YOUTUBE_API_URL`` (a fake, a proxy) serves them all."""

    accounts: str
    token: str
    revoke: str
    api: str
    upload: str
    analytics: str

    @classmethod
    def for_server(cls, server_url: str) -> Endpoints:
        base = server_url.rstrip("/")
        if base == GOOGLE_APIS:
            return cls(
                accounts=google_oauth.GOOGLE_ACCOUNTS,
                token=google_oauth.GOOGLE_TOKEN_HOST + google_oauth.TOKEN_PATH,
                revoke=google_oauth.GOOGLE_TOKEN_HOST + google_oauth.REVOKE_PATH,
                api=f"{GOOGLE_APIS}/youtube/v3",
                upload=f"{GOOGLE_APIS}/upload/youtube/v3",
                analytics=f"{ANALYTICS_HOST}/v2",
            )
        return cls(
            accounts=base,
            token=base + google_oauth.TOKEN_PATH,
            revoke=base + google_oauth.REVOKE_PATH,
            api=f"{base}/youtube/v3",
            upload=f"{base}/upload/youtube/v3",
            analytics=f"{base}/v2",
        )


@dataclass(frozen=True)
class VideoOptions:
    """What a YouTube upload can set beyond the post's text and media.

    Empty values fall back to the channel's defaults (``video_defaults``), then
    to YouTube's own: privacy public, category 22 ("People & Blogs"), the
    channel's default audience setting when ``made_for_kids`` is None.
    ``publish_at`` schedules the video on YouTube's side: it is uploaded private
    and YouTube makes it public at that time (status.publishAt requires
    privacyStatus private, https://developers.google.com/youtube/v3/docs/videos#status.publishAt).
    ``thumbnail`` defaults to an image attached to the post next to the video.
    """

    title: str = ""
    tags: tuple[str, ...] = ()
    category_id: str = ""
    privacy: str = ""
    publish_at: datetime | None = None
    made_for_kids: bool | None = None
    playlist_id: str = ""
    thumbnail: MediaItem | None = None
    notify_subscribers: bool = True

    @classmethod
    def from_request(cls, request: PostRequest) -> VideoOptions:
        """The composer's settings (``PostRequest.options``, keys of ``POST_OPTIONS``)."""
        chosen = request.options
        publish_at = None
        if chosen.get("publish_at"):
            try:
                publish_at = datetime.fromisoformat(chosen["publish_at"])
            except ValueError:
                raise Rejected(
                    f"{LABEL}: “{chosen['publish_at']}” is not a date and time."
                ) from None
            if publish_at.tzinfo is None:
                publish_at = publish_at.replace(tzinfo=UTC)
        return cls(
            title=chosen.get("title", ""),
            tags=tuple(t.strip() for t in chosen.get("tags", "").split(",") if t.strip()),
            category_id=chosen.get("category_id", ""),
            publish_at=publish_at,
            made_for_kids={"yes": True, "no": False}.get(chosen.get("made_for_kids", "")),
            playlist_id=chosen.get("playlist_id", ""),
            notify_subscribers=not chosen.get("quiet"),
        )


@dataclass
class _Sweep:
    """The interactions cursor: where the last sweep of comment threads stopped."""

    since: str = ""  # newest comment time already delivered (ISO 8601)
    page: str = ""  # pageToken while a sweep goes on
    top: str = ""  # newest time seen in the sweep under way
    # Ids of comments dated exactly ``since`` (already delivered) and exactly ``top``:
    # YouTube's times have one-second resolution, so the boundary needs ids.
    edge: list[str] = field(default_factory=list)
    top_edge: list[str] = field(default_factory=list)
    at: float = 0.0  # when the last sweep started (epoch seconds)
    replies: dict[str, int] = field(default_factory=dict)  # thread id -> totalReplyCount

    @classmethod
    def parse(cls, cursor: str) -> _Sweep:
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        raw = data.get("r")
        replies: dict[str, Any] = raw if isinstance(raw, dict) else {}
        return cls(
            since=str(data.get("s") or ""),
            page=str(data.get("p") or ""),
            top=str(data.get("t") or ""),
            at=float(data.get("at") or 0.0),
            replies={str(k): int(v) for k, v in replies.items() if str(v).isdigit()},
            edge=[str(i) for i in data.get("e") or []],
            top_edge=[str(i) for i in data.get("te") or []],
        )

    def dump(self) -> str:
        replies = dict(list(self.replies.items())[-REMEMBERED_THREADS:])
        return json.dumps(
            {
                "s": self.since,
                "p": self.page,
                "t": self.top,
                "at": self.at,
                "r": replies,
                "e": self.edge,
                "te": self.top_edge,
            },
            separators=(",", ":"),
        )


class YouTubeConnector(GoogleAccount, Connector):
    network: ClassVar[str] = "youtube"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="youtube",
        label="YouTube",
        auth=AuthKind.OAUTH2,
        # The first line is the title (100 characters), the rest the description
        # (5,000 bytes), see .text; the whole text fits when it fits 5,000 bytes.
        text=TextRules(max_length=5000, counting=TextCounting.CHARACTERS, max_bytes=5000),
        media=MediaRules(
            image_types=THUMBNAIL_TYPES,  # one image = the video's custom thumbnail
            video_types=VIDEO_TYPES,
            max_images=1,
            max_videos=1,
            max_image_bytes=THUMBNAIL_MAX_BYTES,
            max_video_bytes=VIDEO_MAX_BYTES,
            mix_images_and_video=True,
            media_required=True,
        ),
        pkce=True,
        default_server_url=GOOGLE_APIS,
        # There is no API for community (text) posts: a YouTube post is a video.
        # A reel is a Short: YouTube decides by the video itself (see docs).
        post_types=frozenset({PostType.VIDEO, PostType.REEL}),
        first_comment=True,
        visibility=PRIVACY,
        post_options=POST_OPTIONS,
        post_metrics=frozenset({"video_views", "likes", "comments", "shares"}),
        account_metrics=frozenset({"followers", "posts"}),
        interactions=frozenset({InteractionKind.COMMENT, InteractionKind.REPLY}),
        can_reply_to=frozenset({InteractionKind.COMMENT, InteractionKind.REPLY}),
        can_hide=True,
        can_delete_interactions=True,
        search=False,
        # The Google Cloud project's daily quota, shared by every channel of this
        # Minbar (https://developers.google.com/youtube/data/determine_quota_cost).
        rate_limits=(
            RateLimitRule("publish", DEFAULT_DAILY_UPLOADS, 24 * 3600, "app"),
            RateLimitRule("quota_units", DEFAULT_DAILY_UNITS, 24 * 3600, "app"),
        ),
        docs_url="https://developers.google.com/youtube/v3/docs",
        setup_doc="docs/networks/youtube.md",
    )
    # Google Account → Security → "Third-party apps & services".
    access_settings_url: ClassVar[str] = "https://myaccount.google.com/permissions"
    sign_in: ClassVar[GoogleSignIn] = oauth.SIGN_IN
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("Minbar opens Google's sign-in page: choose the Google account of the channel."),
        _("If the account manages several channels, pick the YouTube channel to connect."),
        _("Leave every permission ticked and allow Minbar; Google sends you back here."),
    )

    # A "not found" from lookup is certain while the upload session is known
    # (see lookup); after a day Minbar may only match by title and time.
    lookup_authoritative_seconds: ClassVar[float] = 24 * 3600.0
    upload_chunk_size: ClassVar[int] = upload.DEFAULT_CHUNK
    # Interruptions of one upload that Minbar resumes before giving the attempt up.
    max_interruptions: ClassVar[int] = 3
    # Seconds between two reads of the comment threads: each costs quota units.
    interactions_min_interval: float = 600.0

    def __init__(
        self,
        server_url: str = "",
        credentials: Credentials | None = None,
        *,
        timeout: float = 20.0,
        on_credentials_change: Callable[[Credentials], None] | None = None,
    ) -> None:
        super().__init__(
            server_url, credentials, timeout=timeout, on_credentials_change=on_credentials_change
        )
        self.endpoints: Endpoints = Endpoints.for_server(self.server_url)
        self.ledger = QuotaLedger(self.credentials.data.get("quota"))
        self._client: httpx.Client | None = None

    # -- plumbing -------------------------------------------------------------

    def _http(self) -> httpx.Client:
        if self._client is None:
            for base in {self.endpoints.api, self.endpoints.upload, self.endpoints.analytics}:
                check_outbound_url(base)
            self._client = make_client(timeout=self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _scopes(self) -> set[str]:
        return set(self.credentials.data.get("scopes") or oauth.SCOPES)

    def _has(self, scope: str) -> bool:
        return scope in self._scopes()

    def _require_scope(self, scope: str, what: str) -> None:
        if not self._has(scope):
            raise NotSupported(
                f"{LABEL}: this channel was connected without the permission to {what}. "
                "Reconnect it and leave every permission ticked on Google's page."
            )

    def _persist(self, **data: Any) -> None:
        """Save data (and today's quota spending) with the credentials at once."""
        data["quota"] = self.ledger.to_data()
        self.ledger.changed = False
        self._credentials_changed(Credentials(data=data))

    @contextmanager
    def _operation(self) -> Iterator[None]:
        """One public operation: whatever happens, save the quota it spent."""
        try:
            yield
        finally:
            if self.ledger.changed:
                try:
                    self._persist()
                except Exception:  # never hide the operation's own outcome behind this
                    logger.exception("could not save the YouTube quota ledger")

    def _call(
        self,
        method: str,
        verb: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        writes: bool = False,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        """One API call: fresh token, quota counted, one retry after a 401, errors translated."""
        client = self._http()
        for attempt in (1, 2):
            token = self._fresh_token(force=attempt == 2)
            request_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
            self.ledger.spend(method)
            try:
                response = client.request(
                    verb,
                    url,
                    params=params,
                    json=json_body,
                    content=content,
                    headers=request_headers,
                )
            except httpx.TransportError as exc:
                raise transport_error(exc, writes=writes) from exc
            if response.status_code in ok:
                return response
            if response.status_code == 401 and attempt == 1:
                continue  # the token was refused: refresh once (a 401 was not carried out)
            raise self._failure(response, method, writes=writes)
        raise AssertionError("unreachable")

    def _failure(self, response: httpx.Response, method: str, *, writes: bool) -> ConnectorError:
        error = translate(response, writes=writes)
        if parse_error(response).reason in ("quotaExceeded", "dailyLimitExceeded"):
            self.ledger.mark_exhausted(UPLOADS if method in UPLOAD_METHODS else UNITS)
        return error

    def _get(self, method: str, url: str, **params: Any) -> dict[str, Any]:
        response = self._call(method, "GET", url, params=params)
        try:
            data = response.json()
        except ValueError:
            raise TemporaryError(
                f"{LABEL} sent an answer Minbar could not read.", detail=response.text[:300]
            ) from None
        return data if isinstance(data, dict) else {}

    def _own_channel(self, part: str = "snippet,statistics,contentDetails") -> dict[str, Any]:
        data = self._get("channels.list", f"{self.endpoints.api}/channels", part=part, mine="true")
        items = data.get("items") or []
        if not items:
            raise Rejected(
                f"{LABEL}: this Google account has no YouTube channel. Create the channel on "
                "YouTube (or choose the channel's account when signing in), then connect again."
            )
        return dict(items[0])

    def _channel_id(self) -> str:
        channel_id = str(self.credentials.data.get("channel_id") or "")
        if not channel_id:
            channel = self._own_channel("id,contentDetails")
            channel_id = str(channel["id"])
            self._persist(channel_id=channel_id, uploads_playlist=_uploads_playlist(channel))
        return channel_id

    # -- capabilities and quota ---------------------------------------------------

    def account_capabilities(self) -> Capabilities:
        """Without youtube.force-ssl no replies or moderation; without analytics no shares."""
        caps = self.capabilities
        if not self._has(oauth.SCOPE_FORCE_SSL):
            caps = replace(
                caps,
                first_comment=False,
                can_reply_to=frozenset(),
                can_hide=False,
                can_delete_interactions=False,
            )
        if not self._has(oauth.SCOPE_ANALYTICS):
            caps = replace(caps, post_metrics=caps.post_metrics - {"shares"})
        return caps

    def quota_status(self) -> QuotaStatus:
        """Today's quota for the channel page: used by this channel, limits, reset time.

        Read from the stored ledger, never from Google (the API has no call that
        reports a project's remaining quota). See :mod:`.quota` for what the
        figures mean: the buckets are shared by every channel on the project.
        """
        return self.ledger.status()

    def uploads_locked_private(self) -> bool:
        """YouTube kept an upload private that Minbar sent public (an unaudited project)."""
        return bool(self.credentials.data.get("uploads_locked_private"))

    def locked_private_videos(self) -> list[str]:
        """The newest videos YouTube kept private against the post's wish, newest first."""
        found = self.credentials.data.get("locked_private_videos")
        return [str(v) for v in found] if isinstance(found, list) else []

    def set_video_defaults(
        self,
        *,
        privacy: str = "",
        category_id: str = "",
        tags: tuple[str, ...] = (),
        made_for_kids: bool | None = None,
        playlist_id: str = "",
    ) -> None:
        """The channel's defaults for every upload; saved with the credentials."""
        if privacy and privacy not in PRIVACY:
            raise Rejected(f"{LABEL}: privacy must be one of {', '.join(PRIVACY)}.")
        defaults: dict[str, Any] = {
            "privacy": privacy,
            "category_id": category_id,
            "tags": list(tags),
            "made_for_kids": made_for_kids,
            "playlist_id": playlist_id,
        }
        self._persist(video_defaults=defaults)

    def _defaults(self) -> dict[str, Any]:
        defaults = self.credentials.data.get("video_defaults")
        return dict(defaults) if isinstance(defaults, Mapping) else {}

    # -- connecting -----------------------------------------------------------

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        credentials = self._exchange(redirect_uri, code, start)
        granted = set(credentials.data.get("scopes") or oauth.SCOPES)
        missing = [s for s in oauth.REQUIRED_SCOPES if s not in granted]
        if missing or not granted & set(oauth.READ_SCOPES):
            raise Rejected(
                f"{LABEL}: Google did not give Minbar the permission to upload videos and see "
                "the channel. Connect again and leave every permission ticked.",
                detail="granted: " + " ".join(sorted(granted)),
            )
        if not credentials.secrets.get("refresh_token"):
            raise Rejected(
                f"{LABEL}: Google sent no refresh token, so Minbar could only act for an hour. "
                "Connect again.",
            )
        self.credentials = credentials
        with self._operation():
            channel = self._own_channel()
        account = account_info(channel)
        self.credentials = replace(
            self.credentials,
            data={
                **self.credentials.data,
                "scopes": sorted(granted),
                "channel_id": account.remote_id,
                "uploads_playlist": _uploads_playlist(channel),
                "quota": self.ledger.to_data(),
            },
        )
        return ConnectResult(account=account, credentials=self.credentials)

    def verify(self) -> AccountInfo:
        """``channels.list?mine=true`` (1 unit): the channel, its handle and subscribers."""
        with self._operation():
            channel = self._own_channel()
            account = account_info(channel)
            playlist = _uploads_playlist(channel)
            if (
                self.credentials.data.get("channel_id") != account.remote_id
                or self.credentials.data.get("uploads_playlist") != playlist
            ):
                self._persist(channel_id=account.remote_id, uploads_playlist=playlist)
        return account

    # -- publishing -----------------------------------------------------------

    def publish(self, request: PostRequest) -> PublishResult:
        """Upload the post's video with the channel's defaults (see :meth:`publish_video`)."""
        if request.reply_to is not None:
            return self.reply(request.reply_to, request)
        return self.publish_video(request)

    def _options(self, request: PostRequest, options: VideoOptions | None) -> VideoOptions:
        options = options or VideoOptions.from_request(request)
        defaults = self._defaults()
        privacy = options.privacy or request.visibility or str(defaults.get("privacy") or "")
        made_for_kids = options.made_for_kids
        if made_for_kids is None and isinstance(defaults.get("made_for_kids"), bool):
            made_for_kids = defaults["made_for_kids"]
        return replace(
            options,
            tags=options.tags or tuple(str(t) for t in defaults.get("tags") or ()),
            category_id=options.category_id or str(defaults.get("category_id") or "22"),
            privacy=privacy or "public",
            made_for_kids=made_for_kids,
            playlist_id=options.playlist_id or str(defaults.get("playlist_id") or ""),
        )

    def video_resource(
        self, request: PostRequest, options: VideoOptions | None = None
    ) -> dict[str, Any]:
        """The ``snippet`` and ``status`` Minbar sends; Rejected when YouTube would refuse them."""
        chosen = self._options(request, options)
        title, description = title_and_description(request.text, request.link, chosen.title)
        found = problems(title, description, chosen.tags)
        if chosen.privacy not in PRIVACY:
            found.append(f"YouTube privacy must be one of {', '.join(PRIVACY)}.")
        status: dict[str, Any] = {"privacyStatus": chosen.privacy}
        if chosen.publish_at is not None:
            publish_at = chosen.publish_at.astimezone(UTC)
            if publish_at <= _now():
                found.append("A YouTube publishing time must be in the future.")
            # status.publishAt "can only be set if the privacy status of the video is private".
            status = {
                "privacyStatus": "private",
                "publishAt": publish_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            }
        if chosen.made_for_kids is not None:
            status["selfDeclaredMadeForKids"] = chosen.made_for_kids
        if found:
            raise Rejected(" ".join(found))
        snippet: dict[str, Any] = {
            "title": title,
            "description": description,
            "categoryId": chosen.category_id,
        }
        if chosen.tags:
            snippet["tags"] = list(chosen.tags)
        if request.language:
            snippet["defaultLanguage"] = request.language
        return {"snippet": snippet, "status": status}

    def publish_video(
        self, request: PostRequest, options: VideoOptions | None = None
    ) -> PublishResult:
        """Upload a video with the resumable protocol, then its thumbnail, playlist and comment.

        The upload session is saved (by the request's idempotency key) before the
        first byte is sent, so a second attempt with the same key resumes the same
        session — or finds the video it already made — instead of uploading twice.
        The thumbnail (``thumbnails.set``), the playlist (``playlistItems.insert``)
        and the first comment (``commentThreads.insert``) come after the video
        exists: when one of them fails the video stays published and the failure is
        logged, because failing the post would invite a second upload.
        """
        video_item, thumbnail = self._media(request)
        chosen = self._options(request, options)
        thumbnail = chosen.thumbnail or thumbnail
        metadata = self.video_resource(request, chosen)
        with self._operation():
            video = self._upload(
                request.idempotency_key, video_item, metadata, notify=chosen.notify_subscribers
            )
            self._after_upload(video, metadata, chosen, thumbnail, request.first_comment)
        return _publish_result(video)

    def _media(self, request: PostRequest) -> tuple[MediaItem, MediaItem | None]:
        videos = [m for m in request.media if m.mime_type.startswith("video/")]
        images = [m for m in request.media if m.mime_type.startswith("image/")]
        if not videos:
            raise NotSupported(
                f"{LABEL} posts are videos: attach one video. YouTube's API cannot publish "
                "text (community) posts."
            )
        found: list[str] = []
        if len(videos) > 1:
            found.append(f"{LABEL} takes one video per post.")
        if len(images) > 1:
            found.append(f"{LABEL} takes one image with the video, as its thumbnail.")
        if videos[0].mime_type not in VIDEO_TYPES and videos[0].mime_type != "video/*":
            found.append(f"{LABEL} does not take {videos[0].mime_type} videos.")
        thumbnail = images[0] if images else None
        if thumbnail is not None:
            if thumbnail.mime_type not in THUMBNAIL_TYPES:
                found.append(f"{LABEL} thumbnails are JPEG or PNG images.")
            elif upload.file_size(thumbnail.path) > THUMBNAIL_MAX_BYTES:
                found.append(f"{LABEL} thumbnails are at most 2 MB.")
        if found:
            raise Rejected(" ".join(found))
        return videos[0], thumbnail

    # -- the upload itself --------------------------------------------------------

    def _uploads_memory(self) -> dict[str, dict[str, Any]]:
        memory = self.credentials.data.get("uploads")
        if not isinstance(memory, Mapping):
            return {}
        horizon = _now() - timedelta(days=UPLOAD_MEMORY_DAYS)
        kept = {
            str(key): dict(entry)
            for key, entry in memory.items()
            if isinstance(entry, Mapping) and (when(entry.get("started")) or _now()) > horizon
        }
        return dict(list(kept.items())[-UPLOAD_MEMORY:])

    def _remember_upload(self, key: str, entry: dict[str, Any] | None) -> None:
        """Save (or forget, with None) an upload session under its idempotency key, at once."""
        if not key:
            return
        memory = self._uploads_memory()
        memory.pop(key, None)
        if entry is not None:
            memory[key] = entry
        self._persist(uploads=memory)

    def _upload_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._fresh_token()}"}

    def _upload(
        self, key: str, item: MediaItem, metadata: dict[str, Any], *, notify: bool = True
    ) -> dict[str, Any]:
        size = upload.file_size(item.path)
        if size == 0:
            raise Rejected(f"{LABEL}: the video file is empty.")
        entry = self._uploads_memory().get(key) if key else None
        offset = 0
        session = ""
        if entry and entry.get("video_id"):
            found = self._videos([str(entry["video_id"])], part="snippet,status")
            if found:
                return found[0]
            entry = None  # deleted since: upload again
        if entry and entry.get("session") and int(entry.get("size") or 0) == size:
            try:
                progress = self._session_status(str(entry["session"]), size)
            except upload.SessionGone:
                entry = None
            else:
                if progress.video is not None:
                    self._remember_upload(key, {**entry, "video_id": progress.video["id"]})
                    return progress.video
                session, offset = str(entry["session"]), progress.received
        if not session:
            session = self._start_session(metadata, size, item.mime_type, notify=notify)
            entry = {
                "session": session,
                "size": size,
                "title": metadata["snippet"]["title"],
                "started": _now().isoformat(),
            }
            # Saved before the first byte leaves: a lookup or a second attempt finds it.
            self._remember_upload(key, entry)
        video = self._send(session, item, size, offset)
        self._remember_upload(key, {**(entry or {}), "video_id": video["id"]})
        return video

    def _start_session(
        self, metadata: dict[str, Any], size: int, mime_type: str, *, notify: bool = True
    ) -> str:
        url = (
            f"{self.endpoints.upload}/videos?uploadType=resumable&part=snippet,status"
            f"&notifySubscribers={'true' if notify else 'false'}"
        )
        client = self._http()
        for attempt in (1, 2):
            self.ledger.spend("videos.insert")
            headers = {"Authorization": f"Bearer {self._fresh_token(force=attempt == 2)}"}
            try:
                response = upload.start(
                    client, url, headers=headers, metadata=metadata, size=size, mime_type=mime_type
                )
            except httpx.TransportError as exc:
                # Without a session URI no byte is sent and no video can exist.
                raise TemporaryError(
                    f"{LABEL} did not answer when Minbar started the upload.", detail=str(exc)
                ) from exc
            if response.status_code == 401 and attempt == 1:
                continue
            if response.status_code != 200:
                # An upload session without bytes makes no video: never "unknown".
                error = self._failure(response, "videos.insert", writes=False)
                raise error
            location = response.headers.get("location", "")
            if not location:
                raise TemporaryError(f"{LABEL} started the upload but gave no upload address.")
            return upload.check_session_uri(location, self.endpoints.upload)
        raise AssertionError("unreachable")

    def _session_status(self, session: str, size: int) -> upload.Progress:
        try:
            return upload.status(self._http(), session, headers=self._upload_headers(), size=size)
        except httpx.TransportError as exc:
            raise upload.Interrupted(str(exc), final=False) from exc

    def _send(self, session: str, item: MediaItem, size: int, offset: int) -> dict[str, Any]:
        """Send the bytes from ``offset``, resuming after interruptions (a bounded number)."""
        interruptions = 0
        while True:
            try:
                return upload.send(
                    self._http(),
                    session,
                    headers=self._upload_headers(),
                    path=item.path,
                    mime_type=item.mime_type,
                    size=size,
                    offset=offset,
                    chunk_size=self.upload_chunk_size,
                )
            except upload.SessionGone as exc:
                raise TemporaryError(
                    f"{LABEL} forgot the upload session; Minbar will upload the video again.",
                    detail=str(exc),
                ) from exc
            except upload.Interrupted as exc:
                interruptions += 1
                try:
                    progress = self._session_status(session, size)
                except (upload.Interrupted, upload.SessionGone) as again:
                    if exc.final:
                        raise OutcomeUnknown(
                            f"{LABEL} did not confirm the end of the upload; the video may "
                            "have been published.",
                            detail=f"{exc}; then {again}",
                        ) from again
                    raise TemporaryError(
                        f"The upload to {LABEL} was interrupted; Minbar will resume it.",
                        detail=f"{exc}; then {again}",
                    ) from again
                if progress.video is not None:
                    return progress.video
                if interruptions > self.max_interruptions:
                    raise TemporaryError(
                        f"The upload to {LABEL} was interrupted {interruptions} times; Minbar "
                        "will resume it later.",
                        detail=str(exc),
                    ) from exc
                offset = progress.received

    def _after_upload(
        self,
        video: dict[str, Any],
        metadata: dict[str, Any],
        options: VideoOptions,
        thumbnail: MediaItem | None,
        first_comment: str,
    ) -> None:
        video_id = str(video["id"])
        wanted = metadata["status"]["privacyStatus"]
        got = str((video.get("status") or {}).get("privacyStatus") or wanted)
        if wanted != "private" and got == "private":
            # "All videos uploaded via the videos.insert endpoint from unverified API
            # projects created after 28 July 2020 will be restricted to private
            # viewing mode" (https://developers.google.com/youtube/v3/docs/videos/insert).
            logger.warning(
                "YouTube kept video %s private although Minbar asked for %s: the Google "
                "Cloud project has not passed YouTube's API audit (see docs/networks/youtube.md)",
                video_id,
                wanted,
            )
            locked = [v for v in self.locked_private_videos() if v != video_id]
            self._persist(
                uploads_locked_private=True,
                locked_private_videos=[video_id, *locked][:LOCKED_VIDEOS_KEPT],
            )
        elif wanted != "private" and got == wanted and self.uploads_locked_private():
            # A public upload stayed public: the project has passed the audit since.
            self._persist(uploads_locked_private=False)
        steps: list[tuple[str, Callable[[], None]]] = []
        if thumbnail is not None:
            steps.append(("thumbnail", lambda: self._set_thumbnail(video_id, thumbnail)))
        if options.playlist_id:
            steps.append(("playlist", lambda: self._add_to_playlist(video_id, options.playlist_id)))
        if first_comment.strip() and self._has(oauth.SCOPE_FORCE_SSL):
            if got == "private":
                logger.warning(
                    "first comment not posted on YouTube video %s: it is private", video_id
                )
            else:
                steps.append(
                    ("first comment", lambda: self._first_comment(video_id, first_comment))
                )
        for what, step in steps:
            try:
                step()
            except ConnectorError as exc:
                logger.warning(
                    "YouTube video %s is published but its %s failed: %s (%s)",
                    video_id,
                    what,
                    exc.message,
                    exc.detail,
                )

    def _set_thumbnail(self, video_id: str, image: MediaItem) -> None:
        """``thumbnails.set`` (50 units); YouTube allows it only to verified channels."""
        with open(image.path, "rb") as file:
            data = file.read()
        self._call(
            "thumbnails.set",
            "POST",
            f"{self.endpoints.upload}/thumbnails/set",
            params={"videoId": video_id, "uploadType": "media"},
            content=data,
            headers={"Content-Type": image.mime_type},
            writes=True,
        )

    def _add_to_playlist(self, video_id: str, playlist_id: str) -> None:
        self._require_scope(oauth.SCOPE_FORCE_SSL, "manage playlists")
        self._call(
            "playlistItems.insert",
            "POST",
            f"{self.endpoints.api}/playlistItems",
            params={"part": "snippet"},
            json_body={
                "snippet": {
                    "playlistId": playlist_id,
                    "resourceId": {"kind": "youtube#video", "videoId": video_id},
                }
            },
            writes=True,
        )

    def _first_comment(self, video_id: str, text: str) -> None:
        self._call(
            "commentThreads.insert",
            "POST",
            f"{self.endpoints.api}/commentThreads",
            params={"part": "snippet"},
            json_body={
                "snippet": {
                    "videoId": video_id,
                    "topLevelComment": {"snippet": {"textOriginal": text}},
                }
            },
            writes=True,
        )

    def delete(self, remote_id: str) -> None:
        """``videos.delete`` (50 units); a video already gone counts as deleted."""
        with self._operation():
            try:
                self._call(
                    "videos.delete",
                    "DELETE",
                    f"{self.endpoints.api}/videos",
                    params={"id": remote_id},
                    ok=(200, 204),
                )
            except Rejected as exc:
                if exc.status not in (404, 410):
                    raise

    def _videos(self, ids: list[str], part: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), ID_BATCH):
            chunk = ids[start : start + ID_BATCH]
            data = self._get(
                "videos.list",
                f"{self.endpoints.api}/videos",
                part=part,
                id=",".join(chunk),
                maxResults=len(chunk),
            )
            found += [dict(v) for v in data.get("items") or []]
        return found

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """Did the video go out? By its id, or by the upload session saved under the key.

        * No session saved under the key: no byte was ever sent (the session is
          saved before the first one), so no video exists → None, for certain.
        * The session is known: Google is asked how far it got; complete → the
          video; incomplete → None, for certain (the next attempt resumes it).
        * The session expired: the channel's latest uploads are matched by title
          and time — a heuristic, hence ``lookup_authoritative_seconds``.
        """
        with self._operation():
            if remote_id:
                found = self._videos([remote_id], part="snippet,status")
                return remote_post(found[0]) if found else None
            if not idempotency_key:
                return None
            entry = self._uploads_memory().get(idempotency_key)
            if not entry:
                return None
            if entry.get("video_id"):
                found = self._videos([str(entry["video_id"])], part="snippet,status")
                return remote_post(found[0]) if found else None
            try:
                progress = self._session_status(str(entry["session"]), int(entry["size"]))
            except upload.Interrupted as exc:
                raise TemporaryError(
                    f"{LABEL} did not say how far the upload got.", detail=str(exc)
                ) from exc
            except upload.SessionGone:
                return self._match_recent_upload(entry)
            if progress.video is None:
                return None
            self._remember_upload(idempotency_key, {**entry, "video_id": progress.video["id"]})
            return remote_post(progress.video)

    def _match_recent_upload(self, entry: Mapping[str, Any]) -> RemotePost | None:
        """The channel's latest uploads (``playlistItems.list``, 1 unit) with this title."""
        self._channel_id()
        playlist = str(self.credentials.data.get("uploads_playlist") or "")
        if not playlist:
            return None
        started = when(entry.get("started")) or _now()
        data = self._get(
            "playlistItems.list",
            f"{self.endpoints.api}/playlistItems",
            part="snippet",
            playlistId=playlist,
            maxResults=50,
        )
        for item in data.get("items") or []:
            snippet = item.get("snippet") or {}
            published = when(snippet.get("publishedAt"))
            video_id = str((snippet.get("resourceId") or {}).get("videoId") or "")
            if (
                video_id
                and snippet.get("title") == entry.get("title")
                and published is not None
                and published >= started - LOOKUP_SLACK
            ):
                return RemotePost(
                    remote_id=video_id,
                    url=video_url(video_id),
                    text=str(snippet.get("title") or ""),
                    created_at=published,
                )
        return None

    # -- measuring ------------------------------------------------------------

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """Views, likes and comments (``videos.list part=statistics``, 1 unit per 50 videos).

        With the yt-analytics.readonly permission, shares come from the YouTube
        Analytics API (``reports.query``, its own quota, data a day or two late).
        The Analytics API has no impressions for a channel's videos, so Minbar
        reports none.
        """
        ids = [i for i in dict.fromkeys(remote_ids) if i]
        now = _now()
        metrics: dict[str, Metrics] = {}
        with self._operation():
            videos = self._videos(ids, part="statistics,snippet")
            for video in videos:
                values = post_metric_values(video)
                if self._has(oauth.SCOPE_ANALYTICS):
                    shares = self._shares(video)
                    if shares is not None:
                        values["shares"] = shares
                metrics[str(video["id"])] = Metrics(values=values, fetched_at=now)
        return metrics

    def _shares(self, video: Mapping[str, Any]) -> int | None:
        """One video's shares since it was published (YouTube Analytics ``reports.query``)."""
        published = when((video.get("snippet") or {}).get("publishedAt")) or _now()
        try:
            data = self._get(
                "analytics.reports.query",
                f"{self.endpoints.analytics}/reports",
                ids="channel==MINE",
                startDate=pacific_day(published).isoformat(),
                endDate=pacific_day().isoformat(),
                metrics="shares",
                filters=f"video=={video['id']}",
            )
        except (Rejected, NotSupported, TemporaryError) as exc:
            logger.info("YouTube Analytics gave no shares for %s: %s", video.get("id"), exc)
            return None
        headers = [str(h.get("name")) for h in data.get("columnHeaders") or []]
        rows = data.get("rows") or []
        if "shares" not in headers:
            return None
        if not rows:
            return 0  # a report with no rows: nothing happened in the period
        try:
            return int(rows[0][headers.index("shares")])
        except (TypeError, ValueError, IndexError):
            return None

    def account_metrics(self) -> Metrics:
        """Subscribers (absent when the channel hides them) and videos (``channels.list``)."""
        with self._operation():
            channel = self._own_channel("statistics")
        return Metrics(values=account_metric_values(channel), fetched_at=_now())

    # -- engaging -------------------------------------------------------------

    def interactions(self, cursor: str = "") -> Page[Interaction]:
        """New comments and replies on the channel's videos, oldest first.

        ``commentThreads.list?allThreadsRelatedToChannelId=…&order=time`` (1 unit a
        page of 100 threads, newest first, ``pageToken`` for older ones). A *sweep*
        reads pages until it reaches threads older than what was already
        delivered; the cursor keeps that time, the page token of a sweep under way
        and each recent thread's reply count, so a thread whose count grew past
        the replies YouTube includes is read in full (``comments.list?parentId``,
        1 unit). Sweeps start at most every ``interactions_min_interval`` seconds:
        in between the cursor comes back unchanged with no items and no call.
        The channel's own comments are left out. Replies on threads older than
        the latest 200 are not noticed.
        """
        sweep = _Sweep.parse(cursor)
        now = time.time()
        if not sweep.page and sweep.at and now - sweep.at < self.interactions_min_interval:
            return Page(items=[], cursor=cursor)
        with self._operation():
            channel_id = self._channel_id()
            if not sweep.page:
                sweep.at, sweep.top, sweep.top_edge = now, sweep.since, list(sweep.edge)
            params: dict[str, Any] = {
                "part": "snippet,replies",
                "allThreadsRelatedToChannelId": channel_id,
                "order": "time",
                "maxResults": THREAD_PAGE,
                "textFormat": "plainText",
            }
            if sweep.page:
                params["pageToken"] = sweep.page
            data = self._get(
                "commentThreads.list", f"{self.endpoints.api}/commentThreads", **params
            )
            threads = [dict(t) for t in data.get("items") or []]
            items, oldest_thread = self._read_threads(threads, sweep, channel_id)
        next_token = str(data.get("nextPageToken") or "")
        since = when(sweep.since)
        reached_known = since is None or oldest_thread is None or oldest_thread < since
        if next_token and not reached_known and sweep.since:
            sweep.page = next_token
        else:
            sweep.page = ""
            sweep.since, sweep.edge = sweep.top, list(sweep.top_edge)
        items.sort(key=lambda i: i.created_at)
        return Page(items=items, cursor=sweep.dump())

    def _read_threads(
        self, threads: list[dict[str, Any]], sweep: _Sweep, channel_id: str
    ) -> tuple[list[Interaction], datetime | None]:
        since = when(sweep.since)
        delivered = set(sweep.edge)
        items: list[Interaction] = []
        oldest_thread: datetime | None = None

        def is_new(comment: Mapping[str, Any]) -> bool:
            published = when((comment.get("snippet") or {}).get("publishedAt"))
            if published is None:
                return False
            if since is None or published > since:
                return True
            return published == since and str(comment.get("id")) not in delivered

        def note(comment: Mapping[str, Any]) -> None:
            """Keep the sweep's newest time and the ids dated exactly then."""
            published = str((comment.get("snippet") or {}).get("publishedAt") or "")
            moment, top = when(published), when(sweep.top)
            if moment is None:
                return
            if top is None or moment > top:
                sweep.top, sweep.top_edge = published, [str(comment.get("id"))]
            elif moment == top and str(comment.get("id")) not in sweep.top_edge:
                sweep.top_edge.append(str(comment.get("id")))

        for thread in threads:
            snippet = thread.get("snippet") or {}
            video_id = str(snippet.get("videoId") or "")
            top = dict(snippet.get("topLevelComment") or {})
            top_time = when((top.get("snippet") or {}).get("publishedAt"))
            if top_time is not None and (oldest_thread is None or top_time < oldest_thread):
                oldest_thread = top_time
            comments: list[tuple[dict[str, Any], str]] = [(top, "")]
            included = [dict(c) for c in (thread.get("replies") or {}).get("comments") or []]
            total = int(snippet.get("totalReplyCount") or 0)
            thread_id = str(thread.get("id") or top.get("id") or "")
            known = sweep.replies.get(thread_id)
            if total > len(included) and since is not None and (known is None or total > known):
                included = self._replies(str(top.get("id") or thread_id))
            sweep.replies.pop(thread_id, None)
            sweep.replies[thread_id] = total
            comments += [(reply, str(top.get("id") or thread_id)) for reply in included]
            for comment, parent in comments:
                if not comment or not is_new(comment):
                    continue
                note(comment)
                if comment_author_id(comment) == channel_id:
                    continue
                item = interaction_from_comment(comment, video_id=video_id, top_level_id=parent)
                if item is not None:
                    items.append(item)
        return items, oldest_thread

    def _replies(self, parent_id: str) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = []
        token = ""
        for _page in range(REPLY_PAGES):
            params: dict[str, Any] = {
                "part": "snippet",
                "parentId": parent_id,
                "maxResults": 100,
                "textFormat": "plainText",
            }
            if token:
                params["pageToken"] = token
            data = self._get("comments.list", f"{self.endpoints.api}/comments", **params)
            replies += [dict(c) for c in data.get("items") or []]
            token = str(data.get("nextPageToken") or "")
            if not token:
                break
        return replies

    def reply(self, to: RemoteRef, request: PostRequest) -> PublishResult:
        """``comments.insert`` (50 units) under the thread's top-level comment.

        YouTube threads are one level deep: a reply to a reply goes under the
        top-level comment (``snippet.parentId``), like YouTube's own "Reply".
        """
        self._require_scope(oauth.SCOPE_FORCE_SSL, "reply to comments")
        text = request.text.strip()
        if not text:
            raise Rejected(f"{LABEL}: write a reply first.")
        parent = to.extra.get("parent_id") or to.remote_id
        with self._operation():
            response = self._call(
                "comments.insert",
                "POST",
                f"{self.endpoints.api}/comments",
                params={"part": "snippet"},
                json_body={"snippet": {"parentId": parent, "textOriginal": text}},
                writes=True,
            )
        comment = response.json()
        snippet = comment.get("snippet") or {}
        video_id = to.extra.get("video_id") or str(snippet.get("videoId") or "")
        comment_id = str(comment["id"])
        ref = RemoteRef(
            comment_id,
            url=comment_url(video_id, comment_id) if video_id else "",
            extra={"video_id": video_id, "parent_id": parent},
        )
        return PublishResult(
            remote_id=comment_id,
            url=ref.url,
            published_at=when(snippet.get("publishedAt")),
            ref=ref,
        )

    def hide(self, interaction: RemoteRef, hidden: bool = True) -> None:
        """``comments.setModerationStatus`` (50 units): held for review, or published again.

        Minbar hides with ``heldForReview`` rather than ``rejected`` because a
        rejected comment cannot be published again (the API refuses that change);
        a held comment is not shown to the public until it is published.
        """
        self._require_scope(oauth.SCOPE_FORCE_SSL, "moderate comments")
        with self._operation():
            self._moderate(interaction.remote_id, "heldForReview" if hidden else "published")

    def _moderate(self, comment_id: str, status: str) -> None:
        self._call(
            "comments.setModerationStatus",
            "POST",
            f"{self.endpoints.api}/comments/setModerationStatus",
            params={"id": comment_id, "moderationStatus": status},
            ok=(200, 204),
        )

    def delete_interaction(self, interaction: RemoteRef) -> None:
        """The channel's own comment: ``comments.delete``; anyone else's: rejected.

        ``comments.delete`` works only for the comment's author; to remove someone
        else's comment from the channel YouTube says to set its moderation status to
        ``rejected`` (https://developers.google.com/youtube/v3/docs/comments/setModerationStatus),
        which also hides its replies and cannot be undone.
        """
        self._require_scope(oauth.SCOPE_FORCE_SSL, "delete comments")
        with self._operation():
            author = interaction.extra.get("author_channel_id")
            if author is None:
                data = self._get(
                    "comments.list",
                    f"{self.endpoints.api}/comments",
                    part="snippet",
                    id=interaction.remote_id,
                )
                found = data.get("items") or []
                if not found:
                    return  # already gone
                author = comment_author_id(found[0])
            if author and author == self._channel_id():
                try:
                    self._call(
                        "comments.delete",
                        "DELETE",
                        f"{self.endpoints.api}/comments",
                        params={"id": interaction.remote_id},
                        ok=(200, 204),
                    )
                except Rejected as exc:
                    if exc.status != 404:
                        raise
                return
            self._moderate(interaction.remote_id, "rejected")


# -- helpers ------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _uploads_playlist(channel: Mapping[str, Any]) -> str:
    related = (channel.get("contentDetails") or {}).get("relatedPlaylists") or {}
    return str(related.get("uploads") or "")


def _publish_result(video: Mapping[str, Any]) -> PublishResult:
    video_id = str(video["id"])
    url = video_url(video_id)
    published = when((video.get("snippet") or {}).get("publishedAt"))
    return PublishResult(
        remote_id=video_id, url=url, published_at=published, ref=RemoteRef(video_id, url=url)
    )
