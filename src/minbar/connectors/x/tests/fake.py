"""A stateful local X API v2 for the tests: a threaded HTTP server on 127.0.0.1.

No X server can be run locally, so this fake reproduces what X's documentation
says of each request Minbar makes — it checks the method, path, parameters,
body, the Bearer token and the scopes granted to it, and answers with the
documented payloads, problem bodies and rate-limit headers. Each part cites the
page it follows:

* OAuth 2.0 with PKCE, confidential client (Basic auth on the token endpoint),
  two-hour access tokens, rotating refresh tokens:
  https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code and
  https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token
* Scopes per endpoint:
  https://docs.x.com/fundamentals/authentication/guides/v2-authentication-mapping
* ``POST /2/tweets`` (text, media.media_ids, reply.in_reply_to_tweet_id,
  quote_tweet_id; 201 ``{"data": {"id", "text", "edit_history_tweet_ids"}}``),
  ``DELETE /2/tweets/:id`` (``{"data": {"deleted": true}}``):
  https://docs.x.com/x-api/posts/manage-tweets/introduction
* Duplicate text: 403 ``{"detail": "You are not allowed to create a Tweet with
  duplicate content.", "type": "about:blank", "title": "Forbidden", "status": 403}``
  and problem bodies in general:
  https://docs.x.com/x-api/fundamentals/response-codes-and-errors
* ``GET /2/tweets/:id``, ``GET /2/tweets?ids=`` (a missing post is an
  ``errors`` entry of type ``.../resource-not-found`` in a 200):
  https://docs.x.com/x-api/posts/lookup/introduction
* Metrics: ``public_metrics`` for all; ``non_public_metrics`` /
  ``organic_metrics`` only for the account's own posts of the last 30 days:
  https://docs.x.com/x-api/fundamentals/metrics
* ``GET /2/users/me`` with ``public_metrics``: https://docs.x.com/x-api/users/lookup/introduction
* ``GET /2/users/:id/tweets`` (``start_time``), ``GET /2/users/:id/mentions``
  (``since_id``, ``pagination_token``, ``meta.newest_id/next_token``):
  https://docs.x.com/x-api/posts/timelines/introduction
* ``PUT /2/tweets/:id/hidden`` (only replies in the user's own conversations):
  https://docs.x.com/x-api/posts/hide-replies/introduction
* ``GET /2/tweets/search/recent`` (last 7 days, ``next_token``):
  https://docs.x.com/x-api/posts/search/introduction
* Chunked media upload ``POST /2/media/upload/initialize``, ``.../:id/append``,
  ``.../:id/finalize``, ``GET /2/media/upload?command=STATUS``, and
  ``POST /2/media/metadata`` for alt text:
  https://docs.x.com/x-api/media/quickstart/media-upload-chunked and
  https://docs.x.com/x-api/media/create-media-metadata
* ``x-rate-limit-limit`` / ``-remaining`` / ``-reset`` on every answer, 429 when
  spent: https://docs.x.com/x-api/fundamentals/rate-limits

Faults (``FakeX.fail_next``) make the next matching request fail: a status and
body, a 429, a delay longer than the client's timeout, or the connection cut
after the request was carried out (an answer lost on the way back).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = "minbar-test-client"
CLIENT_SECRET = "minbar-test-secret"
ACCESS_TOKEN_SECONDS = 7200
PROBLEMS = "https://api.twitter.com/2/problems/"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."


REPLY_SETTINGS = ("following", "mentionedUsers", "subscribers", "verified")


@dataclass
class User:
    id: str
    username: str
    name: str
    followers: int = 0
    following: int = 0


@dataclass
class Post:
    id: str
    text: str
    author_id: str
    created_at: datetime
    conversation_id: str
    in_reply_to_user_id: str = ""
    referenced: list[dict[str, str]] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)
    urls: list[dict[str, Any]] = field(default_factory=list)
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0
    impressions: int = 0
    link_clicks: int = 0
    hidden: bool = False
    reply_settings: str = "everyone"


@dataclass
class Token:
    user_id: str
    scopes: frozenset[str]
    expires: float


@dataclass
class Media:
    id: str
    media_type: str
    total_bytes: int
    category: str
    received: dict[int, int] = field(default_factory=dict)
    finalized: bool = False
    polls_left: int = 0  # STATUS answers "in_progress" this many times
    fail_with: str = ""  # processing ends "failed" with this message
    alt_text: str = ""
    owner: str = ""


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    kind: str  # "status", "ratelimit", "delay", "cut"
    status: int = 500
    body: dict[str, Any] | None = None
    seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    apply_first: bool = False  # carry the request out before failing
    skip: int = 0  # let this many matching requests through first


class FakeX:
    """The state of the fake network, and the server answering for it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._ids = itertools.count(1_900_000_000_000_000_000)
        self.users: dict[str, User] = {}
        self.posts: dict[str, Post] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.media: dict[str, Media] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        # (token's user, endpoint) -> (used, window start); limits per endpoint
        self.limits: dict[str, int] = {}
        self.window_seconds = 15 * 60
        self.used: dict[tuple[str, str], tuple[int, float]] = {}
        self.private_metrics = True  # the app's access level allows non-public metrics
        self.media_polls = 0  # STATUS answers "in_progress" this many times for video/GIF
        self.media_failure = ""  # video/GIF processing ends "failed" with this message
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> FakeX:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.limits.clear()
            self.used.clear()
            self.requests.clear()
            self.private_metrics = True
            self.media_polls = 0
            self.media_failure = ""

    # -- test helpers ---------------------------------------------------------

    def new_id(self) -> str:
        return str(next(self._ids))

    def add_user(self, username: str, name: str = "", followers: int = 0) -> User:
        with self.lock:
            user = User(self.new_id(), username, name or username.title(), followers, 3)
            self.users[user.id] = user
            return user

    def approve(self, authorize_url: str, username: str) -> dict[str, str]:
        """Be the person on X's approval page: returns the redirect's query (code, state)."""
        parts = urlsplit(authorize_url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        user = next(u for u in self.users.values() if u.username == username)
        problems = [
            name
            for name in (
                "response_type",
                "client_id",
                "redirect_uri",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method",
            )
            if not query.get(name)
        ]
        assert not problems, f"authorize URL lacks {problems}"
        assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
        assert query["client_id"] == CLIENT_ID
        code = base64.urlsafe_b64encode(self.new_id().encode()).decode()
        with self.lock:
            self.codes[code] = {
                "user_id": user.id,
                "challenge": query["code_challenge"],
                "redirect_uri": query["redirect_uri"],
                "scopes": frozenset(query["scope"].split()),
            }
        return {"code": code, "state": query["state"]}

    def issue(self, user: User, scopes: frozenset[str]) -> dict[str, Any]:
        with self.lock:
            access, refresh = f"at-{self.new_id()}", f"rt-{self.new_id()}"
            token = Token(user.id, scopes, time.time() + ACCESS_TOKEN_SECONDS)
            self.tokens[access] = token
            if "offline.access" in scopes:
                self.refresh_tokens[refresh] = token
            answer: dict[str, Any] = {
                "token_type": "bearer",
                "expires_in": ACCESS_TOKEN_SECONDS,
                "access_token": access,
                "scope": " ".join(sorted(scopes)),
            }
            if "offline.access" in scopes:
                answer["refresh_token"] = refresh
            return answer

    def revoke_all(self, user: User) -> None:
        """The person removed Minbar in X's settings: every token stops working."""
        with self.lock:
            for store in (self.tokens, self.refresh_tokens):
                for key in [k for k, t in store.items() if t.user_id == user.id]:
                    del store[key]

    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self.tokens.values():
                token.expires = time.time() - 1

    def post_as(
        self, user: User, text: str, *, reply_to: str = "", quote: str = "", age: float = 0
    ) -> Post:
        """Someone posts (not through Minbar)."""
        with self.lock:
            return self._create(user.id, text, reply_to=reply_to, quote=quote, age=age)

    def fail_next(
        self,
        method: str,
        path: str,
        kind: str,
        *,
        status: int = 500,
        body: dict[str, Any] | None = None,
        seconds: float = 0.0,
        headers: dict[str, str] | None = None,
        apply_first: bool = False,
        skip: int = 0,
    ) -> None:
        with self.lock:
            self.faults.append(
                Fault(
                    method,
                    re.compile(path),
                    kind,
                    status,
                    body,
                    seconds,
                    dict(headers or {}),
                    apply_first,
                    skip,
                )
            )

    def own_posts(self, user: User) -> list[Post]:
        with self.lock:
            return sorted(
                (p for p in self.posts.values() if p.author_id == user.id),
                key=lambda p: int(p.id),
            )

    # -- state changes --------------------------------------------------------

    def _create(
        self,
        author_id: str,
        text: str,
        *,
        reply_to: str = "",
        quote: str = "",
        media_ids: list[str] | None = None,
        age: float = 0,
    ) -> Post:
        post_id = self.new_id()
        conversation = post_id
        in_reply_to_user = ""
        referenced: list[dict[str, str]] = []
        if reply_to:
            parent = self.posts[reply_to]
            conversation = parent.conversation_id
            in_reply_to_user = parent.author_id
            referenced.append({"type": "replied_to", "id": reply_to})
            parent.replies += 1
        if quote:
            referenced.append({"type": "quoted", "id": quote})
            self.posts[quote].quotes += 1
        urls = []
        # X wraps every link in t.co (entities.urls: url, expanded_url, start, end).
        stored = text
        for match in re.finditer(r"https?://\S+", text):
            short = f"https://t.co/{self.new_id()[-10:]}"
            urls.append({"url": short, "expanded_url": match.group(0)})
            stored = stored.replace(match.group(0), short, 1)
        post = Post(
            id=post_id,
            text=stored,
            author_id=author_id,
            created_at=datetime.now(UTC) - timedelta(seconds=age),
            conversation_id=conversation,
            in_reply_to_user_id=in_reply_to_user,
            referenced=referenced,
            media_ids=list(media_ids or []),
            urls=urls,
        )
        self.posts[post_id] = post
        return post

    # -- serialisation --------------------------------------------------------

    def post_json(self, post: Post, fields: set[str], *, viewer: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": post.id,
            "text": post.text,
            "edit_history_tweet_ids": [post.id],
        }
        optional: dict[str, Any] = {
            "author_id": post.author_id,
            "created_at": post.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "conversation_id": post.conversation_id,
            "lang": "en",
            "entities": {"urls": post.urls} if post.urls else {},
            "public_metrics": {
                "retweet_count": post.reposts,
                "reply_count": post.replies,
                "like_count": post.likes,
                "quote_count": post.quotes,
                "bookmark_count": post.bookmarks,
                "impression_count": post.impressions,
            },
            "non_public_metrics": {
                "impression_count": post.impressions,
                "url_link_clicks": post.link_clicks,
                "user_profile_clicks": 0,
            },
            "organic_metrics": {
                "impression_count": post.impressions,
                "like_count": post.likes,
                "reply_count": post.replies,
                "retweet_count": post.reposts,
                "url_link_clicks": post.link_clicks,
                "user_profile_clicks": 0,
            },
        }
        if post.in_reply_to_user_id:
            optional["in_reply_to_user_id"] = post.in_reply_to_user_id
        if post.referenced:
            optional["referenced_tweets"] = post.referenced
        for name, value in optional.items():
            if name in fields:
                data[name] = value
        return data

    def user_json(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "name": user.name,
            "username": user.username,
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{user.id}/a_normal.jpg",
            "public_metrics": {
                "followers_count": user.followers,
                "following_count": user.following,
                "tweet_count": sum(1 for p in self.posts.values() if p.author_id == user.id),
                "listed_count": 0,
                "like_count": 0,
            },
        }


class Answer(Exception):
    """Raised by a route to answer at once (an error, usually)."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def problem(
    status: int, title: str, detail: str, kind: str = "about:blank", **extra: Any
) -> Answer:
    return Answer(
        status, {"title": title, "detail": detail, "type": kind, "status": status, **extra}
    )


def invalid(message: str, **parameters: list[str]) -> Answer:
    return problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        PROBLEMS + "invalid-request",
        errors=[{"parameters": parameters, "message": message}],
    )


def _handler(fake: FakeX) -> type[BaseHTTPRequestHandler]:
    routes = Routes(fake)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            return

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            with fake.lock:
                fake.requests.append((method, parts.path))
                fault = next(
                    (f for f in fake.faults if f.method == method and f.path.fullmatch(parts.path)),
                    None,
                )
                if fault is not None and fault.skip > 0:
                    fault.skip -= 1
                    fault = None
                elif fault is not None:
                    fake.faults.remove(fault)
            if fault is not None and not fault.apply_first:
                self._fault(fault)
                return
            try:
                status, body, headers = routes.dispatch(
                    method, parts.path, parse_qs(parts.query), self.headers, raw
                )
            except Answer as answer:
                status, body, headers = answer.status, answer.body, answer.headers
            if fault is not None:  # carried out; now the answer is lost or replaced
                self._fault(fault)
                return
            self._send(status, body, headers)

        def _fault(self, fault: Fault) -> None:
            if fault.kind == "delay":
                time.sleep(fault.seconds)
                self._send(200, {"data": {}}, {})
            elif fault.kind == "cut":
                # Close the connection without any answer.
                self.close_connection = True
                self.connection.shutdown(2)
            elif fault.kind == "ratelimit":
                headers = {
                    "x-rate-limit-limit": "100",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int(time.time() + 900)),
                    **fault.headers,
                }
                self._send(
                    429,
                    fault.body
                    or {
                        "title": "Too Many Requests",
                        "detail": "Too Many Requests",
                        "type": "about:blank",
                        "status": 429,
                    },
                    headers,
                )
            else:
                self._send(fault.status, fault.body, fault.headers)

        def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            content_type = "application/json; charset=utf-8"
            if isinstance(body, dict) and "title" in body and status >= 400:
                content_type = "application/problem+json"
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

    return Handler


def _multipart(headers: Any, raw: bytes) -> dict[str, bytes]:
    """The fields of a multipart/form-data body (enough for APPEND)."""
    content_type = headers.get("content-type", "")
    match = re.search(r"boundary=([^;]+)", content_type)
    if not content_type.startswith("multipart/form-data") or match is None:
        raise invalid("APPEND must be multipart/form-data.")
    boundary = ("--" + match.group(1).strip('"')).encode()
    fields: dict[str, bytes] = {}
    for part in raw.split(boundary)[1:-1]:
        head, _, body = part.strip(b"\r\n").partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if name:
            fields[name.group(1).decode()] = body
    return fields


class Routes:
    """The endpoints Minbar uses, each checking what X's documentation requires."""

    def __init__(self, fake: FakeX) -> None:
        self.fake = fake

    # -- plumbing -------------------------------------------------------------

    def dispatch(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        q = {k: v[0] for k, v in query.items()}
        if method == "POST" and path == "/2/oauth2/token":
            return self.token(headers, raw)
        table: list[tuple[str, str, str, Any, frozenset[str]]] = [
            ("GET", r"/2/users/me", "GET /2/users/me", self.me, frozenset({"users.read"})),
            ("POST", r"/2/tweets", "POST /2/tweets", self.create, frozenset({"tweet.write"})),
            ("GET", r"/2/tweets", "GET /2/tweets", self.lookup_many, frozenset({"tweet.read"})),
            (
                "GET",
                r"/2/tweets/search/recent",
                "GET /2/tweets/search/recent",
                self.search,
                frozenset({"tweet.read", "users.read"}),
            ),
            (
                "PUT",
                r"/2/tweets/(\d+)/hidden",
                "PUT /2/tweets/:id/hidden",
                self.hide,
                frozenset({"tweet.moderate.write"}),
            ),
            (
                "GET",
                r"/2/tweets/(\d+)",
                "GET /2/tweets/:id",
                self.lookup_one,
                frozenset({"tweet.read"}),
            ),
            (
                "DELETE",
                r"/2/tweets/(\d+)",
                "DELETE /2/tweets/:id",
                self.delete,
                frozenset({"tweet.write"}),
            ),
            (
                "GET",
                r"/2/users/(\d+)/tweets",
                "GET /2/users/:id/tweets",
                self.timeline,
                frozenset({"tweet.read", "users.read"}),
            ),
            (
                "GET",
                r"/2/users/(\d+)/mentions",
                "GET /2/users/:id/mentions",
                self.mentions,
                frozenset({"tweet.read", "users.read"}),
            ),
            (
                "POST",
                r"/2/media/upload/initialize",
                "POST /2/media/upload/initialize",
                self.media_init,
                frozenset({"media.write"}),
            ),
            (
                "POST",
                r"/2/media/upload/(\d+)/append",
                "POST /2/media/upload/:id/append",
                self.media_append,
                frozenset({"media.write"}),
            ),
            (
                "POST",
                r"/2/media/upload/(\d+)/finalize",
                "POST /2/media/upload/:id/finalize",
                self.media_finalize,
                frozenset({"media.write"}),
            ),
            (
                "GET",
                r"/2/media/upload",
                "GET /2/media/upload",
                self.media_status,
                frozenset({"media.write"}),
            ),
            (
                "POST",
                r"/2/media/metadata",
                "POST /2/media/metadata",
                self.media_metadata,
                frozenset({"media.write"}),
            ),
        ]
        for route_method, pattern, endpoint, handler, scopes in table:
            match = re.fullmatch(pattern, path)
            if route_method != method or match is None:
                continue
            token = self.authenticate(headers, scopes)
            window = self.count(token.user_id, endpoint)
            body = json.loads(raw) if raw and "json" in headers.get("content-type", "") else None
            status, answer = handler(token, q, body, headers, raw, *match.groups())
            return status, answer, window
        raise problem(404, "Not Found Error", f"No route for {method} {path}")

    def authenticate(self, headers: Any, scopes: frozenset[str]) -> Token:
        value = headers.get("authorization", "")
        if not value.startswith("Bearer "):
            raise problem(401, "Unauthorized", "Unauthorized")
        with self.fake.lock:
            token = self.fake.tokens.get(value[len("Bearer ") :])
        if token is None or token.expires < time.time():
            raise problem(401, "Unauthorized", "Unauthorized")
        missing = scopes - token.scopes
        if missing:
            raise problem(
                403,
                "Forbidden",
                "You are not permitted to perform this action. Missing scope: "
                + ", ".join(sorted(missing)),
            )
        return token

    def count(self, user_id: str, endpoint: str) -> dict[str, str]:
        """The x-rate-limit-* headers, and a 429 once the window is spent."""
        limit = self.fake.limits.get(endpoint, 900)
        now = time.time()
        with self.fake.lock:
            used, start = self.fake.used.get((user_id, endpoint), (0, now))
            if now - start >= self.fake.window_seconds:
                used, start = 0, now
            reset = int(start + self.fake.window_seconds)
            if used >= limit:
                raise Answer(
                    429,
                    {
                        "title": "Too Many Requests",
                        "detail": "Too Many Requests",
                        "type": "about:blank",
                        "status": 429,
                    },
                    {
                        "x-rate-limit-limit": str(limit),
                        "x-rate-limit-remaining": "0",
                        "x-rate-limit-reset": str(reset),
                    },
                )
            used += 1
            self.fake.used[(user_id, endpoint)] = (used, start)
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(limit - used),
            "x-rate-limit-reset": str(reset),
        }

    def fields(self, q: dict[str, str]) -> set[str]:
        return set(filter(None, q.get("tweet.fields", "").split(",")))

    def visible(self, post: Post, fields: set[str], viewer: str) -> dict[str, Any]:
        private = {"non_public_metrics", "organic_metrics"} & fields
        if private:
            if not self.fake.private_metrics:
                raise problem(
                    403,
                    "Client Forbidden",
                    "This request must be made using an approved developer account that is "
                    "enrolled in the requested endpoint.",
                    PROBLEMS + "client-forbidden",
                    reason="client-not-enrolled",
                )
            if post.author_id != viewer or post.created_at < datetime.now(UTC) - timedelta(days=30):
                raise problem(
                    400,
                    "Invalid Request",
                    "One or more parameters to your request was invalid.",
                    PROBLEMS + "invalid-request",
                    errors=[
                        {
                            "message": "non_public_metrics and organic_metrics are only "
                            "available for the authenticated user's Tweets created in the "
                            "last 30 days",
                            "parameters": {"tweet.fields": sorted(private)},
                        }
                    ],
                )
        return self.fake.post_json(post, fields, viewer=viewer)

    # -- OAuth ----------------------------------------------------------------

    def token(self, headers: Any, raw: bytes) -> tuple[int, Any, dict[str, str]]:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if headers.get("authorization", "") != f"Basic {expected}":
            return (
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Missing valid authorization header",
                },
                {},
            )
        if "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
            return 400, {"error": "invalid_request", "error_description": "Content-Type"}, {}
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        fake = self.fake
        with fake.lock:
            if form.get("grant_type") == "authorization_code":
                code = fake.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                challenge = (
                    base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                    .rstrip(b"=")
                    .decode()
                )
                if (
                    code is None
                    or code["challenge"] != challenge
                    or code["redirect_uri"] != form.get("redirect_uri")
                ):
                    return (
                        400,
                        {
                            "error": "invalid_request",
                            "error_description": (
                                "Value passed for the authorization code was invalid."
                            ),
                        },
                        {},
                    )
                return 200, fake.issue(fake.users[code["user_id"]], code["scopes"]), {}
            if form.get("grant_type") == "refresh_token":
                old = fake.refresh_tokens.pop(form.get("refresh_token", ""), None)
                if old is None:
                    return (
                        400,
                        {
                            "error": "invalid_request",
                            "error_description": "Value passed for the token was invalid.",
                        },
                        {},
                    )
                # Rotation: the refresh token just used is gone, a new one comes back.
                return 200, fake.issue(fake.users[old.user_id], old.scopes), {}
        return 400, {"error": "unsupported_grant_type", "error_description": "grant_type"}, {}

    # -- users ----------------------------------------------------------------

    def me(self, token: Token, q: dict[str, str], *rest: Any) -> tuple[int, Any]:
        user = self.fake.users[token.user_id]
        data = self.fake.user_json(user)
        if "public_metrics" not in q.get("user.fields", ""):
            data.pop("public_metrics")
        return 200, {"data": data}

    # -- posts ----------------------------------------------------------------

    def create(self, token: Token, q: dict[str, str], body: Any, *rest: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise invalid("The request body must be JSON.")
        fake = self.fake
        text = body.get("text")
        media_ids = (body.get("media") or {}).get("media_ids") or []
        if not text and not media_ids:
            raise invalid("$.text or $.media must be present.")
        from minbar.connectors.x.text import parse_tweet

        if text and parse_tweet(text).weighted_length > 280:
            # X's exact answer to an over-long text is not documented; an invalid request.
            raise invalid("Your Tweet text is too long.", text=[text[:50]])
        reply_to = str((body.get("reply") or {}).get("in_reply_to_tweet_id") or "")
        quote = str(body.get("quote_tweet_id") or "")
        # https://docs.x.com/x-api/posts/create-post: reply_settings is one of these.
        reply_settings = body.get("reply_settings")
        if reply_settings is not None and reply_settings not in REPLY_SETTINGS:
            raise invalid(
                f"$.reply_settings: does not have a value in the enumeration {list(REPLY_SETTINGS)}"
            )
        with fake.lock:
            for media_id in media_ids:
                media = fake.media.get(str(media_id))
                if media is None or not media.finalized or media.polls_left > 0 or media.fail_with:
                    raise invalid(
                        f"Your media IDs are invalid: {media_id}",
                        **{"media.media_ids": [str(media_id)]},
                    )
            for other in (reply_to, quote):
                if other and other not in fake.posts:
                    raise invalid(
                        "The Tweet you are replying to or quoting was not found or deleted."
                    )
            if text and any(
                p.author_id == token.user_id and _plain(p, fake) == text
                for p in fake.posts.values()
            ):
                raise problem(403, "Forbidden", DUPLICATE)
            post = fake._create(
                token.user_id, text or "", reply_to=reply_to, quote=quote, media_ids=media_ids
            )
            if reply_settings:
                post.reply_settings = reply_settings
        return 201, {
            "data": {"id": post.id, "text": post.text, "edit_history_tweet_ids": [post.id]}
        }

    def delete(
        self, token: Token, q: dict[str, str], body: Any, headers: Any, raw: bytes, post_id: str
    ) -> tuple[int, Any]:
        with self.fake.lock:
            post = self.fake.posts.get(post_id)
            if post is None:
                raise problem(
                    404,
                    "Not Found Error",
                    f"Could not find tweet with id: [{post_id}].",
                    PROBLEMS + "resource-not-found",
                )
            if post.author_id != token.user_id:
                raise problem(
                    403, "Forbidden", "You are not allowed to delete a Tweet that is not yours."
                )
            del self.fake.posts[post_id]
        return 200, {"data": {"deleted": True}}

    def _not_found(self, post_id: str) -> dict[str, Any]:
        return {
            "value": post_id,
            "detail": f"Could not find tweet with id: [{post_id}].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "id",
            "resource_id": post_id,
            "type": PROBLEMS + "resource-not-found",
        }

    def lookup_one(
        self, token: Token, q: dict[str, str], body: Any, headers: Any, raw: bytes, post_id: str
    ) -> tuple[int, Any]:
        with self.fake.lock:
            post = self.fake.posts.get(post_id)
            if post is None:
                return 200, {"errors": [self._not_found(post_id)]}
            return 200, {"data": self.visible(post, self.fields(q), token.user_id)}

    def lookup_many(self, token: Token, q: dict[str, str], *rest: Any) -> tuple[int, Any]:
        ids = [i for i in q.get("ids", "").split(",") if i]
        if not ids or len(ids) > 100:
            raise invalid("ids must hold 1 to 100 ids.", ids=[q.get("ids", "")])
        with self.fake.lock:
            data = [
                self.visible(self.fake.posts[i], self.fields(q), token.user_id)
                for i in ids
                if i in self.fake.posts
            ]
            errors = [self._not_found(i) for i in ids if i not in self.fake.posts]
        answer: dict[str, Any] = {}
        if data:
            answer["data"] = data
        if errors:
            answer["errors"] = errors
        return 200, answer

    def _page(
        self, posts: list[Post], q: dict[str, str], viewer: str, default: int = 10
    ) -> dict[str, Any]:
        """Newest first, max_results per page, next_token to go on; includes.users."""
        size = int(q.get("max_results") or default)
        if not 5 <= size <= 100:
            raise invalid("max_results must be between 5 and 100.", max_results=[str(size)])
        posts = sorted(posts, key=lambda p: int(p.id), reverse=True)
        offset = int(q.get("pagination_token") or q.get("next_token") or 0)
        chunk = posts[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if chunk:
            meta["newest_id"], meta["oldest_id"] = chunk[0].id, chunk[-1].id
        if offset + size < len(posts):
            meta["next_token"] = str(offset + size)
        answer: dict[str, Any] = {"meta": meta}
        if chunk:
            answer["data"] = [self.visible(p, self.fields(q), viewer) for p in chunk]
            if "author_id" in q.get("expansions", ""):
                authors = {p.author_id for p in chunk}
                answer["includes"] = {
                    "users": [self.fake.user_json(self.fake.users[a]) for a in authors]
                }
        return answer

    def timeline(
        self, token: Token, q: dict[str, str], body: Any, headers: Any, raw: bytes, user_id: str
    ) -> tuple[int, Any]:
        start = q.get("start_time")
        since = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
        with self.fake.lock:
            posts = [
                p
                for p in self.fake.posts.values()
                if p.author_id == user_id and (since is None or p.created_at >= since)
            ]
            return 200, self._page(posts, q, token.user_id)

    def mentions(
        self, token: Token, q: dict[str, str], body: Any, headers: Any, raw: bytes, user_id: str
    ) -> tuple[int, Any]:
        fake = self.fake
        with fake.lock:
            user = fake.users[user_id]
            since = int(q.get("since_id") or 0)
            posts = [
                p
                for p in fake.posts.values()
                if int(p.id) > since
                and p.author_id != user_id
                and (
                    f"@{user.username}".lower() in p.text.lower()
                    or p.in_reply_to_user_id == user_id
                )
            ]
            return 200, self._page(posts, q, token.user_id)

    def search(self, token: Token, q: dict[str, str], *rest: Any) -> tuple[int, Any]:
        query = q.get("query", "")
        if not query or len(query) > 512:
            raise invalid("query must be 1 to 512 characters.", query=[query])
        words = [w.lower() for w in query.split() if not w.startswith("-")]
        week = datetime.now(UTC) - timedelta(days=7)
        with self.fake.lock:
            posts = [
                p
                for p in self.fake.posts.values()
                if p.created_at >= week and all(w in p.text.lower() for w in words)
            ]
            return 200, self._page(posts, q, token.user_id)

    def hide(
        self, token: Token, q: dict[str, str], body: Any, headers: Any, raw: bytes, post_id: str
    ) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("hidden"), bool):
            raise invalid("$.hidden must be a boolean.")
        with self.fake.lock:
            post = self.fake.posts.get(post_id)
            if post is None:
                raise problem(
                    404,
                    "Not Found Error",
                    f"Could not find tweet with id: [{post_id}].",
                    PROBLEMS + "resource-not-found",
                )
            root = self.fake.posts.get(post.conversation_id)
            if not post.in_reply_to_user_id or root is None or root.author_id != token.user_id:
                raise problem(
                    403,
                    "Forbidden",
                    "You cannot hide or unhide replies to conversations you do not own.",
                )
            post.hidden = bool(body["hidden"])
        return 200, {"data": {"hidden": post.hidden}}

    # -- media ----------------------------------------------------------------

    def media_init(self, token: Token, q: dict[str, str], body: Any, *rest: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise invalid("The request body must be JSON.")
        media_type = str(body.get("media_type") or "")
        total = body.get("total_bytes")
        category = str(body.get("media_category") or "")
        if media_type not in {
            "image/jpeg",
            "image/png",
            "image/webp",
            "image/gif",
            "video/mp4",
            "video/quicktime",
        }:
            raise invalid(f"media_type {media_type} is not supported.")
        if not isinstance(total, int) or total <= 0:
            raise invalid("total_bytes must be a positive integer.")
        if category not in {"tweet_image", "tweet_gif", "tweet_video"}:
            raise invalid(f"media_category {category} is not supported.")
        fake = self.fake
        with fake.lock:
            media = Media(fake.new_id(), media_type, total, category, owner=token.user_id)
            if category != "tweet_image":
                media.polls_left = fake.media_polls
                media.fail_with = fake.media_failure
            fake.media[media.id] = media
        return 200, {
            "data": {"id": media.id, "media_key": f"3_{media.id}", "expires_after_secs": 86400}
        }

    def media_append(
        self, token: Token, q: dict[str, str], body: Any, headers: Any, raw: bytes, media_id: str
    ) -> tuple[int, Any]:
        fields = _multipart(headers, raw)
        if "segment_index" not in fields or "media" not in fields:
            raise invalid("segment_index and media are required.")
        with self.fake.lock:
            media = self.fake.media.get(media_id)
            if media is None or media.owner != token.user_id:
                raise invalid("Unknown media_id.")
            media.received[int(fields["segment_index"])] = len(fields["media"])
        return 200, {"data": {"expires_at": int(time.time()) + 86400}}

    def media_finalize(
        self, token: Token, q: dict[str, str], body: Any, headers: Any, raw: bytes, media_id: str
    ) -> tuple[int, Any]:
        with self.fake.lock:
            media = self.fake.media.get(media_id)
            if media is None or media.owner != token.user_id:
                raise invalid("Unknown media_id.")
            got = sum(media.received.values())
            if got != media.total_bytes or sorted(media.received) != list(
                range(len(media.received))
            ):
                raise invalid(
                    f"File size mismatch: {got} bytes received, {media.total_bytes} declared."
                )
            media.finalized = True
            data: dict[str, Any] = {
                "id": media.id,
                "media_key": f"3_{media.id}",
                "size": got,
                "expires_after_secs": 86400,
            }
            if media.category != "tweet_image":
                data["processing_info"] = {"state": "pending", "check_after_secs": 0}
        return 200, {"data": data}

    def media_status(self, token: Token, q: dict[str, str], *rest: Any) -> tuple[int, Any]:
        if q.get("command") != "STATUS":
            raise invalid("command must be STATUS.")
        with self.fake.lock:
            media = self.fake.media.get(q.get("media_id", ""))
            if media is None or not media.finalized:
                raise invalid("Unknown media_id.")
            if media.fail_with:
                info: dict[str, Any] = {
                    "state": "failed",
                    "progress_percent": 12,
                    "error": {"code": 1, "name": "InvalidMedia", "message": media.fail_with},
                }
            elif media.polls_left > 0:
                media.polls_left -= 1
                info = {"state": "in_progress", "check_after_secs": 0, "progress_percent": 50}
            else:
                info = {"state": "succeeded", "progress_percent": 100}
        return 200, {
            "data": {"id": media.id, "media_key": f"3_{media.id}", "processing_info": info}
        }

    def media_metadata(
        self, token: Token, q: dict[str, str], body: Any, *rest: Any
    ) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise invalid("The request body must be JSON.")
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        with self.fake.lock:
            media = self.fake.media.get(str(body.get("id") or ""))
            if media is None or not isinstance(alt, str) or len(alt) > 1000:
                raise invalid(
                    "id and metadata.alt_text.text (at most 1000 characters) are required."
                )
            media.alt_text = alt
        return 200, {"data": {"associated_metadata": {"alt_text": {"text": alt}}, "id": media.id}}


def _plain(post: Post, fake: FakeX) -> str:
    """A post's text as written (t.co links back to their addresses)."""
    text = post.text
    for url in post.urls:
        text = text.replace(url["url"], url["expanded_url"])
    return text


def authorize_query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
