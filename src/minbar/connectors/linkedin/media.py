"""Uploading images, documents and videos for a post, the way the APIs describe it.

* Images (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api):
  ``POST /rest/images?action=initializeUpload`` with ``{"initializeUploadRequest":
  {"owner": <author urn>}}`` answers ``value.uploadUrl`` and ``value.image``
  (``urn:li:image:…``); the bytes are PUT to ``uploadUrl``. JPG, PNG and GIF.
* Documents (…/shares/documents-api): the same with ``/rest/documents`` and
  ``value.document``; PDF, PPT, PPTX, DOC, DOCX, up to 100 MB and 300 pages.
* Videos (…/shares/videos-api): ``POST /rest/videos?action=initializeUpload`` with
  ``owner``, ``fileSizeBytes``, ``uploadCaptions`` and ``uploadThumbnail`` answers
  ``value.video``, ``value.uploadToken`` and ``value.uploadInstructions`` — one
  ``{uploadUrl, firstByte, lastByte}`` per part (4 MB parts for larger files). Each
  part is PUT to its URL and answers an ``ETag``; ``POST
  /rest/videos?action=finalizeUpload`` with ``{"finalizeUploadRequest": {"video",
  "uploadToken", "uploadedPartIds": [ETags in order]}}`` ends the upload. MP4,
  75 KB to 500 MB, 3 seconds to 30 minutes.

Each API's ``GET /rest/{images|documents|videos}/{urn}`` reports ``status``:
``WAITING_UPLOAD``, ``PROCESSING``, ``AVAILABLE`` or ``PROCESSING_FAILED``. A post
may only use media that is ``AVAILABLE``, so publishing waits (bounded) for it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from django.utils.translation import gettext as _

from minbar.connectors.errors import Rejected, TemporaryError
from minbar.connectors.linkedin.api import LinkedInAPI, encode
from minbar.connectors.types import MediaItem

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif")
VIDEO_TYPES = ("video/mp4",)
DOCUMENT_TYPES = (
    "application/pdf",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
MAX_IMAGES = 20  # a multi-image post takes 2 to 20 images (…/shares/multiimage-post-api)
MIN_VIDEO_BYTES = 75 * 1024
MAX_VIDEO_BYTES = 500 * 1024 * 1024
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024


def kind_of(item: MediaItem) -> str:
    if item.mime_type in IMAGE_TYPES:
        return "image"
    if item.mime_type in VIDEO_TYPES:
        return "video"
    if item.mime_type in DOCUMENT_TYPES:
        return "document"
    return ""


def media_problems(items: tuple[MediaItem, ...]) -> list[str]:
    """What LinkedIn would refuse about these files, before anything is uploaded."""
    if not items:
        return []
    problems: list[str] = []
    kinds = [kind_of(item) for item in items]
    for item, kind in zip(items, kinds, strict=True):
        name = os.path.basename(item.path) or item.mime_type
        if not kind:
            problems.append(
                _("LinkedIn: %(name)s is %(type)s, which LinkedIn does not take.")
                % {"name": name, "type": item.mime_type}
            )
            continue
        try:
            size = os.path.getsize(item.path)
        except OSError:
            problems.append(_("LinkedIn: %(name)s cannot be read.") % {"name": name})
            continue
        if kind == "video" and not MIN_VIDEO_BYTES <= size <= MAX_VIDEO_BYTES:
            problems.append(
                _(
                    "LinkedIn: a video must be between 75 KB and 500 MB "
                    "(%(name)s is %(size)s bytes)."
                )
                % {"name": name, "size": size}
            )
        if kind == "document" and size > MAX_DOCUMENT_BYTES:
            problems.append(
                _("LinkedIn: a document takes at most 100 MB (%(name)s is %(size)s bytes).")
                % {"name": name, "size": size}
            )
    if len(items) > 1 and set(kinds) != {"image"}:
        problems.append(
            _("LinkedIn: a post has one video or one document, alone; only images can be several.")
        )
    elif len(items) > MAX_IMAGES:
        problems.append(_("LinkedIn: at most %(count)s images per post.") % {"count": MAX_IMAGES})
    return problems


@dataclass(frozen=True)
class Uploaded:
    urn: str
    kind: str
    alt_text: str = ""
    title: str = ""


class Uploader:
    """Uploads for one author; waits for processing at most ``timeout`` seconds per file."""

    def __init__(self, api: LinkedInAPI, owner: str, *, timeout: float, interval: float) -> None:
        self.api = api
        self.owner = owner
        self.timeout = timeout
        self.interval = interval

    def upload(self, item: MediaItem) -> Uploaded:
        kind = kind_of(item)
        with open(item.path, "rb") as handle:
            data = handle.read()
        urn = self._video(data) if kind == "video" else self._single(kind, data, item.mime_type)
        self.wait_until_available(kind, urn, os.path.basename(item.path))
        return Uploaded(
            urn=urn,
            kind=kind,
            alt_text=item.alt_text,
            # Minbar hands a document's title as its alt text (the library's alt text, else
            # the name it was uploaded as); a file on its own keeps its name.
            title=(item.alt_text if kind == "document" else "")
            or os.path.splitext(os.path.basename(item.path))[0],
        )

    def _single(self, kind: str, data: bytes, mime_type: str) -> str:
        resource = "images" if kind == "image" else "documents"
        answer = self.api.json(
            self.api.send(
                "POST",
                f"/rest/{resource}?action=initializeUpload",
                json={"initializeUploadRequest": {"owner": self.owner}},
            )
        )
        value = answer.get("value") or {}
        urn = str(value.get(kind) or "")
        url = str(value.get("uploadUrl") or "")
        if not urn or not url:
            raise TemporaryError(
                _("LinkedIn did not say where to upload the file."), detail=str(answer)[:300]
            )
        self.api.upload(url, data, content_type=mime_type)
        return urn

    def _video(self, data: bytes) -> str:
        answer = self.api.json(
            self.api.send(
                "POST",
                "/rest/videos?action=initializeUpload",
                json={
                    "initializeUploadRequest": {
                        "owner": self.owner,
                        "fileSizeBytes": len(data),
                        "uploadCaptions": False,
                        "uploadThumbnail": False,
                    }
                },
            )
        )
        value = answer.get("value") or {}
        urn = str(value.get("video") or "")
        instructions = value.get("uploadInstructions") or []
        if not urn or not instructions:
            raise TemporaryError(
                _("LinkedIn did not say where to upload the video."), detail=str(answer)[:300]
            )
        etags: list[str] = []
        for part in instructions:
            first, last = int(part["firstByte"]), int(part["lastByte"])
            response = self.api.upload(
                str(part["uploadUrl"]),
                data[first : last + 1],
                content_type="application/octet-stream",
            )
            etag = response.headers.get("etag", "")
            if not etag:
                raise TemporaryError(_("LinkedIn did not confirm a part of the video upload."))
            etags.append(etag)
        self.api.send(
            "POST",
            "/rest/videos?action=finalizeUpload",
            json={
                "finalizeUploadRequest": {
                    "video": urn,
                    "uploadToken": str(value.get("uploadToken") or ""),
                    "uploadedPartIds": etags,
                }
            },
        )
        return urn

    def wait_until_available(self, kind: str, urn: str, name: str) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            status = str(self.api.get(f"/rest/{kind}s/{encode(urn)}").get("status") or "")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise Rejected(
                    _("LinkedIn could not process %(name)s; check the file and try another.")
                    % {"name": name},
                    detail=f"{urn}: PROCESSING_FAILED",
                )
            if time.monotonic() >= deadline:
                raise TemporaryError(
                    _("LinkedIn is still processing %(name)s; Minbar will try again.")
                    % {"name": name},
                    detail=f"{urn}: {status or 'no status'} after {self.timeout:.0f} s",
                )
            time.sleep(self.interval)
