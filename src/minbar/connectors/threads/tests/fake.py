"""A stateful local stand-in for the Threads API (graph.threads.net), on 127.0.0.1.

Written from Meta's Threads API documentation; each behaviour cites its page
(all under https://developers.facebook.com/docs/threads/):

* ``get-started/get-access-tokens-and-permissions`` — the Authorization Window
  (``/oauth/authorize``: client_id, redirect_uri, scope, response_type=code,
  state; the redirect carries ``code`` with ``#_`` appended; codes last one hour
  and are single use) and ``POST /oauth/access_token`` (client_id,
  client_secret, code, grant_type=authorization_code, redirect_uri →
  ``{"access_token", "user_id"}``).
* ``get-started/long-lived-tokens`` — ``GET /access_token`` with
  ``grant_type=th_exchange_token`` and the app secret; ``GET /refresh_access_token``
  with ``grant_type=th_refresh_token`` for unexpired long-lived tokens at least
  24 hours old; both answer ``{"access_token", "token_type": "bearer", "expires_in"}``.
* ``posts`` — ``POST /{user}/threads`` (media_type TEXT/IMAGE/VIDEO/CAROUSEL, text,
  image_url, video_url, is_carousel_item, children, reply_to_id, link_attachment,
  reply_control, quote_post_id, alt_text); text over 500 characters, emoji counted
  as their UTF-8 bytes, is refused; carousels hold 2 to 20 items; ``POST
  /{user}/threads_publish`` (creation_id) → ``{"id"}``. The fake downloads
  ``image_url``/``video_url`` as Threads does ("Threads retrieves your image from
  the URL provided, so it must be on a public server").
* ``create-posts/text-attachments`` — more than 5 links → THREADS_API__LINK_LIMIT_EXCEEDED.
* ``troubleshooting`` — ``GET /{container}?fields=status,error_message``: IN_PROGRESS,
  FINISHED, ERROR (with FAILED_DOWNLOADING_VIDEO, INVALID_DURATION…), EXPIRED, PUBLISHED.
* ``overview`` — 250 posts and ``GET /{user}/threads_publishing_limit``
  (``quota_usage``, ``config`` {quota_total, quota_duration}); ``reply-management`` /
  ``retrieve-and-manage-replies`` — 1,000 replies (``reply_quota_usage``, ``reply_config``),
  ``POST /{reply}/manage_reply`` (hide) on top-level replies, ``GET /{media}/replies``
  and ``/conversation`` (reverse, before/after cursors); ``threads-mentions``.
* ``posts/delete-posts`` — ``DELETE /{media}`` → ``{"success": true, "deleted_id"}``.
* ``insights`` — ``GET /{media}/insights?metric=views,likes,replies,reposts,quotes,shares``
  (``{"data": [{"name", "period": "lifetime", "values": [{"value"}], "title", "id"}]}``)
  and ``GET /{user}/threads_insights`` (views as a time series, followers_count as
  ``total_value``).
* ``keyword-search`` — ``GET /keyword_search`` (q, search_type TOP/RECENT,
  search_mode KEYWORD/TAG, since, until, limit).
* permissions per endpoint as each page lists them (threads_basic everywhere,
  threads_content_publish, threads_read_replies, threads_manage_replies,
  threads_manage_insights, threads_delete, threads_keyword_search,
  threads_manage_mentions).

Errors use Graph's body (https://developers.facebook.com/docs/graph-api/guides/error-handling):
``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` — 190 for
a bad token, 10 for a missing permission, 100 for a bad parameter (subcode 33
when the object does not exist), 4 for too many calls. Every answer carries
``X-App-Usage`` (https://developers.facebook.com/docs/graph-api/overview/rate-limiting).

What it does not model: the exact wording of Meta's messages (they are this
fake's), the real budgets behind ``X-App-Usage``, video transcoding itself.
"""

from __future__ import annotations

import itertools
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import regex

API = "/v1.0/"
ALL_SCOPES = frozenset(
    {
        "threads_basic",
        "threads_content_publish",
        "threads_manage_replies",
        "threads_read_replies",
        "threads_manage_insights",
        "threads_delete",
        "threads_keyword_search",
        "threads_manage_mentions",
    }
)
LONG_LIVED = 60 * 86400


class GraphFailure(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: int,
        *,
        subcode: int | None = None,
        kind: str = "OAuthException",
        user_msg: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        error: dict[str, Any] = {
            "message": message,
            "type": kind,
            "code": code,
            "fbtrace_id": secrets.token_urlsafe(8),
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        if user_msg:
            error["error_user_msg"] = user_msg
        self.status = status
        self.body = {"error": error}
        self.headers = headers or {}


def _text_length(text: str) -> int:
    """Threads' counting, written out from its docs: a character per grapheme, emoji as bytes."""
    total = 0
    for cluster in regex.findall(r"\X", text):
        pictographic = (
            any(
                regex.match(r"\p{Extended_Pictographic}|\p{Regional_Indicator}", ch)
                for ch in cluster
            )
            or "\u20e3" in cluster
        )
        total += len(cluster.encode("utf-8")) if pictographic else 1
    return total


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class User:
    id: str
    username: str
    name: str = ""
    followers: int = 0
    profile_views: list[int] = field(default_factory=list)


@dataclass
class Token:
    value: str
    user_id: str
    scopes: frozenset[str]
    long_lived: bool
    issued: float
    expires: float
    revoked: bool = False


@dataclass
class Fault:
    method: str
    path: str  # a prefix of the request path
    effect: dict[str, Any]
    count: int = 1
    armed_by: str = ""  # active only once a request to a path ending so was answered
    armed: bool = True


class FakeThreads:
    """The server and its state; tests act on the state directly for "other people"."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.client_id = "990602627938098"
        self.client_secret = "a1b2C3D4-secret"
        self.users: dict[str, User] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.containers: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.quota_total = 250
        self.reply_quota_total = 1000
        self.extra_quota_usage = 0
        self.video_polls = 1  # status checks a video stays IN_PROGRESS
        self.video_error = ""  # the error_message of the next video container
        self.app_usage = 5  # the percentage X-App-Usage reports
        self.clock_offset = 0.0
        self._ids = itertools.count(17841400000000001)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.requests.clear()
            self.quota_total, self.reply_quota_total, self.extra_quota_usage = 250, 1000, 0
            self.video_polls, self.video_error, self.app_usage = 1, "", 5
            self.clock_offset = 0.0

    def now(self) -> float:
        return time.time() + self.clock_offset

    def new_id(self) -> str:
        return str(next(self._ids))

    # -- test helpers (what other people and time do) -------------------------

    def create_user(self, username: str, *, followers: int = 0) -> User:
        with self.lock:
            user = User(
                id=self.new_id(), username=username, name=username.title(), followers=followers
            )
            self.users[user.id] = user
            return user

    def token_for(self, user: User, scopes: frozenset[str] = ALL_SCOPES) -> str:
        value = "THAA" + secrets.token_urlsafe(24)
        with self.lock:
            now = self.now()
            self.tokens[value] = Token(value, user.id, scopes, True, now, now + LONG_LIVED)
        return value

    def add_fault(
        self, method: str, path: str, count: int = 1, armed_by: str = "", **effect: Any
    ) -> None:
        with self.lock:
            self.faults.append(Fault(method, path, effect, count, armed_by, not armed_by))

    def revoke(self, token: str) -> None:
        with self.lock:
            self.tokens[token].revoked = True

    def age_token(self, token: str, seconds: float) -> None:
        with self.lock:
            self.tokens[token].issued -= seconds
            self.tokens[token].expires -= seconds

    def post_as(self, user: User, text: str, *, reply_to: str = "") -> str:
        """Another person posts or replies (through the Threads app, not this API)."""
        with self.lock:
            return self._make_media(
                user, {"media_type": "TEXT", "text": text, "reply_to_id": reply_to}
            )

    def posts_of(self, user: User) -> list[dict[str, Any]]:
        with self.lock:
            return [
                m
                for m in self.media.values()
                if m["owner"] == user.id and not m["deleted"] and not m["replied_to"]
            ]

    def replies_of(self, user: User) -> list[dict[str, Any]]:
        with self.lock:
            return [
                m
                for m in self.media.values()
                if m["owner"] == user.id and not m["deleted"] and m["replied_to"]
            ]

    # -- HTTP -----------------------------------------------------------------

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        params = {**query, **form}
        method = handler.command
        with self.lock:
            self.requests.append(
                {
                    "method": method,
                    "path": parts.path,
                    "params": params,
                    "headers": dict(handler.headers),
                }
            )
            fault = self._take_fault(method, parts.path)
        before = fault is not None and fault.effect.get("when", "before") == "before"
        if before and fault is not None and self._apply_fault(handler, fault):
            return
        try:
            status, body, headers = self._route(method, parts.path, params, handler)
        except GraphFailure as failure:
            status, body, headers = failure.status, failure.body, failure.headers
        except Exception as exc:  # a bug of this fake: make it loud, not a hang
            status, body, headers = 500, {"error": {"message": f"fake bug: {exc!r}", "code": 1}}, {}
        with self.lock:
            for waiting in self.faults:
                if waiting.armed_by and parts.path.endswith(waiting.armed_by):
                    waiting.armed = True
        if fault is not None and fault.effect.get("when") == "after":
            # The request was carried out; the answer is lost (a reset) or late.
            if fault.effect.get("delay"):
                time.sleep(float(fault.effect["delay"]))
            if fault.effect.get("reset"):
                self._reset(handler)
                return
        self._send(handler, status, body, headers)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if not fault.armed:
                continue
            if fault.method == method and path.startswith(fault.path) and fault.count > 0:
                fault.count -= 1
                return fault
        return None

    def _apply_fault(self, handler: BaseHTTPRequestHandler, fault: Fault) -> bool:
        effect = fault.effect
        if effect.get("delay"):
            time.sleep(float(effect["delay"]))
        if effect.get("reset"):
            self._reset(handler)
            return True
        if "status" in effect:
            body = effect.get("body", {})
            self._send(handler, int(effect["status"]), body, dict(effect.get("headers") or {}))
            return True
        return False

    def _reset(self, handler: BaseHTTPRequestHandler) -> None:
        sock = handler.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        handler.close_connection = True
        sock.close()

    def _send(
        self, handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str]
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            handler.send_response(status)
            for key, value in headers.items():
                handler.send_header(key, value)
            if "Location" not in headers:
                handler.send_header("Content-Type", "application/json; charset=UTF-8")
            usage = {"call_count": self.app_usage, "total_cputime": 1, "total_time": 1}
            handler.send_header("X-App-Usage", json.dumps(usage))
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass

    # -- routing --------------------------------------------------------------

    def _route(
        self, method: str, path: str, params: dict[str, str], handler: BaseHTTPRequestHandler
    ) -> tuple[int, Any, dict[str, str]]:
        if path == "/oauth/authorize" and method == "GET":
            return self._authorize(params)
        if path == "/oauth/access_token" and method == "POST":
            return 200, self._exchange_code(params), {}
        if path == "/access_token" and method == "GET":
            return 200, self._long_lived(params), {}
        if path == "/refresh_access_token" and method == "GET":
            return 200, self._refresh(params), {}
        if not path.startswith(API):
            raise GraphFailure(404, "Unknown path components: " + path, 2500, kind="OAuthException")
        token = self._token(params, handler)
        if self.app_usage >= 100:
            raise GraphFailure(
                400,
                "Application request limit reached",
                4,
                headers={"Retry-After": "120"},
            )
        segments = [s for s in path[len(API) :].split("/") if s]
        with self.lock:
            return 200, self._api(method, segments, params, token), {}

    def _token(self, params: dict[str, str], handler: BaseHTTPRequestHandler) -> Token:
        auth = handler.headers.get("Authorization") or ""
        value = auth[7:] if auth.startswith("Bearer ") else params.get("access_token", "")
        with self.lock:
            token = self.tokens.get(value)
            if token is None:
                raise GraphFailure(
                    400, "Invalid OAuth access token - Cannot parse access token", 190
                )
            if token.revoked:
                raise GraphFailure(
                    400,
                    "Error validating access token: The user has not authorized application.",
                    190,
                    subcode=458,
                )
            if token.expires <= self.now():
                raise GraphFailure(
                    400, "Error validating access token: Session has expired.", 190, subcode=463
                )
            return token

    @staticmethod
    def _need(token: Token, *scopes: str) -> None:
        missing = [s for s in ("threads_basic", *scopes) if s not in token.scopes]
        if missing:
            raise GraphFailure(
                403,
                f"Application does not have permission for this action ({', '.join(missing)})",
                10,
            )

    # -- OAuth ----------------------------------------------------------------

    def _authorize(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        for name in ("client_id", "redirect_uri", "scope", "response_type"):
            if not params.get(name):
                raise GraphFailure(400, f"The parameter {name} is required", 100)
        if params["client_id"] != self.client_id or params["response_type"] != "code":
            raise GraphFailure(400, "Invalid platform app", 100)
        scopes = frozenset(s for s in regex.split(r"[,\s]+", params["scope"]) if s)
        if "threads_basic" not in scopes or not scopes <= ALL_SCOPES:
            raise GraphFailure(400, "Invalid Scopes: " + params["scope"], 100)
        user = next((u for u in self.users.values() if u.username == params.get("username")), None)
        if user is None:  # the person on the page; tests say who with ?username=
            raise GraphFailure(400, "No person signed in on the Authorization Window", 100)
        code = "AQB" + secrets.token_urlsafe(16)
        self.codes[code] = {
            "user": user.id,
            "redirect_uri": params["redirect_uri"],
            "scopes": scopes,
            "expires": self.now() + 3600,
        }
        back = {"code": code}
        if params.get("state"):
            back["state"] = params["state"]
        return 302, b"", {"Location": f"{params['redirect_uri']}?{urlencode(back)}#_"}

    def _exchange_code(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("grant_type") != "authorization_code":
            raise GraphFailure(400, "Unsupported grant_type", 100)
        if (
            params.get("client_id") != self.client_id
            or params.get("client_secret") != self.client_secret
        ):
            raise GraphFailure(400, "Error validating client secret.", 101, kind="OAuthException")
        with self.lock:
            grant = self.codes.pop(params.get("code", ""), None)
            if grant is None or grant["expires"] < self.now():
                raise GraphFailure(
                    400, "This authorization code has been used.", 100, subcode=36009
                )
            if grant["redirect_uri"] != params.get("redirect_uri"):
                raise GraphFailure(
                    400,
                    "Error validating verification code. Please make sure your "
                    "redirect_uri is identical to the one you used in the OAuth dialog request",
                    100,
                )
            value = "THQV" + secrets.token_urlsafe(24)
            now = self.now()
            self.tokens[value] = Token(
                value, grant["user"], grant["scopes"], False, now, now + 3600
            )
        return {"access_token": value, "user_id": int(grant["user"])}

    def _long_lived(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("grant_type") != "th_exchange_token":
            raise GraphFailure(400, "Unsupported grant_type", 100)
        if params.get("client_secret") != self.client_secret:
            raise GraphFailure(400, "Error validating client secret.", 101)
        with self.lock:
            short = self.tokens.get(params.get("access_token", ""))
            if short is None or short.long_lived or short.expires <= self.now() or short.revoked:
                raise GraphFailure(
                    400, "Error validating access token: Session has expired.", 190, subcode=463
                )
            value = "THAA" + secrets.token_urlsafe(24)
            now = self.now()
            self.tokens[value] = Token(
                value, short.user_id, short.scopes, True, now, now + LONG_LIVED
            )
        return {"access_token": value, "token_type": "bearer", "expires_in": LONG_LIVED - 56}

    def _refresh(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("grant_type") != "th_refresh_token":
            raise GraphFailure(400, "Unsupported grant_type", 100)
        with self.lock:
            old = self.tokens.get(params.get("access_token", ""))
            now = self.now()
            if old is None or old.revoked or old.expires <= now or not old.long_lived:
                raise GraphFailure(
                    400, "Error validating access token: Session has expired.", 190, subcode=463
                )
            if now - old.issued < 86400:
                raise GraphFailure(
                    400, "The access token must be at least 24 hours old to be refreshed.", 100
                )
            value = "THAA" + secrets.token_urlsafe(24)
            self.tokens[value] = Token(value, old.user_id, old.scopes, True, now, now + LONG_LIVED)
        return {"access_token": value, "token_type": "bearer", "expires_in": LONG_LIVED - 56}

    # -- the Graph API --------------------------------------------------------

    def _user_of(self, token: Token, ident: str) -> User:
        user_id = token.user_id if ident == "me" else ident
        if user_id != token.user_id:
            raise GraphFailure(
                400,
                "Unsupported request - object does not exist or lacks permission",
                100,
                subcode=33,
            )
        return self.users[user_id]

    def _api(self, method: str, seg: list[str], params: dict[str, str], token: Token) -> Any:
        if seg == ["keyword_search"] and method == "GET":
            self._need(token, "threads_keyword_search")
            return self._keyword_search(token, params)
        head, rest = seg[0], seg[1:]
        if head == "me" or head in self.users:
            user = self._user_of(token, head)
            return self._user_edge(method, user, rest, params, token)
        if head in self.containers and not rest and method == "GET":
            return self._container_status(head, params)
        if head in self.media and not self.media[head]["deleted"]:
            return self._media_edge(method, self.media[head], rest, params, token)
        raise GraphFailure(
            400,
            f"Unsupported {method} request. Object with ID '{head}' does not exist",
            100,
            subcode=33,
        )

    def _user_edge(
        self, method: str, user: User, rest: list[str], params: dict[str, str], token: Token
    ) -> Any:
        edge = rest[0] if rest else ""
        if not edge and method == "GET":
            fields = {
                "id": user.id,
                "username": user.username,
                "name": user.name,
                "threads_profile_picture_url": f"https://scontent.example/{user.username}.jpg",
                "threads_biography": "",
            }
            return self._pick(fields, params.get("fields") or "id")
        if edge == "threads" and method == "POST":
            self._need(token, "threads_content_publish")
            return {"id": self._create_container(user, params)}
        if edge == "threads_publish" and method == "POST":
            self._need(token, "threads_content_publish")
            return {"id": self._publish(user, params.get("creation_id", ""))}
        if edge == "threads_publishing_limit" and method == "GET":
            self._need(token, "threads_content_publish")
            return {"data": [self._limits(user, params)]}
        if edge in ("threads", "replies") and method == "GET":
            if edge == "replies":
                self._need(token, "threads_read_replies")
            items = self.replies_of(user) if edge == "replies" else self.posts_of(user)
            return self._page(items, params, token)
        if edge == "mentions" and method == "GET":
            self._need(token, "threads_manage_mentions")
            items = [
                m
                for m in self.media.values()
                if f"@{user.username}" in m["text"] and m["owner"] != user.id and not m["deleted"]
            ]
            return self._page(items, params, token)
        if edge == "threads_insights" and method == "GET":
            self._need(token, "threads_manage_insights")
            return self._user_insights(user, params)
        raise GraphFailure(400, f"Unsupported {method} request", 100)

    # containers (posts, troubleshooting)
    def _create_container(self, user: User, params: dict[str, str]) -> str:
        kind = params.get("media_type", "")
        if kind not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            raise GraphFailure(400, "The parameter media_type is required", 100)
        text = params.get("text", "")
        carousel_item = params.get("is_carousel_item") == "true"
        if kind == "TEXT" and not text:
            raise GraphFailure(400, "The parameter text is required", 100)
        if _text_length(text) > 500:
            raise GraphFailure(400, "Param text must be at most 500 characters long.", 100)
        links = set(regex.findall(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+", text))
        if params.get("link_attachment"):
            if kind != "TEXT":
                raise GraphFailure(400, "link_attachment is only available for text posts", 100)
            links.add(params["link_attachment"])
        if len(links) > 5:
            raise GraphFailure(
                400, "Too many links", 100, user_msg="THREADS_API__LINK_LIMIT_EXCEEDED"
            )
        if params.get("reply_control") and params["reply_control"] not in (
            "everyone",
            "accounts_you_follow",
            "mentioned_only",
            "parent_post_author_only",
            "followers_only",
        ):
            raise GraphFailure(400, "Invalid reply_control", 100)
        for key in ("reply_to_id", "quote_post_id"):
            target = params.get(key)
            if target and (target not in self.media or self.media[target]["deleted"]):
                raise GraphFailure(
                    400, f"Object with ID '{target}' does not exist", 100, subcode=33
                )
        container: dict[str, Any] = {
            "id": self.new_id(),
            "owner": user.id,
            "media_type": kind,
            "text": text,
            "params": dict(params),
            "status": "FINISHED",
            "error_message": "",
            "polls": 0,
            "created": self.now(),
            "carousel_item": carousel_item,
        }
        if kind in ("IMAGE", "VIDEO"):
            url_key = "image_url" if kind == "IMAGE" else "video_url"
            url = params.get(url_key, "")
            if not url:
                raise GraphFailure(400, f"The parameter {url_key} is required", 100)
            fetched = self._download(url, "image/" if kind == "IMAGE" else "video/")
            if kind == "VIDEO":
                container["status"] = "IN_PROGRESS"
                container["polls"] = self.video_polls
                container["pending_error"] = "" if fetched else "FAILED_DOWNLOADING_VIDEO"
                if fetched and self.video_error:
                    container["pending_error"], self.video_error = self.video_error, ""
            elif not fetched:
                container["status"], container["error_message"] = "ERROR", "UNKNOWN"
        if kind == "CAROUSEL":
            children = [c for c in params.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 20:
                raise GraphFailure(400, "A carousel needs between 2 and 20 children", 100)
            for child in children:
                item = self.containers.get(child)
                if item is None or not item["carousel_item"] or item["owner"] != user.id:
                    raise GraphFailure(400, f"Invalid child {child}", 100, subcode=33)
                if item["status"] != "FINISHED":
                    raise GraphFailure(400, f"The carousel item {child} is not ready", 100)
            container["children"] = children
        self.containers[container["id"]] = container
        return str(container["id"])

    def _download(self, url: str, prefix: str) -> bool:
        """Threads fetches the media from its URL; here, the test's loopback server."""
        try:
            response = httpx.get(url, timeout=5.0)
        except httpx.HTTPError:
            return False
        kind = response.headers.get("content-type", "")
        return response.status_code == 200 and kind.startswith(prefix) and bool(response.content)

    def _container_status(self, container_id: str, params: dict[str, str]) -> dict[str, Any]:
        container = self.containers[container_id]
        if container["status"] == "IN_PROGRESS":
            if container["polls"] > 0:
                container["polls"] -= 1
            else:
                error = container.get("pending_error", "")
                container["status"] = "ERROR" if error else "FINISHED"
                container["error_message"] = error
        if container["status"] == "FINISHED" and self.now() - container["created"] > 86400:
            container["status"] = "EXPIRED"
        fields = {"id": container_id, "status": container["status"]}
        if container["error_message"]:
            fields["error_message"] = container["error_message"]
        return self._pick(fields, params.get("fields") or "id")

    def _publish(self, user: User, creation_id: str) -> str:
        container = self.containers.get(creation_id)
        if container is None or container["owner"] != user.id:
            raise GraphFailure(
                400, f"Object with ID '{creation_id}' does not exist", 100, subcode=33
            )
        if container["status"] == "PUBLISHED":
            raise GraphFailure(400, "The media has already been published", 100, subcode=2207006)
        if container["status"] != "FINISHED" or container["carousel_item"]:
            raise GraphFailure(
                400,
                "The media is not ready for publishing, please wait for a moment",
                9007,
                subcode=2207027,
            )
        is_reply = bool(container["params"].get("reply_to_id"))
        limits = self._limits(user, {"fields": "quota_usage,reply_quota_usage"})
        if is_reply and limits["reply_quota_usage"] >= self.reply_quota_total:
            raise GraphFailure(
                400, "The user has reached the reply publishing limit", 4, subcode=2207042
            )
        if not is_reply and limits["quota_usage"] >= self.quota_total:
            raise GraphFailure(400, "The user has reached the publishing limit", 4, subcode=2207042)
        media_id = self._make_media(
            user, container["params"], children=container.get("children", [])
        )
        container["status"] = "PUBLISHED"
        return media_id

    def _make_media(
        self, user: User, params: dict[str, Any], children: list[str] | None = None
    ) -> str:
        media_id = self.new_id()
        parent = str(params.get("reply_to_id") or "")
        root = self.media[parent]["root_post"] or parent if parent else ""
        kind = {
            "TEXT": "TEXT_POST",
            "IMAGE": "IMAGE",
            "VIDEO": "VIDEO",
            "CAROUSEL": "CAROUSEL_ALBUM",
        }
        self.media[media_id] = {
            "id": media_id,
            "owner": user.id,
            "username": user.username,
            "text": str(params.get("text") or ""),
            "media_type": kind[str(params.get("media_type", "TEXT"))],
            "timestamp": self.now(),
            "permalink": f"https://www.threads.com/@{user.username}/post/{media_id}",
            "replied_to": parent,
            "root_post": root,
            "hide_status": "NOT_HUSHED",
            "children": list(children or []),
            "deleted": False,
            "link_attachment": str(params.get("link_attachment") or ""),
            "reply_control": str(params.get("reply_control") or "everyone"),
            "quote_post_id": str(params.get("quote_post_id") or ""),
            "likes": 0,
            "views": 0,
            "reposts": 0,
            "quotes": 0,
            "shares": 0,
        }
        return media_id

    def _limits(self, user: User, params: dict[str, str]) -> dict[str, Any]:
        since = self.now() - 86400
        mine = [m for m in self.media.values() if m["owner"] == user.id and m["timestamp"] > since]
        posts = sum(1 for m in mine if not m["replied_to"]) + self.extra_quota_usage
        replies = sum(1 for m in mine if m["replied_to"])
        every = {
            "quota_usage": posts,
            "config": {"quota_total": self.quota_total, "quota_duration": 86400},
            "reply_quota_usage": replies,
            "reply_config": {"quota_total": self.reply_quota_total, "quota_duration": 86400},
        }
        return self._pick(every, params.get("fields") or "quota_usage,config")

    # media (media-retrieval, reply management, insights, delete)
    def _view(self, media: dict[str, Any], token: Token) -> dict[str, Any]:
        parent = media["replied_to"]
        return {
            "id": media["id"],
            "media_product_type": "THREADS",
            "media_type": media["media_type"],
            "permalink": media["permalink"],
            "username": media["username"],
            "text": media["text"],
            "timestamp": _stamp(media["timestamp"]),
            "is_reply": bool(parent),
            "is_reply_owned_by_me": bool(parent) and media["owner"] == token.user_id,
            "replied_to": {"id": parent} if parent else None,
            "root_post": {"id": media["root_post"]} if media["root_post"] else None,
            "hide_status": media["hide_status"],
            "has_replies": any(
                m["replied_to"] == media["id"] and not m["deleted"] for m in self.media.values()
            ),
            "owner": {"id": media["owner"]},
            "link_attachment_url": media["link_attachment"] or None,
        }

    def _media_edge(
        self,
        method: str,
        media: dict[str, Any],
        rest: list[str],
        params: dict[str, str],
        token: Token,
    ) -> Any:
        edge = rest[0] if rest else ""
        if not edge and method == "GET":
            return self._pick(self._view(media, token), params.get("fields") or "id")
        if not edge and method == "DELETE":
            self._need(token, "threads_delete")
            if media["owner"] != token.user_id:
                raise GraphFailure(400, "Cannot delete a post of another user", 10)
            media["deleted"] = True
            return {"success": True, "deleted_id": media["id"]}
        if edge in ("replies", "conversation") and method == "GET":
            self._need(token, "threads_read_replies")
            if edge == "replies":
                items = [
                    m
                    for m in self.media.values()
                    if m["replied_to"] == media["id"] and not m["deleted"]
                ]
            else:
                items = [
                    m
                    for m in self.media.values()
                    if m["root_post"] == media["id"] and not m["deleted"]
                ]
            reverse = params.get("reverse", "true") != "false"
            return self._page(items, params, token, newest_first=reverse)
        if edge == "manage_reply" and method == "POST":
            self._need(token, "threads_manage_replies")
            root = self.media.get(media["root_post"])
            if root is None or root["owner"] != token.user_id:
                raise GraphFailure(400, "You can only hide replies to your own posts", 10)
            if media["replied_to"] != media["root_post"]:
                raise GraphFailure(400, "Only top-level replies can be hidden", 100)
            hide = params.get("hide") == "true"
            for m in self.media.values():
                if m["id"] == media["id"] or m["replied_to"] == media["id"]:
                    m["hide_status"] = "HIDDEN" if hide else "NOT_HUSHED"
            return {"success": True}
        if edge == "insights" and method == "GET":
            self._need(token, "threads_manage_insights")
            names = [n for n in params.get("metric", "").split(",") if n]
            known = ("views", "likes", "replies", "reposts", "quotes", "shares")
            if not names or any(n not in known for n in names):
                raise GraphFailure(
                    400,
                    "(#100) metric must be one of the following values: " + ", ".join(known),
                    100,
                )
            counts = dict(media)
            counts["replies"] = sum(
                1
                for m in self.media.values()
                if not m["deleted"]
                and (
                    m["root_post"] == media["id"]
                    if not media["replied_to"]
                    else m["replied_to"] == media["id"]
                )
            )
            return {
                "data": [
                    {
                        "name": n,
                        "period": "lifetime",
                        "values": [{"value": counts[n]}],
                        "title": n.title(),
                        "description": f"The number of {n} on your post.",
                        "id": f"{media['id']}/insights/{n}/lifetime",
                    }
                    for n in names
                ]
            }
        raise GraphFailure(400, f"Unsupported {method} request", 100)

    def _user_insights(self, user: User, params: dict[str, str]) -> dict[str, Any]:
        names = [n for n in params.get("metric", "").split(",") if n]
        if ("since" in params) != ("until" in params):
            raise GraphFailure(400, "since and until must be used together", 100)
        data = []
        for name in names:
            entry: dict[str, Any] = {
                "name": name,
                "period": "day",
                "title": name,
                "id": f"{user.id}/insights/{name}/day",
            }
            if name == "views":
                entry["values"] = [
                    {"value": v, "end_time": _stamp(self.now())} for v in user.profile_views
                ]
            elif name == "followers_count":
                if "since" in params:
                    raise GraphFailure(400, "followers_count does not support since and until", 100)
                entry["total_value"] = {"value": user.followers}
            else:
                raise GraphFailure(400, f"Unknown metric {name}", 100)
            data.append(entry)
        return {"data": data}

    def _keyword_search(self, token: Token, params: dict[str, str]) -> dict[str, Any]:
        query = params.get("q", "").strip().lower()
        if not query:
            raise GraphFailure(400, "The parameter q is required", 100)
        tag = params.get("search_mode") == "TAG"
        found = [
            m
            for m in self.media.values()
            if not m["deleted"]
            and (f"#{query}" in m["text"].lower() if tag else query in m["text"].lower())
        ]
        return self._page(found, params, token, cursors=False)

    # paging: newest first with since/until, limit and before/after cursors
    def _page(
        self,
        items: list[dict[str, Any]],
        params: dict[str, str],
        token: Token,
        *,
        newest_first: bool = True,
        cursors: bool = True,
    ) -> dict[str, Any]:
        if "since" in params:
            items = [m for m in items if int(m["timestamp"]) >= int(params["since"])]
        if "until" in params:
            items = [m for m in items if int(m["timestamp"]) <= int(params["until"])]
        items = sorted(items, key=lambda m: (m["timestamp"], int(m["id"])), reverse=newest_first)
        limit = min(int(params.get("limit") or 25), 100)
        start = 0
        if params.get("after"):
            ids = [m["id"] for m in items]
            start = ids.index(params["after"]) + 1 if params["after"] in ids else len(ids)
        chunk = items[start : start + limit]
        fields = params.get("fields") or "id"
        body: dict[str, Any] = {"data": [self._pick(self._view(m, token), fields) for m in chunk]}
        if cursors and chunk:
            paging: dict[str, Any] = {
                "cursors": {"before": chunk[0]["id"], "after": chunk[-1]["id"]}
            }
            if start + limit < len(items):
                paging["next"] = "https://graph.threads.net/v1.0/next-page"
            body["paging"] = paging
        return body

    @staticmethod
    def _pick(values: dict[str, Any], fields: str) -> dict[str, Any]:
        wanted = ["id", *[f.strip() for f in fields.split(",") if f.strip()]]
        return {
            f: values[f] for f in dict.fromkeys(wanted) if f in values and values[f] is not None
        }
