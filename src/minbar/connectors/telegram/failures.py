"""Bot API errors turned into Minbar's error taxonomy.

Every Bot API answer is a JSON object (https://core.telegram.org/bots/api#making-requests):
"If 'ok' equals True, the request was successful and the result of the query can
be found in the 'result' field. In case of an unsuccessful request, 'ok' equals
false and the error is explained in the 'description'. An Integer 'error_code'
field is also returned, but its contents are subject to change in the future.
Some errors may also have an optional field 'parameters' of the type
ResponseParameters" — ``retry_after`` ("In case of exceeding flood control, the
number of seconds left to wait before the request can be repeated") and
``migrate_to_chat_id`` ("The group has been migrated to a supergroup with the
specified identifier"), https://core.telegram.org/bots/api#responseparameters.

Mapping (the HTTP status and ``error_code`` agree on Telegram's servers):

* 429 (flood control, a group's slow mode) → :class:`RateLimited` with ``retry_after``.
* 401 ("Unauthorized": the token was revoked in @BotFather) and 404 ("Not Found":
  the path's token is malformed) → :class:`AuthExpired`.
* 403 ("Forbidden: bot was kicked from the channel chat", "bot is not a member…")
  → :class:`AuthExpired` with a message saying to add the bot back: the channel
  cannot work until a person does.
* 400 with ``migrate_to_chat_id`` → :class:`ChatMigrated` (a :class:`Rejected`
  the connector handles by moving to the supergroup and sending once more).
* 400 and anything else below 500 → :class:`Rejected` with Telegram's description.
* 409 ("Conflict: … webhook is active") → :class:`Rejected`; the connector checks
  whose webhook it is.
* 5xx → :class:`TemporaryError`, or :class:`OutcomeUnknown` for a write (the
  request reached Telegram and may have been carried out).

Telegram's descriptions never contain the bot token, but httpx's transport
errors can quote a URL, and the token is in every URL path
(``/bot<token>/METHOD``): everything that reaches a message or a detail goes
through :func:`redact`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from minbar.connectors.errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    TemporaryError,
)

LABEL = "Telegram"
# A bot token as @BotFather hands it out: "<bot id>:<35 characters>".
TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
# With no retry_after in a 429 (not seen in practice): the FAQ's one-minute group window.
DEFAULT_RETRY_AFTER = 60.0


def redact(text: str, token: str = "") -> str:
    """``text`` with the bot token (this one, or anything shaped like one) blanked."""
    if token:
        text = text.replace(token, "<bot token>")
    return TOKEN_PATTERN.sub("<bot token>", text)


class ChatMigrated(Rejected):
    """The group became a supergroup; ``new_chat_id`` is where its messages go now."""

    def __init__(self, message: str, *, new_chat_id: int, detail: str = ""):
        super().__init__(message, detail=detail, status=400)
        self.new_chat_id = new_chat_id


@dataclass(frozen=True)
class BotError:
    """The error fields of a Bot API answer."""

    code: int
    description: str
    retry_after: float | None = None
    migrate_to_chat_id: int | None = None

    @property
    def detail(self) -> str:
        parts = [self.description or "(no description)", f"error_code {self.code}"]
        if self.retry_after is not None:
            parts.append(f"retry_after {self.retry_after:g}")
        if self.migrate_to_chat_id is not None:
            parts.append(f"migrate_to_chat_id {self.migrate_to_chat_id}")
        return " · ".join(parts)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_error(body: Any, status: int) -> BotError | None:
    """The error in a decoded answer, or None when it is not one."""
    if not isinstance(body, dict) or body.get("ok") is not False:
        return None
    raw = body.get("parameters")
    parameters: dict[str, Any] = raw if isinstance(raw, dict) else {}
    migrate = _number(parameters.get("migrate_to_chat_id"))
    code = body.get("error_code")
    return BotError(
        code=int(code) if isinstance(code, int) else status,
        description=str(body.get("description") or ""),
        retry_after=_number(parameters.get("retry_after")),
        migrate_to_chat_id=int(migrate) if migrate is not None else None,
    )


def error_for(error: BotError, *, writes: bool = False, token: str = "") -> ConnectorError:
    """The taxonomy error for a Bot API error (``writes``: a request people would see)."""
    words = redact(error.description, token).strip()
    detail = redact(error.detail, token)
    said = f": {words.rstrip('. ')}." if words else "."
    if error.code == 429:
        wait = error.retry_after if error.retry_after is not None else DEFAULT_RETRY_AFTER
        return RateLimited(
            f"{LABEL} asks Minbar to slow down (flood control) for {wait:g} seconds.",
            retry_after=wait,
            detail=detail,
            status=429,
        )
    if error.code == 401:
        return AuthExpired(
            f"{LABEL} no longer accepts this bot's token{said} Create a new token in "
            "@BotFather (/token) and reconnect the channel.",
            detail=detail,
            status=401,
        )
    if error.code == 404:
        # api.telegram.org answers {"error_code": 404, "description": "Not Found"} to a
        # path whose token is not a token at all (every method Minbar calls exists).
        return AuthExpired(
            f"{LABEL} does not recognise this bot token. Copy it again from @BotFather.",
            detail=detail,
            status=404,
        )
    if error.code == 403:
        return AuthExpired(
            f"{LABEL} does not let the bot into this chat{said} Add the bot back as an "
            "administrator (with “Post messages” in a channel) and reconnect the channel.",
            detail=detail,
            status=403,
        )
    if error.migrate_to_chat_id is not None:
        return ChatMigrated(
            f"{LABEL}: the group was upgraded to a supergroup.",
            new_chat_id=error.migrate_to_chat_id,
            detail=detail,
        )
    if error.code >= 500:
        if writes:
            return OutcomeUnknown(
                f"{LABEL} failed while handling the message{said} It may have been sent.",
                detail=detail,
                status=error.code,
            )
        return TemporaryError(
            f"{LABEL} is having trouble{said} Minbar will try again.",
            detail=detail,
            status=error.code,
        )
    return Rejected(f"{LABEL} refused it{said}", detail=detail, status=error.code)


def error_for_status(
    response: httpx.Response, *, writes: bool = False, token: str = ""
) -> ConnectorError:
    """A failed answer whose body is not the Bot API's JSON (a proxy, a gateway)."""
    status = response.status_code
    detail = redact(response.text[:500], token)
    if status == 429:
        return RateLimited(
            f"{LABEL} asks Minbar to slow down.",
            retry_after=DEFAULT_RETRY_AFTER,
            detail=detail,
            status=status,
        )
    if status in (401, 404):
        return AuthExpired(
            f"{LABEL} does not recognise this bot token. Copy it again from @BotFather.",
            detail=detail,
            status=status,
        )
    if status >= 500:
        if writes and status in (500, 502, 504):
            return OutcomeUnknown(
                f"{LABEL} failed while handling the message ({status}); it may have been sent.",
                detail=detail,
                status=status,
            )
        return TemporaryError(
            f"{LABEL} is having trouble ({status}); Minbar will try again.",
            detail=detail,
            status=status,
        )
    return Rejected(f"{LABEL} refused the request ({status}).", detail=detail, status=status)


def error_for_transport(
    exc: httpx.TransportError, *, writes: bool = False, token: str = ""
) -> ConnectorError:
    """Nothing sent (refused, unknown name) is temporary; a lost answer to a write is unknown."""
    detail = redact(str(exc), token)
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return TemporaryError(f"Minbar cannot reach {LABEL} right now.", detail=detail)
    if writes:
        return OutcomeUnknown(
            f"{LABEL} did not answer in time; the message may have been sent.", detail=detail
        )
    return TemporaryError(f"{LABEL} did not answer in time.", detail=detail)
