"""A post's media as a Pin's ``media_source``; videos through Pinterest's media uploads.

Images travel inside the request, base64-encoded (``image_base64`` for one image,
``multiple_image_base64`` for a carousel of 2 to 5), so Pinterest never has to
fetch anything from Minbar and a Minbar behind a firewall can publish. Only JPEG
and PNG may be sent this way (the ``content_type`` enum of those media sources in
https://developers.pinterest.com/docs/api/v5/ , ``pins/create``).

A video is uploaded first ("Creating video Pins",
https://developers.pinterest.com/docs/work-with-organic-content-and-users/create-boards-and-pins/#creating-video-pins):

1. ``POST /v5/media`` ``{"media_type": "video"}`` → ``media_id``, ``upload_url`` and
   ``upload_parameters``;
2. the file is POSTed to ``upload_url`` as a form with every upload parameter
   (:meth:`.api.PinterestAPI.upload_file`);
3. ``GET /v5/media/{media_id}`` until ``status`` is ``succeeded`` (``registered``
   and ``processing`` before it; ``failed`` ends it);
4. the Pin's ``media_source`` is ``{"source_type": "video_id", "media_id": …}`` with a
   cover: an image attached next to the video (``cover_image_data``), else the frame
   one second in (``cover_image_key_frame_time``).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from minbar.connectors.errors import Rejected
from minbar.connectors.pinterest.failures import LABEL
from minbar.connectors.types import MediaItem

IMAGE_TYPES = ("image/jpeg", "image/png")
# Pinterest's video specs: .mp4, .mov or .m4v, up to 2 GB.
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/x-m4v")
MIN_CAROUSEL = 2
MAX_CAROUSEL = 5
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_VIDEO_BYTES = 2 * 1024 * 1024 * 1024
COVER_KEY_FRAME_SECONDS = 1


def is_video(item: MediaItem) -> bool:
    return item.mime_type in VIDEO_TYPES


def media_problems(media: tuple[MediaItem, ...]) -> list[str]:
    """What Pinterest would refuse about the attachments, found before anything is sent."""
    problems: list[str] = []
    videos = [m for m in media if is_video(m)]
    images = [m for m in media if not is_video(m)]
    if not media:
        problems.append(f"{LABEL}: a Pin needs an image or a video.")
    for number, item in enumerate(media, start=1):
        if item.mime_type not in IMAGE_TYPES + VIDEO_TYPES:
            problems.append(
                f"{LABEL}: attachment {number} is {item.mime_type}; Pinterest takes JPEG or PNG "
                "images and MP4, MOV or M4V videos."
            )
    if len(videos) > 1:
        problems.append(f"{LABEL}: a Pin has one video at most.")
    if videos and len(images) > 1:
        problems.append(
            f"{LABEL}: with a video, add at most one image: it becomes the video's cover."
        )
    if not videos and len(images) > MAX_CAROUSEL:
        problems.append(f"{LABEL}: a carousel Pin has {MAX_CAROUSEL} images at most.")
    return problems


def _encoded(item: MediaItem) -> str:
    path = Path(item.path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Rejected(
            f"{LABEL}: Minbar cannot read {path.name} to send it.", detail=str(exc)
        ) from None
    if len(data) > MAX_IMAGE_BYTES:
        raise Rejected(f"{LABEL}: {path.name} is larger than 20 MB, Pinterest's image limit.")
    return base64.b64encode(data).decode("ascii")


def image_source(images: list[MediaItem]) -> dict[str, Any]:
    """``image_base64`` for one image, ``multiple_image_base64`` for a carousel."""
    if len(images) == 1:
        return {
            "source_type": "image_base64",
            "content_type": images[0].mime_type,
            "data": _encoded(images[0]),
        }
    return {
        "source_type": "multiple_image_base64",
        "items": [{"content_type": item.mime_type, "data": _encoded(item)} for item in images],
    }


def video_source(media_id: str, cover: MediaItem | None) -> dict[str, Any]:
    source: dict[str, Any] = {"source_type": "video_id", "media_id": media_id}
    if cover is not None:
        source["cover_image_content_type"] = cover.mime_type
        source["cover_image_data"] = _encoded(cover)
    else:
        source["cover_image_key_frame_time"] = COVER_KEY_FRAME_SECONDS
    return source


def alt_text(media: tuple[MediaItem, ...]) -> str:
    """The Pin's one alt text: the first image's (a carousel takes one for the whole Pin)."""
    for item in media:
        if not is_video(item) and item.alt_text.strip():
            return item.alt_text.strip()
    return ""
