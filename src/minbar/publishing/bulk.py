"""Bulk import of posts from CSV: every row checked, nothing saved unless all are right."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from minbar.channels.models import Channel
from minbar.connectors.types import Capabilities
from minbar.core.actor import Actor
from minbar.core.errors import ActionError, InvalidInput, NotAllowed
from minbar.media.models import MediaAsset
from minbar.publishing.actions import PostInput, create_post, target_checks
from minbar.publishing.models import Post, QueueSlot
from minbar.publishing.queue import no_slots_error
from minbar.publishing.target_media import MediaChoice
from minbar.publishing.timing import local_to_utc
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.roles import Perm

COLUMNS = ("text", "channels", "publish_at", "link", "first_comment", "tags", "media")
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024

TEMPLATE = (
    "text,channels,publish_at,link,first_comment,tags\r\n"
    '"Our spring menu is here! #coffee",@oasis_coffee|@oasis_coffee_fb,2030-03-02 09:30,'
    "https://example.com/menu,,menu\r\n"
    '"قهوة الصباح جاهزة ☕️",@waha_coffee,,,,\r\n'
)


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet shows it: the header is row 1
    column: str
    message: str


class ImportRejected(InvalidInput):
    def __init__(self, errors: list[RowError]):
        super().__init__(
            _("Nothing was imported: %(n)d problem(s) to fix first.") % {"n": len(errors)},
            fields={f"row {e.row} {e.column}": e.message for e in errors[:200]},
        )
        self.errors = errors


def _read(data: bytes) -> list[dict[str, str]]:
    if len(data) > MAX_BYTES:
        raise InvalidInput(_("The file is larger than 5 MB; split it into smaller files."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("text", "channels") if c not in header]
    if missing:
        raise InvalidInput(
            _("The first row must name the columns; missing: %(cols)s.")
            % {"cols": ", ".join(missing)}
        )
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise InvalidInput(
            _("Unknown columns: %(cols)s. Use: %(known)s.")
            % {"cols": ", ".join(unknown), "known": ", ".join(COLUMNS)}
        )
    rows = []
    for raw in reader:
        rows.append({k.strip().lower(): (v or "").strip() for k, v in raw.items() if k})
        if len(rows) > MAX_ROWS:
            raise InvalidInput(_("At most %(n)d rows per file.") % {"n": MAX_ROWS})
    return rows


class _Library:
    """The workspace's media files as a CSV names them: by id or by file name."""

    def __init__(self, access: WorkspaceAccess) -> None:
        self.access = access
        self.assets: dict[int, MediaAsset] = {}
        self._by_name: dict[str, list[MediaAsset]] | None = None

    def find(self, name: str) -> tuple[MediaAsset | None, str]:
        if self._by_name is None:
            self._by_name = {}
            for asset in MediaAsset.objects.filter(workspace=self.access.workspace):
                self._by_name.setdefault(asset.original_filename.casefold(), []).append(asset)
                self.assets[asset.pk] = asset
        if name.isdigit() and int(name) in self.assets:
            return self.assets[int(name)], ""
        found = self._by_name.get(name.casefold(), [])
        if len(found) == 1:
            return found[0], ""
        if found:
            return None, _(
                "%(name)s: several files in the media library have this name; use its number "
                "(on the file's page) instead."
            ) % {"name": name}
        return None, _("No file “%(name)s” in the media library.") % {"name": name}


def import_csv(actor: Actor, access: WorkspaceAccess, data: bytes, time_zone: str) -> list[Post]:
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow writing posts."))
    rows = _read(data)
    if not rows:
        raise InvalidInput(_("The file has no rows below the header."))
    channels = {c.handle.lower(): c for c in Channel.objects.filter(workspace=access.workspace)}
    library = _Library(access)
    caps_of: dict[int, Capabilities] = {}
    # Channels "queue" rows can use (with at least one posting time).
    queued = set(
        QueueSlot.objects.filter(schedule__channel__workspace=access.workspace).values_list(
            "schedule__channel_id", flat=True
        )
    )
    errors: list[RowError] = []
    inputs: list[PostInput] = []
    for number, row in enumerate(rows, start=2):
        chosen: list[Channel] = []
        for handle in filter(None, (h.strip() for h in row.get("channels", "").split("|"))):
            channel = channels.get(handle.lower()) or channels.get("@" + handle.lower())
            if channel is None:
                errors.append(
                    RowError(
                        number,
                        "channels",
                        _("No channel “%(h)s” in this workspace.") % {"h": handle},
                    )
                )
            else:
                chosen.append(channel)
        if not chosen and not any(e.row == number and e.column == "channels" for e in errors):
            errors.append(RowError(number, "channels", _("Name at least one channel.")))
        when, scheduled_at = "draft", None
        raw_time = row.get("publish_at", "")
        if raw_time.lower() == "queue":
            # Each channel's next free posting time, taken row by row when saving.
            when = "queue"
            for channel in chosen:
                if channel.pk not in queued:
                    errors.append(RowError(number, "publish_at", no_slots_error(channel).message))
        elif raw_time:
            try:
                scheduled_at = local_to_utc(datetime.fromisoformat(raw_time), time_zone)
                when = "at"
            except ValueError:
                errors.append(
                    RowError(
                        number,
                        "publish_at",
                        _("“%(v)s” is not a date and time like 2030-03-02 09:30.")
                        % {"v": raw_time},
                    )
                )
            except ActionError as exc:
                errors.append(RowError(number, "publish_at", exc.message))
        media: list[MediaChoice] = []
        for name in filter(None, (n.strip() for n in row.get("media", "").split("|"))):
            asset, problem = library.find(name)
            if asset is None:
                errors.append(RowError(number, "media", problem))
            else:
                media.append(MediaChoice(asset.pk))
        post_input = PostInput(
            text=row.get("text", ""),
            media=media,
            link=row.get("link", ""),
            first_comment=row.get("first_comment", ""),
            channel_ids=[c.pk for c in chosen],
            tags=[t.strip() for t in row.get("tags", "").split("|") if t.strip()],
            when=when,
            scheduled_at=scheduled_at,
            scheduled_time_zone=time_zone if scheduled_at else "",
        )
        for check in target_checks(post_input, chosen, caps_of, library.assets):
            errors.extend(
                RowError(number, "media" if problem in check.media_problems else "text", problem)
                for problem in check.problems
            )
        inputs.append(post_input)
    if errors:
        raise ImportRejected(errors)
    created: list[Post] = []
    with transaction.atomic():
        for number, post_input in enumerate(inputs, start=2):
            try:
                created.append(create_post(actor, access, post_input))
            except ActionError as exc:
                # A row valid a moment ago may clash with the clock (a time now past).
                raise ImportRejected([RowError(number, "publish_at", exc.message)]) from None
    return created
