"""A stateful local stand-in for the Telegram Bot API, on 127.0.0.1.

Written from https://core.telegram.org/bots/api; each behaviour cites its section:

* #making-requests — ``/bot<token>/METHOD`` over GET or POST, parameters as a query
  string, urlencoded or JSON, or multipart/form-data for uploads; method names are
  case-insensitive; every answer is ``{"ok": true, "result": …}`` or ``{"ok": false,
  "error_code", "description", "parameters"}`` (#responseparameters: ``retry_after``,
  ``migrate_to_chat_id``). A malformed token answers 404 "Not Found", a revoked one
  401 "Unauthorized".
* #getme; #getchat (ChatFullInfo with ``linked_chat_id``, #chatfullinfo);
  #getchatmember (#chatmemberadministrator ``can_post_messages``,
  ``can_delete_messages``); #getchatmembercount.
* #sendmessage ("1-4096 characters after entities parsing", ``parse_mode``
  #formatting-options "HTML style": only the listed tags; ``<``, ``>`` and ``&``
  outside tags must be entities; ``link_preview_options``, ``reply_parameters``
  with ``allow_sending_without_reply``); #sendphoto ("at most 10 MB", "width and
  height must not exceed 10000 in total", "ratio must be at most 20", caption
  "0-1024 characters after entities parsing"); #sendvideo ("up to 50 MB");
  #sendmediagroup ("must include 2-10 items", ``attach://<name>`` from
  #inputmediaphoto). Lengths are counted in UTF-16 code units (#messageentity).
* #editmessagetext, #editmessagecaption, #editmessagereplymarkup; #deletemessage
  ("A message can only be deleted if it was sent less than 48 hours ago", who may
  delete what) and #deletemessages.
* Channels and their discussion group (#message ``is_automatic_forward``,
  ``forward_origin`` MessageOriginChannel, ``reply_to_message`` without nested
  replies, ``message_thread_id``); bots never receive their own messages; in
  groups a bot sees every message only as an administrator or with privacy mode
  off, otherwise only replies to its own messages
  (https://core.telegram.org/bots/features#privacy-mode).
* #getting-updates: updates are kept until confirmed; #getupdates ``offset``
  ("An update is considered confirmed as soon as getUpdates is called with an
  offset higher than its update_id"), ``limit`` 1-100, ``timeout`` (long polling),
  ``allowed_updates`` (sticky: "If not specified, the previous setting will be
  used"); "This method will not work if an outgoing webhook is set up" (409);
  #setwebhook (``secret_token`` of ``A-Z a-z 0-9 _ -``, 1-256; the
  "X-Telegram-Bot-Api-Secret-Token" header on every delivery), #deletewebhook,
  #getwebhookinfo.
* Flood control (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
  "not … more than 20 messages per minute to the same group" → 429 "Too Many
  Requests: retry after N" with ``parameters.retry_after``.
* A basic group upgraded to a supergroup answers 400 with ``migrate_to_chat_id``.

The exact wording of descriptions is what Telegram's servers are seen to send
(e.g. "Bad Request: message to edit not found"); the documentation does not list
them. Not modelled: file_id reuse, downloads, inline mode, payments, real media
decoding (a photo must start with PNG or JPEG magic bytes, a video is any bytes).
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import html.parser
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TELEGRAM_SERVICE_USER = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
GROUP_PER_MINUTE = 20
DELETE_WINDOW = 48 * 3600
MB = 1024 * 1024


class ApiError(Exception):
    def __init__(self, code: int, description: str, **parameters: Any):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class Bot:
    id: int
    token: str
    username: str
    reads_all: bool = False  # privacy mode off
    revoked: bool = False
    webhook: dict[str, Any] = field(default_factory=dict)
    allowed_updates: list[str] | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)

    def user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.username,
            "username": self.username,
        }


@dataclass
class Chat:
    id: int
    type: str  # "channel", "supergroup", "group"
    title: str
    username: str = ""
    linked_chat_id: int | None = None
    members: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    subscribers: int = 0
    migrated_to: int | None = None
    sent_at: list[float] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        found: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            found["username"] = self.username
        return found


@dataclass
class Fault:
    method: str
    code: int = 0
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    # "error": answer the error without doing anything; "drop": do it, then close the
    # connection without answering; "slow": do it, then answer after ``delay`` seconds.
    mode: str = "error"
    delay: float = 0.0
    after: int = 0  # let this many matching calls through first


class FakeTelegram:
    """The fake Bot API server; tests drive people's side through its helpers."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.arrived = threading.Condition(self.lock)
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.url = ""
        self.reset()

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def reset(self) -> None:
        with self.lock:
            self.bots: dict[str, Bot] = {}
            self.chats: dict[int, Chat] = {}
            # (chat id, message id) of messages sent with disable_notification.
            self.silent: set[tuple[int, int]] = set()
            self.users: dict[int, dict[str, Any]] = {}
            self.faults: list[Fault] = []
            self.calls: list[tuple[str, dict[str, Any]]] = []
            self.update_ids = itertools.count(1000)
            self.ids = itertools.count(5_000_000)
            self.clock: Callable[[], float] = time.time

    # -- the world -------------------------------------------------------------

    def create_bot(self, username: str = "brand_bot", *, reads_all: bool = False) -> Bot:
        with self.lock:
            bot_id = next(self.ids)
            token = f"{bot_id}:{secrets.token_urlsafe(26)[:35]}"
            bot = Bot(id=bot_id, token=token, username=username, reads_all=reads_all)
            self.bots[token] = bot
            self.users[bot_id] = bot.user()
            return bot

    def create_user(self, first_name: str, username: str = "") -> dict[str, Any]:
        with self.lock:
            user: dict[str, Any] = {"id": next(self.ids), "is_bot": False, "first_name": first_name}
            if username:
                user["username"] = username
            self.users[user["id"]] = user
            return user

    def create_chat(
        self, type: str, title: str, username: str = "", *, subscribers: int = 0
    ) -> Chat:
        with self.lock:
            number = next(self.ids)
            chat_id = -number if type == "group" else int(f"-100{number}")
            chat = Chat(id=chat_id, type=type, title=title, username=username)
            chat.subscribers = subscribers
            self.chats[chat_id] = chat
            return chat

    def link(self, channel: Chat, group: Chat) -> None:
        """Make ``group`` the channel's discussion group (Channel settings → Discussion)."""
        with self.lock:
            channel.linked_chat_id = group.id
            group.linked_chat_id = channel.id

    def set_member(self, chat: Chat, user_id: int, status: str, **rights: Any) -> None:
        with self.lock:
            member: dict[str, Any] = {"user": self.users[user_id], "status": status}
            if status == "administrator":
                member.update(
                    can_be_edited=False,
                    is_anonymous=False,
                    can_manage_chat=True,
                    can_delete_messages=False,
                    can_restrict_members=False,
                    can_promote_members=False,
                    can_change_info=False,
                    can_invite_users=True,
                )
                if chat.type == "channel":
                    member.update(can_post_messages=False, can_edit_messages=False)
            member.update(rights)
            chat.members[user_id] = member

    def upgrade(self, group: Chat) -> Chat:
        """The group becomes a supergroup with a new id; messages to the old id are refused."""
        with self.lock:
            superchat = self.create_chat("supergroup", group.title, group.username)
            superchat.members = dict(group.members)
            group.migrated_to = superchat.id
            return superchat

    def fail_next(self, method: str, code: int = 0, description: str = "", **kw: Any) -> None:
        with self.lock:
            parameters = kw.pop("parameters", {})
            self.faults.append(Fault(method.lower(), code, description, parameters, **kw))

    def channel_posts(self, chat: Chat) -> list[dict[str, Any]]:
        with self.lock:
            return [m for _, m in sorted(chat.messages.items())]

    def comment(
        self,
        group: Chat,
        user: dict[str, Any],
        text: str,
        *,
        reply_to: int,
    ) -> dict[str, Any]:
        """Someone writes in the discussion group, answering message ``reply_to`` there."""
        with self.lock:
            parent = group.messages[reply_to]
            thread = parent.get("message_thread_id", parent["message_id"])
            message = self._store(
                group,
                {"from": user, "text": text},
                reply_to=parent,
                thread=thread,
            )
            self._dispatch(group, "message", message)
            return message

    def say(
        self, group: Chat, content: dict[str, Any], *, reply_to: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Any message in a group (chatter, a channel writing as itself), seen by its bots."""
        with self.lock:
            thread = None
            if reply_to is not None:
                thread = reply_to.get("message_thread_id", reply_to["message_id"])
            message = self._store(group, content, reply_to=reply_to, thread=thread)
            self._dispatch(group, "message", message)
            return message

    def edit_by_person(self, group: Chat, message_id: int, text: str) -> None:
        with self.lock:
            message = group.messages[message_id]
            message["text"] = text
            message["edit_date"] = int(self.clock())
            self._dispatch(group, "edited_message", message)

    def copy_in_group(self, channel: Chat, post_id: int) -> dict[str, Any]:
        """The automatic forward of a channel post in its discussion group."""
        with self.lock:
            group = self.chats[channel.linked_chat_id or 0]
            for message in group.messages.values():
                origin = message.get("forward_origin") or {}
                if message.get("is_automatic_forward") and origin.get("message_id") == post_id:
                    return message
            raise KeyError(post_id)

    def deliveries(self, bot: Bot) -> list[tuple[dict[str, str], bytes]]:
        """What Telegram would POST to the bot's webhook now: (headers, body) per update."""
        with self.lock:
            if not bot.webhook:
                return []
            sent = []
            for update in bot.updates:
                headers = {"Content-Type": "application/json"}
                if bot.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook["secret_token"]
                sent.append((headers, json.dumps(update).encode()))
            bot.updates.clear()  # delivered (a 2XY answer confirms them)
            return sent

    # -- storing messages and updates ------------------------------------------

    def _store(
        self,
        chat: Chat,
        content: dict[str, Any],
        *,
        reply_to: dict[str, Any] | None = None,
        thread: int | None = None,
    ) -> dict[str, Any]:
        message = {
            "message_id": next(chat.counter),
            "date": int(self.clock()),
            "chat": chat.public(),
            **content,
        }
        if reply_to is not None:
            message["reply_to_message"] = {
                k: v for k, v in reply_to.items() if k != "reply_to_message"
            }
        if thread is not None and chat.type == "supergroup":
            message["message_thread_id"] = thread
        chat.messages[message["message_id"]] = message
        return message

    def _dispatch(self, chat: Chat, kind: str, message: dict[str, Any]) -> None:
        """Queue the update for every bot of the chat that may see it (privacy mode)."""
        author = (message.get("from") or {}).get("id")
        parent_author = ((message.get("reply_to_message") or {}).get("from") or {}).get("id")
        for bot in self.bots.values():
            member = chat.members.get(bot.id)
            if member is None or member["status"] in ("left", "kicked") or author == bot.id:
                continue
            admin = member["status"] in ("administrator", "creator")
            if chat.type != "channel" and not (admin or bot.reads_all or parent_author == bot.id):
                continue
            if kind == "channel_post" and chat.type != "channel":
                continue
            if bot.allowed_updates and kind not in bot.allowed_updates:
                continue
            bot.updates.append({"update_id": next(self.update_ids), kind: message})
        self.arrived.notify_all()

    # -- HTTP ------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z]+)", parts.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if match is None:
            self._answer(request, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = match.group(1), match.group(2).lower()
        try:
            params = self._params(parts.query, request.headers.get("Content-Type", ""), body)
        except ValueError as exc:
            self._answer(request, 400, self._error(ApiError(400, f"Bad Request: {exc}")))
            return
        fault = self._fault(method)
        if fault is not None and fault.mode == "error":
            error = ApiError(fault.code, fault.description, **fault.parameters)
            self._answer(request, fault.code, self._error(error))
            return
        try:
            with self.lock:
                self.calls.append((method, {k: v for k, v in params.items() if k != "_files"}))
                result = self._call(token, method, params)
            status, answer = 200, {"ok": True, "result": result}
        except ApiError as error:
            status, answer = error.code, self._error(error)
        if fault is not None and fault.mode == "drop":
            request.close_connection = True
            request.connection.close()
            return
        if fault is not None and fault.mode == "slow":
            time.sleep(fault.delay)
        self._answer(request, status, answer)

    def _fault(self, method: str) -> Fault | None:
        with self.lock:
            for number, fault in enumerate(self.faults):
                if fault.method == method:
                    if fault.after:
                        fault.after -= 1
                        return None
                    return self.faults.pop(number)
        return None

    @staticmethod
    def _error(error: ApiError) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "ok": False,
            "error_code": error.code,
            "description": error.description,
        }
        if error.parameters:
            answer["parameters"] = error.parameters
        return answer

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    @staticmethod
    def _params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
        """#making-requests: query string, urlencoded, JSON or multipart."""
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
        kind = content_type.split(";")[0].strip().lower()
        if kind == "application/json" and body:
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("JSON body must be an object")
            params.update(decoded)
        elif kind == "application/x-www-form-urlencoded":
            params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
        elif kind == "multipart/form-data":
            files: dict[str, tuple[str, bytes]] = {}
            raw = f"Content-Type: {content_type}\r\n\r\n".encode() + body
            parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
            for part in parsed.iter_parts():
                name = part.get_param("name", header="content-disposition")
                decoded = part.get_payload(decode=True)
                payload = decoded if isinstance(decoded, bytes) else b""
                if part.get_filename():
                    files[str(name)] = (part.get_content_type(), payload)
                else:
                    params[str(name)] = payload.decode()
            params["_files"] = files
        return params

    # -- methods ---------------------------------------------------------------

    def _bot(self, token: str) -> Bot:
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            raise ApiError(404, "Not Found")
        bot = self.bots.get(token)
        if bot is None or bot.revoked:
            raise ApiError(401, "Unauthorized")
        return bot

    def _call(self, token: str, method: str, params: dict[str, Any]) -> Any:
        bot = self._bot(token)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            raise ApiError(404, "Not Found")
        return handler(bot, params)

    def _chat(self, bot: Bot, raw: Any, *, write: bool = False) -> Chat:
        if raw in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat: Chat | None = None
        text = str(raw)
        if text.startswith("@"):
            chat = next(
                (c for c in self.chats.values() if c.username.lower() == text[1:].lower()), None
            )
        elif re.fullmatch(r"-?\d+", text):
            chat = self.chats.get(int(text))
        member = chat.members.get(bot.id) if chat else None
        if chat is None or member is None or member["status"] in ("left", "kicked"):
            if chat is not None and member is not None and member["status"] == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
            raise ApiError(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.migrated_to,
            )
        return chat

    def _m_getme(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **bot.user(),
            "can_join_groups": True,
            "can_read_all_group_messages": bot.reads_all,
            "supports_inline_queries": False,
        }

    def _m_getchat(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(bot, params.get("chat_id"))
        info = {**chat.public(), "accent_color_id": 0, "max_reaction_count": 11}
        if chat.linked_chat_id is not None:
            info["linked_chat_id"] = chat.linked_chat_id
        return info

    def _m_getchatmember(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(bot, params.get("chat_id"))
        user_id = int(params.get("user_id") or 0)
        member = chat.members.get(user_id)
        if member is None:
            if user_id not in self.users:
                raise ApiError(400, "Bad Request: user not found")
            return {"user": self.users[user_id], "status": "left"}
        return member

    def _m_getchatmembercount(self, bot: Bot, params: dict[str, Any]) -> int:
        chat = self._chat(bot, params.get("chat_id"))
        return chat.subscribers or len(chat.members)

    def _may_send(self, bot: Bot, chat: Chat) -> None:
        member = chat.members[bot.id]
        if chat.type == "channel":
            if member["status"] != "administrator" or not member.get("can_post_messages"):
                raise ApiError(400, "Bad Request: need administrator rights in the channel chat")
        elif member["status"] == "restricted" and not member.get("can_send_messages"):
            raise ApiError(400, "Bad Request: not enough rights to send text messages to the chat")
        # bots/faq: no more than 20 messages per minute to the same group (or channel).
        now = self.clock()
        chat.sent_at = [t for t in chat.sent_at if now - t < 60]
        if len(chat.sent_at) >= GROUP_PER_MINUTE:
            wait = int(60 - (now - chat.sent_at[0])) + 1
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    def _reply(self, chat: Chat, params: dict[str, Any]) -> dict[str, Any] | None:
        raw = params.get("reply_parameters")
        if raw in (None, ""):
            return None
        reply = json.loads(raw) if isinstance(raw, str) else raw
        target = chat.messages.get(int(reply.get("message_id") or 0))
        if target is None and not reply.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")
        return target

    def _publish(
        self,
        bot: Bot,
        chat: Chat,
        content: dict[str, Any],
        parent: dict[str, Any] | None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A message by the bot; a channel post is copied into the discussion group.

        #sendmessage: ``disable_notification`` "sends the message silently"
        (recorded in ``silent``), ``protect_content`` protects it from forwarding and
        saving (#message ``has_protected_content``).
        """
        self._may_send(bot, chat)
        params = params or {}
        if _flag(params.get("protect_content")):
            content = {**content, "has_protected_content": True}
        chat.sent_at.append(self.clock())
        if chat.type == "channel":
            content = {**content, "sender_chat": chat.public()}
        else:
            content = {**content, "from": bot.user()}
        thread = None
        if parent is not None:
            thread = parent.get("message_thread_id", parent["message_id"])
        message = self._store(chat, content, reply_to=parent, thread=thread)
        if _flag(params.get("disable_notification")):
            self.silent.add((chat.id, message["message_id"]))
        if chat.type == "channel" and chat.linked_chat_id in self.chats:
            group = self.chats[chat.linked_chat_id or 0]
            copy = {k: v for k, v in content.items() if k not in ("sender_chat", "from")}
            copy.update(
                sender_chat=chat.public(),
                is_automatic_forward=True,
                forward_origin={
                    "type": "channel",
                    "chat": chat.public(),
                    "message_id": message["message_id"],
                    "date": message["date"],
                },
                **{"from": TELEGRAM_SERVICE_USER},
            )
            self._dispatch(group, "message", self._store(group, copy))
        return message

    def _m_sendmessage(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(bot, params.get("chat_id"), write=True)
        text, entities = parse_text(params.get("text"), params.get("parse_mode"))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        preview = params.get("link_preview_options")
        if preview:
            preview = json.loads(preview) if isinstance(preview, str) else preview
            if not isinstance(preview, dict):
                raise ApiError(400, "Bad Request: can't parse link preview options")
            content["link_preview_options"] = preview
        return self._publish(bot, chat, content, self._reply(chat, params), params)

    def _media(self, kind: str, content_type: str, data: bytes) -> dict[str, Any]:
        if kind == "photo":
            if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8")):
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            if len(data) > 10 * MB:
                raise ApiError(400, "Bad Request: file is too big")
            file_id = secrets.token_urlsafe(12)
            return {"photo": [{"file_id": file_id, "file_unique_id": file_id[:8], "width": 64,
                               "height": 48, "file_size": len(data)}]}  # fmt: skip
        if len(data) > 50 * MB:
            raise ApiError(413, "Request Entity Too Large")
        file_id = secrets.token_urlsafe(12)
        return {"video": {"file_id": file_id, "file_unique_id": file_id[:8], "width": 320,
                          "height": 240, "duration": 3, "mime_type": content_type,
                          "file_size": len(data)}}  # fmt: skip

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        text, entities = parse_text(params.get("caption"), params.get("parse_mode"))
        if utf16(text) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        found: dict[str, Any] = {}
        if text:
            found["caption"] = text
        if entities:
            found["caption_entities"] = entities
        return found

    def _send_file(self, bot: Bot, params: dict[str, Any], kind: str) -> dict[str, Any]:
        chat = self._chat(bot, params.get("chat_id"), write=True)
        files = params.get("_files") or {}
        if kind not in files:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        content = {**self._media(kind, *files[kind]), **self._caption(params)}
        return self._publish(bot, chat, content, self._reply(chat, params), params)

    def _m_sendphoto(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(bot, params, "photo")

    def _m_sendvideo(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(bot, params, "video")

    def _m_sendmediagroup(self, bot: Bot, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(bot, params.get("chat_id"), write=True)
        raw = params.get("media")
        media = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of messages in the media group")
        files = params.get("_files") or {}
        parent = self._reply(chat, params)
        if len(chat.sent_at) + len(media) > GROUP_PER_MINUTE:
            self._may_send(bot, chat)  # raises the flood wait
        group_id = str(next(self.ids))
        prepared = []
        for item in media:
            name = str(item.get("media") or "")
            if not name.startswith("attach://") or name[9:] not in files:
                raise ApiError(400, "Bad Request: wrong HTTP URL specified")
            content = {**self._media(item.get("type"), *files[name[9:]]), **self._caption(item)}
            prepared.append({**content, "media_group_id": group_id})
        return [self._publish(bot, chat, content, parent, params) for content in prepared]

    def _own(self, bot: Bot, params: dict[str, Any]) -> tuple[Chat, dict[str, Any]]:
        chat = self._chat(bot, params.get("chat_id"))
        message = chat.messages.get(int(params.get("message_id") or 0))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat, message

    def _m_editmessagetext(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        _chat, message = self._own(bot, params)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = parse_text(params.get("text"), params.get("parse_mode"))
        if utf16(text) > 4096:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        if text == message["text"]:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.update(text=text, edit_date=int(self.clock()))
        if entities:
            message["entities"] = entities
        return message

    def _m_editmessagecaption(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        _chat, message = self._own(bot, params)
        if "text" in message:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = self._caption(params)
        if caption.get("caption", "") == message.get("caption", ""):
            raise ApiError(400, "Bad Request: message is not modified")
        message.update(caption, edit_date=int(self.clock()))
        return message

    def _m_editmessagereplymarkup(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        _chat, message = self._own(bot, params)
        markup = params.get("reply_markup")
        if not markup and not message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message["reply_markup"] = markup
        return message

    def _delete_one(self, bot: Bot, chat: Chat, message_id: int) -> None:
        message = chat.messages.get(message_id)
        if message is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        member = chat.members[bot.id]
        own = (message.get("from") or {}).get("id") == bot.id or (
            chat.type == "channel" and member.get("can_post_messages")
        )
        may = member.get("can_delete_messages") or (
            chat.type != "channel" and member["status"] == "administrator"
        )
        if self.clock() - message["date"] >= DELETE_WINDOW or not (own or may):
            raise ApiError(400, "Bad Request: message can't be deleted")
        del chat.messages[message_id]

    def _m_deletemessage(self, bot: Bot, params: dict[str, Any]) -> bool:
        chat = self._chat(bot, params.get("chat_id"))
        self._delete_one(bot, chat, int(params.get("message_id") or 0))
        return True

    def _m_deletemessages(self, bot: Bot, params: dict[str, Any]) -> bool:
        chat = self._chat(bot, params.get("chat_id"))
        raw = params.get("message_ids")
        ids = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError(400, "Bad Request: message identifiers are not specified")
        for message_id in ids:
            if int(message_id) in chat.messages:  # "can't be found, they are skipped"
                self._delete_one(bot, chat, int(message_id))
        return True

    def _m_getupdates(self, bot: Bot, params: dict[str, Any]) -> list[dict[str, Any]]:
        if bot.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        allowed = params.get("allowed_updates")
        if allowed is not None:
            bot.allowed_updates = json.loads(allowed) if isinstance(allowed, str) else allowed
        offset = params.get("offset")
        if offset is not None:
            bot.updates = [u for u in bot.updates if u["update_id"] >= int(offset)]
        limit = int(params.get("limit") or 100)
        if not 1 <= limit <= 100:
            limit = 100
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 5.0)
        while not bot.updates and time.monotonic() < deadline:
            self.arrived.wait(timeout=deadline - time.monotonic())
        return [dict(u) for u in bot.updates[:limit]]

    def _m_setwebhook(self, bot: Bot, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and urlsplit(url).scheme not in ("http", "https"):
            raise ApiError(400, "Bad Request: bad webhook: Wrong URL host")
        allowed = params.get("allowed_updates")
        if allowed is not None:
            bot.allowed_updates = json.loads(allowed) if isinstance(allowed, str) else allowed
        bot.webhook = {"url": url, "secret_token": secret} if url else {}
        return True

    def _m_deletewebhook(self, bot: Bot, params: dict[str, Any]) -> bool:
        bot.webhook = {}
        if params.get("drop_pending_updates"):
            bot.updates.clear()
        return True

    def _m_getwebhookinfo(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": bot.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(bot.updates),
        }
        if bot.allowed_updates is not None:
            info["allowed_updates"] = bot.allowed_updates
        return info


# -- HTML parse mode -------------------------------------------------------------


class _Html(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.entities: list[dict[str, Any]] = []
        self.open: list[tuple[str, int]] = []

    def _offset(self) -> int:
        return utf16("".join(self.text))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise ApiError(
                400,
                f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}" at byte '
                f"offset {self.getpos()[1]}",
            )
        self.open.append((tag, self._offset()))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: Unexpected end tag {tag}")
        name, start = self.open.pop()
        kind = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic"}.get(name, name)
        self.entities.append({"type": kind, "offset": start, "length": self._offset() - start})

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_text(raw: Any, parse_mode: Any) -> tuple[str, list[dict[str, Any]]]:
    """#formatting-options: the text after entities parsing, and its entities."""
    text = "" if raw is None else str(raw)
    if str(parse_mode or "").upper() != "HTML":
        return text, []
    # "All <, > and & symbols that are not a part of a tag or an HTML entity must be
    # replaced with the corresponding HTML entities."
    if re.search(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        raise ApiError(400, "Bad Request: can't parse entities: Unsupported HTML entity")
    for match in re.finditer(r"<(/?)([^\s>/]*)", text):
        if match.group(2).lower() not in HTML_TAGS:
            raise ApiError(
                400,
                "Bad Request: can't parse entities: Unsupported start tag "
                f'"{match.group(2)}" at byte offset {len(text[: match.start()].encode())}',
            )
    parser = _Html()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise ApiError(400, "Bad Request: can't parse entities: Unclosed start tag")
    # convert_charrefs has already turned &lt; and the like into characters.
    return "".join(parser.text), parser.entities


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _flag(value: Any) -> bool:
    """A Boolean parameter, sent as JSON or as a form field ("true")."""
    return value is True or str(value).lower() == "true"
