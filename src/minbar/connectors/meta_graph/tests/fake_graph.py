"""A local, stateful stand-in for Meta's Graph API (Facebook Pages and Instagram).

No test server exists for the Graph API, so this fake reproduces what the
official documentation specifies, on a real loopback HTTP server (timeouts and
dropped connections can be tested). One server plays every Meta host
(graph.facebook.com, graph-video.facebook.com, graph.instagram.com,
api.instagram.com): the connectors send everything to ``MINBAR_<NETWORK>_API_URL``.

What it checks, and where the rule comes from:

* versioned paths ``/v26.0/...`` — https://developers.facebook.com/docs/graph-api/guides/versioning;
  unversioned only for Instagram's token endpoints (``/oauth/access_token`` on
  api.instagram.com, ``/access_token`` and ``/refresh_access_token`` on graph.instagram.com:
  https://developers.facebook.com/documentation/instagram-platform/reference/access_token,
  https://developers.facebook.com/documentation/instagram-platform/reference/refresh_access_token);
* ``access_token`` on every call, and ``appsecret_proof`` = HMAC-SHA256(app secret,
  token) when the app requires it — https://developers.facebook.com/docs/graph-api/securing-requests;
* the permissions each endpoint needs (Pages API and Instagram Platform references,
  e.g. https://developers.facebook.com/docs/pages-api/posts,
  https://developers.facebook.com/docs/instagram-platform/content-publishing/);
* Facebook Login: ``/dialog/oauth`` parameters, the code exchange and
  ``fb_exchange_token`` — https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow,
  https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived;
* Instagram Login: ``/oauth/authorize``, the form-encoded code exchange answering
  ``{"data": [{"access_token", "user_id", "permissions"}]}``, ``ig_exchange_token``
  and ``ig_refresh_token`` — https://developers.facebook.com/documentation/instagram-platform/instagram-api-with-instagram-login/business-login;
* errors in Meta's envelope ``{"error": {"message", "type", "code",
  "error_subcode", "fbtrace_id"}}`` — https://developers.facebook.com/docs/graph-api/guides/error-handling;
* usage headers (``X-App-Usage``, ``X-Business-Use-Case-Usage``) as test-set JSON —
  https://developers.facebook.com/docs/graph-api/overview/rate-limiting;
* Instagram containers: Meta fetches ``image_url``/``video_url`` ("We cURL media
  used in publishing attempts"); images are FINISHED at once, videos IN_PROGRESS
  for a few status reads; ``status_code`` values IN_PROGRESS, FINISHED, ERROR,
  EXPIRED, PUBLISHED — https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container;
  ``media_publish`` refuses a container that is not FINISHED (code 9007, subcode
  2207027) and counts against ``content_publishing_limit`` (``quota_usage``,
  ``config.quota_total``, ``config.quota_duration``) —
  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/content_publishing_limit;
* Messenger / Instagram messaging: ``messaging_type`` and ``recipient`` required,
  answers only within 24 hours of the person's last message (code 10, subcode
  2018278) — https://developers.facebook.com/docs/messenger-platform/reference/send-api/.

What it does not do: field expansion beyond returning whole objects (asking for
``from{id,name}`` gets ``from`` in full), real paging (one page, ``paging.next``
absent), or verifying webhook callback URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

VERSION = "v26.0"
APP_ID = "1111"
APP_SECRET = "fb-app-secret"
IG_APP_ID = "2222"
IG_APP_SECRET = "ig-app-secret"
HANG_SECONDS = 2.0


class GraphFault(Exception):
    def __init__(self, status: int, code: int, message: str, subcode: int | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.subcode = status, code, message, subcode


def envelope(code: int, message: str, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": secrets.token_hex(6),
        **extra,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def meta_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Token:
    value: str
    kind: str  # "user", "page", "ig_user", "app"
    owner: str  # user id, page id or IG user id
    scopes: frozenset[str]
    expires_at: datetime | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int = 400
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    count: int = 1
    # "answer" (the fault's response, nothing done), "after" (do the work, then answer
    # with the fault), "hang" (do nothing and never answer in time), "drop" (close).
    mode: str = "answer"


class FakeGraph:
    """The server, its state, and helpers for tests to act as people and as Meta."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ids = itertools.count(17841400000000001)
        self.nodes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.usage_headers: dict[str, str] = {}
        self.require_proof = True
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.video_polls = 2  # status reads before a video container is FINISHED
        self.container_outcome = "FINISHED"  # or "ERROR" / "EXPIRED"
        self.publish_quota = 50
        self.subscriptions: list[dict[str, str]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        for app_id, app_secret in ((APP_ID, APP_SECRET), (IG_APP_ID, IG_APP_SECRET)):
            value = f"{app_id}|{app_secret}"
            self.tokens[value] = Token(value, "app", app_id, frozenset())

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> FakeGraph:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                fake.handle(self, "GET")

            def do_POST(self) -> None:
                fake.handle(self, "POST")

            def do_DELETE(self) -> None:
                fake.handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.usage_headers.clear()

    # -- people and accounts (what happens outside the API) --------------------

    def new_id(self) -> str:
        return str(next(self.ids))

    def add_user(self, name: str) -> str:
        user_id = self.new_id()
        self.users[user_id] = {"id": user_id, "name": name, "pages": []}
        return user_id

    def add_page(
        self,
        owner: str,
        name: str,
        *,
        tasks: tuple[str, ...] = ("MANAGE", "CREATE_CONTENT", "MODERATE", "MESSAGING", "ANALYZE"),
        instagram: str = "",
        followers: int = 120,
    ) -> str:
        page_id = self.new_id()
        page = {
            "type": "page",
            "id": page_id,
            "name": name,
            "link": f"https://www.facebook.com/{page_id}",
            "followers_count": followers,
            "fan_count": followers,
            "tasks": list(tasks),
            "instagram": "",
            "posts": [],
            "tagged": [],
            "conversations": {},
            "insights": {"page_media_view": 500, "page_total_media_view_unique": 300},
        }
        self.nodes[page_id] = page
        self.users[owner]["pages"].append(page_id)
        if instagram:
            page["instagram"] = self.add_instagram(instagram, page_id=page_id)
        return page_id

    def add_instagram(self, username: str, *, page_id: str = "") -> str:
        ig_id = self.new_id()
        self.nodes[ig_id] = {
            "type": "ig_user",
            "id": ig_id,
            "user_id": ig_id,
            "username": username,
            "name": username.title(),
            "followers_count": 340,
            "follows_count": 12,
            "page_id": page_id,
            "media": [],
            "tags": [],
            "conversations": {},
            "published": [],  # publish times, for the 24-hour limit
            "insights": {"reach": 50, "views": 400, "profile_views": 9},
        }
        return ig_id

    def post_as_fan(self, page_id: str, message: str) -> str:
        """A visitor's post that tags the Page (shows on /{page-id}/tagged)."""
        post_id = f"{self.new_id()}_{self.new_id()}"
        self.nodes[post_id] = {
            "type": "post",
            "id": post_id,
            "message": message,
            "created_time": meta_time(datetime.now(UTC)),
            "from": {"id": self.new_id(), "name": "A Fan"},
            "permalink_url": f"https://www.facebook.com/{post_id}",
        }
        self.nodes[page_id]["tagged"].insert(0, post_id)
        return post_id

    def comment_as(
        self,
        target: str,
        text: str,
        *,
        who: tuple[str, str] = ("9001", "Sara"),
        at: datetime | None = None,
    ) -> str:
        """Someone comments on a post or media (or replies to a comment)."""
        node = self.nodes[target]
        comment_id = self.new_id()
        moment = at or datetime.now(UTC)
        parent = node if node["type"] == "comment" else None
        root = self.nodes[parent["on"]] if parent else node
        comment: dict[str, Any] = {
            "type": "comment",
            "id": comment_id,
            "on": root["id"],
            "created_time": meta_time(moment),
            "timestamp": meta_time(moment),
            "from": {"id": who[0], "name": who[1], "username": who[1].lower()},
            "username": who[1].lower(),
            "message": text,
            "text": text,
            "is_hidden": False,
            "hidden": False,
            "replies": [],
        }
        if parent:
            comment["parent"] = {"id": parent["id"]}
            comment["parent_id"] = parent["id"]
            parent["replies"].append(comment_id)
        root.setdefault("comments", []).append(comment_id)
        self.nodes[comment_id] = comment
        return comment_id

    def message_as(self, owner: str, sender: str, text: str, *, at: datetime | None = None) -> str:
        """A person writes to a Page (Messenger) or an Instagram account."""
        node = self.nodes[owner]
        conversation_id = node["conversations"].get(sender)
        if conversation_id is None:
            conversation_id = "t_" + self.new_id()
            node["conversations"][sender] = conversation_id
            self.nodes[conversation_id] = {
                "type": "conversation",
                "id": conversation_id,
                "messages": [],
                "updated_time": "",
            }
        return self._add_message(conversation_id, {"id": sender, "username": "fan"}, text, at)

    def _add_message(
        self, conversation_id: str, sender: dict[str, str], text: str, at: datetime | None
    ) -> str:
        moment = at or datetime.now(UTC)
        message_id = "m_" + self.new_id()
        self.nodes[message_id] = {
            "type": "message",
            "id": message_id,
            "message": text,
            "created_time": meta_time(moment),
            "from": sender,
        }
        conversation = self.nodes[conversation_id]
        conversation["messages"].insert(0, message_id)
        conversation["updated_time"] = meta_time(moment)
        return message_id

    def host_file(self, content: bytes, mime: str) -> str:
        name = secrets.token_hex(8)
        self.files[name] = (content, mime)
        return f"{self.url}/_files/{name}"

    # -- sign-in helpers (what the person does in Meta's window) ---------------

    def approve_facebook(
        self, dialog_url: str, user_id: str, *, grant: set[str] | None = None
    ) -> dict[str, str]:
        """Be the person in Facebook's dialog: check its parameters, answer with a code."""
        parts = urlsplit(dialog_url)
        assert parts.path == f"/{VERSION}/dialog/oauth", parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query["client_id"] == APP_ID
        assert query["response_type"] == "code"
        scopes = set(query["scope"].split(","))
        code = secrets.token_urlsafe(12)
        self.codes[code] = {
            "kind": "facebook",
            "user": user_id,
            "scopes": frozenset(scopes if grant is None else scopes & grant),
            "redirect_uri": query["redirect_uri"],
        }
        return {"code": code, "state": query["state"]}

    def approve_instagram(self, authorize_url: str, ig_id: str) -> dict[str, str]:
        parts = urlsplit(authorize_url)
        assert parts.path == "/oauth/authorize", parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query["client_id"] == IG_APP_ID
        assert query["response_type"] == "code"
        code = secrets.token_urlsafe(12)
        self.codes[code] = {
            "kind": "instagram",
            "user": ig_id,
            "scopes": frozenset(query["scope"].split(",")),
            "redirect_uri": query["redirect_uri"],
        }
        return {"code": code, "state": query["state"]}

    def issue(
        self, kind: str, owner: str, scopes: frozenset[str], *, days: int | None = None
    ) -> str:
        value = f"EAA{kind}{secrets.token_urlsafe(16)}"
        expires = datetime.now(UTC) + timedelta(days=days) if days else None
        self.tokens[value] = Token(value, kind, owner, scopes, expires)
        return value

    def revoke_all(self) -> None:
        """Every user, Page and Instagram token stops working (app tokens stay)."""
        self.tokens = {k: t for k, t in self.tokens.items() if t.kind == "app"}

    # -- faults -----------------------------------------------------------------

    def fail(
        self,
        method: str,
        path: str,
        *,
        status: int = 400,
        code: int | None = None,
        message: str = "",
        subcode: int | None = None,
        headers: dict[str, str] | None = None,
        mode: str = "answer",
        count: int = 1,
        body: dict[str, Any] | None = None,
    ) -> None:
        if body is None and code is not None:
            body = envelope(code, message or f"(#{code}) error", subcode)
        with self.lock:
            self.faults.append(
                Fault(method, re.compile(path), status, body, headers or {}, count, mode)
            )

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.method == method and fault.path.search(path) and fault.count > 0:
                    fault.count -= 1
                    return fault
        return None

    # -- HTTP -------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        files: dict[str, bytes] = {}
        content_type = handler.headers.get("Content-Type") or ""
        if raw and content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(
                b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
            )
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                decoded = part.get_payload(decode=True)
                payload = decoded if isinstance(decoded, bytes) else b""
                if part.get_filename():
                    files[str(name)] = payload
                else:
                    params[str(name)] = payload.decode()
        elif raw:
            params.update(
                {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
            )
        path = parts.path
        if path.startswith("/_files/"):  # media Meta fetches: served without the state lock
            stored = self.files.get(path.rsplit("/", 1)[-1])
            if stored is None:
                return self._send(handler, 404, {"error": "no such file"})
            return self._send(handler, 200, stored)
        header = handler.headers.get("Authorization") or ""
        if header.startswith("Bearer ") and "access_token" not in params:
            # Graph takes the token in the Authorization header as well as in access_token.
            params["access_token"] = header[len("Bearer ") :]
        with self.lock:
            self.requests.append((method, path, dict(params)))
        fault = self._fault_for(method, path)
        if fault is not None and fault.mode == "drop":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return None
        if fault is not None and fault.mode == "answer":
            return self._send(handler, fault.status, fault.body or {}, fault.headers)
        try:
            with self.lock:
                status, body = self.route(method, path, params, files)
        except GraphFault as exc:
            status, body = exc.status, envelope(exc.code, exc.message, exc.subcode)
        if fault is not None and fault.mode == "hang":
            # The work is done, the answer comes too late: the caller cannot know.
            time.sleep(HANG_SECONDS)
        if fault is not None and fault.mode == "after":
            return self._send(handler, fault.status, fault.body or {}, fault.headers)
        return self._send(handler, status, body)

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        if isinstance(body, tuple):  # a hosted file
            data, mime = body
        else:
            data, mime = json.dumps(body).encode(), "application/json"
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", mime)
            handler.send_header("Content-Length", str(len(data)))
            for name, value in {**self.usage_headers, **(headers or {})}.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the caller gave up waiting ("hang" faults)

    # -- auth -------------------------------------------------------------------

    def _token(self, params: dict[str, str]) -> Token:
        value = params.get("access_token", "")
        token = self.tokens.get(value)
        if token is None:
            raise GraphFault(
                400, 190, "Invalid OAuth access token - Cannot parse access token", 467
            )
        if token.expires_at is not None and token.expires_at < datetime.now(UTC):
            raise GraphFault(400, 190, "Error validating access token: Session has expired", 463)
        if self.require_proof and token.kind in ("user", "page"):
            expected = hmac.new(APP_SECRET.encode(), value.encode(), hashlib.sha256).hexdigest()
            if params.get("appsecret_proof") != expected:
                raise GraphFault(400, 100, "Invalid appsecret_proof provided in the API argument")
        return token

    @staticmethod
    def _need(token: Token, *alternatives: str) -> None:
        if not any(scope in token.scopes for scope in alternatives):
            raise GraphFault(
                403,
                200,
                f"(#200) Requires {' or '.join(alternatives)} permission to manage the object",
            )

    # -- routing ----------------------------------------------------------------

    def route(
        self, method: str, path: str, params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        if path == "/oauth/access_token" and method == "POST":
            return self._instagram_code_exchange(params)
        if path in ("/access_token", "/refresh_access_token"):
            return self._instagram_long_lived(path, params)
        prefix = f"/{VERSION}/"
        if not path.startswith(prefix):
            raise GraphFault(400, 2635, "Unknown or unsupported API version in the path")
        segments = path[len(prefix) :].strip("/").split("/")
        if segments == ["oauth", "access_token"]:
            return self._facebook_token(params)
        token = self._token(params)
        handler = self._handler(method, segments)
        if handler is None:
            raise GraphFault(400, 100, f"Unsupported {method} request.", 33)
        return handler(token, segments, params, files)

    def _handler(self, method: str, segments: list[str]) -> Callable[..., tuple[int, Any]] | None:
        if segments[0] == "me":
            segments[0] = ""  # resolved per token below
        if len(segments) == 1:
            return {
                "GET": self._get_node,
                "POST": self._update_node,
                "DELETE": self._delete_node,
            }.get(method)
        edge = segments[1]
        return getattr(self, f"_{method.lower()}_{edge}", None)

    def _resolve(self, token: Token, node_id: str) -> dict[str, Any]:
        node_id = node_id or token.owner
        node = self.nodes.get(node_id)
        if node is None:
            if node_id in self.users and token.kind == "user":
                return {"type": "user", **self.users[node_id]}
            raise GraphFault(
                400,
                100,
                f"Unsupported get request. Object with ID '{node_id}' does not exist, cannot be "
                "loaded due to missing permissions, or does not support this operation",
                33,
            )
        return node

    # -- Facebook Login -----------------------------------------------------------

    def _facebook_token(self, params: dict[str, str]) -> tuple[int, Any]:
        if params.get("client_id") != APP_ID or params.get("client_secret") != APP_SECRET:
            raise GraphFault(400, 1, "Error validating client secret.")
        if params.get("grant_type") == "fb_exchange_token":
            short = self.tokens.get(params.get("fb_exchange_token", ""))
            if short is None:
                raise GraphFault(400, 190, "Invalid OAuth access token.", 467)
            value = self.issue("user", short.owner, short.scopes, days=60)
            return 200, {"access_token": value, "token_type": "bearer", "expires_in": 5183944}
        grant = self.codes.pop(params.get("code", ""), None)
        if grant is None or grant["kind"] != "facebook":
            raise GraphFault(400, 100, "This authorization code has been used.", 36009)
        if params.get("redirect_uri") != grant["redirect_uri"]:
            raise GraphFault(
                400,
                100,
                "Error validating verification code. Please make sure "
                "your redirect_uri is identical to the one you used in the OAuth "
                "dialog request",
                36008,
            )
        value = self.issue("user", grant["user"], grant["scopes"], days=0)
        self.tokens[value].expires_at = datetime.now(UTC) + timedelta(hours=1)
        return 200, {"access_token": value, "token_type": "bearer", "expires_in": 3600}

    # -- Instagram Login ----------------------------------------------------------

    def _instagram_code_exchange(self, params: dict[str, str]) -> tuple[int, Any]:
        if params.get("client_id") != IG_APP_ID or params.get("client_secret") != IG_APP_SECRET:
            return 400, {
                "error_type": "OAuthException",
                "code": 400,
                "error_message": "Invalid platform app",
            }
        if params.get("grant_type") != "authorization_code":
            return 400, {
                "error_type": "OAuthException",
                "code": 400,
                "error_message": "Invalid grant_type",
            }
        grant = self.codes.pop(params.get("code", ""), None)
        if (
            grant is None
            or grant["kind"] != "instagram"
            or params.get("redirect_uri") != grant["redirect_uri"]
        ):
            return 400, {
                "error_type": "OAuthException",
                "code": 400,
                "error_message": "Error validating verification code",
            }
        value = self.issue("ig_user", grant["user"], grant["scopes"])
        self.tokens[value].expires_at = datetime.now(UTC) + timedelta(hours=1)
        return 200, {
            "data": [
                {
                    "access_token": value,
                    "user_id": grant["user"],
                    "permissions": ",".join(sorted(grant["scopes"])),
                }
            ]
        }

    def _instagram_long_lived(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        token = self._token(params)
        if path == "/access_token":
            if (
                params.get("grant_type") != "ig_exchange_token"
                or params.get("client_secret") != IG_APP_SECRET
            ):
                raise GraphFault(400, 100, "Invalid parameter")
        elif params.get("grant_type") != "ig_refresh_token":
            raise GraphFault(400, 100, "Invalid parameter")
        value = self.issue("ig_user", token.owner, token.scopes, days=60)
        return 200, {"access_token": value, "token_type": "bearer", "expires_in": 5183944}

    # -- nodes --------------------------------------------------------------------

    def _public(self, node: dict[str, Any]) -> dict[str, Any]:
        hidden = {
            "type",
            "on",
            "comments",
            "replies",
            "posts",
            "tagged",
            "conversations",
            "messages",
            "media",
            "tags",
            "published",
            "instagram",
            "tasks",
            "page_id",
            "insights",
            "processing",
            "children",
        }
        data = {k: v for k, v in node.items() if k not in hidden}
        if node["type"] in ("post", "video"):
            comments = [c for c in node.get("comments", []) if c in self.nodes]
            data["comments"] = {"data": [], "summary": {"total_count": len(comments)}}
            data["reactions"] = {"data": [], "summary": {"total_count": node.get("reactions", 0)}}
            if node.get("shares"):
                data["shares"] = {"count": node["shares"]}
        if node["type"] == "comment" and node.get("replies"):
            data["replies"] = {
                "data": [self._public(self.nodes[r]) for r in node["replies"] if r in self.nodes]
            }
        if node["type"] == "ig_media":
            data["comments_count"] = len([c for c in node.get("comments", []) if c in self.nodes])
        return data

    def _get_node(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        node = self._resolve(token, segments[0])
        if node["type"] == "user":
            return 200, {"id": node["id"], "name": node["name"]}
        if node["type"] == "ig_user" and token.kind == "ig_user" and not segments[0]:
            data = self._public(node)
            data["id"] = "app-scoped-" + node["id"]  # /me answers the app-scoped id as id
            return 200, data
        if node["type"] == "container":
            return 200, self._container_status(node)
        return 200, self._public(node)

    def _update_node(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        node = self._resolve(token, segments[0])
        if node["type"] != "comment":
            raise GraphFault(400, 100, "Unsupported post request.", 33)
        if "is_hidden" in params:  # Facebook comments
            self._need(token, "pages_manage_engagement")
            node["is_hidden"] = params["is_hidden"] == "true"
        elif "hide" in params:  # Instagram comments
            self._need(token, "instagram_manage_comments", "instagram_business_manage_comments")
            node["hidden"] = params["hide"] == "true"
        else:
            raise GraphFault(400, 100, "(#100) No fields to update")
        return 200, {"success": True}

    def _delete_node(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        node = self._resolve(token, segments[0])
        if node["type"] == "comment":
            self._need(
                token,
                "pages_manage_engagement",
                "instagram_manage_comments",
                "instagram_business_manage_comments",
            )
        else:
            self._need(token, "pages_manage_posts")
        del self.nodes[node["id"]]
        return 200, {"success": True}

    # -- users and pages --------------------------------------------------------

    def _get_permissions(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        return 200, {"data": [{"permission": p, "status": "granted"} for p in sorted(token.scopes)]}

    def _get_accounts(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        if token.kind != "user":
            raise GraphFault(400, 100, "(#100) Tried accessing nonexisting field (accounts)")
        self._need(token, "pages_show_list")
        pages = []
        for page_id in self.users[token.owner]["pages"]:
            page = self.nodes[page_id]
            entry = {
                "id": page_id,
                "name": page["name"],
                "tasks": page["tasks"],
                "link": page["link"],
                "followers_count": page["followers_count"],
                "access_token": self.issue("page", page_id, token.scopes),
            }
            if page["instagram"] and "instagram_basic" in token.scopes:
                ig = self.nodes[page["instagram"]]
                entry["instagram_business_account"] = {
                    "id": ig["id"],
                    "username": ig["username"],
                    "name": ig["name"],
                    "followers_count": ig["followers_count"],
                }
            pages.append(entry)
        return 200, {"data": pages, "paging": {"cursors": {"before": "b", "after": "a"}}}

    def _page(self, token: Token, node_id: str) -> dict[str, Any]:
        page = self._resolve(token, node_id)
        if page["type"] != "page" or token.kind != "page" or token.owner != page["id"]:
            raise GraphFault(400, 190, "A Page access token is required for this call.", 467)
        return page

    def _new_post(self, page: dict[str, Any], message: str, **extra: Any) -> dict[str, Any]:
        post_id = f"{page['id']}_{self.new_id()}"
        post = {
            "type": "post",
            "id": post_id,
            "message": message,
            "created_time": meta_time(datetime.now(UTC)),
            "permalink_url": f"https://www.facebook.com/{post_id}",
            "from": {"id": page["id"], "name": page["name"]},
            "status_type": "mobile_status_update",
            "insights": {
                "post_media_view": 40,
                "post_total_media_view_unique": 30,
                "post_clicks": 4,
            },
            **extra,
        }
        self.nodes[post_id] = post
        page["posts"].insert(0, post_id)
        return post

    def _post_feed(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        page = self._page(token, segments[0])
        self._need(token, "pages_manage_posts")
        attached = json.loads(params["attached_media"]) if params.get("attached_media") else []
        if not params.get("message") and not params.get("link") and not attached:
            raise GraphFault(400, 100, "(#100) Missing message or attachment")
        for media in attached:
            photo = self.nodes.get(str(media.get("media_fbid")))
            if photo is None or photo.get("published"):
                raise GraphFault(400, 100, "(#100) attached_media must be unpublished photos")
            photo["published"] = True
        recent = [self.nodes[p] for p in page["posts"][:1] if p in self.nodes]
        if recent and params.get("message") and recent[0].get("message") == params["message"]:
            raise GraphFault(400, 506, "Duplicate status message")
        post = self._new_post(page, params.get("message", ""), link=params.get("link"))
        return 200, {"id": post["id"]}

    def _post_photos(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        page = self._page(token, segments[0])
        self._need(token, "pages_manage_posts")
        if "source" not in files and "url" not in params:
            raise GraphFault(400, 324, "(#324) Requires upload file")
        photo_id = self.new_id()
        published = params.get("published", "true") != "false"
        self.nodes[photo_id] = {"type": "photo", "id": photo_id, "published": published}
        if not published:
            return 200, {"id": photo_id}
        post = self._new_post(page, params.get("message", ""), status_type="added_photos")
        return 200, {"id": photo_id, "post_id": post["id"]}

    def _post_videos(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        page = self._page(token, segments[0])
        self._need(token, "pages_manage_posts")
        if "source" not in files and "file_url" not in params:
            raise GraphFault(400, 100, "(#100) No file was uploaded")
        video_id = self.new_id()
        self.nodes[video_id] = {
            "type": "video",
            "id": video_id,
            "description": params.get("description", ""),
            "created_time": meta_time(datetime.now(UTC)),
            "permalink_url": f"/{page['id']}/videos/{video_id}",
            "insights": {
                "total_video_impressions": 90,
                "total_video_impressions_unique": 70,
                "total_video_views": 55,
            },
        }
        return 200, {"id": video_id}

    def _get_published_posts(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        page = self._page(token, segments[0])
        self._need(token, "pages_read_engagement")
        limit = int(params.get("limit") or 25)
        posts = [self._public(self.nodes[p]) for p in page["posts"] if p in self.nodes]
        return 200, {"data": posts[:limit]}

    def _get_tagged(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        page = self._page(token, segments[0])
        self._need(token, "pages_read_user_content")
        return 200, {
            "data": [self._public(self.nodes[p]) for p in page["tagged"] if p in self.nodes]
        }

    def _get_comments(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        node = self._resolve(token, segments[0])
        self._need(
            token,
            "pages_read_engagement",
            "instagram_manage_comments",
            "instagram_business_manage_comments",
            "instagram_basic",
        )
        ids = [c for c in node.get("comments", []) if c in self.nodes]
        comments = [self.nodes[c] for c in ids]
        if node["type"] == "ig_media" or params.get("filter") != "stream":
            comments = [c for c in comments if "parent" not in c]  # top level only
        if params.get("order") == "reverse_chronological":
            comments = list(reversed(comments))
        return 200, {"data": [self._public(c) for c in comments]}

    def _post_comments(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        node = self._resolve(token, segments[0])
        if node["type"] == "ig_media":
            self._need(token, "instagram_manage_comments", "instagram_business_manage_comments")
            owner = self.nodes[node["owner"]]
            who = (owner["id"], owner["username"])
        else:
            self._need(token, "pages_manage_engagement")
            page = self.nodes[token.owner]
            who = (page["id"], page["name"])
        if not params.get("message"):
            raise GraphFault(400, 100, "(#100) Missing message")
        return 200, {"id": self.comment_as(node["id"], params["message"], who=who)}

    def _post_replies(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        node = self._resolve(token, segments[0])
        self._need(token, "instagram_manage_comments", "instagram_business_manage_comments")
        if node["type"] != "comment" or "parent" in node:
            raise GraphFault(400, 100, "(#100) Replies are only allowed on top-level comments")
        owner = self.nodes[self.nodes[node["on"]]["owner"]]
        return 200, {
            "id": self.comment_as(
                node["id"], params["message"], who=(owner["id"], owner["username"])
            )
        }

    def _get_insights(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        node = self._resolve(token, segments[0])
        self._need(
            token,
            "read_insights",
            "instagram_manage_insights",
            "instagram_business_manage_insights",
        )
        if not params.get("metric"):
            raise GraphFault(400, 100, "No metric was specified to be fetched.", 1504028)
        known = node.get("insights") or {}
        data = []
        for metric in params["metric"].split(","):
            if metric in (
                "post_impressions",
                "post_impressions_unique",
                "impressions",
                "video_views",
            ):
                raise GraphFault(
                    400, 100, f"(#100) The value must be a valid insights metric ({metric})"
                )
            if metric in known:
                entry: dict[str, Any] = {
                    "name": metric,
                    "period": params.get("period", "lifetime"),
                    "id": f"{node['id']}/insights/{metric}",
                }
                if params.get("metric_type") == "total_value":
                    entry["total_value"] = {"value": known[metric]}
                else:
                    entry["values"] = [{"value": known[metric]}]
                data.append(entry)
        return 200, {"data": data}

    def _get_video_insights(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        return self._get_insights(token, segments, params, files)

    def _get_conversations(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        owner = self._resolve(token, segments[0])
        self._need(
            token,
            "pages_messaging",
            "instagram_manage_messages",
            "instagram_business_manage_messages",
        )
        if owner["type"] == "page" and params.get("platform") == "instagram":
            owner = self.nodes[owner["instagram"]]
        threads = owner["conversations"]
        if params.get("user_id"):
            ids = [threads[params["user_id"]]] if params["user_id"] in threads else []
        else:
            ids = list(threads.values())
        data = [{"id": c, "updated_time": self.nodes[c]["updated_time"]} for c in ids]
        return 200, {"data": data}

    def _get_messages(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        conversation = self._resolve(token, segments[0])
        return 200, {"data": [self._public(self.nodes[m]) for m in conversation["messages"]]}

    def _post_messages(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        owner = self._resolve(token, segments[0])
        self._need(
            token,
            "pages_messaging",
            "instagram_manage_messages",
            "instagram_business_manage_messages",
        )
        for name in ("recipient", "message", "messaging_type"):
            if name not in params:
                raise GraphFault(400, 100, f"(#100) The parameter {name} is required")
        recipient = json.loads(params["recipient"])["id"]
        text = json.loads(params["message"]).get("text", "")
        target = owner
        if (
            owner["type"] == "page"
            and recipient not in owner["conversations"]
            and owner["instagram"]
        ):
            target = self.nodes[owner["instagram"]]
        conversation_id = target["conversations"].get(recipient)
        if conversation_id is None:
            raise GraphFault(400, 100, "(#100) No matching user found", 2018001)
        last = next(
            (
                self.nodes[m]
                for m in self.nodes[conversation_id]["messages"]
                if self.nodes[m]["from"]["id"] == recipient
            ),
            None,
        )
        moment = datetime.strptime(last["created_time"], "%Y-%m-%dT%H:%M:%S%z") if last else None
        if params["messaging_type"] == "RESPONSE" and (
            moment is None or datetime.now(UTC) - moment > timedelta(hours=24)
        ):
            raise GraphFault(
                400, 10, "(#10) This message is sent outside of allowed window.", 2018278
            )
        message_id = self._add_message(conversation_id, {"id": target["id"]}, text, None)
        return 200, {"recipient_id": recipient, "message_id": message_id}

    def _post_subscribed_apps(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        node = self._resolve(token, segments[0])
        self._need(token, "pages_manage_metadata", "instagram_business_basic")
        if not params.get("subscribed_fields"):
            raise GraphFault(400, 100, "(#100) Param subscribed_fields must be non-empty")
        node["subscribed_fields"] = params["subscribed_fields"].split(",")
        return 200, {"success": True}

    def _post_subscriptions(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        if token.kind != "app" or segments[0] != token.owner:
            raise GraphFault(400, 190, "An app access token is required", 467)
        for name in ("object", "callback_url", "verify_token", "fields"):
            if not params.get(name):
                raise GraphFault(400, 100, f"(#100) The parameter {name} is required")
        self.subscriptions.append(dict(params))
        return 200, {"success": True}

    # -- Instagram publishing -------------------------------------------------------

    def _ig_user(self, token: Token, node_id: str) -> dict[str, Any]:
        node = self._resolve(token, node_id)
        if node["type"] != "ig_user":
            raise GraphFault(400, 100, "Unsupported request", 33)
        allowed = token.owner == node["id"] or (
            token.kind == "page" and token.owner == node["page_id"]
        )
        if not allowed:
            raise GraphFault(400, 10, "(#10) Application does not have permission for this action")
        return node

    def _get_content_publishing_limit(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        user = self._ig_user(token, segments[0])
        now = datetime.now(UTC)
        used = len([t for t in user["published"] if now - t < timedelta(hours=24)])
        return 200, {
            "data": [
                {
                    "quota_usage": used,
                    "config": {"quota_total": self.publish_quota, "quota_duration": 86400},
                }
            ]
        }

    def _post_media(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        user = self._ig_user(token, segments[0])
        self._need(token, "instagram_content_publish", "instagram_business_content_publish")
        media_type = params.get("media_type", "IMAGE")
        if media_type == "CAROUSEL":
            children = [c for c in params.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 10:
                raise GraphFault(
                    400, 100, "(#100) The carousel must have between 2 and 10 children"
                )
            for child in children:
                node = self.nodes.get(child)
                if (
                    node is None
                    or not node.get("is_carousel_item")
                    or node["status_code"] != "FINISHED"
                ):
                    raise GraphFault(400, 9007, "Media ID is not available", 2207027)
            url = ""
        else:
            url = (
                params.get("video_url", "")
                if media_type in ("REELS", "VIDEO") or params.get("video_url")
                else params.get("image_url", "")
            )
            if not url:
                raise GraphFault(
                    400, 100, "(#100) The parameter image_url or video_url is required"
                )
            if media_type == "STORIES" and params.get("caption"):
                raise GraphFault(400, 100, "(#100) Stories do not take a caption")
        fetched = True
        if url:
            try:  # "We cURL media used in publishing attempts"
                fetched = httpx.get(url, timeout=5.0).status_code == 200
            except httpx.HTTPError:
                fetched = False
        container_id = self.new_id()
        is_video = media_type in ("REELS", "VIDEO") or bool(params.get("video_url"))
        self.nodes[container_id] = {
            "type": "container",
            "id": container_id,
            "owner": user["id"],
            "media_type": "VIDEO" if media_type == "REELS" else media_type,
            "media_product_type": {"REELS": "REELS", "STORIES": "STORY"}.get(media_type, "FEED"),
            "caption": params.get("caption", ""),
            "is_carousel_item": params.get("is_carousel_item") == "true",
            "status_code": "IN_PROGRESS" if is_video else self.container_outcome,
            "status": "",
            "processing": self.video_polls if is_video else 0,
        }
        if not fetched:
            self.nodes[container_id]["status_code"] = "ERROR"
            self.nodes[container_id]["status"] = (
                "Error: Media download has failed. The media URI doesn't meet our "
                "requirements. (2207052)"
            )
        elif self.container_outcome == "ERROR" and not is_video:
            self.nodes[container_id]["status"] = (
                "Error: The image format is not supported. (2207026)"
            )
        return 200, {"id": container_id}

    def _container_status(self, node: dict[str, Any]) -> dict[str, Any]:
        if node["status_code"] == "IN_PROGRESS":
            if node["processing"] > 0:
                node["processing"] -= 1
            else:
                node["status_code"] = self.container_outcome
                if self.container_outcome == "ERROR":
                    node["status"] = "Error: The video could not be processed. (2207026)"
        return {"id": node["id"], "status_code": node["status_code"], "status": node["status"]}

    def _post_media_publish(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        user = self._ig_user(token, segments[0])
        self._need(token, "instagram_content_publish", "instagram_business_content_publish")
        container = self.nodes.get(params.get("creation_id", ""))
        if container is None or container["owner"] != user["id"]:
            raise GraphFault(400, 100, "(#100) Invalid creation_id", 33)
        if container["status_code"] != "FINISHED":
            raise GraphFault(400, 9007, "Media ID is not available", 2207027)
        now = datetime.now(UTC)
        if (
            len([t for t in user["published"] if now - t < timedelta(hours=24)])
            >= self.publish_quota
        ):
            raise GraphFault(400, 9, "Application request limit reached", 2207042)
        container["status_code"] = "PUBLISHED"
        media_id = self.new_id()
        self.nodes[media_id] = {
            "type": "ig_media",
            "id": media_id,
            "owner": user["id"],
            "caption": container["caption"],
            "media_type": container["media_type"],
            "media_product_type": container["media_product_type"],
            "timestamp": meta_time(now),
            "permalink": f"https://www.instagram.com/p/{media_id}/",
            "like_count": 7,
            "insights": {
                "views": 100,
                "reach": 80,
                "likes": 7,
                "comments": 0,
                "shares": 2,
                "saved": 3,
            },
        }
        user["published"].append(now)
        if container["media_product_type"] != "STORY":
            user["media"].insert(0, media_id)
        return 200, {"id": media_id}

    def _get_media(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        user = self._ig_user(token, segments[0])
        limit = int(params.get("limit") or 25)
        return 200, {
            "data": [self._public(self.nodes[m]) for m in user["media"] if m in self.nodes][:limit]
        }

    def _get_tags(
        self, token: Token, segments: list[str], params: dict[str, str], files: dict[str, bytes]
    ) -> tuple[int, Any]:
        user = self._ig_user(token, segments[0])
        return 200, {"data": list(user["tags"])}

    # -- Instagram account (IG Login's /me and insights) -------------------------------

    def tag_instagram(self, ig_id: str, caption: str, username: str = "friend") -> str:
        media_id = self.new_id()
        self.nodes[ig_id]["tags"].insert(
            0,
            {
                "id": media_id,
                "caption": caption,
                "username": username,
                "timestamp": meta_time(datetime.now(UTC)),
                "permalink": f"https://www.instagram.com/p/{media_id}/",
            },
        )
        return media_id


def app_token_value() -> str:
    return f"{APP_ID}|{APP_SECRET}"


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def encode(params: dict[str, str]) -> str:
    return urlencode(params)
