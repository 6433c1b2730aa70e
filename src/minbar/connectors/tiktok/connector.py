"""The TikTok connector: one TikTok account, through Login Kit and the Content Posting API.

API: https://developers.tiktok.com/doc/content-posting-api-get-started/ (posting),
https://developers.tiktok.com/doc/login-kit-web (signing in), the Display API's user
and video endpoints (metrics). The user guide is ``docs/networks/tiktok.md``.

Posting is asynchronous on TikTok: an *init* call returns a ``publish_id`` (and,
for a video sent from Minbar, an upload URL for its chunks); TikTok then
processes, moderates and publishes, and the status endpoint says how far it got.
Minbar follows the status for :attr:`TikTokConnector.publish_wait_seconds`; a post
still processing after that is left to the engine's reconciliation, which asks
:meth:`TikTokConnector.lookup` again until TikTok says it is complete or failed.
A post counts as published only when TikTok reports ``PUBLISH_COMPLETE`` (or, for
a draft, ``SEND_TO_USER_INBOX``).

What the connector keeps in ``Credentials``:

* ``secrets``: ``access_token`` and ``refresh_token`` (TikTok rotates the latter);
* ``data``: ``open_id``, ``username``, ``scopes`` (as granted), ``refresh_expires_at``,
  ``creator`` (the last creator_info answer), ``post_settings`` (the person's
  choices, see :mod:`.choices`), ``private_only`` (set when TikTok said the app is
  not audited) and ``publishes`` (each post's publish_id and upload by idempotency
  key, saved before anything is sent).

TikTok's API has no comments for a creator's own posts (no reading, replying or
moderating), no deleting of posts and no search: those are left out of the
capabilities and raise NotSupported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from django.utils.translation import gettext_lazy as _

from minbar.connectors.apps import require_app
from minbar.connectors.base import Connector, OAuthStart
from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    NotSupported,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)
from minbar.connectors.http import check_outbound_url, make_client
from minbar.connectors.tiktok import oauth, upload
from minbar.connectors.tiktok.choices import (
    DRAFT,
    PRIVACY_LEVELS,
    VISIBILITIES,
    CreatorInfo,
    PostSettings,
    choice_problems,
    minbar_privacy,
    post_options,
)
from minbar.connectors.tiktok.failures import (
    LABEL,
    TikTokError,
    error_of,
    failed_post,
    parse_error,
    translate,
    transport_error,
)
from minbar.connectors.tiktok.mapping import (
    VIDEO_FIELDS,
    account_info,
    account_metric_values,
    post_metric_values,
    profile_url,
    remote_post,
    user_fields,
    video_url,
    when,
)
from minbar.connectors.tiktok.text import photo_text, problems, video_caption
from minbar.connectors.types import (
    AccountInfo,
    AuthKind,
    Capabilities,
    ConnectResult,
    Credentials,
    MediaItem,
    MediaRules,
    Metrics,
    PostRequest,
    PostType,
    PublishResult,
    RateLimitRule,
    RemotePost,
    TextCounting,
    TextRules,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger("minbar.connectors.tiktok")

API_BASE = "https://open.tiktokapis.com"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_VIDEO_INIT = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
STATUS_FETCH = "/v2/post/publish/status/fetch/"
USER_INFO = "/v2/user/info/"
VIDEO_QUERY = "/v2/video/query/"
VIDEO_LIST = "/v2/video/list/"

# Media TikTok accepts (https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide):
# videos MP4 (recommended), WebM, MOV, at most 4 GB; photos JPEG or WebP (no PNG),
# at most 20 MB each, up to 35 in one photo post.
VIDEO_TYPES = ("video/mp4", "video/webm", "video/quicktime")
IMAGE_TYPES = ("image/jpeg", "image/webp")
VIDEO_MAX_BYTES = 4 * 1024**3
IMAGE_MAX_BYTES = 20 * 1024 * 1024
MAX_PHOTOS = 35

# Statuses of https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status
COMPLETE = "PUBLISH_COMPLETE"
IN_INBOX = "SEND_TO_USER_INBOX"
FAILED = "FAILED"
PROCESSING_UPLOAD = "PROCESSING_UPLOAD"

# Posts remembered by idempotency key, and for how long.
PUBLISH_MEMORY = 100
PUBLISH_MEMORY_DAYS = 7
LOOKUP_SLACK = timedelta(minutes=10)
REFRESH_AHEAD = timedelta(minutes=30)
TOKEN_SLACK = timedelta(seconds=60)
ID_BATCH = 20  # /v2/video/query/ takes at most 20 ids
ID_RECHECK = timedelta(hours=1)
POST_ID_MEMORY = 500
DAY = 24 * 3600


@dataclass(frozen=True)
class PostStatus:
    status: str
    fail_reason: str = ""
    post_ids: tuple[str, ...] = ()
    uploaded_bytes: int = 0

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PostStatus:
        # "publicaly_available_post_id" is TikTok's spelling.
        ids = data.get("publicaly_available_post_id") or data.get("publicly_available_post_id")
        return cls(
            status=str(data.get("status") or ""),
            fail_reason=str(data.get("fail_reason") or ""),
            post_ids=tuple(str(i) for i in ids or ()),
            uploaded_bytes=int(data.get("uploaded_bytes") or 0),
        )


class TikTokConnector(Connector):
    network: ClassVar[str] = "tiktok"
    capabilities: ClassVar[Capabilities] = Capabilities(
        network="tiktok",
        label="TikTok",
        auth=AuthKind.OAUTH2,
        # A video caption: 2,200 UTF-16 runes (see .text; photo posts: 90 + 4,000).
        text=TextRules(max_length=2200, counting=TextCounting.UTF16),
        media=MediaRules(
            image_types=IMAGE_TYPES,
            video_types=VIDEO_TYPES,
            max_images=MAX_PHOTOS,
            max_videos=1,
            max_image_bytes=IMAGE_MAX_BYTES,
            max_video_bytes=VIDEO_MAX_BYTES,
            mix_images_and_video=False,
            media_required=True,
        ),
        pkce=True,
        default_server_url=API_BASE,
        post_types=frozenset({PostType.VIDEO, PostType.IMAGE, PostType.GALLERY}),
        # Who can see a post (TikTok's privacy levels), or "draft": the creator's inbox.
        visibility=VISIBILITIES,
        post_options=post_options(None),
        post_metrics=frozenset({"likes", "comments", "shares", "video_views"}),
        account_metrics=frozenset({"followers", "following", "posts"}),
        rate_limits=(
            # spam_risk_too_many_posts: a cap of posts through apps per creator in 24
            # hours; TikTok gives no figure in the reference, its guidance says about 15.
            RateLimitRule("publish", 15, DAY, "account"),
            # Each access token may call the init endpoints 6 times a minute.
            RateLimitRule("publish", 6, 60, "account"),
            RateLimitRule("creator_info", 20, 60, "account"),
            RateLimitRule("status", 30, 60, "account"),
            # /v2/user/info/, /v2/video/query/, /v2/video/list/: 600 a minute each, per app.
            RateLimitRule("request", 600, 60, "app"),
        ),
        docs_url="https://developers.tiktok.com/doc/content-posting-api-get-started/",
        setup_doc="docs/networks/tiktok.md",
    )
    connect_steps: ClassVar[tuple[StrOrPromise, ...]] = (
        _("Minbar opens TikTok: sign in with the TikTok account to connect."),
        _("Allow every permission Minbar asks for; TikTok sends you back here."),
        _(
            "Then choose who can see this channel's TikTok posts: TikTok requires you to "
            "choose it, so Minbar never picks it for you."
        ),
    )

    # How long publish() follows TikTok's processing before leaving it to lookup.
    publish_wait_seconds: ClassVar[float] = 60.0
    # Seconds between two status reads (TikTok allows 30 a minute per token).
    poll_intervals: ClassVar[tuple[float, ...]] = (1.0, 2.0, 3.0, 5.0, 5.0, 10.0)
    chunk_size: ClassVar[int] = upload.DEFAULT_CHUNK
    min_chunk: ClassVar[int] = upload.MIN_CHUNK
    max_chunk: ClassVar[int] = upload.MAX_CHUNK
    max_interruptions: ClassVar[int] = 3
    # Every post is remembered (publish_id) before anything is sent, for this long.
    lookup_authoritative_seconds: ClassVar[float] = PUBLISH_MEMORY_DAYS * DAY

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
        # TikTok signs people in on www.tiktok.com; a fake (MINBAR_TIKTOK_API_URL) serves both.
        self.authorize_base = (
            oauth.AUTHORIZE_HOST if self.server_url == API_BASE else self.server_url
        )
        self._client: httpx.Client | None = None

    # -- plumbing -------------------------------------------------------------

    def _http(self) -> httpx.Client:
        if self._client is None:
            check_outbound_url(self.server_url)
            self._client = make_client(timeout=self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _app(self) -> dict[str, str]:
        return require_app(self.network, LABEL)

    def _scopes(self) -> set[str]:
        return set(self.credentials.data.get("scopes") or oauth.SCOPES)

    def _has(self, scope: str) -> bool:
        return scope in self._scopes()

    def _require_scope(self, scope: str, what: str) -> None:
        if not self._has(scope):
            raise NotSupported(
                f"{LABEL}: this channel was connected without the permission to {what} "
                f"({scope}). Reconnect it and allow every permission on TikTok's page."
            )

    def _persist(self, **data: Any) -> None:
        self._credentials_changed(Credentials(data=data))

    def _fresh_token(self, *, force: bool = False) -> str:
        token = self.credentials.secrets.get("access_token", "")
        if not token and not self.credentials.secrets.get("refresh_token"):
            raise AuthExpired(f"{LABEL}: this channel is not connected. Reconnect it.")
        expires = self.credentials.expires_at
        if force or not token or (expires is not None and expires - TOKEN_SLACK <= _now()):
            self._credentials_changed(self._refreshed())
            token = self.credentials.secrets["access_token"]
        return token

    def _refreshed(self) -> Credentials:
        return oauth.refresh(
            self.server_url + oauth.TOKEN_PATH,
            app=self._app(),
            refresh_token=self.credentials.secrets.get("refresh_token", ""),
            timeout=self.timeout,
            client=self._http(),
        )

    def _call(
        self,
        verb: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        writes: bool = False,
    ) -> dict[str, Any]:
        """One API call: a fresh token, a refresh after access_token_invalid, errors translated."""
        client = self._http()
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._fresh_token(force=attempt == 2)}"}
            if json_body is not None:
                headers["Content-Type"] = "application/json; charset=UTF-8"
            try:
                response = client.request(
                    verb, self.server_url + path, params=params, json=json_body, headers=headers
                )
            except httpx.TransportError as exc:
                raise transport_error(exc, writes=writes) from exc
            try:
                body: Any = response.json()
            except ValueError:
                body = None
            if body is None:
                error: TikTokError | None = parse_error(response)
            else:
                error = error_of(body, response.status_code)
            if error is None:
                data = body.get("data") if isinstance(body, dict) else None
                return dict(data) if isinstance(data, Mapping) else {}
            if error.code == "access_token_invalid" and attempt == 1:
                continue  # refused before anything was done: refresh once and try again
            raise translate(error, response.headers, writes=writes)
        raise AssertionError("unreachable")

    # -- connecting -----------------------------------------------------------

    def start_oauth(
        self, redirect_uri: str, state: str, app: dict[str, str] | None = None
    ) -> OAuthStart:
        """TikTok's authorization page with every scope Minbar uses and PKCE (hex S256)."""
        app = app if app and app.get("client_id") else self._app()
        check_outbound_url(self.authorize_base)
        verifier, challenge = oauth.pkce_pair()
        url = oauth.authorize_url(
            self.authorize_base,
            client_key=app["client_id"],
            redirect_uri=redirect_uri,
            state=state,
            challenge=challenge,
        )
        return OAuthStart(url=url, state=state, code_verifier=verifier)

    def finish_oauth(self, redirect_uri: str, code: str, start: OAuthStart) -> ConnectResult:
        app = start.app if start.app and start.app.get("client_id") else self._app()
        credentials = oauth.exchange_code(
            self.server_url + oauth.TOKEN_PATH,
            app=app,
            redirect_uri=redirect_uri,
            code=code,
            code_verifier=start.code_verifier,
            timeout=self.timeout,
            client=self._http(),
        )
        granted = set(credentials.data.get("scopes") or ())
        if not granted & set(oauth.POSTING_SCOPES):
            raise Rejected(
                f"{LABEL} did not give Minbar the permission to post (video.publish or "
                "video.upload). Connect again and allow every permission.",
                detail="granted: " + ",".join(sorted(granted)),
            )
        self.credentials = credentials
        user = self._user(user_fields(granted))
        account = account_info(user)
        data: dict[str, Any] = {
            "open_id": account.remote_id or credentials.data.get("open_id", ""),
            "username": str(user.get("username") or ""),
        }
        if oauth.SCOPE_PUBLISH in granted:
            try:
                data["creator"] = self._creator_info().to_data()
            except ConnectorError as exc:  # the options are read again before each post
                logger.info("TikTok creator info not read at sign-in: %s", exc)
        self.credentials = replace(self.credentials, data={**self.credentials.data, **data})
        return ConnectResult(account=account, credentials=self.credentials)

    def refresh(self) -> Credentials | None:
        """A new access token (and refresh token) when the current one ends within 30 minutes."""
        expires = self.credentials.expires_at
        if expires is not None and expires - _now() > REFRESH_AHEAD:
            return None
        return self._refreshed()

    def revoke(self) -> None:
        """Ask TikTok to end Minbar's access to this account (when the channel is removed)."""
        oauth.revoke(
            self.server_url + oauth.REVOKE_PATH,
            app=self._app(),
            token=self.credentials.secrets.get("access_token", ""),
            timeout=self.timeout,
            client=self._http(),
        )

    def _user(self, fields: str) -> dict[str, Any]:
        data = self._call("GET", USER_INFO, params={"fields": fields})
        user = data.get("user")
        return dict(user) if isinstance(user, Mapping) else {}

    def verify(self) -> AccountInfo:
        """``/v2/user/info/``: the account, its @handle and followers."""
        user = self._user(user_fields(self._scopes()))
        username = str(user.get("username") or "")
        if username and username != self.credentials.data.get("username"):
            self._persist(username=username)
        return account_info(user)

    # -- the person's choices -----------------------------------------------------

    def _creator_info(self) -> CreatorInfo:
        data = self._call("POST", CREATOR_INFO, json_body={})
        return CreatorInfo.from_api(data)

    def creator_info(self) -> CreatorInfo:
        """What TikTok lets this creator post now (privacy options, switches, longest video)."""
        self._require_scope(oauth.SCOPE_PUBLISH, "post directly")
        info = self._creator_info()
        self._persist(creator=info.to_data())
        return info

    def post_settings(self) -> PostSettings:
        return PostSettings.from_data(self.credentials.data.get("post_settings"))

    def set_post_settings(self, settings: PostSettings) -> PostSettings:
        """Save a person's choices, after checking them against TikTok's creator_info now."""
        settings = replace(settings, privacy=minbar_privacy(settings.privacy))
        info = self.creator_info() if settings.privacy not in ("", DRAFT) else None
        if settings.privacy == DRAFT:
            self._require_scope(oauth.SCOPE_UPLOAD, "send drafts to the TikTok inbox")
        found = choice_problems(settings, info)
        if settings.privacy and found:
            raise Rejected(" ".join(found))
        self._persist(post_settings=settings.to_data())
        return settings

    def private_only(self) -> bool:
        """TikTok said this Minbar's app is not audited: it may post only privately."""
        return bool(self.credentials.data.get("private_only"))

    def account_capabilities(self) -> Capabilities:
        """Privacy options as TikTok last offered them; features narrowed to the scopes granted."""
        caps = self.capabilities
        choices: list[str] = []
        info = CreatorInfo.from_data(self.credentials.data.get("creator"))
        if self._has(oauth.SCOPE_PUBLISH):
            offered = info.privacy_choices if info and info.privacy_choices else PRIVACY_LEVELS
            choices = [c for c in offered if not self.private_only() or c == "only_me"]
        if self._has(oauth.SCOPE_UPLOAD):
            choices.append(DRAFT)
        caps = replace(caps, visibility=tuple(choices), post_options=post_options(info))
        if not self._has(oauth.SCOPE_LIST):
            caps = replace(caps, post_metrics=frozenset())
        if not self._has(oauth.SCOPE_STATS):
            caps = replace(caps, account_metrics=frozenset())
        return caps

    # -- publishing -----------------------------------------------------------

    def publish(self, request: PostRequest) -> PublishResult:
        """Post a video or photos, directly or as a draft, and follow it until TikTok is done.

        The privacy is the post's ``visibility`` or, failing that, the channel's
        chosen one; with neither, nothing is sent. A second call with the same
        idempotency key follows (or resumes) the post already started instead of
        posting again.
        """
        if request.reply_to is not None or request.quote is not None:
            raise NotSupported(f"{LABEL}'s API cannot reply to or quote posts.")
        if request.thread or request.first_comment.strip():
            raise NotSupported(f"{LABEL}'s API cannot post threads or comments.")
        videos, images = self._media(request)
        settings = self.post_settings()
        if request.visibility:
            # The post's own choices, as the composer showed them (switches off unless on).
            settings = PostSettings.from_options(request.visibility, request.options)
            if not settings.privacy:
                raise Rejected(
                    f"{LABEL}: unknown privacy “{request.visibility}” (one of "
                    f"{', '.join(VISIBILITIES)})."
                )
        key = request.idempotency_key
        entry = self._memory().get(key) if key else None
        if entry is not None:
            done = self._resume(key, entry, videos[0] if videos else None)
            if done is not None:
                return done
        found = choice_problems(settings, None)
        if found:
            raise Rejected(f"{LABEL}: " + " ".join(found))
        draft = settings.privacy == DRAFT
        info: CreatorInfo | None = None
        if draft:
            self._require_scope(oauth.SCOPE_UPLOAD, "send drafts to the TikTok inbox")
        else:
            self._require_scope(oauth.SCOPE_PUBLISH, "post directly")
            # The guidelines ask for creator_info before every post.
            info = self.creator_info()
            found = choice_problems(settings, info)
            if found:
                raise Rejected(f"{LABEL}: " + " ".join(found))
        if videos:
            return self._post_video(key, request, videos[0], settings, info, draft)
        return self._post_photos(key, request, images, settings, draft)

    def _media(self, request: PostRequest) -> tuple[list[MediaItem], list[MediaItem]]:
        videos = [m for m in request.media if m.mime_type.startswith("video/")]
        images = [m for m in request.media if m.mime_type.startswith("image/")]
        if not videos and not images:
            raise Rejected(
                f"{LABEL} posts are a video or photos: attach one video or 1 to "
                f"{MAX_PHOTOS} photos. TikTok's API cannot post text alone."
            )
        found: list[str] = []
        if videos and images:
            found.append(f"A {LABEL} post is either one video or photos, not both.")
        if len(videos) > 1:
            found.append(f"A {LABEL} post takes one video.")
        if len(images) > MAX_PHOTOS:
            found.append(f"A {LABEL} photo post takes at most {MAX_PHOTOS} photos.")
        for video in videos[:1]:
            if video.mime_type not in VIDEO_TYPES:
                found.append(f"{LABEL} takes MP4, WebM or MOV videos, not {video.mime_type}.")
            elif upload.file_size(video.path) > VIDEO_MAX_BYTES:
                found.append(f"{LABEL} takes videos of at most 4 GB.")
        for image in images:
            if image.mime_type not in IMAGE_TYPES:
                found.append(
                    f"{LABEL} photo posts take JPEG or WebP pictures, not {image.mime_type}."
                )
                break
            if upload.file_size(image.path) > IMAGE_MAX_BYTES:
                found.append(f"{LABEL} takes pictures of at most 20 MB.")
                break
        if found:
            raise Rejected(" ".join(found))
        return videos, images

    @staticmethod
    def _switches(settings: PostSettings, info: CreatorInfo | None) -> dict[str, bool]:
        """The "disable" flags: off unless the person allowed it and the creator has it on."""
        info = info or CreatorInfo()
        return {
            "disable_comment": not settings.allow_comment or info.comment_disabled,
            "disable_duet": not settings.allow_duet or info.duet_disabled,
            "disable_stitch": not settings.allow_stitch or info.stitch_disabled,
        }

    def _post_video(
        self,
        key: str,
        request: PostRequest,
        video: MediaItem,
        settings: PostSettings,
        info: CreatorInfo | None,
        draft: bool,
    ) -> PublishResult:
        caption = video_caption(request.text, request.link)
        found = problems(caption=caption) if not draft else []
        duration = upload.video_duration_seconds(video.path)
        longest = info.max_video_post_duration_sec if info else 0
        if longest and duration is not None and duration > longest:
            found.append(
                f"TikTok lets this account post videos of at most {longest} seconds; "
                f"this one lasts {duration:.0f}."
            )
        if found:
            raise Rejected(" ".join(found))
        size = upload.file_size(video.path)
        if size == 0:
            raise Rejected(f"{LABEL}: the video file is empty.")
        plan = upload.plan_chunks(
            size, self.chunk_size, min_chunk=self.min_chunk, max_chunk=self.max_chunk
        )
        body: dict[str, Any] = {"source_info": plan.source_info()}
        if not draft:
            switches = self._switches(settings, info)
            body["post_info"] = {
                "title": caption,
                "privacy_level": PRIVACY_LEVELS[settings.privacy],
                **switches,
                "brand_content_toggle": settings.branded_content,
                "brand_organic_toggle": settings.your_brand,
                "is_aigc": settings.ai_generated,
            }
        # The inbox endpoint takes no caption: the creator writes it in TikTok.
        entry = {
            "started": _now().isoformat(),
            "kind": "video",
            "mode": "draft" if draft else "direct",
            "privacy": settings.privacy,
            "source": "FILE_UPLOAD",
            "text": caption,
            "video_size": plan.video_size,
            "chunk_size": plan.chunk_size,
            "total_chunk_count": plan.total_chunk_count,
        }
        data = self._init(key, entry, INBOX_VIDEO_INIT if draft else VIDEO_INIT, body)
        upload_url = str(data.get("upload_url") or "")
        if not upload.upload_url_is_expected(upload_url, self.server_url):
            raise TemporaryError(
                f"{LABEL} gave an upload address Minbar does not trust.", detail=upload_url[:200]
            )
        entry = self._remember(key, {**entry, "upload_url": upload_url})
        self._send_video(entry, video, from_byte=0)
        return self._follow(key, entry)

    def _post_photos(
        self,
        key: str,
        request: PostRequest,
        images: list[MediaItem],
        settings: PostSettings,
        draft: bool,
    ) -> PublishResult:
        from minbar.media.public import public_media_url

        text = photo_text(request.text, request.link)
        found = problems(photo=text)
        if found:
            raise Rejected(" ".join(found))
        # Photos only come by PULL_FROM_URL: TikTok fetches them from Minbar's public,
        # signed links, whose domain must be verified in the TikTok app.
        urls = [public_media_url(i.path, network=LABEL, mime_type=i.mime_type) for i in images]
        post_info: dict[str, Any] = {"title": text.title, "description": text.description}
        if not draft:
            post_info.update(
                privacy_level=PRIVACY_LEVELS[settings.privacy],
                disable_comment=self._switches(settings, self._cached_creator())["disable_comment"],
                auto_add_music=settings.auto_add_music,
                brand_content_toggle=settings.branded_content,
                brand_organic_toggle=settings.your_brand,
            )
        body = {
            "media_type": "PHOTO",
            "post_mode": "MEDIA_UPLOAD" if draft else "DIRECT_POST",
            "post_info": post_info,
            "source_info": {
                "source": "PULL_FROM_URL",
                "photo_cover_index": 0,
                "photo_images": urls,
            },
        }
        entry = {
            "started": _now().isoformat(),
            "kind": "photo",
            "mode": "draft" if draft else "direct",
            "privacy": settings.privacy,
            "source": "PULL_FROM_URL",
            "text": text.title or text.description,
        }
        self._init(key, entry, CONTENT_INIT, body)
        return self._follow(key, entry)

    def _cached_creator(self) -> CreatorInfo | None:
        return CreatorInfo.from_data(self.credentials.data.get("creator"))

    def _init(
        self, key: str, entry: dict[str, Any], path: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """The init call; the post is remembered before it is sent and given its publish_id."""
        pulled = entry["source"] == "PULL_FROM_URL"
        self._remember(key, entry)
        try:
            data = self._call("POST", path, json_body=body, writes=True)
        except OutcomeUnknown:
            # A pull may have started; an upload without its bytes cannot become a post.
            if pulled:
                raise
            self._forget(key)
            raise TemporaryError(
                f"{LABEL} did not answer when Minbar started the upload; nothing was posted."
            ) from None
        except ConnectorError as exc:
            self._forget(key)
            if "unaudited_client_can_only_post_to_private_accounts" in exc.detail:
                self._persist(private_only=True)
            if isinstance(exc, RateLimited) and "spam_risk_too_many_posts" in exc.detail:
                raise RateLimited(
                    exc.message, retry_after=self._daily_cap_wait(), detail=exc.detail
                ) from exc
            raise
        publish_id = str(data.get("publish_id") or "")
        if not publish_id:
            raise OutcomeUnknown(f"{LABEL} accepted the post but gave no publish_id.")
        self._remember(key, {**entry, "publish_id": publish_id})
        if self.private_only() and entry.get("privacy") not in ("only_me", DRAFT):
            self._persist(private_only=False)  # TikTok took a non-private post: audited now
        entry["publish_id"] = publish_id
        return data

    def _send_video(self, entry: Mapping[str, Any], video: MediaItem, from_byte: int) -> None:
        """Send the chunks from ``from_byte``, resuming after interruptions (a few at most)."""
        plan = upload.ChunkPlan(
            int(entry["video_size"]), int(entry["chunk_size"]), int(entry["total_chunk_count"])
        )
        starts = [first for first, _last in plan.ranges()]
        interruptions = 0
        while True:
            try:
                upload.send(
                    self._http(),
                    str(entry["upload_url"]),
                    path=video.path,
                    mime_type=video.mime_type,
                    plan=plan,
                    from_byte=from_byte,
                )
                return
            except upload.ChunkRefused as exc:
                error = parse_error(exc.response)
                raise translate(error, exc.response.headers) from exc
            except upload.Interrupted as exc:
                interruptions += 1
                try:
                    status = self._status(str(entry["publish_id"]))
                except ConnectorError as again:
                    if exc.final:
                        raise OutcomeUnknown(
                            f"{LABEL} did not confirm the end of the upload; the video may "
                            "have been posted.",
                            detail=f"{exc}; then {again.message}",
                        ) from again
                    raise TemporaryError(
                        f"The upload to {LABEL} was interrupted; Minbar will resume it.",
                        detail=f"{exc}; then {again.message}",
                    ) from again
                if status.status != PROCESSING_UPLOAD or status.uploaded_bytes >= plan.video_size:
                    return  # every byte arrived: TikTok is processing
                if interruptions > self.max_interruptions:
                    raise TemporaryError(
                        f"The upload to {LABEL} was interrupted {interruptions} times; Minbar "
                        "will resume it later.",
                        detail=str(exc),
                    ) from exc
                from_byte = max(s for s in starts if s <= status.uploaded_bytes)

    def _status(self, publish_id: str) -> PostStatus:
        data = self._call("POST", STATUS_FETCH, json_body={"publish_id": publish_id})
        return PostStatus.from_api(data)

    def _follow(self, key: str, entry: Mapping[str, Any]) -> PublishResult:
        """Read the status until TikTok is done, or leave it to lookup after the wait."""
        publish_id = str(entry["publish_id"])
        deadline = time.monotonic() + self.publish_wait_seconds
        intervals = list(self.poll_intervals) or [1.0]
        polls = 0
        while True:
            try:
                status = self._status(publish_id)
            except TemporaryError as exc:
                # The post was handed over: no answer now does not mean it did not go out.
                raise OutcomeUnknown(
                    f"{LABEL} did not say how the post is doing; Minbar will ask again.",
                    detail=f"publish_id {publish_id}: {exc.message} {exc.detail}",
                ) from exc
            result = self._settled(key, entry, status)
            if result is not None:
                return result
            wait = intervals[min(polls, len(intervals) - 1)]
            polls += 1
            if time.monotonic() + wait > deadline:
                raise OutcomeUnknown(
                    f"{LABEL} is still processing the post ({status.status or 'no status'}); "
                    "Minbar will check on it until TikTok says it is published or failed.",
                    detail=f"publish_id {publish_id}",
                )
            time.sleep(wait)

    def _settled(
        self, key: str, entry: Mapping[str, Any], status: PostStatus
    ) -> PublishResult | None:
        """The result of a finished post, an error for a failed one, None while processing."""
        publish_id = str(entry["publish_id"])
        if status.status == FAILED:
            self._forget(key)
            raise failed_post(status.fail_reason)
        if status.status not in (COMPLETE, IN_INBOX):
            return None
        post_id = status.post_ids[0] if status.post_ids else ""
        if key:
            self._remember(key, {**entry, "status": status.status, "post_id": post_id})
        self._learn_post_id(publish_id, post_id)
        username = str(self.credentials.data.get("username") or "")
        if post_id:
            url = video_url(username, post_id)
            remote_id = post_id
        else:
            # A private post (or one still in moderation, or a draft): TikTok gives no
            # post id, so Minbar keeps the publish_id and resolves it later.
            url = profile_url(username) if status.status == COMPLETE else ""
            remote_id = publish_id
        return PublishResult(remote_id=remote_id, url=url, published_at=_now())

    def _resume(
        self, key: str, entry: dict[str, Any], video: MediaItem | None
    ) -> PublishResult | None:
        """A post already started under this key: follow it, resume it, or start again."""
        publish_id = str(entry.get("publish_id") or "")
        if not publish_id:
            # The init call got no answer. For an upload nothing can exist; for a pull the
            # lookup could not tell and a person chose to publish again.
            self._forget(key)
            return None
        status = self._status(publish_id)
        result = self._settled(key, entry, status)  # raises the failure of a FAILED post
        if result is not None:
            return result
        if (
            status.status == PROCESSING_UPLOAD
            and video is not None
            and entry.get("upload_url")
            and status.uploaded_bytes < int(entry.get("video_size") or 0)
        ):
            if upload.file_size(video.path) != int(entry.get("video_size") or 0):
                self._forget(key)  # another file now: that upload will never complete
                return None
            plan = upload.ChunkPlan(
                int(entry["video_size"]), int(entry["chunk_size"]), int(entry["total_chunk_count"])
            )
            starts = [first for first, _last in plan.ranges()]
            try:
                self._send_video(
                    entry, video, from_byte=max(s for s in starts if s <= status.uploaded_bytes)
                )
            except Rejected:
                # The upload URL lives an hour: once refused, start over.
                self._forget(key)
                return None
        return self._follow(key, entry)

    # -- what Minbar remembers of its posts ------------------------------------------

    def _memory(self) -> dict[str, dict[str, Any]]:
        memory = self.credentials.data.get("publishes")
        if not isinstance(memory, Mapping):
            return {}
        horizon = _now() - timedelta(days=PUBLISH_MEMORY_DAYS)
        kept = {
            str(key): dict(entry)
            for key, entry in memory.items()
            if isinstance(entry, Mapping) and (_parse(entry.get("started")) or _now()) > horizon
        }
        return dict(list(kept.items())[-PUBLISH_MEMORY:])

    def _remember(self, key: str, entry: dict[str, Any]) -> dict[str, Any]:
        """Save a post's entry under its idempotency key, at once."""
        if key:
            memory = self._memory()
            memory.pop(key, None)
            memory[key] = entry
            self._persist(publishes=memory)
        return entry

    def _forget(self, key: str) -> None:
        if key and key in self._memory():
            memory = self._memory()
            memory.pop(key)
            self._persist(publishes=memory)

    def _daily_cap_wait(self) -> float:
        """Seconds until the oldest post of the last 24 hours leaves TikTok's window."""
        now = _now()
        times = [
            moment
            for entry in self._memory().values()
            if entry.get("publish_id")
            and (moment := _parse(entry.get("started"))) is not None
            and now - moment < timedelta(seconds=DAY)
        ]
        if not times:
            return 3600.0
        return max(60.0, (min(times) + timedelta(seconds=DAY) - now).total_seconds())

    # -- did it go out? --------------------------------------------------------------

    def lookup(self, idempotency_key: str = "", remote_id: str = "") -> RemotePost | None:
        """Did the post go out? By its remote id, or by what was remembered under the key.

        * Nothing remembered under the key: nothing was sent (entries are saved
          before the init call) → None, for certain.
        * A publish_id: TikTok's status says. Complete → the post; failed → None
          (the next attempt reports the failure, or posts again if it may pass);
          still processing → TemporaryError, and the engine asks again later; an
          upload Minbar did not finish → None (the next attempt resumes it).
        * A photo post whose init got no answer: TikTok's recent public posts are
          matched by text and time; nothing found → Rejected, because TikTok offers
          no way to find a private post it may have made — a person must look.
        """
        if remote_id and not _is_publish_id(remote_id):
            videos = self._videos([remote_id])
            return remote_post(videos[0], self._username()) if videos else None
        memory = self._memory()
        key = idempotency_key
        entry = memory.get(key) if key else None
        if entry is None and remote_id:
            key, entry = next(
                ((k, e) for k, e in memory.items() if e.get("publish_id") == remote_id),
                ("", {"publish_id": remote_id, "source": "FILE_UPLOAD"}),
            )
        if entry is None:
            return None
        publish_id = str(entry.get("publish_id") or "")
        if not publish_id:
            if entry.get("source") != "PULL_FROM_URL":
                return None
            return self._match_recent(entry)
        status = self._status(publish_id)
        if status.status == FAILED:
            if key:
                self._remember(key, {**entry, "status": FAILED, "fail_reason": status.fail_reason})
            return None
        if status.status in (COMPLETE, IN_INBOX):
            post_id = status.post_ids[0] if status.post_ids else ""
            if key:
                self._remember(key, {**entry, "status": status.status, "post_id": post_id})
            self._learn_post_id(publish_id, post_id)
            username = self._username()
            return RemotePost(
                remote_id=post_id or publish_id,
                url=video_url(username, post_id) if post_id else profile_url(username),
                text=str(entry.get("text") or ""),
                created_at=_parse(entry.get("started")),
            )
        if status.status == PROCESSING_UPLOAD and status.uploaded_bytes < int(
            entry.get("video_size") or 0
        ):
            return None  # Minbar stopped sending: nothing will be posted until it resumes
        raise TemporaryError(
            f"{LABEL} is still processing the post ({status.status}).",
            detail=f"publish_id {publish_id}",
        )

    def _match_recent(self, entry: Mapping[str, Any]) -> RemotePost | None:
        self._require_scope(oauth.SCOPE_LIST, "list its posts")
        started = _parse(entry.get("started")) or _now()
        text = str(entry.get("text") or "").strip()
        data = self._call(
            "POST",
            VIDEO_LIST,
            params={"fields": ",".join(VIDEO_FIELDS)},
            json_body={"max_count": 20},
        )
        for video in data.get("videos") or []:
            created = when(video.get("create_time"))
            said = str(video.get("title") or video.get("video_description") or "").strip()
            if created and created >= started - LOOKUP_SLACK and text and text in said:
                return remote_post(video, self._username())
        raise Rejected(
            f"{LABEL} did not answer when Minbar sent the photo post, and its API offers no "
            "way to find a private post. Check the account in TikTok: if the post is not "
            "there, publish it again."
        )

    def _username(self) -> str:
        return str(self.credentials.data.get("username") or "")

    # -- measuring ------------------------------------------------------------

    def _videos(self, ids: list[str]) -> list[dict[str, Any]]:
        self._require_scope(oauth.SCOPE_LIST, "read its videos")
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), ID_BATCH):
            chunk = ids[start : start + ID_BATCH]
            data = self._call(
                "POST",
                VIDEO_QUERY,
                params={"fields": ",".join(VIDEO_FIELDS)},
                json_body={"filters": {"video_ids": chunk}},
            )
            found += [dict(v) for v in data.get("videos") or [] if isinstance(v, Mapping)]
        return found

    def _known_post_ids(self) -> dict[str, str]:
        known = self.credentials.data.get("post_ids")
        return {str(k): str(v) for k, v in known.items()} if isinstance(known, Mapping) else {}

    def _learn_post_id(self, publish_id: str, post_id: str) -> None:
        """Keep publish_id → post id beyond the 7-day memory, for the metrics of old posts."""
        if not post_id or self._known_post_ids().get(publish_id) == post_id:
            return
        known = self._known_post_ids()
        known.pop(publish_id, None)
        known[publish_id] = post_id
        self._persist(post_ids=dict(list(known.items())[-POST_ID_MEMORY:]))

    def _post_id_of(self, remote_id: str) -> str:
        """The TikTok video id behind a remote id; a publish_id resolves once TikTok gives one.

        TikTok gives the id of a public post once moderation is over and never the
        id of a private one. Minbar asks (``status/fetch``, 30 a minute per token) at
        most hourly per post and only while it remembers the post.
        """
        if not _is_publish_id(remote_id):
            return remote_id
        known = self._known_post_ids().get(remote_id)
        if known:
            return known
        for key, entry in self._memory().items():
            if entry.get("publish_id") != remote_id:
                continue
            if entry.get("post_id"):
                self._learn_post_id(remote_id, str(entry["post_id"]))
                return str(entry["post_id"])
            checked = _parse(entry.get("checked"))
            if checked is not None and _now() - checked < ID_RECHECK:
                return ""
            try:
                status = self._status(remote_id)
            except Rejected:
                return ""
            post_id = status.post_ids[0] if status.post_ids else ""
            self._remember(key, {**entry, "post_id": post_id, "checked": _now().isoformat()})
            self._learn_post_id(remote_id, post_id)
            return post_id
        return ""

    def post_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """Likes, comments, shares and views (``/v2/video/query/``, 20 videos a call).

        A private post has no id TikTok gives out, so it has no metrics here.
        """
        self._require_scope(oauth.SCOPE_LIST, "read its videos' counts")
        wanted = [i for i in dict.fromkeys(remote_ids) if i]
        by_video: dict[str, list[str]] = {}
        for remote_id in wanted:
            video_id = self._post_id_of(remote_id)
            if video_id:
                by_video.setdefault(video_id, []).append(remote_id)
        now = _now()
        metrics: dict[str, Metrics] = {}
        for video in self._videos(list(by_video)):
            values = post_metric_values(video)
            for remote_id in by_video.get(str(video.get("id")), []):
                metrics[remote_id] = Metrics(values=dict(values), fetched_at=now)
        return metrics

    def account_metrics(self) -> Metrics:
        """Followers, following and videos (``/v2/user/info/``, scope user.info.stats)."""
        self._require_scope(oauth.SCOPE_STATS, "read its follower counts")
        user = self._user("open_id,follower_count,following_count,likes_count,video_count")
        return Metrics(values=account_metric_values(user), fetched_at=_now())


# -- helpers ------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _parse(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_publish_id(remote_id: str) -> bool:
    """TikTok's post ids are numbers; publish ids look like ``v_pub_file~v2-1.123``."""
    return not remote_id.isdigit()
