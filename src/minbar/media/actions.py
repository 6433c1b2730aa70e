"""Every state change of the media library: uploading, describing and filing, deleting."""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from minbar.audit.actions import record
from minbar.core.actor import Actor
from minbar.core.errors import InvalidInput, NotAllowed, NotFound
from minbar.media import processing
from minbar.media.models import Kind, MediaAsset
from minbar.media.processing import MediaLimits, MediaRejected, human_size
from minbar.workspaces.access import WorkspaceAccess
from minbar.workspaces.roles import Perm

ALT_TEXT_MAX = 2000
FOLDER_MAX = 200
TAG_MAX = 40
TAGS_MAX = 20


def require_edit(access: WorkspaceAccess) -> None:
    if not access.can(Perm.CREATE_CONTENT):
        raise NotAllowed(_("Your role does not allow changing the media library."))


def get_asset(access: WorkspaceAccess, asset_id: int) -> MediaAsset:
    """An asset of this workspace the caller may see; 404 otherwise, whoever's it is."""
    asset = (
        MediaAsset.objects.filter(workspace=access.workspace, pk=asset_id)
        .select_related("workspace", "uploaded_by")
        .first()
    )
    if asset is None or not access.can(Perm.VIEW_CONTENT):
        raise NotFound(_("No such media file."))
    return asset


# -- input --------------------------------------------------------------------------


def clean_filename(name: str) -> str:
    """The last part of an uploaded name, without control characters, at most 255 long."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        base = stem[: 250 - len(ext)] + dot + ext if dot and len(ext) < 10 else base[:255]
    return base or "upload"


def clean_folder(value: str) -> str:
    """ "Campaigns / Ramadan" → "Campaigns/Ramadan": a folder is a path of names."""
    parts = [" ".join(part.split()) for part in (value or "").replace("\\", "/").split("/")]
    folder = "/".join(p for p in parts if p and p not in (".", ".."))
    if len(folder) > FOLDER_MAX:
        raise InvalidInput(
            _("The folder name is too long."),
            fields={"folder": _("At most %(max)s characters.") % {"max": FOLDER_MAX}},
        )
    return folder


def parse_tags(value: str | Iterable[str]) -> list[str]:
    """Tags separated by commas (English or Arabic); a leading # is dropped, repeats too."""
    parts = re.split(r"[,،\n]", value) if isinstance(value, str) else [str(v) for v in value]
    tags: list[str] = []
    seen: set[str] = set()
    for part in parts:
        tag = " ".join(part.replace("|", " ").split()).lstrip("#").strip()
        if not tag:
            continue
        if len(tag) > TAG_MAX:
            raise InvalidInput(
                _("A tag is too long."),
                fields={
                    "tags": _("Each tag can have up to %(max)s characters.") % {"max": TAG_MAX}
                },
            )
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise InvalidInput(
            _("Too many tags."),
            fields={"tags": _("Up to %(max)s tags per file.") % {"max": TAGS_MAX}},
        )
    return tags


def clean_alt_text(value: str) -> str:
    alt = (value or "").strip()
    if len(alt) > ALT_TEXT_MAX:
        raise InvalidInput(
            _("The alt text is too long."),
            fields={
                "alt_text": _("At most %(max)s characters; this has %(count)s.")
                % {"max": ALT_TEXT_MAX, "count": len(alt)}
            },
        )
    return alt


# -- uploading ------------------------------------------------------------------------


class UploadRefused(InvalidInput):
    """Some files cannot be used; nothing of the upload was saved."""

    def __init__(self, problems: list[tuple[str, str]], accepted: list[str]) -> None:
        fields: dict[str, str] = {}
        for name, problem in problems:
            key, n = name, 2
            while key in fields:
                key, n = f"{name} ({n})", n + 1
            fields[key] = _("%(name)s: %(problem)s") % {"name": name, "problem": problem}
        total = len(problems) + len(accepted)
        message = ngettext(
            "Nothing was uploaded: %(count)s of %(total)s files cannot be used. "
            "Fix or leave out the file below and upload again.",
            "Nothing was uploaded: %(count)s of %(total)s files cannot be used. "
            "Fix or leave out the files below and upload again.",
            len(problems),
        ) % {"count": len(problems), "total": total}
        if total == 1:
            message = next(iter(fields.values()))
        super().__init__(message, fields=fields)
        self.problems = problems
        self.accepted = accepted


@dataclass(frozen=True)
class UploadOutcome:
    filename: str
    asset: MediaAsset
    created: bool  # False: the very same file was already in the library


@dataclass
class _Ready:
    """One checked and cleaned file, not stored yet."""

    filename: str
    sha256: str
    size: int
    kind: str
    mime_type: str
    content: bytes | Path  # cleaned image bytes, or the video file
    thumbnail: bytes | None
    thumbnail_mime_type: str = ""
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    animated: bool = False
    transparent: bool = False
    probed: bool = False


def _spool(upload: File, target: Path) -> tuple[str, bytes, int]:
    """Copy the upload to ``target``; its SHA-256, first bytes and size."""
    digest = hashlib.sha256()
    head = b""
    size = 0
    upload.seek(0)
    with target.open("wb") as out:
        for chunk in upload.chunks():
            if len(head) < processing.HEAD_BYTES:
                head += chunk[: processing.HEAD_BYTES - len(head)]
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), head, size


def _too_large(size: int, limit: int, kind: str) -> str:
    values = {"max": human_size(limit), "size": human_size(size)}
    if kind == Kind.VIDEO:
        return _("videos can be at most %(max)s; this one is %(size)s.") % values
    if kind == Kind.DOCUMENT:
        return _("documents can be at most %(max)s; this one is %(size)s.") % values
    return _("images can be at most %(max)s; this one is %(size)s.") % values


def _read(upload: File, workdir: Path, index: int, limits: MediaLimits) -> _Ready:
    """Check and clean one upload, or raise MediaRejected saying why it cannot be used."""
    declared = upload.size or 0
    largest = max(limits.max_image_bytes, limits.max_video_bytes, processing.MAX_DOCUMENT_BYTES)
    if declared > largest:
        raise MediaRejected(
            _(
                "the file is %(size)s; Minbar takes images of up to %(image)s, videos of "
                "up to %(video)s and documents of up to %(document)s."
            )
            % {
                "size": human_size(declared),
                "image": human_size(limits.max_image_bytes),
                "video": human_size(limits.max_video_bytes),
                "document": human_size(processing.MAX_DOCUMENT_BYTES),
            }
        )
    spooled = workdir / f"upload-{index}"
    sha256, head, size = _spool(upload, spooled)
    filename = clean_filename(upload.name or "")
    if size == 0:
        raise MediaRejected(_("the file is empty."))
    video_type = processing.sniff_video(head)
    if video_type is not None:
        return _read_video(spooled, filename, sha256, size, video_type, limits)
    document_type = processing.sniff_document(head)
    if document_type is not None:
        return _read_document(spooled, filename, sha256, size, document_type)
    refused = processing.refused_format(head)
    if refused is not None:
        raise MediaRejected(processing.refusal_for(refused))
    with spooled.open("rb") as fp:
        clean = processing.clean_image(fp, limits)
    if size > limits.max_image_bytes:
        raise MediaRejected(_too_large(size, limits.max_image_bytes, Kind.IMAGE))
    return _Ready(
        filename=filename,
        sha256=sha256,
        size=len(clean.data),
        kind=clean.kind,
        mime_type=clean.mime_type,
        content=clean.data,
        thumbnail=clean.thumbnail,
        thumbnail_mime_type=clean.thumbnail_mime_type,
        width=clean.width,
        height=clean.height,
        animated=clean.animated,
        transparent=clean.transparent,
    )


def _read_document(path: Path, filename: str, sha256: str, size: int, mime_type: str) -> _Ready:
    """A PDF is kept as uploaded (networks show it as the author made it), with a preview
    of its first page when Poppler's pdftoppm is installed."""
    if size > processing.MAX_DOCUMENT_BYTES:
        raise MediaRejected(_too_large(size, processing.MAX_DOCUMENT_BYTES, Kind.DOCUMENT))
    thumbnail = processing.document_thumbnail(path)
    return _Ready(
        filename=filename,
        sha256=sha256,
        size=size,
        kind=Kind.DOCUMENT,
        mime_type=mime_type,
        content=path,
        thumbnail=thumbnail[0] if thumbnail else None,
        thumbnail_mime_type=thumbnail[1] if thumbnail else "",
    )


def _read_video(
    path: Path, filename: str, sha256: str, size: int, mime_type: str, limits: MediaLimits
) -> _Ready:
    if size > limits.max_video_bytes:
        raise MediaRejected(_too_large(size, limits.max_video_bytes, Kind.VIDEO))
    info = processing.probe_video(path)
    stripped = path.with_name(path.name + "-clean")
    content = stripped if processing.strip_video_metadata(path, stripped, mime_type) else path
    thumbnail = processing.video_thumbnail(content)
    return _Ready(
        filename=filename,
        sha256=sha256,
        size=content.stat().st_size,
        kind=Kind.VIDEO,
        mime_type=mime_type,
        content=content,
        thumbnail=thumbnail[0] if thumbnail else None,
        thumbnail_mime_type=thumbnail[1] if thumbnail else "",
        width=info.width if info else None,
        height=info.height if info else None,
        duration=info.duration if info else None,
        probed=info is not None,
    )


def upload(
    actor: Actor,
    access: WorkspaceAccess,
    files: Sequence[File],
    *,
    folder: str = "",
    tags: str | Iterable[str] = "",
    alt_text: str = "",
) -> list[UploadOutcome]:
    """Add files to the library, all or nothing.

    Every file is checked first; if any cannot be used, ``UploadRefused``
    names each problem and nothing is saved. A file already in the library
    (same content) is returned as it is instead of being stored twice.
    """
    require_edit(access)
    limits = processing.media_limits()
    if not files:
        raise InvalidInput(
            _("Choose at least one file to upload."), fields={"files": _("Required.")}
        )
    if len(files) > limits.max_files:
        raise InvalidInput(
            _("You can upload up to %(max)s files at once.") % {"max": limits.max_files},
            fields={"files": _("Up to %(max)s files.") % {"max": limits.max_files}},
        )
    folder = clean_folder(folder)
    tag_list = parse_tags(tags)
    alt_text = clean_alt_text(alt_text)
    with tempfile.TemporaryDirectory(prefix="minbar-upload-") as tmp:
        ready: list[_Ready] = []
        problems: list[tuple[str, str]] = []
        for index, item in enumerate(files):
            try:
                ready.append(_read(item, Path(tmp), index, limits))
            except MediaRejected as exc:
                problems.append((clean_filename(item.name or ""), exc.message))
        if problems:
            raise UploadRefused(problems, [r.filename for r in ready])
        return _store_all(actor, access, ready, folder, tag_list, alt_text)


def _store_all(
    actor: Actor,
    access: WorkspaceAccess,
    ready: list[_Ready],
    folder: str,
    tags: list[str],
    alt_text: str,
) -> list[UploadOutcome]:
    workspace = access.workspace
    written: list[str] = []
    outcomes: list[UploadOutcome] = []
    try:
        with transaction.atomic():
            for item in ready:
                existing = MediaAsset.objects.filter(
                    workspace=workspace, sha256=item.sha256
                ).first()
                if existing is not None:
                    outcomes.append(UploadOutcome(item.filename, existing, created=False))
                    continue
                asset, names = _store_one(actor, access, item, folder, tags, alt_text)
                written += names
                outcomes.append(UploadOutcome(item.filename, asset, created=bool(names)))
    except BaseException:
        for name in written:  # nothing half-saved: no file without its row
            default_storage.delete(name)
        raise
    return outcomes


def _store_one(
    actor: Actor,
    access: WorkspaceAccess,
    item: _Ready,
    folder: str,
    tags: list[str],
    alt_text: str,
) -> tuple[MediaAsset, list[str]]:
    workspace = access.workspace
    token = uuid.uuid4().hex
    extension = processing.EXTENSIONS[item.mime_type]
    names: list[str] = []
    if isinstance(item.content, bytes):
        content: File = ContentFile(item.content)
        names.append(default_storage.save(f"{workspace.pk}/originals/{token}{extension}", content))
    else:
        with item.content.open("rb") as fp:
            names.append(
                default_storage.save(f"{workspace.pk}/originals/{token}{extension}", File(fp))
            )
    thumbnail = ""
    if item.thumbnail:
        ext = ".png" if item.thumbnail_mime_type == "image/png" else ".jpg"
        thumbnail = default_storage.save(
            f"{workspace.pk}/thumbnails/{token}{ext}", ContentFile(item.thumbnail)
        )
        names.append(thumbnail)
    now = timezone.now()
    asset = MediaAsset(
        workspace=workspace,
        uploaded_by=actor.user,
        file=names[0],
        thumbnail=thumbnail,
        thumbnail_mime_type=item.thumbnail_mime_type if thumbnail else "",
        original_filename=item.filename,
        kind=item.kind,
        mime_type=item.mime_type,
        width=item.width,
        height=item.height,
        duration=item.duration,
        animated=item.animated,
        transparent=item.transparent,
        probed=item.probed or item.kind != Kind.VIDEO,
        bytes=item.size,
        sha256=item.sha256,
        alt_text=alt_text,
        folder=folder,
        tags=list(tags),
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            asset.save()
    except IntegrityError:
        # The same file was uploaded at the same moment by someone else: use theirs.
        for name in names:
            default_storage.delete(name)
        existing = MediaAsset.objects.get(workspace=workspace, sha256=item.sha256)
        return existing, []
    record(
        actor,
        "media.uploaded",
        workspace=workspace,
        target=asset,
        data={"kind": asset.kind, "mime_type": asset.mime_type, "bytes": asset.bytes},
    )
    return asset, names


# -- describing, filing, deleting ------------------------------------------------------


def update_asset(
    actor: Actor,
    access: WorkspaceAccess,
    asset_id: int,
    *,
    alt_text: str | None = None,
    folder: str | None = None,
    tags: str | Iterable[str] | None = None,
) -> MediaAsset:
    """Change an asset's alt text, folder or tags; ``None`` leaves a value as it is."""
    require_edit(access)
    asset = get_asset(access, asset_id)
    changes: dict[str, object] = {}
    fields: dict[str, str] = {}

    def change(name: str, clean: Callable[[], object]) -> None:
        try:
            cleaned = clean()
        except InvalidInput as exc:
            fields.update(exc.fields)
            return
        if cleaned != getattr(asset, name):
            changes[name] = cleaned

    if alt_text is not None:
        change("alt_text", lambda: clean_alt_text(alt_text))
    if folder is not None:
        change("folder", lambda: clean_folder(folder))
    if tags is not None:
        change("tags", lambda: parse_tags(tags))
    if fields:
        raise InvalidInput(_("Some fields are not valid."), fields=fields)
    if not changes:
        return asset
    for name, cleaned in changes.items():
        setattr(asset, name, cleaned)
    asset.updated_at = timezone.now()
    with transaction.atomic():
        asset.save(update_fields=[*changes, "updated_at"])
        record(
            actor,
            "media.updated",
            workspace=access.workspace,
            target=asset,
            data={"changed": sorted(changes)},
        )
    return asset


def delete_asset(actor: Actor, access: WorkspaceAccess, asset_id: int) -> None:
    """Remove an asset, its thumbnail and its renditions, files included."""
    require_edit(access)
    asset = get_asset(access, asset_id)
    names = [asset.file.name, asset.thumbnail.name]
    names += [r.file.name for r in asset.renditions.all()]
    with transaction.atomic():
        record(
            actor,
            "media.deleted",
            workspace=access.workspace,
            target=asset,
            data={"kind": asset.kind, "sha256": asset.sha256},
        )
        asset.delete()

        def remove_files() -> None:
            for name in names:
                if name:
                    default_storage.delete(name)

        transaction.on_commit(remove_files)
