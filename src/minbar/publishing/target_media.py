"""Media on posts: what the composer and the API attach, how it fits each channel, and the
files the dispatcher hands to connectors.

A post (or one channel's override) holds ``[{"asset": <id>, "alt_text": "..."}]`` in order.
The alt text is the post's own, copied from the library when the item is attached
without one, so editing the library later does not change a scheduled post.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from minbar.connectors.types import Capabilities, MediaItem
from minbar.core.errors import InvalidInput, NotFound
from minbar.media.models import Kind, MediaAsset
from minbar.media.processing import Level, check_for, prepare_for

if TYPE_CHECKING:
    from minbar.publishing.models import Target
    from minbar.workspaces.access import WorkspaceAccess

# More than any network takes in one post; the composer never needs more.
MAX_ITEMS = 20
MAX_ALT_TEXT = 5000


@dataclass(frozen=True)
class MediaChoice:
    """One library file attached to a post; ``alt_text`` None means "the library's"."""

    asset: int
    alt_text: str | None = None


def choices_from(raw: object) -> list[MediaChoice]:
    """Choices from JSON-like data: ``[{"asset": 3, "alt_text": "…"}]`` or ``[3, 4]``."""
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        raise InvalidInput(_("Media must be a list."), fields={"media": _("A list.")})
    out: list[MediaChoice] = []
    for item in raw:
        if isinstance(item, MediaChoice):
            out.append(item)
            continue
        value: object = item.get("asset") if isinstance(item, Mapping) else item
        alt = item.get("alt_text") if isinstance(item, Mapping) else None
        try:
            asset_id = int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise InvalidInput(
                _("Each media item needs the id of a file in the media library."),
                fields={"media": _("Unknown media file.")},
            ) from None
        out.append(MediaChoice(asset_id, None if alt is None else str(alt)))
    return out


def load_assets(workspace_id: int, ids: Iterable[int]) -> dict[int, MediaAsset]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {a.pk: a for a in MediaAsset.objects.filter(workspace_id=workspace_id, pk__in=wanted)}


def all_asset_ids(
    shared: Sequence[MediaChoice], per_channel: Iterable[Sequence[MediaChoice]]
) -> set[int]:
    ids = {c.asset for c in shared}
    for choices in per_channel:
        ids.update(c.asset for c in choices)
    return ids


def stored(
    choices: Sequence[MediaChoice], assets: Mapping[int, MediaAsset]
) -> list[dict[str, Any]]:
    """What a post keeps: each asset once, in order, with its alt text for this post.

    Raises ``NotFound`` for an id that is not in ``assets`` (another workspace's file
    looks exactly like one that does not exist).
    """
    if len(choices) > MAX_ITEMS:
        raise InvalidInput(
            _("A post can have up to %(max)s media files.") % {"max": MAX_ITEMS},
            fields={"media": _("Too many files.")},
        )
    seen: set[int] = set()
    items: list[dict[str, Any]] = []
    for choice in choices:
        asset = assets.get(choice.asset)
        if asset is None:
            raise NotFound(
                _("No such media file (%(id)s). Choose files from this workspace's library.")
                % {"id": choice.asset},
                fields={"media": _("Unknown media file.")},
            )
        if asset.pk in seen:
            continue
        seen.add(asset.pk)
        alt = asset.alt_text if choice.alt_text is None else choice.alt_text
        items.append({"asset": asset.pk, "alt_text": " ".join(alt.split())[:MAX_ALT_TEXT]})
    return items


def resolve(access: WorkspaceAccess, choices: Sequence[MediaChoice]) -> list[dict[str, Any]]:
    return stored(choices, load_assets(access.workspace.pk, (c.asset for c in choices)))


def asset_ids(items: Iterable[Mapping[str, Any]]) -> list[int]:
    ids = []
    for item in items:
        try:
            ids.append(int(item.get("asset")))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return ids


# -- checking against a channel's rules ----------------------------------------------------


@dataclass
class MediaVerdict:
    """What a channel's rules say about a post's media: problems block, notes inform."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    count: int = 0


def _with_alt(asset: MediaAsset, alt_text: str) -> MediaAsset:
    # The post's alt text, not the library's, is what the network gets.
    shown = copy.copy(asset)
    shown.alt_text = alt_text
    return shown


def check_media(
    caps: Capabilities, items: Sequence[Mapping[str, Any]], assets: Mapping[int, MediaAsset]
) -> MediaVerdict:
    """Check ``items`` against one account's media rules ("X-like: at most 4 images")."""
    label = str(caps.label)
    rules = caps.media
    verdict = MediaVerdict(count=len(items))
    images = videos = documents = 0
    for item in items:
        asset = assets.get(int(item.get("asset") or 0))
        if asset is None:
            verdict.problems.append(
                _("%(network)s: a media file of this post is no longer in the library.")
                % {"network": label}
            )
            continue
        if asset.kind == Kind.VIDEO:
            videos += 1
        elif asset.kind == Kind.DOCUMENT:
            documents += 1
        else:
            images += 1
        for check in check_for(
            _with_alt(asset, str(item.get("alt_text") or "")), rules, network=label
        ):
            message = _("%(file)s: %(message)s") % {
                "file": asset.original_filename,
                "message": check.message,
            }
            (verdict.problems if check.level == Level.ERROR else verdict.notes).append(message)
    if rules.media_required and not items:
        verdict.problems.append(
            _("%(network)s needs at least one image or video.") % {"network": label}
        )
    if rules.max_images and images > rules.max_images:
        verdict.problems.append(
            _("%(network)s: at most %(limit)d images; this post has %(count)d.")
            % {"network": label, "limit": rules.max_images, "count": images}
        )
    if rules.max_videos and videos > rules.max_videos:
        verdict.problems.append(
            _("%(network)s: at most %(limit)d videos; this post has %(count)d.")
            % {"network": label, "limit": rules.max_videos, "count": videos}
        )
    if images and videos and not rules.mix_images_and_video:
        verdict.problems.append(
            _("%(network)s cannot mix images and videos in one post.") % {"network": label}
        )
    if documents and rules.document_types:
        if documents > max(rules.max_documents, 1):
            verdict.problems.append(
                _("%(network)s: one document per post; this post has %(count)d.")
                % {"network": label, "count": documents}
            )
        elif images or videos:
            verdict.problems.append(
                _("%(network)s: a document goes alone, without images or videos.")
                % {"network": label}
            )
    return verdict


# -- publishing -----------------------------------------------------------------------------


def media_items(target: Target, caps: Capabilities | None = None) -> tuple[MediaItem, ...]:
    """The target's media as files its channel takes, with the post's alt text.

    Files are prepared with ``media.processing.prepare_for``, which keeps each
    converted or resized file, so a retry reuses it. Raises ``InvalidInput``
    when a file is gone from the library or cannot be made to fit.
    """
    items = target.effective_media
    if not items:
        return ()
    if caps is None:
        from minbar.channels.actions import connector_for

        caps = connector_for(target.channel).account_capabilities()
    workspace_id = target.post.workspace_id
    assets = load_assets(workspace_id, asset_ids(items))
    out: list[MediaItem] = []
    for item in items:
        if "asset" not in item and item.get("path"):
            out.append(_legacy_item(item))  # a file another tool already validated
            continue
        asset = assets.get(int(item.get("asset") or 0))  # type: ignore[call-overload]
        if asset is None:
            raise InvalidInput(
                _("A media file of this post was deleted from the library; edit the post.")
            )
        prepared = prepare_for(
            _with_alt(asset, str(item.get("alt_text") or "")), caps.media, network=caps.label
        )
        out.append(prepared.as_media_item())
    return tuple(out)


def _legacy_item(item: Mapping[str, Any]) -> MediaItem:
    width, height = item.get("width"), item.get("height")
    return MediaItem(
        path=str(item["path"]),
        mime_type=str(item.get("mime_type") or "application/octet-stream"),
        alt_text=str(item.get("alt_text") or ""),
        width=width if isinstance(width, int) else None,
        height=height if isinstance(height, int) else None,
    )
