"""Where a channel's Pins go: a board, or a section of a board.

Every Pin is created on a board (``board_id`` is required by ``POST /v5/pins``) and
optionally in one of its sections (``board_section_id``). Minbar's publishing
contract has no per-post field for that, so the choice is the channel's: after
signing in, each board and each board section the account may pin to is offered
as a choice (``ConnectResult.choices``), with one more, "a new board named
Minbar", which Minbar creates only when that choice is picked. Until someone
picks, the channel uses the first board Pinterest lists. To pin to several
boards, connect the account again and choose another destination — or connect
the same account in another workspace.

Reading, from https://developers.pinterest.com/docs/api/v5/: ``GET /v5/boards``
(``boards/list``; pages of ``page_size`` ≤ 250 with a ``bookmark`` for the next
page), ``GET /v5/boards/{board_id}/sections`` (``board_sections/list``, the same
paging), ``GET /v5/boards/{board_id}`` and ``POST /v5/boards`` (``name`` required;
``privacy`` PUBLIC, PROTECTED or SECRET).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from minbar.connectors.errors import Rejected
from minbar.connectors.pinterest.api import PinterestAPI
from minbar.connectors.types import AccountChoice

PAGE_SIZE = 100
MAX_BOARD_PAGES = 5  # 500 boards
MAX_SECTION_PAGES = 2
# Sections are read for this many boards at most (one request or two each).
MAX_BOARDS_WITH_SECTIONS = 50
NEW_BOARD = "new-board"
NEW_BOARD_NAME = "Minbar"


@dataclass(frozen=True)
class Destination:
    board_id: str
    board_name: str = ""
    section_id: str = ""
    section_name: str = ""
    owner: str = ""  # the board owner's username (another account for a group board)

    @property
    def choice_id(self) -> str:
        return f"{self.board_id}/{self.section_id}" if self.section_id else self.board_id

    @property
    def label(self) -> str:
        if self.section_id:
            return f"{self.board_name} \u203a {self.section_name}"
        return self.board_name

    def as_data(self) -> dict[str, str]:
        return {
            "board_id": self.board_id,
            "board_name": self.board_name,
            "section_id": self.section_id,
            "section_name": self.section_name,
        }

    def as_choice(self, username: str) -> AccountChoice:
        group = ""
        if self.owner and self.owner != username:
            group = _("group board of @%(owner)s") % {"owner": self.owner}
        return AccountChoice(
            remote_id=self.choice_id,
            name=self.label,
            kind=_("board section") if self.section_id else _("board"),
            detail=group,
        )


def parse_choice(remote_id: str) -> tuple[str, str]:
    """``"<board>"`` or ``"<board>/<section>"`` → (board id, section id)."""
    board, _slash, section = remote_id.strip().partition("/")
    if not board.isdigit() or (section and not section.isdigit()):
        raise Rejected(f"“{remote_id}” is not a Pinterest board Minbar offered.")
    return board, section


def _pages(api: PinterestAPI, path: str, max_pages: int) -> Iterator[dict[str, Any]]:
    bookmark = ""
    for _page in range(max_pages):
        params: dict[str, str | int] = {"page_size": PAGE_SIZE}
        if bookmark:
            params["bookmark"] = bookmark
        body = api.get(path, **params)
        for item in body.get("items") or []:
            if isinstance(item, dict):
                yield item
        bookmark = str(body.get("bookmark") or "")
        if not bookmark:
            return


def boards(api: PinterestAPI) -> list[dict[str, Any]]:
    return list(_pages(api, "boards", MAX_BOARD_PAGES))


def sections(api: PinterestAPI, board_id: str) -> list[dict[str, Any]]:
    return list(_pages(api, f"boards/{board_id}/sections", MAX_SECTION_PAGES))


def _owner(board: dict[str, Any]) -> str:
    owner = board.get("owner")
    return str(owner.get("username") or "") if isinstance(owner, dict) else ""


def destinations(api: PinterestAPI) -> list[Destination]:
    """Every board, each followed by its sections, in Pinterest's order."""
    found: list[Destination] = []
    for number, board in enumerate(boards(api)):
        board_id, name = str(board.get("id") or ""), str(board.get("name") or "")
        if not board_id:
            continue
        base = Destination(board_id=board_id, board_name=name, owner=_owner(board))
        found.append(base)
        if number >= MAX_BOARDS_WITH_SECTIONS:
            continue
        for section in sections(api, board_id):
            section_id = str(section.get("id") or "")
            if section_id:
                found.append(
                    Destination(
                        board_id=board_id,
                        board_name=name,
                        section_id=section_id,
                        section_name=str(section.get("name") or ""),
                        owner=base.owner,
                    )
                )
    return found


def new_board_choice() -> AccountChoice:
    return AccountChoice(
        remote_id=NEW_BOARD,
        name=_("New board “%(name)s”") % {"name": NEW_BOARD_NAME},
        kind=_("new board"),
        detail=_("Minbar creates a public board with this name, or uses yours if it exists."),
    )


def resolve(api: PinterestAPI, remote_id: str) -> Destination:
    """The destination a choice names, checked against Pinterest (it may be gone)."""
    if remote_id == NEW_BOARD:
        return board_named(api, NEW_BOARD_NAME)
    board_id, section_id = parse_choice(remote_id)
    board = api.get(f"boards/{board_id}")
    base = Destination(
        board_id=board_id, board_name=str(board.get("name") or ""), owner=_owner(board)
    )
    if not section_id:
        return base
    for section in sections(api, board_id):
        if str(section.get("id") or "") == section_id:
            return Destination(
                board_id=board_id,
                board_name=base.board_name,
                section_id=section_id,
                section_name=str(section.get("name") or ""),
                owner=base.owner,
            )
    raise Rejected(
        f"Pinterest has no section {section_id} on the board “{base.board_name}” any more.",
        status=404,
    )


def board_named(api: PinterestAPI, name: str) -> Destination:
    """The account's board called ``name``, created (public) when there is none."""
    for board in boards(api):
        if str(board.get("name") or "").casefold() == name.casefold():
            return Destination(
                board_id=str(board["id"]), board_name=str(board["name"]), owner=_owner(board)
            )
    created = api.call(
        "POST",
        "boards",
        json_body={
            "name": name,
            "description": "Pins published with Minbar.",
            "privacy": "PUBLIC",
        },
    )
    if not isinstance(created, dict) or not created.get("id"):
        raise Rejected("Pinterest did not say which board it created.", detail=str(created))
    return Destination(
        board_id=str(created["id"]),
        board_name=str(created.get("name") or name),
        owner=_owner(created),
    )
