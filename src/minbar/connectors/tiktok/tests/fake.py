"""A stateful local stand-in for TikTok's Login Kit, Content Posting API and Display API.

It serves on one loopback address what TikTok serves on www.tiktok.com,
open.tiktokapis.com and open-upload.tiktokapis.com (the connector is pointed at it
the way ``MINBAR_TIKTOK_API_URL`` would). What it follows, page by page:

* ``GET /v2/auth/authorize/`` and ``POST /v2/oauth/token/``, ``/v2/oauth/revoke/`` —
  https://developers.tiktok.com/doc/login-kit-web,
  https://developers.tiktok.com/doc/oauth-get-a-user-access-token,
  https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token: ``client_key``
  (not client_id), comma-separated scopes, a redirect URI that must match, PKCE with
  TikTok's hex SHA-256 challenge (https://developers.tiktok.com/doc/login-kit-desktop/;
  web authorizations without one are refused), ``open_id``/``scope``/``expires_in``/
  ``refresh_expires_in`` in the answer, refresh tokens that rotate (the old one stops
  working), errors as ``{"error", "error_description", "log_id"}``
  (https://developers.tiktok.com/doc/oauth-error-handling).
* The v2 envelope ``{"data": ..., "error": {"code", "message", "log_id"}}`` and its
  codes and HTTP statuses (https://developers.tiktok.com/doc/tiktok-api-v2-error-handling);
  ``Authorization: Bearer`` on every call; the scope each endpoint's page names.
* ``POST /v2/post/publish/creator_info/query/`` (video.publish, 20 a minute per token;
  https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info/):
  a public account offers PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS and SELF_ONLY, a
  private one FOLLOWER_OF_CREATOR, MUTUAL_FOLLOW_FRIENDS and SELF_ONLY.
* ``POST /v2/post/publish/video/init/`` (video.publish) and
  ``/v2/post/publish/inbox/video/init/`` (video.upload), 6 a minute per token
  (https://developers.tiktok.com/doc/content-posting-api-reference-direct-post,
  https://developers.tiktok.com/doc/content-posting-api-reference-upload-video):
  post_info checked against creator_info (privacy_level_option_mismatch), caption
  length, source_info FILE_UPLOAD with the chunk rules of the Media Transfer Guide
  (https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide), or
  PULL_FROM_URL from a verified domain (url_ownership_unverified); the creator's daily
  cap (spam_risk_too_many_posts), a banned creator, and an unaudited app's limits
  (https://developers.tiktok.com/doc/content-sharing-guidelines/: five posting users a
  day — reached_active_user_cap — and private accounts only, SELF_ONLY only).
* ``PUT {upload_url}`` — chunks in order with ``Content-Range``; 206 until the last,
  then 201.
* ``POST /v2/post/publish/content/init/`` — photo posts (media_type PHOTO, post_mode
  DIRECT_POST or MEDIA_UPLOAD, PULL_FROM_URL only, 1-35 images, title 90 and
  description 4,000 runes;
  https://developers.tiktok.com/doc/content-posting-api-reference-photo-post).
* ``POST /v2/post/publish/status/fetch/`` (30 a minute per token;
  https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status):
  PROCESSING_UPLOAD (with ``uploaded_bytes``) or PROCESSING_DOWNLOAD, then after
  :attr:`FakeTikTok.processing_polls` reads PUBLISH_COMPLETE (with
  ``publicaly_available_post_id`` for public posts only), SEND_TO_USER_INBOX for
  drafts, or FAILED with a ``fail_reason`` (:meth:`FakeTikTok.fail_next_post`).
* ``GET /v2/user/info/``, ``POST /v2/video/query/`` and ``/v2/video/list/``, 600 a
  minute each per app (https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info,
  https://developers.tiktok.com/doc/tiktok-api-v2-video-query,
  https://developers.tiktok.com/doc/tiktok-api-v2-rate-limit); only public videos
  are listed.

Faults (:meth:`FakeTikTok.fail`) make the next matching request answer an error
(``error``), be carried out but never answered (``drop``), or, for an upload chunk,
keep the bytes and never answer (``interrupt``).

What this fake cannot know, so the tests cannot prove it either: TikTok's real
processing times, how moderation delays post ids, whether private posts appear in
video.query, and the exact statuses TikTok gives an unaudited app's public posts
(here: the error an unaudited app gets for a public account or a non-private post).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from minbar.connectors.testing.fake_http import LoopbackServer, Request, Response

ALL_SCOPES = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.publish",
    "video.upload",
    "video.list",
)
FIELD_SCOPES = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "display_name": "user.info.basic",
    "username": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "bio_description": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}
VIDEO_FIELDS = {
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
}
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
MB = 1024 * 1024
ACCESS_SECONDS = 86400
REFRESH_SECONDS = 365 * 86400
# Requests a minute: per access token for the posting endpoints, per app for the others.
TOKEN_LIMITS = {
    "/v2/post/publish/creator_info/query/": 20,
    "/v2/post/publish/video/init/": 6,
    "/v2/post/publish/inbox/video/init/": 6,
    "/v2/post/publish/content/init/": 6,
    "/v2/post/publish/status/fetch/": 30,
}
APP_LIMITS = {"/v2/user/info/": 600, "/v2/video/query/": 600, "/v2/video/list/": 600}


def hex_challenge(verifier: str) -> str:
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


def runes(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str = "", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message or code)
        self.status, self.code, self.message = status, code, message or code
        self.headers = headers or {}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass
class Fault:
    verb: str
    path: str  # a prefix of the request path
    kind: str  # "error", "drop", "interrupt"
    status: int = 500
    code: str = "internal_error"
    headers: dict[str, str] = field(default_factory=dict)
    count: int = 1
    skip: int = 0


@dataclass
class User:
    open_id: str
    username: str
    display_name: str = ""
    followers: int = 0
    following: int = 0
    likes: int = 0
    private_account: bool = False
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_duration: int = 600
    banned: bool = False
    posts: list[datetime] = field(default_factory=list)


class FakeTikTok:
    """The state, and the handlers, of one fake TikTok."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.base_url = ""
        self._ids = itertools.count(7_300_000_000_000_000_001)
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.clients: dict[str, str] = {}
            self.users: dict[str, User] = {}
            self.codes: dict[str, dict[str, Any]] = {}
            self.access: dict[str, dict[str, Any]] = {}
            self.refresh_tokens: dict[str, dict[str, Any]] = {}
            self.publishes: dict[str, dict[str, Any]] = {}
            self.uploads: dict[str, str] = {}  # upload id -> publish id
            self.videos: dict[str, dict[str, Any]] = {}
            self.faults: list[Fault] = []
            self.log: list[tuple[str, str, dict[str, str], Any]] = []
            self.calls_by: dict[tuple[str, str], deque[float]] = {}
            self.audited = True
            self.verified_domains: set[str] = set()
            self.daily_post_cap = 15
            self.active_users: dict[str, datetime] = {}
            self.min_chunk = 5 * MB
            self.max_chunk = 64 * MB
            self.processing_polls = 1
            self.next_failures: list[str] = []
            self.limits_enabled = True
            self.rate_limit_headers: dict[str, str] = {}

    # -- test helpers -------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC)

    def log_id(self) -> str:
        return self.now().strftime("%Y%m%d%H%M%S") + secrets.token_hex(8).upper()

    def register_client(self) -> tuple[str, str]:
        key, secret = "aw" + secrets.token_hex(8), secrets.token_hex(16)
        with self.lock:
            self.clients[key] = secret
        return key, secret

    def add_user(self, username: str = "acme.coffee", **extra: Any) -> User:
        user = User(open_id="-000" + secrets.token_hex(12), username=username, **extra)
        user.display_name = user.display_name or username.title()
        with self.lock:
            self.users[user.open_id] = user
        return user

    def approve(self, url: str, user: User, grant: tuple[str, ...] | None = None) -> dict[str, str]:
        """The person signs in and allows (some of) the scopes; where TikTok redirects them."""
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert parts.path == "/v2/auth/authorize/", parts.path
        assert query.get("client_key") in self.clients, "unknown client_key"
        assert query.get("response_type") == "code"
        assert query.get("code_challenge"), "TikTok refuses web sign-ins without code_challenge"
        assert query.get("code_challenge_method") == "S256"
        asked = tuple(s for s in query.get("scope", "").split(",") if s)
        assert "user.info.basic" in asked
        granted = tuple(s for s in asked if grant is None or s in grant)
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {
                "client_key": query["client_key"],
                "redirect_uri": query.get("redirect_uri", ""),
                "scopes": granted,
                "challenge": query["code_challenge"],
                "open_id": user.open_id,
            }
        return {"code": code, "state": query.get("state", "")}

    def issue_token(self, user: User, scopes: tuple[str, ...], client_key: str) -> dict[str, Any]:
        access = "act." + secrets.token_urlsafe(30)
        refresh = "rft." + secrets.token_urlsafe(30)
        grant = {"open_id": user.open_id, "scopes": scopes, "client_key": client_key}
        self.access[access] = {**grant, "expires": time.time() + ACCESS_SECONDS}
        self.refresh_tokens[refresh] = grant
        return {
            "open_id": user.open_id,
            "scope": ",".join(scopes),
            "access_token": access,
            "expires_in": ACCESS_SECONDS,
            "refresh_token": refresh,
            "refresh_expires_in": REFRESH_SECONDS,
            "token_type": "Bearer",
        }

    def expire_access_tokens(self) -> None:
        with self.lock:
            for grant in self.access.values():
                grant["expires"] = 0

    def revoke_user(self, user: User) -> None:
        """The person removed Minbar's access in TikTok's settings."""
        with self.lock:
            for store in (self.access, self.refresh_tokens):
                for token in [t for t, g in store.items() if g["open_id"] == user.open_id]:
                    del store[token]

    def fail(self, verb: str, path: str, kind: str = "error", **options: Any) -> None:
        with self.lock:
            self.faults.append(Fault(verb, path, kind, **options))

    def fail_next_post(self, reason: str) -> None:
        """The next post to finish processing ends FAILED with this fail_reason."""
        with self.lock:
            self.next_failures.append(reason)

    def calls(self, verb: str = "", path: str = "") -> list[tuple[str, str, dict[str, str], Any]]:
        with self.lock:
            return [c for c in self.log if (not verb or c[0] == verb) and c[1].startswith(path)]

    def set_counts(self, video_id: str, **counts: int) -> None:
        with self.lock:
            self.videos[video_id].update(counts)

    # -- OAuth ----------------------------------------------------------------------

    def token(self, form: dict[str, str]) -> Response:
        key = form.get("client_key", "")
        if "client_id" in form and not key:
            raise OAuthError("invalid_request", "client_key is required.")
        if self.clients.get(key) != form.get("client_secret"):
            raise OAuthError("invalid_client", "Client key or secret is incorrect.", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or code["client_key"] != key:
                raise OAuthError("invalid_grant", "Authorization code is expired.")
            if code["redirect_uri"] != form.get("redirect_uri"):
                raise OAuthError("invalid_grant", "redirect_uri does not match.")
            if hex_challenge(form.get("code_verifier", "")) != code["challenge"]:
                raise OAuthError("invalid_grant", "Code verifier or code challenge is invalid.")
            user = self.users[code["open_id"]]
            return Response(200, self.issue_token(user, code["scopes"], key))
        if grant_type == "refresh_token":
            grant = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if grant is None or grant["client_key"] != key:
                raise OAuthError("invalid_grant", "Refresh token is invalid or expired.")
            user = self.users[grant["open_id"]]
            return Response(200, self.issue_token(user, grant["scopes"], key))
        raise OAuthError("unsupported_grant_type", "The grant type is not supported.")

    def revoke(self, form: dict[str, str]) -> Response:
        key = form.get("client_key", "")
        if self.clients.get(key) != form.get("client_secret"):
            raise OAuthError("invalid_client", "Client key or secret is incorrect.", 401)
        grant = self.access.pop(form.get("token", ""), None)
        if grant is not None:
            for token in [
                t for t, g in self.refresh_tokens.items() if g["open_id"] == grant["open_id"]
            ]:
                del self.refresh_tokens[token]
        return Response(200, {})

    # -- the API ----------------------------------------------------------------------

    def _authorize(self, headers: dict[str, str], path: str) -> tuple[User, dict[str, Any]]:
        auth = headers.get("authorization", "")
        grant = self.access.get(auth[7:]) if auth.startswith("Bearer ") else None
        if grant is None or grant["expires"] < time.time():
            raise ApiError(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        return self.users[grant["open_id"]], grant

    def _need(self, grant: dict[str, Any], *scopes: str) -> None:
        if not any(s in grant["scopes"] for s in scopes):
            raise ApiError(
                401,
                "scope_not_authorized",
                "The user did not authorize the scope required for completing this request.",
            )

    def _count(self, path: str, token: str, client_key: str) -> None:
        """TikTok's one-minute sliding windows: per token, or per app."""
        if not self.limits_enabled:
            return
        if path in TOKEN_LIMITS:
            bucket, limit = (path, token), TOKEN_LIMITS[path]
        elif path in APP_LIMITS:
            bucket, limit = (path, client_key), APP_LIMITS[path]
        else:
            return
        now = time.monotonic()
        window = self.calls_by.setdefault(bucket, deque())
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= limit:
            raise ApiError(
                429,
                "rate_limit_exceeded",
                "The API rate limit was exceeded. Please try again later.",
                dict(self.rate_limit_headers),
            )
        window.append(now)

    def handle(
        self, verb: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        if path == "/v2/oauth/token/" and verb == "POST":
            assert headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
            return self.token({k: v[0] for k, v in parse_qs(body.decode()).items()})
        if path == "/v2/oauth/revoke/" and verb == "POST":
            return self.revoke({k: v[0] for k, v in parse_qs(body.decode()).items()})
        if path == "/v2/auth/authorize/" and verb == "GET":
            return Response(200, b"TikTok's authorization page")
        if path == "/upload/" and verb == "PUT":
            return self.upload_chunk(query, headers, body)
        routes = {
            ("POST", "/v2/post/publish/creator_info/query/"): self.creator_info,
            ("POST", "/v2/post/publish/video/init/"): self.video_init,
            ("POST", "/v2/post/publish/inbox/video/init/"): self.inbox_video_init,
            ("POST", "/v2/post/publish/content/init/"): self.content_init,
            ("POST", "/v2/post/publish/status/fetch/"): self.status_fetch,
            ("GET", "/v2/user/info/"): self.user_info,
            ("POST", "/v2/video/query/"): self.video_query,
            ("POST", "/v2/video/list/"): self.video_list,
        }
        handler = routes.get((verb, path))
        if handler is None:
            raise ApiError(404, "invalid_params", f"No such endpoint: {verb} {path}")
        user, grant = self._authorize(headers, path)
        token = headers["authorization"][7:]
        self._count(path, token, grant["client_key"])
        if verb == "POST":
            if not headers.get("content-type", "").startswith("application/json"):
                raise ApiError(400, "invalid_params", "Content-Type must be application/json.")
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                raise ApiError(400, "invalid_params", "The body is not JSON.") from None
        else:
            payload = {}
        result: dict[str, Any] = handler(user, grant, query, payload)
        return Response(200, result)

    # creator info and posting -------------------------------------------------------

    def options_of(self, user: User) -> list[str]:
        return list(PRIVATE_OPTIONS if user.private_account else PUBLIC_OPTIONS)

    def creator_info(
        self, user: User, grant: dict[str, Any], query: dict[str, str], payload: Any
    ) -> dict[str, Any]:
        self._need(grant, "video.publish")
        return {
            "creator_avatar_url": f"{self.base_url}/avatar/{user.open_id}.jpeg",
            "creator_username": user.username,
            "creator_nickname": user.display_name,
            "privacy_level_options": self.options_of(user),
            "comment_disabled": user.comment_disabled,
            "duet_disabled": user.duet_disabled,
            "stitch_disabled": user.stitch_disabled,
            "max_video_post_duration_sec": user.max_duration,
        }

    def _posting_allowed(self, user: User, grant: dict[str, Any], privacy: str) -> None:
        """The creator's and the app's limits, checked on every init."""
        if user.banned:
            raise ApiError(
                403,
                "spam_risk_user_banned_from_posting",
                "The user is banned from making new posts.",
            )
        now = self.now()
        user.posts = [t for t in user.posts if now - t < timedelta(days=1)]
        if len(user.posts) >= self.daily_post_cap:
            raise ApiError(
                403,
                "spam_risk_too_many_posts",
                "The daily post cap from the API is reached for the current user.",
            )
        if not self.audited:
            if not user.private_account or (privacy and privacy != "SELF_ONLY"):
                raise ApiError(
                    403,
                    "unaudited_client_can_only_post_to_private_accounts",
                    "Unaudited clients can only post to a private account.",
                )
            self.active_users = {
                k: t for k, t in self.active_users.items() if now - t < timedelta(days=1)
            }
            if user.open_id not in self.active_users and len(self.active_users) >= 5:
                raise ApiError(
                    403,
                    "reached_active_user_cap",
                    "The daily quota for active publishing users from your client is reached.",
                )
            self.active_users[user.open_id] = now

    def _check_post_info(self, user: User, info: Any, *, photo: bool) -> dict[str, Any]:
        if not isinstance(info, dict):
            raise ApiError(400, "invalid_params", "post_info is required.")
        privacy = info.get("privacy_level")
        if privacy not in self.options_of(user):
            raise ApiError(
                403 if privacy in PUBLIC_OPTIONS + PRIVATE_OPTIONS else 400,
                "privacy_level_option_mismatch",
                "privacy_level is not among the creator's privacy_level_options.",
            )
        title = str(info.get("title") or "")
        if runes(title) > (90 if photo else 2200):
            raise ApiError(400, "invalid_params", "title is too long.")
        if photo and runes(str(info.get("description") or "")) > 4000:
            raise ApiError(400, "invalid_params", "description is too long.")
        if info.get("brand_content_toggle") and privacy == "SELF_ONLY":
            raise ApiError(400, "invalid_params", "Branded content cannot be private.")
        # A creator who turned a feature off cannot have it on through the API.
        for name, off in (
            ("disable_comment", user.comment_disabled),
            ("disable_duet", user.duet_disabled),
            ("disable_stitch", user.stitch_disabled),
        ):
            if off and name in info and not info[name]:
                raise ApiError(400, "invalid_params", f"{name} must be true for this creator.")
        return dict(info)

    def _check_source(self, source: Any) -> dict[str, Any]:
        if not isinstance(source, dict):
            raise ApiError(400, "invalid_params", "source_info is required.")
        if source.get("source") == "PULL_FROM_URL":
            self._check_url(str(source.get("video_url") or ""))
            return {"source": "PULL_FROM_URL", "url": source["video_url"]}
        if source.get("source") != "FILE_UPLOAD":
            raise ApiError(400, "invalid_params", "source must be FILE_UPLOAD or PULL_FROM_URL.")
        size, chunk, count = (
            source.get("video_size"),
            source.get("chunk_size"),
            source.get("total_chunk_count"),
        )
        if not all(isinstance(v, int) and v > 0 for v in (size, chunk, count)):
            raise ApiError(400, "invalid_params", "video_size, chunk_size, total_chunk_count.")
        assert isinstance(size, int) and isinstance(chunk, int) and isinstance(count, int)
        if size < self.min_chunk:
            if chunk != size or count != 1:
                raise ApiError(400, "invalid_params", "A small video is uploaded whole.")
        elif not self.min_chunk <= chunk <= self.max_chunk or count != size // chunk:
            raise ApiError(400, "invalid_params", "The chunk size or count is invalid.")
        if size - chunk * (count - 1) > 2 * self.max_chunk or not 1 <= count <= 1000:
            raise ApiError(400, "invalid_params", "The chunk size or count is invalid.")
        return {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk, "count": count}

    def _check_url(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        if not any(host == d or host.endswith("." + d) for d in self.verified_domains):
            raise ApiError(
                403,
                "url_ownership_unverified",
                "The URL's domain or prefix has not been verified by the developer.",
            )

    def _new_publish(
        self, user: User, kind: str, mode: str, source: dict[str, Any], info: dict[str, Any]
    ) -> dict[str, Any]:
        number = next(self._ids)
        prefix = {"video": "v", "photo": "p"}[kind]
        via = "file" if source["source"] == "FILE_UPLOAD" else "url"
        publish_id = f"{prefix}_{'inbox' if mode == 'inbox' else 'pub'}_{via}~v2-1.{number}"
        publish: dict[str, Any] = {
            "publish_id": publish_id,
            "open_id": user.open_id,
            "kind": kind,
            "mode": mode,
            "source": source,
            "post_info": info,
            "received": b"",
            "next_first": 0,
            "polls": 0,
            "status": "PROCESSING_UPLOAD" if via == "file" else "PROCESSING_DOWNLOAD",
            "fail_reason": "",
            "post_ids": [],
        }
        self.publishes[publish_id] = publish
        user.posts.append(self.now())
        data: dict[str, Any] = {"publish_id": publish_id}
        if via == "file":
            upload_id = secrets.token_hex(8)
            self.uploads[upload_id] = publish_id
            data["upload_url"] = f"{self.base_url}/upload/?" + urlencode(
                {"upload_id": upload_id, "upload_token": secrets.token_hex(12)}
            )
        return data

    def video_init(
        self, user: User, grant: dict[str, Any], query: dict[str, str], payload: Any
    ) -> dict[str, Any]:
        self._need(grant, "video.publish")
        info = self._check_post_info(user, payload.get("post_info"), photo=False)
        source = self._check_source(payload.get("source_info"))
        self._posting_allowed(user, grant, str(info.get("privacy_level")))
        return self._new_publish(user, "video", "direct", source, info)

    def inbox_video_init(
        self, user: User, grant: dict[str, Any], query: dict[str, str], payload: Any
    ) -> dict[str, Any]:
        self._need(grant, "video.upload")
        if "post_info" in payload:
            raise ApiError(400, "invalid_params", "The inbox upload takes no post_info.")
        source = self._check_source(payload.get("source_info"))
        self._posting_allowed(user, grant, "")
        return self._new_publish(user, "video", "inbox", source, {})

    def content_init(
        self, user: User, grant: dict[str, Any], query: dict[str, str], payload: Any
    ) -> dict[str, Any]:
        if payload.get("media_type") != "PHOTO":
            raise ApiError(400, "invalid_params", "media_type must be PHOTO.")
        mode = payload.get("post_mode")
        if mode == "DIRECT_POST":
            self._need(grant, "video.publish")
            info = self._check_post_info(user, payload.get("post_info"), photo=True)
        elif mode == "MEDIA_UPLOAD":
            self._need(grant, "video.upload")
            info = dict(payload.get("post_info") or {})
        else:
            raise ApiError(400, "invalid_params", "post_mode must be DIRECT_POST or MEDIA_UPLOAD.")
        source = payload.get("source_info") or {}
        if source.get("source") != "PULL_FROM_URL":
            raise ApiError(400, "invalid_params", "Photos can only be sent with PULL_FROM_URL.")
        images = source.get("photo_images") or []
        if not 1 <= len(images) <= 35:
            raise ApiError(400, "invalid_params", "photo_images takes 1 to 35 URLs.")
        if not 0 <= int(source.get("photo_cover_index") or 0) < len(images):
            raise ApiError(400, "invalid_params", "photo_cover_index is out of range.")
        for url in images:
            self._check_url(str(url))
        self._posting_allowed(user, grant, str(info.get("privacy_level") or ""))
        kept = {"source": "PULL_FROM_URL", "images": list(images)}
        return self._new_publish(
            user, "photo", "direct" if mode == "DIRECT_POST" else "inbox", kept, info
        )

    def upload_chunk(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> Response:
        publish = self.publishes.get(self.uploads.get(query.get("upload_id", ""), ""))
        if publish is None:
            raise ApiError(404, "invalid_params", "The upload URL is invalid or expired.")
        if "authorization" in headers:
            raise ApiError(400, "invalid_params", "The upload URL takes no access token.")
        self._receive(publish, headers, body)
        done = len(publish["received"]) == publish["source"]["video_size"]
        return Response(201 if done else 206, b"")

    def _receive(self, publish: dict[str, Any], headers: dict[str, str], body: bytes) -> None:
        source = publish["source"]
        size, chunk, count = source["video_size"], source["chunk_size"], source["count"]
        try:
            unit, _, span = headers.get("content-range", "").partition(" ")
            first_last, _, total = span.partition("/")
            first, last = (int(n) for n in first_last.split("-"))
        except ValueError:
            raise ApiError(400, "invalid_params", "Content-Range is missing or invalid.") from None
        if (
            unit != "bytes"
            or int(total) != size
            or int(headers.get("content-length", -1)) != len(body)
        ):
            raise ApiError(400, "invalid_params", "Content-Range does not match the upload.")
        index = first // chunk
        expected_last = size - 1 if index == count - 1 else first + chunk - 1
        if first % chunk or last != expected_last or len(body) != last - first + 1:
            raise ApiError(416, "invalid_params", "The chunk does not follow chunk_size.")
        if first > publish["next_first"]:
            raise ApiError(400, "invalid_params", "Chunks must be uploaded in order.")
        if not headers.get("content-type", "").startswith("video/"):
            raise ApiError(400, "invalid_file_upload", "Content-Type must be the video's type.")
        publish["received"] = publish["received"][:first] + body
        publish["next_first"] = len(publish["received"])

    def interrupt_chunk(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> None:
        """The chunk arrived (and was kept) but its answer is lost."""
        publish = self.publishes.get(self.uploads.get(query.get("upload_id", ""), ""))
        if publish is not None:
            self._receive(publish, headers, body)

    def status_fetch(
        self, user: User, grant: dict[str, Any], query: dict[str, str], payload: Any
    ) -> dict[str, Any]:
        self._need(grant, "video.publish", "video.upload")
        publish = self.publishes.get(str(payload.get("publish_id") or ""))
        if publish is None or publish["open_id"] != user.open_id:
            raise ApiError(400, "invalid_params", "publish_id is invalid.")
        self._advance(publish, user)
        data: dict[str, Any] = {"status": publish["status"]}
        if publish["fail_reason"]:
            data["fail_reason"] = publish["fail_reason"]
        if publish["post_ids"]:
            data["publicaly_available_post_id"] = [int(i) for i in publish["post_ids"]]
        if publish["source"]["source"] == "FILE_UPLOAD":
            data["uploaded_bytes"] = len(publish["received"])
        else:
            data["downloaded_bytes"] = 0
        return data

    def _advance(self, publish: dict[str, Any], user: User) -> None:
        """Processing moves on with each status read, until the post is done."""
        if publish["status"] in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED"):
            return
        source = publish["source"]
        if source["source"] == "FILE_UPLOAD" and len(publish["received"]) < source["video_size"]:
            return  # waits for the rest of the bytes
        publish["polls"] += 1
        if publish["polls"] <= self.processing_polls:
            publish["status"] = (
                "PROCESSING_UPLOAD" if source["source"] == "FILE_UPLOAD" else "PROCESSING_DOWNLOAD"
            )
            return
        if self.next_failures:
            publish["status"], publish["fail_reason"] = "FAILED", self.next_failures.pop(0)
            return
        if publish["mode"] == "inbox":
            publish["status"] = "SEND_TO_USER_INBOX"
            return
        privacy = publish["post_info"].get("privacy_level")
        video_id = str(next(self._ids))
        info = publish["post_info"]
        self.videos[video_id] = {
            "id": video_id,
            "open_id": user.open_id,
            "create_time": int(self.now().timestamp()),
            "title": info.get("title", ""),
            "video_description": info.get("description") or info.get("title", ""),
            "share_url": f"https://www.tiktok.com/@{user.username}/video/{video_id}",
            "privacy": privacy,
            "like_count": 0,
            "comment_count": 0,
            "share_count": 0,
            "view_count": 0,
        }
        publish["status"] = "PUBLISH_COMPLETE"
        if privacy == "PUBLIC_TO_EVERYONE":
            publish["post_ids"] = [video_id]

    # the Display API ---------------------------------------------------------------

    def user_info(
        self, user: User, grant: dict[str, Any], query: dict[str, str], payload: Any
    ) -> dict[str, Any]:
        fields = [f for f in query.get("fields", "").split(",") if f]
        if not fields:
            raise ApiError(400, "invalid_params", "fields is required.")
        values = {
            "open_id": user.open_id,
            "union_id": "u" + user.open_id,
            "avatar_url": f"{self.base_url}/avatar/{user.open_id}.jpeg",
            "display_name": user.display_name,
            "username": user.username,
            "profile_deep_link": f"https://vm.tiktok.com/{user.username}",
            "is_verified": False,
            "bio_description": "",
            "follower_count": user.followers,
            "following_count": user.following,
            "likes_count": user.likes,
            "video_count": sum(
                1
                for v in self.videos.values()
                if v["open_id"] == user.open_id and v["privacy"] == "PUBLIC_TO_EVERYONE"
            ),
        }
        out: dict[str, Any] = {}
        for name in fields:
            if name not in FIELD_SCOPES:
                raise ApiError(400, "invalid_params", f"Unknown field {name}.")
            if FIELD_SCOPES[name] not in grant["scopes"]:
                raise ApiError(
                    401,
                    "scope_permission_missed",
                    f"The field {name} needs the scope {FIELD_SCOPES[name]}.",
                )
            out[name] = values[name]
        return {"user": out}

    def _video_fields(self, query: dict[str, str]) -> list[str]:
        fields = [f for f in query.get("fields", "").split(",") if f]
        if not fields or not set(fields) <= VIDEO_FIELDS:
            raise ApiError(400, "invalid_params", "fields is missing or has unknown fields.")
        return fields

    def video_query(
        self, user: User, grant: dict[str, Any], query: dict[str, str], payload: Any
    ) -> dict[str, Any]:
        self._need(grant, "video.list")
        fields = self._video_fields(query)
        ids = (payload.get("filters") or {}).get("video_ids") or []
        if not 1 <= len(ids) <= 20:
            raise ApiError(400, "invalid_params", "video_ids takes 1 to 20 ids.")
        videos = [
            {f: v.get(f) for f in fields}
            for i in ids
            if (v := self.videos.get(str(i))) is not None and v["open_id"] == user.open_id
        ]
        return {"videos": videos, "cursor": 0, "has_more": False}

    def video_list(
        self, user: User, grant: dict[str, Any], query: dict[str, str], payload: Any
    ) -> dict[str, Any]:
        self._need(grant, "video.list")
        fields = self._video_fields(query)
        # TikTok processes posts on its own time, whether anyone reads their status.
        for publish in list(self.publishes.values()):
            if publish["open_id"] == user.open_id:
                for _ in range(self.processing_polls + 1):
                    self._advance(publish, user)
        count = int(payload.get("max_count") or 10)
        if not 1 <= count <= 20:
            raise ApiError(400, "invalid_params", "max_count takes 1 to 20.")
        cursor = int(payload.get("cursor") or 0)
        mine = sorted(
            (
                v
                for v in self.videos.values()
                if v["open_id"] == user.open_id
                and v["privacy"] == "PUBLIC_TO_EVERYONE"
                and (not cursor or v["create_time"] * 1000 < cursor)
            ),
            key=lambda v: (v["create_time"], v["id"]),
            reverse=True,
        )
        page = mine[:count]
        return {
            "videos": [{f: v.get(f) for f in fields} for v in page],
            "cursor": page[-1]["create_time"] * 1000 if page else cursor,
            "has_more": len(mine) > count,
        }

    # -- the HTTP side (minbar.connectors.testing.fake_http) ----------------------------

    def respond(self, request: Request) -> Response | None:
        verb, path, headers, body = request.verb, request.path, request.headers, request.body
        query = request.query
        with self.lock:
            recorded: Any = body
            if headers.get("content-type", "").startswith("application/json") and body:
                recorded = json.loads(body)
            self.log.append((verb, path, query, recorded))
            fault = None
            for candidate in list(self.faults):
                if candidate.verb != verb or not path.startswith(candidate.path):
                    continue
                if candidate.skip > 0:
                    candidate.skip -= 1
                    continue
                fault = candidate
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                break
            if fault is not None and fault.kind == "interrupt":
                self.interrupt_chunk(query, headers, body)
                return None
            if fault is not None and fault.kind == "error":
                return self._error(ApiError(fault.status, fault.code, headers=fault.headers))
            try:
                response = self.handle(verb, path, query, headers, body)
                if (
                    isinstance(response.body, dict)
                    and path.startswith("/v2/")
                    and ("/oauth/" not in path)
                ):
                    response.body = {
                        "data": response.body,
                        "error": {"code": "ok", "message": "", "log_id": self.log_id()},
                    }
            except ApiError as exc:
                response = self._error(exc)
            except OAuthError as exc:
                response = Response(
                    exc.status,
                    {
                        "error": exc.error,
                        "error_description": exc.description,
                        "log_id": self.log_id(),
                    },
                )
            if fault is not None and fault.kind == "drop":
                return None  # carried out, never answered
        return response

    def _error(self, error: ApiError) -> Response:
        body = {
            "data": {},
            "error": {"code": error.code, "message": error.message, "log_id": self.log_id()},
        }
        return Response(error.status, body, error.headers)


class FakeServer(LoopbackServer[FakeTikTok]):
    """The fake on a free loopback port, in a thread; stop() ends it."""

    def __init__(self) -> None:
        super().__init__(FakeTikTok())
        self.fake.base_url = self.url
