"""A stateful local stand-in for Google's OAuth and the YouTube Data and Analytics APIs.

It serves, on one loopback address, what Google serves on four hosts (the
connector is pointed at it the way ``MINBAR_YOUTUBE_API_URL`` would):

* ``GET /o/oauth2/v2/auth`` and ``POST /token`` — Google OAuth 2.0 for web server
  apps (https://developers.google.com/identity/protocols/oauth2/web-server):
  authorization codes bound to client, redirect URI, granted scopes and the PKCE
  S256 challenge; ``authorization_code`` and ``refresh_token`` grants; errors as
  ``{"error": "invalid_grant", "error_description": ...}``. Access tokens expire.
* ``/youtube/v3/...`` — channels.list, videos.list/delete, playlistItems.list/insert,
  commentThreads.list/insert, comments.list/insert/setModerationStatus/delete
  (https://developers.google.com/youtube/v3/docs), each checking the OAuth scopes
  its reference page lists and answering with the documented resources and the
  documented error body ``{"error": {"code", "message", "errors": [{"domain",
  "reason", "message"}]}}`` (https://developers.google.com/youtube/v3/docs/errors).
* ``/upload/youtube/v3/videos`` — the resumable upload protocol
  (https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):
  the session URI in ``Location``, chunks with ``Content-Range`` (multiples of
  256 KiB but the last), ``308 Resume Incomplete`` with ``Range``, the status
  query ``Content-Range: bytes */TOTAL``; and ``thumbnails.set``
  (https://developers.google.com/youtube/v3/docs/thumbnails/set).
* ``GET /v2/reports`` — YouTube Analytics ``reports.query``
  (https://developers.google.com/youtube/analytics/reference/reports/query).

Quota: every call is charged as https://developers.google.com/youtube/data/determine_quota_cost
says (videos.insert in its own bucket of 100 a day, everything else from 10,000
units, invalid requests included); past the limit the answer is 403
``quotaExceeded``. Unverified projects: uploads come out private whatever was
asked (https://developers.google.com/youtube/v3/docs/videos/insert), when
``project_audited`` is False.

Faults (:meth:`FakeYouTube.fail`) make the next matching request: answer an error
(``error``), be carried out but never answered (``drop`` — a lost response), or,
for an upload chunk, keep only part of the bytes and never answer (``interrupt``).

What this fake does not know, so the tests cannot prove it either: the order in
which the real API includes replies in a thread, YouTube's Shorts
classification, video processing, and the real session URI lifetime.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

from minbar.connectors.testing.fake_http import LoopbackServer, Request, Response
from minbar.connectors.testing.google_tokens import (
    TOKEN_SECONDS,
    GoogleTokens,
    OAuthError,
)

SCOPE = "https://www.googleapis.com/auth/"
UPLOAD = SCOPE + "youtube.upload"
READONLY = SCOPE + "youtube.readonly"
FORCE_SSL = SCOPE + "youtube.force-ssl"
YOUTUBE = SCOPE + "youtube"
ANALYTICS = SCOPE + "yt-analytics.readonly"
ALL_SCOPES = (UPLOAD, READONLY, FORCE_SSL, ANALYTICS)

# The scopes each method's reference page accepts (any one of them).
READ = {READONLY, YOUTUBE, FORCE_SSL}
WRITE = {YOUTUBE, FORCE_SSL}
METHOD_SCOPES: dict[str, set[str]] = {
    "channels.list": READ,
    "videos.list": READ,
    "videos.insert": {UPLOAD, YOUTUBE, FORCE_SSL},
    "videos.delete": WRITE,
    "thumbnails.set": {UPLOAD, YOUTUBE, FORCE_SSL},
    "playlistItems.list": READ,
    "playlistItems.insert": WRITE,
    "commentThreads.list": READ,
    "commentThreads.insert": {FORCE_SSL},
    "comments.list": READ,
    "comments.insert": {FORCE_SSL},
    "comments.setModerationStatus": {FORCE_SSL},
    "comments.delete": {FORCE_SSL},
    "analytics.reports.query": {ANALYTICS, READONLY},
}
COSTS = {
    "videos.delete": 50,
    "thumbnails.set": 50,
    "playlistItems.insert": 50,
    "commentThreads.insert": 50,
    "comments.insert": 50,
    "comments.setModerationStatus": 50,
    "comments.delete": 50,
}
GRANULARITY = 256 * 1024
PACIFIC = ZoneInfo("America/Los_Angeles")

ERROR_MESSAGES = {
    "quotaExceeded": "The request cannot be completed because you have exceeded your "
    '<a href="/youtube/v3/getting-started#quota">quota</a>.',
    "rateLimitExceeded": "The request cannot be completed because you have exceeded a rate limit.",
    "userRateLimitExceeded": "The user has sent too many requests in a given amount of time.",
    "uploadLimitExceeded": "The user has exceeded the number of videos they may upload.",
    "authError": "Request had invalid authentication credentials. Expected OAuth 2 access token.",
    "insufficientPermissions": "Request had insufficient authentication scopes.",
    "backendError": "Backend Error",
    "forbidden": "The request is not properly authorized.",
}
DOMAINS = {
    "quotaExceeded": "youtube.quota",
    "rateLimitExceeded": "usageLimits",
    "userRateLimitExceeded": "usageLimits",
    "uploadLimitExceeded": "youtube.video",
    "authError": "global",
    "insufficientPermissions": "global",
    "backendError": "global",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str = "",
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or reason)
        self.status = status
        self.reason = reason
        self.message = message or ERROR_MESSAGES.get(reason, reason)
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [
                    {
                        "message": self.message,
                        "domain": DOMAINS.get(self.reason, "youtube.api"),
                        "reason": self.reason,
                    }
                ],
            }
        }


@dataclass
class Fault:
    verb: str
    path: str  # a prefix of the request path
    kind: str  # "error", "drop", "interrupt"
    status: int = 500
    reason: str = "backendError"
    headers: dict[str, str] = field(default_factory=dict)
    count: int = 1
    query: str = ""  # a substring the query must contain
    skip: int = 0  # let this many matching requests through first


@dataclass
class User:
    email: str
    channel_id: str = ""
    title: str = ""
    handle: str = ""
    subscribers: int = 0
    hidden_subscribers: bool = False
    thumbnails_allowed: bool = True  # a verified channel may set custom thumbnails
    uploads_today: int = 0


class FakeYouTube(GoogleTokens):
    """The state, and the handlers, of one fake Google."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clients: dict[str, str] = {}
        self.users: dict[str, User] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.access: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.revocations: list[str] = []  # tokens revoked through POST /revoke
        self.videos: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        # Whether subscribers were told of each upload (videos.insert notifySubscribers).
        self.notified: dict[str, bool] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.playlists: dict[str, dict[str, Any]] = {}
        self.shares: dict[str, int] = {}
        self.thumbnails: dict[str, bytes] = {}
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.quota_day = ""
        self.units_used = 0
        self.uploads_used = 0
        self.units_limit = 10_000
        self.uploads_limit = 100
        self.channel_upload_limit = 1000
        self.project_audited = True
        self.clock_offset = timedelta(0)
        self._ids = itertools.count(1)
        self.base_url = ""
        # Where upload sessions are said to live (a test may point it elsewhere).
        self.session_base = ""

    # -- test helpers -------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}{secrets.token_hex(3)}"

    def register_client(self) -> tuple[str, str]:
        client_id = f"{secrets.token_hex(6)}.apps.googleusercontent.com"
        secret = "GOCSPX-" + secrets.token_urlsafe(18)
        with self.lock:
            self.clients[client_id] = secret
        return client_id, secret

    def add_user(self, name: str = "brand", *, channel: bool = True, **extra: Any) -> User:
        with self.lock:
            user = User(email=f"{name}-{secrets.token_hex(3)}@example.test", **extra)
            if channel:
                user.channel_id = "UC" + secrets.token_urlsafe(16)[:22]
                user.title = user.title or name.title()
                user.handle = user.handle or f"@{name}{secrets.token_hex(2)}"
            self.users[user.email] = user
            return user

    def uploads_playlist(self, user: User) -> str:
        return "UU" + user.channel_id[2:]

    def approve(
        self, authorize_url: str, user: User, grant: tuple[str, ...] | None = None
    ) -> dict[str, str]:
        """The person on Google's consent page: check the request, allow (some) scopes.

        Returns the redirect's query (code and state), as Google sends it.
        """
        parts = urlsplit(authorize_url)
        assert parts.path == "/o/oauth2/v2/auth", parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            assert query.get("client_id") in self.clients, "unknown client_id"
            assert query.get("response_type") == "code"
            assert query.get("access_type") == "offline"
            assert query.get("redirect_uri")
            if query.get("code_challenge"):
                assert query.get("code_challenge_method") == "S256"
            asked = query.get("scope", "").split()
            granted = [s for s in asked if grant is None or s in grant]
            code = "4/0A" + secrets.token_urlsafe(24)
            self.codes[code] = {
                "client_id": query["client_id"],
                "redirect_uri": query["redirect_uri"],
                "scopes": granted,
                "challenge": query.get("code_challenge", ""),
                "user": user.email,
                "consent": query.get("prompt") == "consent",
            }
        return {"code": code, "state": query.get("state", "")}

    def issue_token(self, user: User, scopes: tuple[str, ...] = ALL_SCOPES) -> str:
        """An access token straight away (for tests that skip the sign-in)."""
        token = "ya29." + secrets.token_urlsafe(24)
        with self.lock:
            self.access[token] = {
                "user": user.email,
                "scopes": list(scopes),
                "expires": self.now() + timedelta(seconds=TOKEN_SECONDS),
            }
        return token

    def expire_access_tokens(self) -> None:
        with self.lock:
            for info in self.access.values():
                info["expires"] = self.now() - timedelta(seconds=1)

    def revoke_refresh_tokens(self, user: User) -> None:
        with self.lock:
            for info in self.refresh_tokens.values():
                if info["user"] == user.email:
                    info["revoked"] = True

    def fail(self, verb: str, path: str, kind: str = "error", **options: Any) -> None:
        with self.lock:
            self.faults.append(Fault(verb=verb, path=path, kind=kind, **options))

    def clear(self) -> None:
        """No faults, and every knob back to Google's defaults (between tests)."""
        with self.lock:
            self.faults.clear()
            self.log.clear()
            self.revocations.clear()
            self.units_limit, self.uploads_limit = 10_000, 100
            self.units_used = self.uploads_used = 0
            self.channel_upload_limit = 1000
            self.project_audited = True
            self.session_base = ""
            self.clock_offset = timedelta(0)

    def calls(self, verb: str = "", path: str = "") -> list[tuple[str, str, dict[str, str]]]:
        with self.lock:
            return [c for c in self.log if (not verb or c[0] == verb) and c[1].startswith(path)]

    def add_video(self, user: User, title: str, **extra: Any) -> dict[str, Any]:
        """A video already on the channel (uploaded some other way)."""
        with self.lock:
            return self._create_video(
                user,
                {"snippet": {"title": title, "description": ""}, "status": {}},
                b"old",
                **extra,
            )

    def add_comment(
        self,
        video_id: str,
        text: str,
        *,
        author: str = "A Fan",
        author_channel: str = "",
        parent_id: str = "",
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Someone comments on a video (or replies, with ``parent_id``)."""
        with self.lock:
            video = self.videos[video_id]
            comment_id = (
                parent_id + "." + secrets.token_hex(6)
                if parent_id
                else "Ug" + (secrets.token_urlsafe(18))
            )
            comment = {
                "id": comment_id,
                "videoId": video_id,
                "channelId": video["snippet"]["channelId"],
                "parentId": parent_id,
                "authorDisplayName": author if author.startswith("@") else "@" + author,
                "authorChannelId": author_channel or "UC" + secrets.token_urlsafe(16)[:22],
                "text": text,
                "publishedAt": iso(at or self.now()),
                "moderationStatus": "published",
            }
            self.comments[comment_id] = comment
            self._count_comments(video_id)
            return comment

    def set_statistics(self, video_id: str, **values: int | None) -> None:
        """viewCount=…, likeCount=… (None removes a count, as hidden likes do)."""
        with self.lock:
            statistics = self.videos[video_id]["statistics"]
            for key, value in values.items():
                if value is None:
                    statistics.pop(key, None)
                else:
                    statistics[key] = str(value)

    def create_playlist(self, user: User, title: str = "Launches") -> str:
        with self.lock:
            playlist_id = "PL" + secrets.token_urlsafe(24)[:32]
            self.playlists[playlist_id] = {"owner": user.channel_id, "title": title, "items": []}
            return playlist_id

    def user_of_channel(self, channel_id: str) -> User:
        return next(u for u in self.users.values() if u.channel_id == channel_id)

    # -- OAuth --------------------------------------------------------------------

    def _authorize(self, headers: dict[str, str], method: str) -> User:
        auth = headers.get("authorization", "")
        info = self.access.get(auth[7:]) if auth.lower().startswith("bearer ") else None
        if info is None or info["expires"] <= self.now():
            raise ApiError(401, "authError")
        if not set(info["scopes"]) & METHOD_SCOPES[method]:
            raise ApiError(403, "insufficientPermissions")
        return self.users[info["user"]]

    def _charge(self, method: str) -> None:
        day = self.now().astimezone(PACIFIC).date().isoformat()
        if day != self.quota_day:
            self.quota_day, self.units_used, self.uploads_used = day, 0, 0
        if method == "analytics.reports.query":
            return  # the Analytics API has its own quota
        if method == "videos.insert":
            if self.uploads_used >= self.uploads_limit:
                raise ApiError(403, "quotaExceeded")
            self.uploads_used += 1
            return
        if self.units_used >= self.units_limit:
            raise ApiError(403, "quotaExceeded")
        self.units_used += COSTS.get(method, 1)

    # -- resources ------------------------------------------------------------------

    def _channel_resource(self, user: User, parts: set[str]) -> dict[str, Any]:
        resource: dict[str, Any] = {"kind": "youtube#channel", "etag": "e", "id": user.channel_id}
        if "snippet" in parts:
            resource["snippet"] = {
                "title": user.title,
                "description": "",
                "customUrl": user.handle,
                "publishedAt": "2020-01-01T00:00:00Z",
                "thumbnails": {"default": {"url": f"https://yt3.example/{user.channel_id}.jpg"}},
            }
        if "contentDetails" in parts:
            resource["contentDetails"] = {
                "relatedPlaylists": {"likes": "", "uploads": self.uploads_playlist(user)}
            }
        if "statistics" in parts:
            videos = [
                v for v in self.videos.values() if v["snippet"]["channelId"] == user.channel_id
            ]
            statistics: dict[str, Any] = {
                "viewCount": str(sum(int(v["statistics"].get("viewCount", 0)) for v in videos)),
                "hiddenSubscriberCount": user.hidden_subscribers,
                "videoCount": str(len(videos)),
            }
            if not user.hidden_subscribers:
                statistics["subscriberCount"] = str(user.subscribers)
            resource["statistics"] = statistics
        return resource

    def _create_video(
        self, user: User, metadata: dict[str, Any], data: bytes, **extra: Any
    ) -> dict[str, Any]:
        video_id = secrets.token_urlsafe(8)[:11]
        snippet = metadata.get("snippet") or {}
        status = dict(metadata.get("status") or {})
        privacy = status.get("privacyStatus") or "public"
        if not self.project_audited:
            privacy = "private"  # unverified API projects: uploads are locked private
        video_status: dict[str, Any] = {
            "uploadStatus": "uploaded",
            "privacyStatus": privacy,
            "license": "youtube",
            "embeddable": True,
            "publicStatsViewable": True,
            "madeForKids": bool(status.get("selfDeclaredMadeForKids", False)),
        }
        if "selfDeclaredMadeForKids" in status:
            video_status["selfDeclaredMadeForKids"] = status["selfDeclaredMadeForKids"]
        if status.get("publishAt"):
            video_status["publishAt"] = status["publishAt"]
        video = {
            "kind": "youtube#video",
            "etag": secrets.token_hex(8),
            "id": video_id,
            "snippet": {
                "publishedAt": iso(extra.get("at") or self.now()),
                "channelId": user.channel_id,
                "title": snippet.get("title", ""),
                "description": snippet.get("description", ""),
                "thumbnails": {"default": {"url": f"https://i.ytimg.example/vi/{video_id}/0.jpg"}},
                "channelTitle": user.title,
                "tags": list(snippet.get("tags") or []),
                "categoryId": snippet.get("categoryId") or "22",
                "liveBroadcastContent": "none",
                **(
                    {"defaultLanguage": snippet["defaultLanguage"]}
                    if snippet.get("defaultLanguage")
                    else {}
                ),
            },
            "status": video_status,
            "statistics": {
                "viewCount": "0",
                "likeCount": "0",
                "favoriteCount": "0",
                "commentCount": "0",
            },
        }
        self.videos[video_id] = video
        self.files[video_id] = data
        return video

    def _count_comments(self, video_id: str) -> None:
        count = sum(
            1
            for c in self.comments.values()
            if c["videoId"] == video_id and c["moderationStatus"] == "published"
        )
        self.videos[video_id]["statistics"]["commentCount"] = str(count)

    @staticmethod
    def _parts(resource: dict[str, Any], parts: set[str]) -> dict[str, Any]:
        keep = {"kind", "etag", "id"} | parts
        return {k: v for k, v in resource.items() if k in keep}

    def _comment_resource(self, comment: dict[str, Any], text_format: str) -> dict[str, Any]:
        text = comment["text"]
        display = text if text_format == "plainText" else text.replace("\n", "<br>")
        snippet: dict[str, Any] = {
            "channelId": comment["channelId"],
            "videoId": comment["videoId"],
            "textDisplay": display,
            "textOriginal": text,
            "authorDisplayName": comment["authorDisplayName"],
            "authorProfileImageUrl": "https://yt3.example/a.jpg",
            "authorChannelUrl": "http://www.youtube.com/" + comment["authorDisplayName"],
            "authorChannelId": {"value": comment["authorChannelId"]},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 0,
            "moderationStatus": comment["moderationStatus"],
            "publishedAt": comment["publishedAt"],
            "updatedAt": comment["publishedAt"],
        }
        if comment["parentId"]:
            snippet["parentId"] = comment["parentId"]
        return {"kind": "youtube#comment", "etag": "e", "id": comment["id"], "snippet": snippet}

    def _replies_of(self, parent_id: str) -> list[dict[str, Any]]:
        found = [
            c
            for c in self.comments.values()
            if c["parentId"] == parent_id and c["moderationStatus"] == "published"
        ]
        return sorted(found, key=lambda c: c["publishedAt"])

    # -- dispatch ---------------------------------------------------------------------

    def handle(
        self, verb: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        if path == "/token" and verb == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            return self.token(form)
        if path == "/revoke" and verb == "POST":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            return self.revoke({**query, **form})
        if path == "/o/oauth2/v2/auth" and verb == "GET":
            return Response(200, {"page": "Google's consent screen"})
        routes = {
            ("GET", "/youtube/v3/channels"): self.channels_list,
            ("GET", "/youtube/v3/videos"): self.videos_list,
            ("DELETE", "/youtube/v3/videos"): self.videos_delete,
            ("POST", "/upload/youtube/v3/videos"): self.videos_insert,
            ("PUT", "/upload/youtube/v3/videos"): self.upload_chunk,
            ("POST", "/upload/youtube/v3/thumbnails/set"): self.thumbnails_set,
            ("GET", "/youtube/v3/playlistItems"): self.playlist_items_list,
            ("POST", "/youtube/v3/playlistItems"): self.playlist_items_insert,
            ("GET", "/youtube/v3/commentThreads"): self.comment_threads_list,
            ("POST", "/youtube/v3/commentThreads"): self.comment_threads_insert,
            ("GET", "/youtube/v3/comments"): self.comments_list,
            ("POST", "/youtube/v3/comments"): self.comments_insert,
            ("POST", "/youtube/v3/comments/setModerationStatus"): self.comments_moderate,
            ("DELETE", "/youtube/v3/comments"): self.comments_delete,
            ("GET", "/v2/reports"): self.reports_query,
        }
        handler = routes.get((verb, path))
        if handler is None:
            raise ApiError(404, "notFound", f"No such method: {verb} {path}")
        return handler(query, headers, body)

    def _require(self, query: dict[str, str], *names: str) -> None:
        for name in names:
            if not query.get(name):
                raise ApiError(
                    400, "missingRequiredParameter", f"No filter selected. Expected: {name}"
                )

    # https://developers.google.com/youtube/v3/docs/channels/list
    def channels_list(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "channels.list")
        self._charge("channels.list")
        self._require(query, "part")
        if query.get("mine") != "true":
            raise ApiError(400, "missingRequiredParameter", "Minbar's fake only serves mine=true")
        parts = set(query["part"].split(","))
        items = [self._channel_resource(user, parts)] if user.channel_id else []
        return Response(
            200,
            {
                "kind": "youtube#channelListResponse",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
            },
        )

    # https://developers.google.com/youtube/v3/docs/videos/list
    def videos_list(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> Response:
        user = self._authorize(headers, "videos.list")
        self._charge("videos.list")
        self._require(query, "part", "id")
        ids = query["id"].split(",")
        if len(ids) > 50:
            raise ApiError(400, "invalidParameter", "Too many ids (at most 50).")
        parts = set(query["part"].split(","))
        items = []
        for video_id in ids:
            video = self.videos.get(video_id)
            if video is None:
                continue
            private = video["status"]["privacyStatus"] == "private"
            if private and video["snippet"]["channelId"] != user.channel_id:
                continue
            items.append(self._parts(video, parts))
        return Response(
            200,
            {
                "kind": "youtube#videoListResponse",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            },
        )

    # https://developers.google.com/youtube/v3/docs/videos/delete
    def videos_delete(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "videos.delete")
        self._charge("videos.delete")
        video = self.videos.get(query.get("id", ""))
        if video is None:
            raise ApiError(
                404, "videoNotFound", "The video that you are trying to delete cannot be found."
            )
        if video["snippet"]["channelId"] != user.channel_id:
            raise ApiError(
                403, "forbidden", "The video that you are trying to delete cannot be deleted."
            )
        del self.videos[video["id"]]
        return Response(204)

    # https://developers.google.com/youtube/v3/docs/videos/insert and the resumable guide
    def videos_insert(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "videos.insert")
        self._charge("videos.insert")
        if query.get("uploadType") != "resumable":
            raise ApiError(400, "badRequest", "Minbar's fake only takes uploadType=resumable.")
        self._require(query, "part")
        if not set(query["part"].split(",")) >= {"snippet", "status"}:
            raise ApiError(400, "unexpectedPart", "part must name snippet and status")
        if not headers.get("content-type", "").startswith("application/json"):
            raise ApiError(400, "badContent", "The metadata must be application/json.")
        try:
            size = int(headers.get("x-upload-content-length", ""))
        except ValueError:
            raise ApiError(400, "badRequest", "X-Upload-Content-Length is required.") from None
        mime = headers.get("x-upload-content-type", "")
        if not (mime.startswith("video/") or mime == "application/octet-stream"):
            raise ApiError(400, "badContent", f"Media type '{mime}' is not supported.")
        try:
            metadata = json.loads(body or b"{}")
        except ValueError:
            raise ApiError(400, "parseError", "Parse Error") from None
        self._check_video_metadata(metadata)
        notify = query.get("notifySubscribers", "true")
        if notify not in ("true", "false"):
            raise ApiError(400, "invalidParameter", "notifySubscribers is a boolean.")
        if not user.channel_id:
            raise ApiError(401, "youtubeSignupRequired", "The user has no YouTube channel.")
        if user.uploads_today >= self.channel_upload_limit:
            raise ApiError(400, "uploadLimitExceeded")
        upload_id = "AEnB2U" + secrets.token_urlsafe(24)
        self.sessions[upload_id] = {
            "user": user.email,
            "metadata": metadata,
            "size": size,
            "mime": mime,
            "data": bytearray(),
            "video_id": "",
            "notify": notify == "true",
        }
        location = f"{self.session_base or self.base_url}/upload/youtube/v3/videos?" + urlencode(
            {"uploadType": "resumable", "upload_id": upload_id}
        )
        return Response(200, b"", {"Location": location})

    def _check_video_metadata(self, metadata: dict[str, Any]) -> None:
        snippet = metadata.get("snippet") or {}
        status = metadata.get("status") or {}
        title = str(snippet.get("title") or "")
        if not title.strip() or len(title) > 100 or "<" in title or ">" in title:
            raise ApiError(
                400,
                "invalidTitle",
                "The request metadata specifies an invalid or empty video title.",
            )
        description = str(snippet.get("description") or "")
        if len(description.encode()) > 5000 or "<" in description or ">" in description:
            raise ApiError(
                400,
                "invalidDescription",
                "The request metadata specifies an invalid video description.",
            )
        tags = snippet.get("tags") or []
        if sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1) > 500:
            raise ApiError(
                400, "invalidTags", "The request metadata specifies invalid video keywords."
            )
        if snippet.get("categoryId") and not str(snippet["categoryId"]).isdigit():
            raise ApiError(
                400,
                "invalidCategoryId",
                "The snippet.categoryId property specifies an invalid category ID.",
            )
        privacy = status.get("privacyStatus", "public")
        if privacy not in ("public", "private", "unlisted"):
            raise ApiError(400, "invalidVideoMetadata", "Invalid privacyStatus.")
        if status.get("publishAt"):
            try:
                moment = datetime.fromisoformat(str(status["publishAt"]).replace("Z", "+00:00"))
            except ValueError:
                moment = None
            if privacy != "private" or moment is None or moment <= self.now():
                raise ApiError(
                    400,
                    "invalidPublishAt",
                    "The request metadata specifies an invalid scheduled publishing time.",
                )

    def upload_chunk(self, query: dict[str, str], headers: dict[str, str], body: bytes) -> Response:
        """A chunk, or the status query (``Content-Range: bytes */TOTAL``)."""
        session = self.sessions.get(query.get("upload_id", ""))
        if session is None:
            raise ApiError(404, "notFound", "No such upload session.")
        user = self._authorize(headers, "videos.insert")
        if user.email != session["user"]:
            raise ApiError(403, "forbidden")
        content_range = headers.get("content-range", "")
        size = session["size"]
        if session["video_id"]:
            return Response(200, self.videos[session["video_id"]])
        if content_range == f"bytes */{size}":
            received = len(session["data"])
            return Response(308, b"", {"Range": f"bytes=0-{received - 1}"} if received else {})
        try:
            span, total = content_range.removeprefix("bytes ").split("/")
            first, last = (int(x) for x in span.split("-"))
        except ValueError:
            raise ApiError(400, "badRequest", f"Bad Content-Range: {content_range!r}") from None
        if int(total) != size or first != len(session["data"]) or last - first + 1 != len(body):
            raise ApiError(400, "badRequest", "The chunk does not continue the upload.")
        final = last + 1 == size
        if not final and len(body) % GRANULARITY:
            raise ApiError(400, "badRequest", "Chunk sizes must be multiples of 256 KiB.")
        session["data"] += body
        if not final:
            return Response(308, b"", {"Range": f"bytes=0-{last}"})
        owner = self.users[session["user"]]
        video = self._create_video(owner, session["metadata"], bytes(session["data"]))
        owner.uploads_today += 1
        session["video_id"] = video["id"]
        self.notified[video["id"]] = session["notify"]
        return Response(200, video)

    def interrupt_chunk(self, query: dict[str, str], body: bytes) -> None:
        """Keep only the first 256 KiB blocks of a chunk, as a cut connection would."""
        session = self.sessions.get(query.get("upload_id", ""))
        if session is not None and body:
            keep = (len(body) // 2) // GRANULARITY * GRANULARITY
            session["data"] += body[:keep]

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    # https://developers.google.com/youtube/v3/docs/thumbnails/set
    def thumbnails_set(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "thumbnails.set")
        self._charge("thumbnails.set")
        video = self.videos.get(query.get("videoId", ""))
        if video is None:
            raise ApiError(
                404, "videoNotFound", "The video that you are trying to update cannot be found."
            )
        if video["snippet"]["channelId"] != user.channel_id or not user.thumbnails_allowed:
            raise ApiError(
                403,
                "forbidden",
                "The authenticated user doesnt have permissions to upload and set custom "
                "video thumbnails.",
            )
        if headers.get("content-type") not in (
            "image/jpeg",
            "image/png",
            "application/octet-stream",
        ):
            raise ApiError(400, "invalidImage", "The provided image content is invalid.")
        if len(body) > 2 * 1024 * 1024:
            raise ApiError(413, "mediaBodyTooLarge", "The image is too large.")
        self.thumbnails[video["id"]] = body
        return Response(
            200,
            {
                "kind": "youtube#thumbnailSetResponse",
                "items": [
                    {"default": {"url": f"https://i.ytimg.example/vi/{video['id']}/custom.jpg"}}
                ],
            },
        )

    # https://developers.google.com/youtube/v3/docs/playlistItems/list
    def playlist_items_list(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "playlistItems.list")
        self._charge("playlistItems.list")
        self._require(query, "part", "playlistId")
        playlist_id = query["playlistId"]
        owner = next(
            (
                u
                for u in self.users.values()
                if u.channel_id and self.uploads_playlist(u) == playlist_id
            ),
            None,
        )
        if owner is not None:
            ids = [
                v["id"]
                for v in sorted(
                    self.videos.values(), key=lambda v: v["snippet"]["publishedAt"], reverse=True
                )
                if v["snippet"]["channelId"] == owner.channel_id
                and (owner.email == user.email or v["status"]["privacyStatus"] != "private")
            ]
        elif playlist_id in self.playlists:
            ids = list(self.playlists[playlist_id]["items"])
        else:
            raise ApiError(
                404,
                "playlistNotFound",
                "The playlist identified with the request's playlistId parameter cannot be found.",
            )
        limit = min(50, int(query.get("maxResults") or 5))
        start = int(query.get("pageToken") or 0)
        page = ids[start : start + limit]
        items = []
        for position, video_id in enumerate(page, start=start):
            video = self.videos[video_id]
            items.append(
                {
                    "kind": "youtube#playlistItem",
                    "id": f"{playlist_id}.{video_id}",
                    "snippet": {
                        "publishedAt": video["snippet"]["publishedAt"],
                        "channelId": video["snippet"]["channelId"],
                        "title": video["snippet"]["title"],
                        "description": video["snippet"]["description"],
                        "playlistId": playlist_id,
                        "position": position,
                        "resourceId": {"kind": "youtube#video", "videoId": video_id},
                    },
                }
            )
        result: dict[str, Any] = {"kind": "youtube#playlistItemListResponse", "items": items}
        if start + limit < len(ids):
            result["nextPageToken"] = str(start + limit)
        return Response(200, result)

    # https://developers.google.com/youtube/v3/docs/playlistItems/insert
    def playlist_items_insert(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "playlistItems.insert")
        self._charge("playlistItems.insert")
        snippet = (json.loads(body or b"{}").get("snippet")) or {}
        playlist = self.playlists.get(snippet.get("playlistId", ""))
        if playlist is None:
            raise ApiError(404, "playlistNotFound", "Playlist not found.")
        if playlist["owner"] != user.channel_id:
            raise ApiError(
                403,
                "playlistItemsNotAccessible",
                "The request is not properly authorized to insert the specified playlist item.",
            )
        video_id = (snippet.get("resourceId") or {}).get("videoId", "")
        if video_id not in self.videos:
            raise ApiError(404, "videoNotFound", "Video not found.")
        playlist["items"].append(video_id)
        return Response(
            200,
            {
                "kind": "youtube#playlistItem",
                "id": secrets.token_hex(8),
                "snippet": {**snippet, "position": len(playlist["items"]) - 1},
            },
        )

    # https://developers.google.com/youtube/v3/docs/commentThreads/list
    def comment_threads_list(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        self._authorize(headers, "commentThreads.list")
        self._charge("commentThreads.list")
        self._require(query, "part", "allThreadsRelatedToChannelId")
        channel_id = query["allThreadsRelatedToChannelId"]
        status = query.get("moderationStatus", "published")
        tops = sorted(
            (
                c
                for c in self.comments.values()
                if c["channelId"] == channel_id
                and not c["parentId"]
                and c["moderationStatus"] == status
            ),
            key=lambda c: c["publishedAt"],
            reverse=True,
        )
        limit = min(100, int(query.get("maxResults") or 20))
        try:
            start = int(query.get("pageToken") or 0)
        except ValueError:
            raise ApiError(
                400, "invalidPageToken", "The request specifies an invalid page token."
            ) from None
        page = tops[start : start + limit]
        parts = set(query["part"].split(","))
        text_format = query.get("textFormat", "html")
        items = []
        for top in page:
            replies = self._replies_of(top["id"])
            thread: dict[str, Any] = {
                "kind": "youtube#commentThread",
                "etag": "e",
                "id": top["id"],
                "snippet": {
                    "channelId": channel_id,
                    "videoId": top["videoId"],
                    "topLevelComment": self._comment_resource(top, text_format),
                    "canReply": True,
                    "totalReplyCount": len(replies),
                    "isPublic": True,
                },
            }
            if "replies" in parts and replies:
                # The API "does not necessarily return all replies": here, the first five.
                thread["replies"] = {
                    "comments": [self._comment_resource(r, text_format) for r in replies[:5]]
                }
            items.append(thread)
        result: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "items": items,
            "pageInfo": {"totalResults": len(items), "resultsPerPage": limit},
        }
        if start + limit < len(tops):
            result["nextPageToken"] = str(start + limit)
        return Response(200, result)

    # https://developers.google.com/youtube/v3/docs/commentThreads/insert
    def comment_threads_insert(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "commentThreads.insert")
        self._charge("commentThreads.insert")
        snippet = json.loads(body or b"{}").get("snippet") or {}
        video = self.videos.get(snippet.get("videoId", ""))
        if video is None:
            raise ApiError(
                404,
                "videoNotFound",
                "The video identified by the videoId parameter could not be found.",
            )
        if video["status"]["privacyStatus"] == "private":
            raise ApiError(
                403,
                "forbidden",
                "The comment thread could not be created due to insufficient permissions.",
            )
        text = (((snippet.get("topLevelComment") or {}).get("snippet")) or {}).get(
            "textOriginal", ""
        )
        if not text:
            raise ApiError(
                400,
                "commentTextRequired",
                "The comment resource that is being inserted must specify a value for the "
                "snippet.topLevelComment.snippet.textOriginal property.",
            )
        comment = self.add_comment(
            video["id"], text, author=user.handle, author_channel=user.channel_id
        )
        return Response(
            200,
            {
                "kind": "youtube#commentThread",
                "id": comment["id"],
                "snippet": {
                    "videoId": video["id"],
                    "topLevelComment": self._comment_resource(comment, "plainText"),
                },
            },
        )

    # https://developers.google.com/youtube/v3/docs/comments/list
    def comments_list(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        self._authorize(headers, "comments.list")
        self._charge("comments.list")
        text_format = query.get("textFormat", "html")
        if query.get("id"):
            found = [self.comments[i] for i in query["id"].split(",") if i in self.comments]
            items = [self._comment_resource(c, text_format) for c in found]
            return Response(200, {"kind": "youtube#commentListResponse", "items": items})
        self._require(query, "parentId")
        replies = self._replies_of(query["parentId"])
        limit = min(100, int(query.get("maxResults") or 20))
        start = int(query.get("pageToken") or 0)
        result: dict[str, Any] = {
            "kind": "youtube#commentListResponse",
            "items": [
                self._comment_resource(c, text_format) for c in replies[start : start + limit]
            ],
        }
        if start + limit < len(replies):
            result["nextPageToken"] = str(start + limit)
        return Response(200, result)

    # https://developers.google.com/youtube/v3/docs/comments/insert
    def comments_insert(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "comments.insert")
        self._charge("comments.insert")
        snippet = json.loads(body or b"{}").get("snippet") or {}
        parent = self.comments.get(snippet.get("parentId", ""))
        if parent is None:
            raise ApiError(
                404, "parentCommentNotFound", "The specified parent comment could not be found."
            )
        if parent["parentId"]:
            raise ApiError(
                400, "operationNotSupported", "Replies can only be made to top-level comments."
            )
        if not snippet.get("textOriginal"):
            raise ApiError(
                400,
                "commentTextRequired",
                "The comment resource must specify snippet.textOriginal.",
            )
        if len(snippet["textOriginal"]) > 10_000:
            raise ApiError(400, "commentTextTooLong", "The comment text is too long.")
        comment = self.add_comment(
            parent["videoId"],
            snippet["textOriginal"],
            author=user.handle,
            author_channel=user.channel_id,
            parent_id=parent["id"],
        )
        return Response(200, self._comment_resource(comment, "plainText"))

    # https://developers.google.com/youtube/v3/docs/comments/setModerationStatus
    def comments_moderate(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "comments.setModerationStatus")
        self._charge("comments.setModerationStatus")
        self._require(query, "id", "moderationStatus")
        status = query["moderationStatus"]
        if status not in ("heldForReview", "published", "rejected"):
            raise ApiError(400, "invalidModerationStatus", "Invalid moderationStatus.")
        if query.get("banAuthor") == "true" and status != "rejected":
            raise ApiError(
                400,
                "banWithoutReject",
                "The banAuthor parameter can only be used if the moderationStatus "
                "parameter value is rejected.",
            )
        for comment_id in query["id"].split(","):
            comment = self.comments.get(comment_id)
            if comment is None:
                raise ApiError(
                    404,
                    "commentNotFound",
                    "One or more comments that the request is trying to update cannot be found.",
                )
            if comment["channelId"] != user.channel_id:
                raise ApiError(
                    403,
                    "forbidden",
                    "The moderation status of one or more comments cannot be set due to "
                    "insufficient permissions.",
                )
            if comment["moderationStatus"] == "rejected" and status == "published":
                raise ApiError(
                    400,
                    "operationNotSupported",
                    "You can't change the moderation status of a rejected comment to published.",
                )
            comment["moderationStatus"] = status
            self._count_comments(comment["videoId"])
        return Response(204)

    # https://developers.google.com/youtube/v3/docs/comments/delete
    def comments_delete(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "comments.delete")
        self._charge("comments.delete")
        comment = self.comments.get(query.get("id", ""))
        if comment is None:
            raise ApiError(404, "commentNotFound", "The comment could not be found.")
        if comment["authorChannelId"] != user.channel_id:
            raise ApiError(
                403,
                "forbidden",
                "The comment could not be deleted due to insufficient permissions.",
            )
        del self.comments[comment["id"]]
        self._count_comments(comment["videoId"])
        return Response(204)

    # https://developers.google.com/youtube/analytics/reference/reports/query
    def reports_query(
        self, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        user = self._authorize(headers, "analytics.reports.query")
        self._require(query, "ids", "startDate", "endDate", "metrics")
        if query["ids"] not in ("channel==MINE", f"channel=={user.channel_id}"):
            raise ApiError(403, "forbidden", "Forbidden")
        try:
            start, end = (
                date.fromisoformat(query["startDate"]),
                date.fromisoformat(query["endDate"]),
            )
        except ValueError:
            raise ApiError(400, "badRequest", "Invalid date.") from None
        if start > end:
            raise ApiError(400, "badRequest", "The start date must be before the end date.")
        metrics = query["metrics"].split(",")
        unknown = [
            m
            for m in metrics
            if m not in ("views", "shares", "likes", "comments", "estimatedMinutesWatched")
        ]
        if unknown:
            raise ApiError(
                400,
                "badRequest",
                f"Unknown identifier ({unknown[0]}) given in field parameters.metrics.",
            )
        filters = query.get("filters", "")
        video_id = filters.removeprefix("video==") if filters.startswith("video==") else ""
        video = self.videos.get(video_id)
        headers_out = [{"name": m, "columnType": "METRIC", "dataType": "INTEGER"} for m in metrics]
        rows: list[list[int]] = []
        if video is not None and video["snippet"]["channelId"] == user.channel_id:
            values = {
                "views": int(video["statistics"].get("viewCount", 0)),
                "shares": self.shares.get(video_id, 0),
                "likes": int(video["statistics"].get("likeCount", 0)),
                "comments": int(video["statistics"].get("commentCount", 0)),
                "estimatedMinutesWatched": 0,
            }
            rows = [[values[m] for m in metrics]]
        return Response(
            200,
            {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers_out, "rows": rows},
        )

    # -- the HTTP side (minbar.connectors.testing.fake_http) ----------------------------

    def respond(self, request: Request) -> Response | None:
        query = request.query
        with self.lock:
            self.log.append((request.verb, request.path, query))
            # Faults match in order; one still skipping lets the request through
            # (and counts it); the first that is not skipping acts.
            fault = None
            for candidate in list(self.faults):
                if candidate.verb != request.verb or not request.path.startswith(candidate.path):
                    continue
                if candidate.query not in request.raw_query:
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
                self.interrupt_chunk(query, request.body)
                return None
            if fault is not None and fault.kind == "error":
                error = ApiError(fault.status, fault.reason, headers=fault.headers)
                return Response(error.status, error.body(), error.headers)
            try:
                response = self.handle(
                    request.verb, request.path, query, request.headers, request.body
                )
            except ApiError as exc:
                response = Response(exc.status, exc.body(), exc.headers)
            except OAuthError as exc:
                response = Response(
                    exc.status, {"error": exc.error, "error_description": exc.description}
                )
            if fault is not None and fault.kind == "drop":
                return None  # carried out, never answered
        return response


class FakeServer(LoopbackServer[FakeYouTube]):
    """The fake on a free loopback port, in a thread; stop() ends it."""

    def __init__(self) -> None:
        super().__init__(FakeYouTube())
        self.fake.base_url = self.url
