"""A stateful local stand-in for Pinterest's OAuth, API v5 and its media storage.

One loopback server plays three hosts (the connector is pointed at it the way
``MINBAR_PINTEREST_API_URL`` would):

* ``/oauth/`` — the consent page of www.pinterest.com (tests call :meth:`FakePinterest.approve`
  instead of clicking), and ``POST /v5/oauth/token`` — HTTP Basic client
  authentication, ``authorization_code`` and ``refresh_token`` grants, continuous
  refresh tokens (60 days, a new one at every refresh), ``expires_in`` 30 days
  (https://developers.pinterest.com/docs/getting-started/set-up-authentication-and-authorization/).
* ``/v5/…`` — ``user_account`` and its ``analytics``; ``boards`` (list with
  ``bookmark`` paging, create, get), ``boards/{id}/sections``, ``boards/{id}/pins``
  and the section's pins; ``pins`` (create, get, delete, ``analytics``); ``media``
  (register, get). Each checks the scopes its operation lists in the reference
  (https://developers.pinterest.com/docs/api/v5/ — the same in
  github.com/pinterest/api-description ``v5/openapi.yaml``), the ``Bearer`` token and
  the documented parameters, and answers the documented resources and the
  ``{"code", "message"}`` errors with the documented codes (2, 8, 29, 40, 50, 233,
  235, 2031 …).
* ``/fake-s3/`` — the storage ``upload_url`` a media registration names: a form
  POST whose fields must be exactly the ``upload_parameters`` handed out, with the
  file last, answering 204 as Amazon S3 does.

Rate limits (https://developers.pinterest.com/docs/reference/rate-limits/): calls are
counted per user and category (``org_read``, ``org_write``, ``org_analytics``) per
minute; past :attr:`FakePinterest.limits` the answer is 429 code 8 with the
reference's message. Trial access (https://developers.pinterest.com/docs/key-concepts/access-tiers/):
with :attr:`FakePinterest.trial` on, creating a Pin answers 403 code 29 with the
message apps with Trial access get.

Faults (:meth:`FakePinterest.fail`) make the next matching request answer an error
(``error``) or be carried out and never answered (``drop``).

What the fake does not know, so the tests cannot prove it either: how Pinterest
decodes and judges images and videos beyond their first bytes, how long video
processing takes, the order in which a board lists Pins beyond "newest first",
and the exact analytics figures.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, urlsplit

from minbar.connectors.testing.fake_http import LoopbackServer, Request, Response

ALL_SCOPES = ("boards:read", "boards:write", "pins:read", "pins:write", "user_accounts:read")
ACCESS_SECONDS = 30 * 86400
REFRESH_SECONDS = 60 * 86400
RATE_LIMIT_MESSAGE = (
    "This request exceeded a rate limit. This can happen if the client exceeds one\n"
    "of the published rate limits or if multiple write operations are applied to\n"
    "an object within a short time window."
)
TRIAL_MESSAGE = (
    "Apps with Trial access may not create Pins in production https://api.pinterest.com "
    "- use API Sandbox https://api-sandbox.pinterest.com instead."
)
PIN_METRIC_TYPES = {
    "IMPRESSION",
    "OUTBOUND_CLICK",
    "PIN_CLICK",
    "SAVE",
    "SAVE_RATE",
    "VIDEO_MRC_VIEW",
    "VIDEO_AVG_WATCH_TIME",
    "VIDEO_V50_WATCH_TIME",
    "QUARTILE_95_PERCENT_VIEW",
    "VIDEO_10S_VIEW",
    "VIDEO_START",
}
ACCOUNT_METRIC_TYPES = PIN_METRIC_TYPES | {"ENGAGEMENT", "ENGAGEMENT_RATE", "OUTBOUND_CLICK_RATE"}
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"


def iso(moment: datetime) -> str:
    """Pinterest's times: UTC without an offset ("2022-10-13T01:40:29")."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


class ApiError(Exception):
    def __init__(
        self, status: int, code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


@dataclass
class Fault:
    verb: str
    path: str  # a prefix of the request path
    kind: str  # "error" or "drop"
    status: int = 500
    code: int = 0
    message: str = "Internal error."
    headers: dict[str, str] = field(default_factory=dict)
    count: int = 1


@dataclass
class User:
    id: str
    username: str
    account_type: str = "BUSINESS"
    business_name: str = ""
    follower_count: int = 0
    following_count: int = 0
    analytics_allowed: bool = True
    impressions: int = 0  # last 30 days, for user_account/analytics


class FakePinterest:
    """The state, and the handlers, of one fake Pinterest."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.client_id = str(1_400_000 + secrets.randbelow(99_999))
        self.client_secret = secrets.token_hex(20)
        self.users: dict[str, User] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.access: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.boards: dict[str, dict[str, Any]] = {}
        self.sections: dict[str, dict[str, Any]] = {}
        self.pins: dict[str, dict[str, Any]] = {}
        self.analytics: dict[str, dict[str, int]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.bodies: list[tuple[str, str, Any]] = []
        self.counts: dict[tuple[str, str, int], int] = {}
        self.limits: dict[str, int] = {}
        self.rate_limit_headers: dict[str, str] = {}
        self.trial = False
        self.processing_polls = 1  # GET /media/{id} answers "processing" this many times
        self.failing_videos = False
        self._ids = itertools.count(1)
        self.url = ""
        self._server: LoopbackServer[FakePinterest] | None = None

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        # Pinterest's media upload answers in XML (Amazon S3), the API in plain JSON.
        self._server = LoopbackServer(
            self, bytes_type="application/xml", json_type="application/json"
        )
        self.url = self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def reset(self) -> None:
        """No fault, limit or mode left over from another test (data stays: ids are unique)."""
        with self.lock:
            self.faults.clear()
            self.log.clear()
            self.bodies.clear()
            self.counts.clear()
            self.limits.clear()
            self.rate_limit_headers = {}
            self.trial = False
            self.processing_polls = 1
            self.failing_videos = False

    # -- test helpers -----------------------------------------------------------

    def new_id(self) -> str:
        """Pinterest ids are long digit strings (``pattern: ^\\d+$``)."""
        return str(10**17 + next(self._ids) * 7919 + secrets.randbelow(1000))

    def add_user(self, username: str = "brand", **extra: Any) -> User:
        with self.lock:
            user = User(id=self.new_id(), username=f"{username}{secrets.token_hex(2)}", **extra)
            user.business_name = user.business_name or username.title()
            self.users[user.id] = user
            return user

    def add_board(
        self, user: User, name: str, *, privacy: str = "PUBLIC", owner: User | None = None
    ) -> dict[str, Any]:
        """A board of ``user`` (or a group board of ``owner`` that ``user`` collaborates on)."""
        with self.lock:
            board = {
                "id": self.new_id(),
                "name": name,
                "description": "",
                "privacy": privacy,
                "owner": {"username": (owner or user).username},
                "created_at": iso(datetime.now(UTC)),
                "pin_count": 0,
                "follower_count": 0,
                "collaborator_count": 1 if owner else 0,
                "_members": {user.id} | ({owner.id} if owner else set()),
            }
            self.boards[str(board["id"])] = board
            return board

    def add_section(self, board: dict[str, Any], name: str) -> dict[str, Any]:
        with self.lock:
            section = {"id": self.new_id(), "name": name, "_board": board["id"]}
            self.sections[section["id"]] = section
            return section

    def add_pin(
        self,
        user: User,
        board: dict[str, Any],
        *,
        title: str = "",
        description: str = "",
        link: str = "",
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """A Pin made some other way (the Pinterest app)."""
        with self.lock:
            return self._create_pin(
                user,
                {"board_id": board["id"], "title": title, "description": description, "link": link},
                "image",
                at=at,
            )

    def set_analytics(self, pin_id: str, **values: int) -> None:
        """Lifetime figures of a Pin: IMPRESSION=…, SAVE=…, OUTBOUND_CLICK=…"""
        with self.lock:
            self.analytics[pin_id] = dict(values)

    def approve(
        self, authorize_url: str, user: User, grant: tuple[str, ...] | None = None
    ) -> dict[str, str]:
        """The person on Pinterest's consent page: check the request, allow (some) scopes.

        Returns the redirect's query (``code`` and ``state``), as Pinterest sends it.
        """
        parts = urlsplit(authorize_url)
        assert parts.path == "/oauth/", parts.path
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert query.get("client_id") == self.client_id, "unknown client_id"
        assert query.get("response_type") == "code"
        assert query.get("redirect_uri")
        asked = [s for s in query.get("scope", "").split(",") if s]
        assert asked and all(s in ALL_SCOPES for s in asked), asked
        granted = [s for s in asked if grant is None or s in grant]
        code = secrets.token_hex(20)
        with self.lock:
            self.codes[code] = {
                "redirect_uri": query["redirect_uri"],
                "scopes": granted,
                "user": user.id,
                "expires": datetime.now(UTC) + timedelta(minutes=10),
            }
        return {"code": code, "state": query.get("state", "")}

    def issue_token(self, user: User, scopes: tuple[str, ...] = ALL_SCOPES) -> str:
        token = "pina_" + secrets.token_urlsafe(30)
        with self.lock:
            self.access[token] = {
                "user": user.id,
                "scopes": list(scopes),
                "expires": datetime.now(UTC) + timedelta(seconds=ACCESS_SECONDS),
            }
        return token

    def expire_access_tokens(self) -> None:
        with self.lock:
            for info in self.access.values():
                info["expires"] = datetime.now(UTC) - timedelta(seconds=1)

    def revoke(self, user: User) -> None:
        """The person removes Minbar's access in their Pinterest settings."""
        with self.lock:
            for store in (self.access, self.refresh_tokens):
                for info in store.values():
                    if info["user"] == user.id:
                        info["revoked"] = True

    def fail(self, verb: str, path: str, kind: str = "error", **options: Any) -> None:
        with self.lock:
            self.faults.append(Fault(verb=verb, path=path, kind=kind, **options))

    def calls(self, verb: str = "", path: str = "") -> list[tuple[str, str, dict[str, str]]]:
        with self.lock:
            return [c for c in self.log if (not verb or c[0] == verb) and c[1].startswith(path)]

    def sent(self, verb: str, path: str) -> list[Any]:
        """The JSON bodies of matching requests, oldest first."""
        with self.lock:
            return [b for v, p, b in self.bodies if v == verb and p == path]

    def pins_of(self, board: dict[str, Any]) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.pins.values() if p["board_id"] == board["id"]]

    # -- OAuth ----------------------------------------------------------------------

    def token(self, headers: dict[str, str], body: bytes) -> Response:
        """POST /v5/oauth/token — Basic client authentication, form body."""
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if headers.get("authorization") != f"Basic {expected}":
            raise ApiError(401, 2, "Authentication failed.")
        if "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
            raise ApiError(400, 1, "Invalid request: the body must be form-encoded.")
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        self.bodies.append(("POST", "/v5/oauth/token", form))
        grant = form.get("grant_type")
        now = datetime.now(UTC)
        if grant == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)
            if code is None or code["expires"] < now:
                raise ApiError(400, 1, "Invalid authorization code.")
            if code["redirect_uri"] != form.get("redirect_uri"):
                raise ApiError(400, 1, "Invalid redirect_uri: it does not match the request.")
            user, scopes = self.users[code["user"]], tuple(code["scopes"])
            response_type = "authorization_code"
        elif grant == "refresh_token":
            old = self.refresh_tokens.get(form.get("refresh_token", ""))
            if old is None or old.get("revoked") or old["expires"] < now:
                raise ApiError(400, 1, "Invalid refresh token.")
            old["revoked"] = True  # continuous refresh: the old one is replaced
            user, scopes = self.users[old["user"]], tuple(old["scopes"])
            response_type = "refresh_token"
        else:
            raise ApiError(400, 1, f"Unsupported grant_type: {grant}.")
        refresh = "pinr_" + secrets.token_urlsafe(30)
        self.refresh_tokens[refresh] = {
            "user": user.id,
            "scopes": list(scopes),
            "expires": now + timedelta(seconds=REFRESH_SECONDS),
        }
        return Response(
            200,
            {
                "access_token": self.issue_token(user, scopes),
                "refresh_token": refresh,
                "response_type": response_type,
                "token_type": "bearer",
                "expires_in": ACCESS_SECONDS,
                "refresh_token_expires_in": REFRESH_SECONDS,
                "refresh_token_expires_at": int(now.timestamp()) + REFRESH_SECONDS,
                "scope": ",".join(scopes),
            },
        )

    def _authorize(self, headers: dict[str, str], *scopes: str) -> User:
        raw = headers.get("authorization", "")
        info = self.access.get(raw.removeprefix("Bearer ")) if raw.startswith("Bearer ") else None
        if info is None or info.get("revoked") or info["expires"] < datetime.now(UTC):
            raise ApiError(401, 2, "Authentication failed.")
        missing = [s for s in scopes if s not in info["scopes"]]
        if missing:
            raise ApiError(401, 3, f"Authorization failed: missing scopes {','.join(missing)}.")
        return self.users[info["user"]]

    def _count(self, user: User, category: str) -> None:
        limit = self.limits.get(category)
        minute = int(datetime.now(UTC).timestamp() // 60)
        key = (user.id, category, minute)
        self.counts[key] = self.counts.get(key, 0) + 1
        if limit is not None and self.counts[key] > limit:
            raise ApiError(429, 8, RATE_LIMIT_MESSAGE, dict(self.rate_limit_headers))

    # -- dispatch ---------------------------------------------------------------------

    def handle(
        self, verb: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Response:
        if path == "/v5/oauth/token" and verb == "POST":
            return self.token(headers, body)
        if path == "/fake-s3/" and verb == "POST":
            return self.s3_upload(headers, body)
        if not path.startswith("/v5/"):
            raise ApiError(404, 404, "Not found.")
        parts = path.removeprefix("/v5/").strip("/").split("/")
        payload: Any = None
        if verb in ("POST", "PATCH"):
            if "application/json" not in headers.get("content-type", ""):
                raise ApiError(400, 1, "Invalid request: the body must be JSON.")
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                raise ApiError(400, 1, "Invalid JSON body.") from None
            self.bodies.append((verb, path, payload))
        route = (verb, *["{id}" if p.isdigit() else p for p in parts])
        handler = ROUTES.get(route)
        if handler is None:
            raise ApiError(404, 404, f"No such operation: {verb} {path}")
        ids = [p for p in parts if p.isdigit()]
        return handler(self, headers, query, payload, *ids)

    # -- user account -------------------------------------------------------------------

    def user_account(self, headers: dict[str, str], query: dict[str, str], _b: Any) -> Response:
        """GET /v5/user_account (user_accounts:read, org_read)."""
        user = self._authorize(headers, "user_accounts:read")
        self._count(user, "org_read")
        pin_count = sum(1 for p in self.pins.values() if p["_user"] == user.id)
        return Response(
            200,
            {
                "account_type": user.account_type,
                "id": user.id,
                "profile_image": f"https://i.pinimg.com/600x600_R/{user.id}.jpg",
                "website_url": "https://example.test",
                "username": user.username,
                "about": "",
                "business_name": user.business_name if user.account_type == "BUSINESS" else None,
                "board_count": sum(1 for b in self.boards.values() if user.id in b["_members"]),
                "pin_count": pin_count,
                "follower_count": user.follower_count,
                "following_count": user.following_count,
                "monthly_views": user.impressions,
            },
        )

    def _dates(self, query: dict[str, str]) -> tuple[date, date]:
        try:
            start = date.fromisoformat(query["start_date"])
            end = date.fromisoformat(query["end_date"])
        except (KeyError, ValueError):
            raise ApiError(400, 1, "start_date and end_date are required (YYYY-MM-DD).") from None
        today = datetime.now(UTC).date()
        if start < today - timedelta(days=90) or end < start or end - start > timedelta(days=90):
            raise ApiError(400, 400, "Invalid analytics parameters: dates out of range.")
        return start, end

    def _metric_types(self, query: dict[str, str], allowed: set[str]) -> list[str]:
        asked = [m for m in query.get("metric_types", "").split(",") if m]
        if not asked or any(m not in allowed for m in asked):
            raise ApiError(400, 400, f"Invalid metric_types: {query.get('metric_types', '')}")
        return asked

    def user_account_analytics(
        self, headers: dict[str, str], query: dict[str, str], _b: Any
    ) -> Response:
        """GET /v5/user_account/analytics (user_accounts:read, org_analytics)."""
        user = self._authorize(headers, "user_accounts:read")
        self._count(user, "org_analytics")
        self._dates(query)
        asked = self._metric_types(query, ACCOUNT_METRIC_TYPES)
        if not user.analytics_allowed:
            raise ApiError(403, 403, "Not authorized to access the user account analytics.")
        summary = {m: user.impressions if m == "IMPRESSION" else 0 for m in asked}
        return Response(200, {"all": {"daily_metrics": [], "summary_metrics": summary}})

    # -- boards ---------------------------------------------------------------------------

    def _board(self, user: User, board_id: str) -> dict[str, Any]:
        board = self.boards.get(board_id)
        if board is None or user.id not in board["_members"]:
            raise ApiError(404, 40, "Board not found.")
        return board

    @staticmethod
    def _public(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if not k.startswith("_")}

    def _page(self, items: list[dict[str, Any]], query: dict[str, str]) -> Response:
        """``page_size`` (1-250, default 25) and an opaque ``bookmark`` (Paginated)."""
        try:
            size = int(query.get("page_size", "25"))
        except ValueError:
            size = 0
        if not 1 <= size <= 250:
            raise ApiError(400, 1, "Invalid page_size: it must be between 1 and 250.")
        start = 0
        if query.get("bookmark"):
            try:
                start = int(base64.b64decode(query["bookmark"]).decode())
            except (ValueError, binascii.Error):
                raise ApiError(400, 1, "Invalid bookmark.") from None
        chunk = items[start : start + size]
        more = start + size < len(items)
        bookmark = base64.b64encode(str(start + size).encode()).decode() if more else None
        return Response(200, {"items": [self._public(i) for i in chunk], "bookmark": bookmark})

    def boards_list(self, headers: dict[str, str], query: dict[str, str], _b: Any) -> Response:
        """GET /v5/boards (boards:read, org_read)."""
        user = self._authorize(headers, "boards:read")
        self._count(user, "org_read")
        mine = [b for b in self.boards.values() if user.id in b["_members"]]
        if query.get("privacy"):
            mine = [b for b in mine if b["privacy"] == query["privacy"]]
        return self._page(mine, query)

    def boards_create(self, headers: dict[str, str], _q: dict[str, str], body: Any) -> Response:
        """POST /v5/boards (boards:read, boards:write, org_write)."""
        user = self._authorize(headers, "boards:read", "boards:write")
        self._count(user, "org_write")
        name = str((body or {}).get("name") or "").strip()
        if not name or len(name) > 180:
            raise ApiError(400, 400, "The board name is invalid or duplicated.")
        for board in self.boards.values():
            if user.id in board["_members"] and board["name"].casefold() == name.casefold():
                raise ApiError(400, 400, "The board name is invalid or duplicated.")
        privacy = str(body.get("privacy") or "PUBLIC")
        if privacy not in ("PUBLIC", "PROTECTED", "SECRET"):
            raise ApiError(400, 400, f"Invalid privacy: {privacy}")
        board = self.add_board(user, name, privacy=privacy)
        board["description"] = str(body.get("description") or "")
        return Response(201, self._public(board))

    def boards_get(
        self, headers: dict[str, str], _q: dict[str, str], _b: Any, board_id: str
    ) -> Response:
        """GET /v5/boards/{board_id} (boards:read, org_read)."""
        user = self._authorize(headers, "boards:read")
        self._count(user, "org_read")
        return Response(200, self._public(self._board(user, board_id)))

    def sections_list(
        self, headers: dict[str, str], query: dict[str, str], _b: Any, board_id: str
    ) -> Response:
        """GET /v5/boards/{board_id}/sections (boards:read, org_read)."""
        user = self._authorize(headers, "boards:read")
        self._count(user, "org_read")
        board = self._board(user, board_id)
        found = [s for s in self.sections.values() if s["_board"] == board["id"]]
        return self._page(found, query)

    def _newest_first(self, pins: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(pins, key=lambda p: (p["created_at"], p["id"]), reverse=True)

    def board_pins(
        self, headers: dict[str, str], query: dict[str, str], _b: Any, board_id: str
    ) -> Response:
        """GET /v5/boards/{board_id}/pins (boards:read, pins:read, org_read)."""
        user = self._authorize(headers, "boards:read", "pins:read")
        self._count(user, "org_read")
        board = self._board(user, board_id)
        return self._page(self._newest_first(self.pins_of(board)), query)

    def section_pins(
        self,
        headers: dict[str, str],
        query: dict[str, str],
        _b: Any,
        board_id: str,
        section_id: str,
    ) -> Response:
        """GET /v5/boards/{board_id}/sections/{section_id}/pins."""
        user = self._authorize(headers, "boards:read", "pins:read")
        self._count(user, "org_read")
        board = self._board(user, board_id)
        section = self.sections.get(section_id)
        if section is None or section["_board"] != board["id"]:
            raise ApiError(404, 404, "Board or section not found.")
        pins = [p for p in self.pins_of(board) if p.get("board_section_id") == section_id]
        return self._page(self._newest_first(pins), query)

    # -- pins --------------------------------------------------------------------------------

    def _image(self, content_type: Any, data: Any) -> None:
        """A base64 image as the media sources describe it (jpeg or png, ``^[a-zA-Z0-9+/=]+$``)."""
        if content_type not in ("image/jpeg", "image/png"):
            raise ApiError(400, 1, f"Invalid content_type: {content_type}")
        try:
            raw = base64.b64decode(str(data), validate=True)
        except (ValueError, binascii.Error):
            raise ApiError(400, 1, "Invalid image data: it is not base64.") from None
        magic = PNG if content_type == "image/png" else JPEG
        if not raw.startswith(magic):
            raise ApiError(403, 235, "Sorry, this image is broken. Please pick a different image.")
        if len(raw) < 64:
            raise ApiError(
                403, 233, "Your image is too small. Please choose a larger image and try again."
            )

    def _media_kind(self, user: User, source: Any) -> str:
        if not isinstance(source, dict):
            raise ApiError(400, 1, "media_source is required.")
        kind = source.get("source_type")
        if kind == "image_base64":
            self._image(source.get("content_type"), source.get("data"))
            return "image"
        if kind == "multiple_image_base64":
            items = source.get("items")
            if not isinstance(items, list) or not 2 <= len(items) <= 5:
                raise ApiError(400, 1, "A carousel Pin needs between 2 and 5 images.")
            for item in items:
                self._image(item.get("content_type"), item.get("data"))
            return "multiple_images"
        if kind == "video_id":
            upload = self.media.get(str(source.get("media_id") or ""))
            if upload is None or upload["_user"] != user.id:
                raise ApiError(404, 404, "Media upload not found")
            if upload["status"] != "succeeded":
                raise ApiError(400, 1, f"The video is not ready: {upload['status']}.")
            if source.get("cover_image_data"):
                self._image(source.get("cover_image_content_type"), source["cover_image_data"])
            elif "cover_image_key_frame_time" not in source and not source.get("cover_image_url"):
                raise ApiError(400, 1, "A video Pin needs a cover image.")
            return "video"
        raise ApiError(400, 1, f"Invalid source_type: {kind}")

    def pins_create(self, headers: dict[str, str], _q: dict[str, str], body: Any) -> Response:
        """POST /v5/pins (boards:read, boards:write, pins:read, pins:write; org_write)."""
        user = self._authorize(headers, "boards:read", "boards:write", "pins:read", "pins:write")
        self._count(user, "org_write")
        if not isinstance(body, dict):
            raise ApiError(400, 1, "Invalid Pin parameters.")
        board = self._board(user, str(body.get("board_id") or ""))
        section_id = body.get("board_section_id")
        if section_id and self.sections.get(section_id, {}).get("_board") != board["id"]:
            raise ApiError(404, 2031, "Sorry! We couldn't find this board section.")
        for name, limit in (("title", 100), ("description", 500), ("alt_text", 500)):
            if len(str(body.get(name) or "")) > limit:
                raise ApiError(400, 1, f"Invalid {name}: at most {limit} characters.")
        link = str(body.get("link") or "")
        if link and (not link.startswith(("http://", "https://")) or len(link) > 2048):
            raise ApiError(
                400,
                1,
                "Whoops! It looks like you entered an invalid URL. Try creating a Pin again "
                "with a valid URL.",
            )
        kind = self._media_kind(user, body.get("media_source"))
        if self.trial:
            raise ApiError(403, 29, TRIAL_MESSAGE)
        return Response(201, self._public(self._create_pin(user, body, kind)))

    def _create_pin(
        self, user: User, body: dict[str, Any], kind: str, at: datetime | None = None
    ) -> dict[str, Any]:
        board = self.boards[str(body["board_id"])]
        pin = {
            "id": self.new_id(),
            "created_at": iso(at or datetime.now(UTC)),
            "link": body.get("link") or None,
            "title": body.get("title") or None,
            "description": body.get("description") or None,
            "dominant_color": "#6E7874",
            "alt_text": body.get("alt_text") or None,
            "board_id": board["id"],
            "board_section_id": body.get("board_section_id") or None,
            "board_owner": {"username": board["owner"]["username"]},
            "is_owner": True,
            "media": {"media_type": kind},
            "parent_pin_id": None,
            "_user": user.id,
        }
        self.pins[pin["id"]] = pin
        board["pin_count"] += 1
        return pin

    def _pin(self, user: User, pin_id: str) -> dict[str, Any]:
        pin = self.pins.get(pin_id)
        if pin is None or user.id not in self.boards[pin["board_id"]]["_members"]:
            raise ApiError(404, 50, "Pin not found.")
        return pin

    def pins_get(
        self, headers: dict[str, str], _q: dict[str, str], _b: Any, pin_id: str
    ) -> Response:
        """GET /v5/pins/{pin_id} (boards:read, pins:read; org_read)."""
        user = self._authorize(headers, "boards:read", "pins:read")
        self._count(user, "org_read")
        return Response(200, self._public(self._pin(user, pin_id)))

    def pins_delete(
        self, headers: dict[str, str], _q: dict[str, str], _b: Any, pin_id: str
    ) -> Response:
        """DELETE /v5/pins/{pin_id} (boards:read, boards:write, pins:read, pins:write; 204)."""
        user = self._authorize(headers, "boards:read", "boards:write", "pins:read", "pins:write")
        self._count(user, "org_write")
        pin = self._pin(user, pin_id)
        del self.pins[pin_id]
        self.boards[pin["board_id"]]["pin_count"] -= 1
        return Response(204)

    def pins_analytics(
        self, headers: dict[str, str], query: dict[str, str], _b: Any, pin_id: str
    ) -> Response:
        """GET /v5/pins/{pin_id}/analytics (boards:read, pins:read; org_analytics)."""
        user = self._authorize(headers, "boards:read", "pins:read")
        self._count(user, "org_analytics")
        self._dates(query)
        asked = self._metric_types(query, PIN_METRIC_TYPES)
        pin = self._pin(user, pin_id)
        if not user.analytics_allowed:
            raise ApiError(403, 403, "Not authorized to access board or Pin.")
        figures = self.analytics.get(pin_id, {})
        video = pin["media"]["media_type"] == "video"
        lifetime = {
            m: figures.get(m, 0) for m in asked if video or not m.startswith(("VIDEO", "QUART"))
        }
        return Response(
            200,
            {
                "all": {
                    "daily_metrics": [],
                    "summary_metrics": lifetime,
                    "lifetime_metrics": lifetime,
                }
            },
        )

    # -- media ---------------------------------------------------------------------------------

    def media_create(self, headers: dict[str, str], _q: dict[str, str], body: Any) -> Response:
        """POST /v5/media (pins:read, pins:write; org_write) → where to upload the file."""
        user = self._authorize(headers, "pins:read", "pins:write")
        self._count(user, "org_write")
        if not isinstance(body, dict) or body.get("media_type") != "video":
            raise ApiError(400, 1, "Invalid media_type: only video is supported.")
        media_id = self.new_id()
        parameters = {
            "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
            "x-amz-signature": secrets.token_hex(32),
            "x-amz-security-token": secrets.token_urlsafe(40),
            "x-amz-algorithm": "AWS4-HMAC-SHA256",
            "key": f"uploads/{media_id}/{secrets.token_hex(8)}",
            "policy": base64.b64encode(secrets.token_bytes(48)).decode(),
            "x-amz-credential": f"ASIA{secrets.token_hex(8).upper()}/us-east-1/s3/aws4_request",
            "Content-Type": "multipart/form-data",
        }
        self.media[media_id] = {
            "media_id": media_id,
            "media_type": "video",
            "status": "registered",
            "_user": user.id,
            "_parameters": parameters,
            "_polls": 0,
        }
        return Response(
            201,
            {
                "media_id": media_id,
                "media_type": "video",
                "upload_url": f"{self.url}/fake-s3/",
                "upload_parameters": parameters,
            },
        )

    def media_get(
        self, headers: dict[str, str], _q: dict[str, str], _b: Any, media_id: str
    ) -> Response:
        """GET /v5/media/{media_id} (pins:read; org_read): registered → processing → succeeded."""
        user = self._authorize(headers, "pins:read")
        self._count(user, "org_read")
        upload = self.media.get(media_id)
        if upload is None or upload["_user"] != user.id:
            raise ApiError(404, 404, "Media upload not found")
        if upload["status"] == "processing":
            upload["_polls"] += 1
            if upload["_polls"] > self.processing_polls:
                upload["status"] = "failed" if self.failing_videos else "succeeded"
        return Response(
            200,
            {"media_id": media_id, "media_type": "video", "status": upload["status"]},
        )

    def s3_upload(self, headers: dict[str, str], body: bytes) -> Response:
        """The storage URL: a multipart form with the upload parameters, the file last."""
        if "authorization" in headers:
            return Response(400, b"<Error><Code>InvalidArgument</Code></Error>")
        content_type = headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            return Response(412, b"<Error><Code>PreconditionFailed</Code></Error>")
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        names: list[str] = []
        fields: dict[str, str] = {}
        file_bytes = b""
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition") or "")
            names.append(name)
            raw = part.get_payload(decode=True)
            payload = raw if isinstance(raw, bytes) else b""
            if name == "file":
                file_bytes = payload
            else:
                fields[name] = payload.decode()
        if not names or names[-1] != "file":
            return Response(
                400,
                b"<Error><Code>InvalidArgument</Code><Message>file must be last</Message></Error>",
            )
        upload = next((m for m in self.media.values() if m["_parameters"] == fields), None)
        if upload is None or upload["status"] != "registered":
            return Response(403, b"<Error><Code>AccessDenied</Code></Error>")
        self.uploads[upload["media_id"]] = file_bytes
        upload["status"] = "processing"
        return Response(204)

    # -- the HTTP side (minbar.connectors.testing.fake_http) ----------------------------

    def respond(self, request: Request) -> Response | None:
        query = request.query
        with self.lock:
            self.log.append((request.verb, request.path, query))
            fault = None
            for candidate in list(self.faults):
                if candidate.verb == request.verb and request.path.startswith(candidate.path):
                    fault = candidate
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    break
            if fault is not None and fault.kind == "error":
                error = ApiError(fault.status, fault.code, fault.message, fault.headers)
                return Response(error.status, error.body(), error.headers)
            try:
                response = self.handle(
                    request.verb, request.path, query, request.headers, request.body
                )
            except ApiError as exc:
                response = Response(exc.status, exc.body(), exc.headers)
            if fault is not None and fault.kind == "drop":
                return None  # carried out, never answered
        return response


ROUTES: dict[tuple[str, ...], Any] = {
    ("GET", "user_account"): FakePinterest.user_account,
    ("GET", "user_account", "analytics"): FakePinterest.user_account_analytics,
    ("GET", "boards"): FakePinterest.boards_list,
    ("POST", "boards"): FakePinterest.boards_create,
    ("GET", "boards", "{id}"): FakePinterest.boards_get,
    ("GET", "boards", "{id}", "sections"): FakePinterest.sections_list,
    ("GET", "boards", "{id}", "pins"): FakePinterest.board_pins,
    ("GET", "boards", "{id}", "sections", "{id}", "pins"): FakePinterest.section_pins,
    ("POST", "pins"): FakePinterest.pins_create,
    ("GET", "pins", "{id}"): FakePinterest.pins_get,
    ("DELETE", "pins", "{id}"): FakePinterest.pins_delete,
    ("GET", "pins", "{id}", "analytics"): FakePinterest.pins_analytics,
    ("POST", "media"): FakePinterest.media_create,
    ("GET", "media", "{id}"): FakePinterest.media_get,
}
