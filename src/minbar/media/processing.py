"""Reading, cleaning and preparing media.

Images go through Pillow: the type is sniffed from the content, the EXIF
orientation is applied and metadata (EXIF with GPS, XMP, comments) is
dropped before anything is stored. Videos are checked with ffprobe and
their metadata removed with ffmpeg (a copy of the streams, never a
transcode) when those programs are installed; without them Minbar says
which checks it could not do.

The publishing composer calls :func:`validate_for` (human messages) and
:func:`prepare_for` (a file that meets one network's :class:`MediaRules`).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from minbar.connectors.types import MediaItem, MediaRules
from minbar.core.errors import InvalidInput
from minbar.media.models import TYPE_NAMES, Kind, MediaAsset, MediaRendition

KB = 1024
MB = 1024 * KB

# Bump when the way renditions are made changes: cached ones are then made afresh.
PROCESSING_VERSION = 1
THUMBNAIL_SIZE = 320

# Pillow formats Minbar stores, and the MIME type each is stored as. MPO is
# the multi-picture JPEG many phones write; Minbar keeps its main picture.
IMAGE_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
# What Pillow is asked to open; its JPEG opener answers MPO for multi-picture files.
OPEN_FORMATS = ["JPEG", "PNG", "GIF", "WEBP"]
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
DOCUMENT_TYPES = ("application/pdf",)
# LinkedIn's document posts take up to 100 MB; no other network takes documents.
MAX_DOCUMENT_BYTES = 100 * MB
ACCEPTED_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    *VIDEO_TYPES,
    *DOCUMENT_TYPES,
)
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "application/pdf": ".pdf",
}
# Formats Pillow can name but Minbar does not take: named in the refusal.
REFUSED_IMAGE_FORMATS = {
    "TIFF": "TIFF",
    "BMP": "BMP",
    "AVIF": "AVIF",
    "PSD": "Photoshop (PSD)",
    "ICO": "ICO",
    "JPEG2000": "JPEG 2000",
}
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
# How much of the start of a file sniffing looks at.
HEAD_BYTES = 512
MP4_OTHER_BOXES = {b"moov", b"mdat", b"wide", b"free", b"skip"}
# Only these ``info`` keys survive cleaning: what the picture needs, nothing about its origin.
KEPT_INFO = {"transparency", "icc_profile", "duration", "loop", "background", "disposal"}


class Fit(StrEnum):
    """How an image outside a network's aspect-ratio range is brought into it."""

    PAD = "pad"  # add bands of background: nothing of the picture is lost
    CROP = "crop"  # cut the edges: the middle is kept


@dataclass(frozen=True)
class MediaLimits:
    max_image_bytes: int
    max_video_bytes: int
    max_image_pixels: int
    max_files: int
    fit: Fit


def media_limits() -> MediaLimits:
    """Upload limits from settings, with Minbar's defaults."""
    fit = str(getattr(settings, "MINBAR_MEDIA_ASPECT_FIT", Fit.PAD))
    return MediaLimits(
        max_image_bytes=int(getattr(settings, "MINBAR_MEDIA_MAX_IMAGE_BYTES", 20 * MB)),
        max_video_bytes=int(getattr(settings, "MINBAR_MEDIA_MAX_VIDEO_BYTES", 100 * MB)),
        max_image_pixels=int(getattr(settings, "MINBAR_MEDIA_MAX_IMAGE_PIXELS", 50_000_000)),
        max_files=int(getattr(settings, "MINBAR_MEDIA_MAX_FILES_PER_UPLOAD", 20)),
        fit=Fit(fit) if fit in Fit.__members__.values() else Fit.PAD,
    )


class MediaRejected(Exception):
    """A file Minbar will not store; the message says why and what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- words -----------------------------------------------------------------------


def human_size(size: int) -> str:
    """3.2 MB, 850 KB: sizes in the words people use (1 MB = 1,048,576 bytes)."""
    if size >= MB:
        value, unit = size / MB, "MB"
    elif size >= KB:
        value, unit = size / KB, "KB"
    else:
        return ngettext("%(count)s byte", "%(count)s bytes", size) % {"count": size}
    rounded = round(value, 1)
    decimals = 0 if value >= 100 or rounded == int(rounded) else 1
    number = formats.number_format(round(value, decimals), decimals)
    return _("%(number)s %(unit)s") % {"number": number, "unit": unit}


COMMON_RATIOS = (
    (1, 1),
    (4, 5),
    (5, 4),
    (4, 3),
    (3, 4),
    (3, 2),
    (2, 3),
    (16, 9),
    (9, 16),
    (2, 1),
    (1, 2),
    (21, 9),
    (3, 1),
)


def ratio_label(ratio: float) -> str:
    """9:16, 4:5, 1.91:1: an aspect ratio (width / height) as people write it."""
    for w, h in COMMON_RATIOS:
        if abs(ratio - w / h) <= 0.01 * (w / h):
            return f"{w}:{h}"
    if ratio >= 1:
        return f"{ratio:.3g}:1"
    return f"1:{1 / ratio:.3g}"


def type_names(mime_types: tuple[str, ...] | list[str]) -> str:
    names: list[str] = []
    for mime in mime_types:
        name = TYPE_NAMES.get(mime, mime.split("/")[-1].upper())
        if name not in names:
            names.append(name)
    if not names:
        return ""
    if len(names) == 1:
        return names[0]
    return _("%(names)s or %(last)s") % {"names": ", ".join(names[:-1]), "last": names[-1]}


# -- sniffing ----------------------------------------------------------------------


def _ftyp_brands(head: bytes) -> list[bytes]:
    """The major and compatible brands of an ISO media file (MP4, MOV, HEIC), if it is one."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return []
    size = int.from_bytes(head[0:4], "big")
    end = min(max(size, 16), len(head))
    brands = [head[8:12]]
    brands += [head[i : i + 4] for i in range(16, end - 3, 4)]
    return brands


def sniff_video(head: bytes) -> str | None:
    """The MIME type of a video Minbar takes, from its first bytes; None when it is not one."""
    brands = _ftyp_brands(head)
    if brands:
        if brands[0] in HEIF_BRANDS or brands[0] in AUDIO_BRANDS or brands[0] in (b"avif", b"avis"):
            return None
        return "video/quicktime" if brands[0] == b"qt  " else "video/mp4"
    if len(head) >= 8 and head[4:8] in MP4_OTHER_BOXES:
        return "video/quicktime"
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:
        return "video/webm"
    return None


def refused_format(head: bytes) -> str | None:
    """A known format Minbar does not take, named for the refusal."""
    brands = _ftyp_brands(head)
    if brands:
        if b"avif" in brands or b"avis" in brands:
            return "AVIF"
        if any(b in HEIF_BRANDS for b in brands):
            return "HEIC"
        if brands[0] in AUDIO_BRANDS:
            return "AUDIO"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "MKV"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "AVI"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "SVG"
    if head.startswith(b"%PDF"):
        return "PDF"
    return None


def refusal_for(label: str) -> str:
    if label in ("MKV", "AVI"):
        return _("%(format)s videos are not supported; export as MP4.") % {"format": label}
    if label == "AUDIO":
        return _("audio files are not supported; Minbar takes images and videos.")
    if label == "SVG":
        return _("SVG images are not supported; export as PNG.")
    if label == "PDF":
        return _("PDF files are not supported; export the page as JPEG or PNG.")
    return _("%(format)s images are not supported; export as JPEG or PNG.") % {"format": label}


def not_media_message() -> str:
    return _(
        "this is not an image, a video or a document Minbar can read. Upload JPEG, PNG, GIF "
        "or WebP images, MP4, MOV or WebM videos, or PDF documents."
    )


# -- images ---------------------------------------------------------------------------


@dataclass
class CleanImage:
    """An image ready to store: oriented, without metadata, with its thumbnail."""

    data: bytes
    mime_type: str
    kind: str
    width: int
    height: int
    animated: bool
    transparent: bool
    thumbnail: bytes
    thumbnail_mime_type: str


def has_transparency(im: Image.Image) -> bool:
    """Whether any pixel is see-through (an opaque RGBA screenshot is not)."""
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    ):
        alpha = im.convert("RGBA").getchannel("A")
        low = alpha.getextrema()[0]
        return isinstance(low, int | float) and low < 255
    return False


def _open_image(fp: IO[bytes], limits: MediaLimits) -> Image.Image:
    """Open and fully decode an image of a format Minbar takes, or say why not."""
    # Pillow warns (or, where warnings are errors, raises) about huge images while
    # opening them; Minbar's own pixel limit is lower and refuses them anyway.
    # (warnings.catch_warnings is not used: it is not thread-safe.)
    fp.seek(0)
    try:
        im = Image.open(fp, formats=OPEN_FORMATS)
    except UnidentifiedImageError:
        raise _unsupported_image(fp) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaRejected(_too_many_pixels(None, limits)) from None
    if im.width * im.height > limits.max_image_pixels:
        raise MediaRejected(_too_many_pixels(im, limits))
    try:
        im.verify()
        fp.seek(0)
        im = Image.open(fp, formats=OPEN_FORMATS)
        im.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise MediaRejected(
            _("the image could not be read; the file may be damaged or incomplete.")
        ) from None
    return im


def _too_many_pixels(im: Image.Image | None, limits: MediaLimits) -> str:
    limit = limits.max_image_pixels // 1_000_000
    if im is None:
        return _("the image has too many pixels; Minbar takes up to %(limit)s megapixels.") % {
            "limit": limit
        }
    return _(
        "the image is %(width)s × %(height)s pixels; Minbar takes up to %(limit)s megapixels. "  # noqa: RUF001
        "Make it smaller and upload it again."
    ) % {"width": im.width, "height": im.height, "limit": limit}


def _unsupported_image(fp: IO[bytes]) -> MediaRejected:
    fp.seek(0)
    head = fp.read(HEAD_BYTES)
    label = refused_format(head)
    if label is None:
        fp.seek(0)
        try:
            other = Image.open(fp, formats=list(REFUSED_IMAGE_FORMATS))
            label = REFUSED_IMAGE_FORMATS.get(other.format or "", other.format)
        except (UnidentifiedImageError, OSError, ValueError, Warning, Image.DecompressionBombError):
            label = None
    return MediaRejected(refusal_for(label) if label else not_media_message())


def _clean_info(im: Image.Image) -> Image.Image:
    im.info = {k: v for k, v in im.info.items() if k in KEPT_INFO}
    return im


def _frames(im: Image.Image) -> Iterator[Image.Image]:
    for frame in ImageSequence.Iterator(im):
        yield frame.copy()


def _save_animation(
    im: Image.Image, fmt: str, transform: Callable[[Image.Image], Image.Image] | None = None
) -> bytes:
    """Every frame of an animated GIF or WebP, transformed, without comments or metadata."""
    frames: list[Image.Image] = []
    durations: list[int] = []
    for frame in _frames(im):
        durations.append(int(frame.info.get("duration", im.info.get("duration", 100)) or 100))
        frame = frame.convert("RGBA")
        frames.append(transform(frame) if transform else frame)
    out = io.BytesIO()
    options: dict[str, Any] = {
        "save_all": True,
        "append_images": frames[1:],
        "duration": durations,
        "loop": int(im.info.get("loop", 0)),
    }
    if fmt == "GIF":
        options["disposal"] = 2
    else:
        options["quality"] = 85
    frames[0].save(out, fmt, **options)
    return out.getvalue()


def _webp_is_lossless(data: bytes) -> bool:
    return b"VP8L" in data[:4096]


def clean_image(fp: IO[bytes], limits: MediaLimits | None = None) -> CleanImage:
    """Decode ``fp``, apply its EXIF orientation and re-save it without metadata."""
    limits = limits or media_limits()
    im = _open_image(fp, limits)
    fmt = im.format or ""
    mime = IMAGE_FORMATS[fmt]
    animated = bool(getattr(im, "is_animated", False)) and fmt in ("GIF", "WEBP")
    orientation = im.getexif().get(0x0112, 1) if not animated else 1
    out = io.BytesIO()
    icc = im.info.get("icc_profile")
    if animated:
        _clean_info(im)
        data = _save_animation(im, fmt)
        picture = im
        picture.seek(0)
    else:
        if fmt == "MPO":
            im.seek(0)
        picture = ImageOps.exif_transpose(im) if orientation not in (None, 1) else im
        _clean_info(picture)
        if mime == "image/jpeg":
            data = _save_jpeg_clean(picture, icc, keep_quality=picture is im)
        elif fmt == "PNG":
            options: dict[str, Any] = {"icc_profile": icc} if icc else {}
            picture.save(out, "PNG", **options)
            data = out.getvalue()
        elif fmt == "WEBP":
            fp.seek(0)
            lossless = _webp_is_lossless(fp.read(4096))
            options = {"lossless": lossless, "quality": 100 if lossless else 92}
            if icc:
                options["icc_profile"] = icc
            picture.save(out, "WEBP", **options)
            data = out.getvalue()
        else:  # a still GIF
            picture.save(out, "GIF")
            data = out.getvalue()
    first = picture.copy() if not animated else next(_frames(im))
    transparent = has_transparency(first)
    thumb, thumb_mime = make_thumbnail(first, transparent)
    return CleanImage(
        data=data,
        mime_type=mime,
        kind=Kind.GIF if fmt == "GIF" else Kind.IMAGE,
        width=first.width,
        height=first.height,
        animated=animated,
        transparent=transparent,
        thumbnail=thumb,
        thumbnail_mime_type=thumb_mime,
    )


def _save_jpeg_clean(im: Image.Image, icc: bytes | None, *, keep_quality: bool) -> bytes:
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if keep_quality and im.mode in ("RGB", "L"):
        # Same quantization tables as the upload: no visible loss from re-saving.
        try:
            out = io.BytesIO()
            im.save(out, "JPEG", quality="keep", subsampling="keep", **options)
            return out.getvalue()
        except (ValueError, OSError):
            pass
    out = io.BytesIO()
    picture = im if im.mode in ("RGB", "L") else im.convert("RGB")
    picture.save(out, "JPEG", quality=92, **options)
    return out.getvalue()


def make_thumbnail(im: Image.Image, transparent: bool) -> tuple[bytes, str]:
    """A preview at most 320 pixels wide and high: PNG when see-through, JPEG otherwise."""
    thumb = im.convert("RGBA" if transparent else "RGB")
    thumb.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if transparent:
        thumb.save(out, "PNG", optimize=True)
        return out.getvalue(), "image/png"
    thumb.save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue(), "image/jpeg"


# -- video ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoInfo:
    width: int | None
    height: int | None
    duration: float | None
    codec: str = ""


def ffprobe_path() -> str | None:
    return getattr(settings, "MINBAR_FFPROBE", None) or shutil.which("ffprobe")


def ffmpeg_path() -> str | None:
    return getattr(settings, "MINBAR_FFMPEG", None) or shutil.which("ffmpeg")


def probe_video(path: str | Path) -> VideoInfo | None:
    """Duration and dimensions from ffprobe; None when ffprobe is not installed."""
    program = ffprobe_path()
    if program is None:
        return None
    command = [
        program,
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        str(path),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=60, check=False)
        report = json.loads(done.stdout or b"{}") if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        report = None
    if not isinstance(report, dict):
        raise MediaRejected(_("the video could not be read; the file may be damaged."))
    streams = [s for s in report.get("streams", []) if s.get("codec_type") == "video"]
    if not streams:
        raise MediaRejected(_("the file has no video in it."))
    stream = streams[0]
    width, height = _int_or_none(stream.get("width")), _int_or_none(stream.get("height"))
    if abs(_rotation(stream)) in (90, 270):
        width, height = height, width
    duration = _float_or_none(report.get("format", {}).get("duration"))
    if duration is None:
        duration = _float_or_none(stream.get("duration"))
    return VideoInfo(
        width=width, height=height, duration=duration, codec=str(stream.get("codec_name", ""))
    )


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list", []) or []:
        if "rotation" in side:
            return int(_float_or_none(side["rotation"]) or 0)
    return int(_float_or_none((stream.get("tags") or {}).get("rotate")) or 0)


def _int_or_none(value: object) -> int | None:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _float_or_none(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


FFMPEG_FORMATS = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}


def strip_video_metadata(source: Path, target: Path, mime_type: str) -> bool:
    """Copy the streams without the file's metadata (location, device); no re-encoding.

    Returns False, leaving ``target`` absent, when ffmpeg is missing or fails.
    """
    program = ffmpeg_path()
    if program is None:
        return False
    command = [
        program,
        "-v",
        "error",
        "-nostdin",
        "-y",
        "-i",
        str(source),
        "-map",
        "0:v",
        "-map",
        "0:a?",
        "-c",
        "copy",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-fflags",
        "+bitexact",
        "-f",
        FFMPEG_FORMATS[mime_type],
        str(target),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired):
        done = None
    if done is None or done.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        target.unlink(missing_ok=True)
        return False
    return True


def video_thumbnail(source: Path) -> tuple[bytes, str] | None:
    """A 320-pixel preview of a telling frame, made with ffmpeg; None without it."""
    program = ffmpeg_path()
    if program is None:
        return None
    command = [
        program,
        "-v",
        "error",
        "-nostdin",
        "-i",
        str(source),
        "-vf",
        "thumbnail=50",
        "-frames:v",
        "1",
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "-",
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=120, check=False)
        if done.returncode != 0 or not done.stdout:
            return None
        with Image.open(io.BytesIO(done.stdout), formats=["PNG"]) as frame:
            frame.load()
            return make_thumbnail(frame, transparent=False)
    except (OSError, subprocess.TimeoutExpired, UnidentifiedImageError, ValueError):
        return None


# -- documents -------------------------------------------------------------------------------


def sniff_document(head: bytes) -> str | None:
    """The document type of these first bytes (a PDF starts with "%PDF-"), or None."""
    return "application/pdf" if head.startswith(b"%PDF-") else None


def pdftoppm_path() -> str | None:
    return shutil.which("pdftoppm")


def document_thumbnail(source: Path) -> tuple[bytes, str] | None:
    """A 320-pixel preview of a PDF's first page, made with Poppler's pdftoppm; None without it
    (or for a PDF it cannot draw)."""
    program = pdftoppm_path()
    if program is None:
        return None
    try:
        with tempfile.TemporaryDirectory(prefix="minbar-pdf-") as workdir:
            root = Path(workdir) / "page"  # pdftoppm writes page.png (-singlefile)
            command = [program, "-png", "-f", "1", "-l", "1", "-scale-to"]
            command += [str(THUMBNAIL_SIZE * 2), "-singlefile", str(source), str(root)]
            done = subprocess.run(command, capture_output=True, timeout=60, check=False)
            drawn = root.with_suffix(".png")
            if done.returncode != 0 or not drawn.exists():
                return None
            with Image.open(drawn, formats=["PNG"]) as page:
                page.load()
                return make_thumbnail(page, transparent=False)
    except (OSError, subprocess.TimeoutExpired, UnidentifiedImageError, ValueError):
        return None


def _document_checks(asset: MediaAsset, rules: MediaRules, network: str) -> list[MediaCheck]:
    if asset.mime_type not in rules.document_types:
        return [
            MediaCheck(
                Level.ERROR,
                _("%(network)s does not take documents; attach images or a video instead.")
                % {"network": network},
            )
        ]
    if rules.max_document_bytes and asset.bytes > rules.max_document_bytes:
        return [
            MediaCheck(
                Level.ERROR,
                _("%(network)s takes documents of up to %(max)s; this one is %(size)s.")
                % {
                    "network": network,
                    "max": human_size(rules.max_document_bytes),
                    "size": human_size(asset.bytes),
                },
            )
        ]
    return []


# -- checks per network ---------------------------------------------------------------------


class Level(StrEnum):
    ERROR = "error"  # cannot be posted there as it is, and Minbar cannot fix it
    CHANGE = "change"  # Minbar will change the file to fit (convert, resize, pad)
    WARNING = "warning"  # allowed, but worth knowing (no alt text, a check not done)


@dataclass(frozen=True)
class MediaCheck:
    level: Level
    message: str


@dataclass(frozen=True)
class _Plan:
    """What preparing an image for some rules involves."""

    target_mime: str
    size: tuple[int, int]  # after padding or cropping
    fit: Fit
    reshape: bool
    convert: bool
    still: bool  # an animation becomes its first frame
    checks: tuple[MediaCheck, ...]

    @property
    def errors(self) -> list[str]:
        return [c.message for c in self.checks if c.level == Level.ERROR]


def _network(network: object) -> str:
    return str(network) if network else _("This network")


def _target_mime(asset: MediaAsset, accepted: tuple[str, ...]) -> str | None:
    if asset.mime_type in accepted:
        return asset.mime_type
    if asset.transparent:
        order = ("image/png", "image/webp", "image/jpeg", "image/gif")
    else:
        order = ("image/jpeg", "image/webp", "image/png", "image/gif")
    return next((m for m in order if m in accepted), None)


def _reshaped_size(
    width: int, height: int, rules: MediaRules, fit: Fit
) -> tuple[tuple[int, int], bool]:
    ratio = width / height
    low, high = rules.min_aspect_ratio, rules.max_aspect_ratio
    if low is not None and ratio < low:  # too tall
        if fit == Fit.PAD:
            return (math.ceil(height * low), height), True
        return (width, max(1, math.floor(width / low))), True
    if high is not None and ratio > high:  # too wide
        if fit == Fit.PAD:
            return (width, math.ceil(width / high)), True
        return (max(1, math.floor(height * high)), height), True
    return (width, height), False


def _ratio_rule(rules: MediaRules, network: str, ratio: float, video: bool, action: str) -> str:
    """ "Instagram needs an aspect ratio between 4:5 and 1.91:1; this image is 9:16 — …"."""
    low, high = rules.min_aspect_ratio, rules.max_aspect_ratio
    values = {
        "network": network,
        "min": ratio_label(low) if low else "",
        "max": ratio_label(high) if high else "",
        "ratio": ratio_label(ratio),
    }
    # Whole sentences per kind: "this image" and "this video" agree differently in Arabic.
    if low is not None and high is not None:
        if video:
            text = _(
                "%(network)s needs an aspect ratio between %(min)s and %(max)s; "
                "this video is %(ratio)s"
            )
        else:
            text = _(
                "%(network)s needs an aspect ratio between %(min)s and %(max)s; "
                "this image is %(ratio)s"
            )
    elif low is not None:
        if video:
            text = _(
                "%(network)s needs an aspect ratio of at least %(min)s; this video is %(ratio)s"
            )
        else:
            text = _(
                "%(network)s needs an aspect ratio of at least %(min)s; this image is %(ratio)s"
            )
    elif video:
        text = _("%(network)s needs an aspect ratio of at most %(max)s; this video is %(ratio)s")
    else:
        text = _("%(network)s needs an aspect ratio of at most %(max)s; this image is %(ratio)s")
    return _("%(rule)s — %(action)s") % {"rule": text % values, "action": action}


def _alt_text_checks(asset: MediaAsset, rules: MediaRules, network: str) -> list[MediaCheck]:
    checks: list[MediaCheck] = []
    alt = asset.alt_text.strip()
    if rules.alt_text and not alt:
        checks.append(
            MediaCheck(
                Level.WARNING,
                _(
                    "This file has no alt text; add a description so that people who use "
                    "screen readers know what it shows."
                ),
            )
        )
    elif rules.alt_text and rules.alt_text_max_length and len(alt) > rules.alt_text_max_length:
        checks.append(
            MediaCheck(
                Level.CHANGE,
                _(
                    "%(network)s takes alt text of up to %(max)s characters; this one has "
                    "%(count)s — Minbar will shorten it."
                )
                % {"network": network, "max": rules.alt_text_max_length, "count": len(alt)},
            )
        )
    elif not rules.alt_text and alt:
        checks.append(
            MediaCheck(
                Level.WARNING,
                _("%(network)s has no alt text; the description will not be sent.")
                % {"network": network},
            )
        )
    return checks


def _plan_image(asset: MediaAsset, rules: MediaRules, network: str, fit: Fit) -> _Plan:
    checks: list[MediaCheck] = []
    width, height = asset.width or 1, asset.height or 1
    accepted = tuple(rules.image_types)
    target = _target_mime(asset, accepted) if accepted and rules.max_images else None
    if target is None:
        if not accepted or not rules.max_images:
            message = _("%(network)s does not accept images.") % {"network": network}
        else:
            message = _(
                "%(network)s takes %(types)s images only; Minbar cannot convert to that."
            ) % {"network": network, "types": type_names(accepted)}
        checks.append(MediaCheck(Level.ERROR, message))
        return _Plan(asset.mime_type, (width, height), fit, False, False, False, tuple(checks))
    too_big = bool(rules.max_image_bytes and asset.bytes > rules.max_image_bytes)
    if too_big and target == "image/png" and not asset.transparent and "image/jpeg" in accepted:
        target = "image/jpeg"  # a photo saved as PNG shrinks far better as JPEG
    convert = target != asset.mime_type
    still = asset.animated and target not in ("image/gif", "image/webp")
    if convert and asset.mime_type not in accepted:
        values = {
            "network": network,
            "types": type_names(accepted),
            "type": TYPE_NAMES.get(asset.mime_type, asset.mime_type),
            "target": TYPE_NAMES.get(target, target),
        }
        checks.append(
            MediaCheck(
                Level.CHANGE,
                _(
                    "%(network)s takes %(types)s images only; this one is %(type)s — "
                    "Minbar will convert it to %(target)s."
                )
                % values,
            )
        )
    if still:
        checks.append(
            MediaCheck(
                Level.CHANGE,
                _("%(network)s does not play animations; Minbar will post the first frame.")
                % {"network": network},
            )
        )
    size, reshape = _reshaped_size(width, height, rules, fit)
    if reshape:
        action = _("Minbar will pad it.") if fit == Fit.PAD else _("Minbar will crop it.")
        message = _ratio_rule(rules, network, width / height, False, action)
        checks.append(MediaCheck(Level.CHANGE, message))
    if too_big:
        checks.append(
            MediaCheck(
                Level.CHANGE,
                _(
                    "%(network)s takes images of up to %(max)s; this one is %(size)s — "
                    "Minbar will make it smaller."
                )
                % {
                    "network": network,
                    "max": human_size(rules.max_image_bytes or 0),
                    "size": human_size(asset.bytes),
                },
            )
        )
    checks += _alt_text_checks(asset, rules, network)
    return _Plan(target, size, fit, reshape, convert, still, tuple(checks))


def _video_checks(asset: MediaAsset, rules: MediaRules, network: str) -> list[MediaCheck]:
    checks: list[MediaCheck] = []
    accepted = tuple(rules.video_types)
    if not accepted or not rules.max_videos:
        return [
            MediaCheck(Level.ERROR, _("%(network)s does not accept videos.") % {"network": network})
        ]
    if asset.mime_type not in accepted:
        checks.append(
            MediaCheck(
                Level.ERROR,
                _(
                    "%(network)s takes %(types)s videos only; this one is %(type)s. Minbar does "
                    "not convert videos: export it as %(first)s and upload it again."
                )
                % {
                    "network": network,
                    "types": type_names(accepted),
                    "type": TYPE_NAMES.get(asset.mime_type, asset.mime_type),
                    "first": TYPE_NAMES.get(accepted[0], accepted[0]),
                },
            )
        )
    if rules.max_video_bytes and asset.bytes > rules.max_video_bytes:
        checks.append(
            MediaCheck(
                Level.ERROR,
                _("%(network)s takes videos of up to %(max)s; this one is %(size)s.")
                % {
                    "network": network,
                    "max": human_size(rules.max_video_bytes),
                    "size": human_size(asset.bytes),
                },
            )
        )
    if not asset.probed:
        checks.append(
            MediaCheck(
                Level.WARNING,
                _(
                    "Minbar could not check this video's length and dimensions because ffprobe "
                    "is not installed; %(network)s may still refuse it."
                )
                % {"network": network},
            )
        )
    else:
        if asset.width and asset.height:
            _size, reshape = _reshaped_size(asset.width, asset.height, rules, Fit.PAD)
            if reshape:
                action = _("edit it before posting; Minbar does not change videos.")
                ratio = asset.width / asset.height
                checks.append(
                    MediaCheck(Level.ERROR, _ratio_rule(rules, network, ratio, True, action))
                )
        checks += _duration_checks(asset, rules, network)
    checks += _alt_text_checks(asset, rules, network)
    return checks


def _duration_checks(asset: MediaAsset, rules: MediaRules, network: str) -> list[MediaCheck]:
    """Length limits, for rules that carry them (``max_video_seconds``, ``min_video_seconds``)."""
    longest = getattr(rules, "max_video_seconds", None)
    shortest = getattr(rules, "min_video_seconds", None)
    if asset.duration is None:
        if longest or shortest:
            return [
                MediaCheck(
                    Level.WARNING,
                    _("Minbar could not read this video's length; %(network)s may refuse it.")
                    % {"network": network},
                )
            ]
        return []
    values = {"network": network, "length": round(asset.duration, 1)}
    if longest and asset.duration > longest:
        return [
            MediaCheck(
                Level.ERROR,
                _("%(network)s takes videos of up to %(max)s seconds; this one is %(length)s.")
                % {**values, "max": longest},
            )
        ]
    if shortest and asset.duration < shortest:
        return [
            MediaCheck(
                Level.ERROR,
                _("%(network)s takes videos of at least %(min)s seconds; this one is %(length)s.")
                % {**values, "min": shortest},
            )
        ]
    return []


def check_for(
    asset: MediaAsset, media_rules: MediaRules, *, network: object = "", fit: Fit | None = None
) -> list[MediaCheck]:
    """Every way ``asset`` falls short of ``media_rules``, and what Minbar will do about it."""
    name = _network(network)
    if asset.kind == Kind.VIDEO:
        return _video_checks(asset, media_rules, name)
    if asset.kind == Kind.DOCUMENT:
        return _document_checks(asset, media_rules, name)
    return list(_plan_image(asset, media_rules, name, fit or media_limits().fit).checks)


def validate_for(
    asset: MediaAsset, media_rules: MediaRules, *, network: object = "", fit: Fit | None = None
) -> list[str]:
    """Human messages about posting ``asset`` under ``media_rules``; empty when it fits as is.

    ``network`` names the network in the messages ("Instagram needs …").
    """
    return [c.message for c in check_for(asset, media_rules, network=network, fit=fit)]


# -- preparing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedMedia:
    """A local file that meets one network's rules, ready for a connector."""

    path: str
    mime_type: str
    width: int | None
    height: int | None
    alt_text: str

    def as_media_item(self) -> MediaItem:
        return MediaItem(
            path=self.path,
            mime_type=self.mime_type,
            alt_text=self.alt_text,
            width=self.width,
            height=self.height,
        )


def rules_key(media_rules: MediaRules, fit: Fit) -> str:
    """What a rendition depends on; renditions are cached under this key."""
    relevant = {
        "version": PROCESSING_VERSION,
        "image_types": sorted(media_rules.image_types),
        "max_image_bytes": media_rules.max_image_bytes,
        "min_aspect_ratio": media_rules.min_aspect_ratio,
        "max_aspect_ratio": media_rules.max_aspect_ratio,
        "fit": str(fit),
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def _alt_text_for(asset: MediaAsset, rules: MediaRules) -> str:
    alt = asset.alt_text.strip()
    if not rules.alt_text:
        return ""
    limit = rules.alt_text_max_length
    if limit and len(alt) > limit:
        cut = alt[: limit - 1]
        space = cut.rfind(" ")
        if space > limit // 2:
            cut = cut[:space]
        return cut.rstrip() + "…"
    return alt


def prepare_for(
    asset: MediaAsset, media_rules: MediaRules, *, network: object = "", fit: Fit | None = None
) -> PreparedMedia:
    """A file of ``asset`` that ``media_rules`` accept: converted, padded or cropped, smaller.

    Made once per asset and rules, then reused. Raises ``InvalidInput`` with
    the reason when the asset cannot be made to fit (a video of the wrong
    type; an image that stays too large).
    """
    name = _network(network)
    alt = _alt_text_for(asset, media_rules)
    if asset.kind == Kind.DOCUMENT:
        errors = [c.message for c in _document_checks(asset, media_rules, name)]
        if errors:
            raise InvalidInput(" ".join(errors))
        # A document's title on the network: its alt text, else the name it was uploaded as.
        title = asset.alt_text.strip() or Path(asset.original_filename).stem
        return PreparedMedia(
            default_storage.path(asset.file.name or ""), asset.mime_type, None, None, title
        )
    if asset.kind == Kind.VIDEO:
        errors = [
            c.message for c in _video_checks(asset, media_rules, name) if c.level == Level.ERROR
        ]
        if errors:
            raise InvalidInput(" ".join(errors))
        return PreparedMedia(
            default_storage.path(asset.file.name or ""),
            asset.mime_type,
            asset.width,
            asset.height,
            alt,
        )
    fit = fit or media_limits().fit
    plan = _plan_image(asset, media_rules, name, fit)
    if plan.errors:
        raise InvalidInput(" ".join(plan.errors))
    too_big = bool(media_rules.max_image_bytes and asset.bytes > media_rules.max_image_bytes)
    if not (plan.convert or plan.reshape or plan.still or too_big):
        return PreparedMedia(
            default_storage.path(asset.file.name or ""),
            asset.mime_type,
            asset.width,
            asset.height,
            alt,
        )
    key = rules_key(media_rules, fit)
    rendition = MediaRendition.objects.filter(asset=asset, rules_key=key).first()
    if rendition is not None and default_storage.exists(rendition.file.name or ""):
        return PreparedMedia(
            default_storage.path(rendition.file.name or ""),
            rendition.mime_type,
            rendition.width,
            rendition.height,
            alt,
        )
    if rendition is not None:  # its file went missing: make it again
        rendition.delete()
    data, width, height = _render(asset, plan, media_rules.max_image_bytes, name)
    rendition = _store_rendition(asset, key, plan.target_mime, data, width, height)
    return PreparedMedia(
        default_storage.path(rendition.file.name or ""), rendition.mime_type, width, height, alt
    )


def _store_rendition(
    asset: MediaAsset, key: str, mime: str, data: bytes, width: int, height: int
) -> MediaRendition:
    path = f"{asset.workspace_id}/renditions/{asset.pk}/{key[:24]}{EXTENSIONS[mime]}"
    stored = default_storage.save(path, ContentFile(data))
    try:
        with transaction.atomic():
            return MediaRendition.objects.create(
                asset=asset,
                rules_key=key,
                file=stored,
                mime_type=mime,
                width=width,
                height=height,
                bytes=len(data),
            )
    except IntegrityError:
        # Made at the same moment by another worker: use theirs.
        default_storage.delete(stored)
        return MediaRendition.objects.get(asset=asset, rules_key=key)


def _background(mode: str) -> tuple[int, ...]:
    return (255, 255, 255, 0) if mode == "RGBA" else (255, 255, 255)


def _reshape(im: Image.Image, size: tuple[int, int], fit: Fit) -> Image.Image:
    width, height = size
    if fit == Fit.PAD:
        canvas = Image.new(im.mode, size, _background(im.mode))
        canvas.paste(im, ((width - im.width) // 2, (height - im.height) // 2))
        return canvas
    left, top = (im.width - width) // 2, (im.height - height) // 2
    return im.crop((left, top, left + width, top + height))


def _flatten(im: Image.Image) -> Image.Image:
    """RGB on white: for JPEG, which has no transparency."""
    if im.mode == "RGB":
        return im
    rgba = im.convert("RGBA")
    canvas = Image.new("RGB", rgba.size, (255, 255, 255))
    canvas.paste(rgba, mask=rgba.getchannel("A"))
    return canvas


JPEG_QUALITIES = (90, 85, 80, 75, 70, 65, 60)
SHRINK_STEP = 0.85
SMALLEST_SIDE = 160


def _render(
    asset: MediaAsset, plan: _Plan, max_bytes: int | None, network: str
) -> tuple[bytes, int, int]:
    with default_storage.open(asset.file.name or "", "rb") as fp, Image.open(fp) as source:
        source.load()
        fmt = {
            "image/jpeg": "JPEG",
            "image/png": "PNG",
            "image/webp": "WEBP",
            "image/gif": "GIF",
        }[plan.target_mime]
        animated = asset.animated and not plan.still
        icc = source.info.get("icc_profile")
        if animated:
            data, size = _render_animation(source, fmt, plan, max_bytes)
        else:
            data, size = _render_still(source, fmt, plan, max_bytes, icc)
    if data is None:
        raise InvalidInput(
            _(
                "Minbar could not make this image small enough for %(network)s "
                "(%(max)s); upload a smaller one."
            )
            % {"network": network, "max": human_size(max_bytes or 0)}
        )
    return data, size[0], size[1]


def _render_still(
    source: Image.Image, fmt: str, plan: _Plan, max_bytes: int | None, icc: bytes | None
) -> tuple[bytes | None, tuple[int, int]]:
    source.seek(0)
    keeps_alpha = fmt in ("PNG", "WEBP", "GIF") and has_transparency(source)
    im = source.convert("RGBA" if keeps_alpha else "RGB") if fmt != "JPEG" else _flatten(source)
    if plan.reshape:
        im = _reshape(im, plan.size, plan.fit)
    options: dict[str, Any] = {"icc_profile": icc} if icc and fmt != "GIF" else {}
    qualities: tuple[int | None, ...] = JPEG_QUALITIES if fmt in ("JPEG", "WEBP") else (None,)

    def encode(picture: Image.Image, quality: int | None) -> bytes:
        out = io.BytesIO()
        extra = {"quality": quality} if quality is not None else {}
        if fmt == "PNG":
            extra["optimize"] = True
        picture.save(out, fmt, **options, **extra)
        return out.getvalue()

    for quality in qualities:  # quality first
        data = encode(im, quality)
        if not max_bytes or len(data) <= max_bytes:
            return data, im.size
    while min(im.size) * SHRINK_STEP >= SMALLEST_SIDE:  # then dimensions
        im = im.resize(
            (round(im.width * SHRINK_STEP), round(im.height * SHRINK_STEP)),
            Image.Resampling.LANCZOS,
        )
        data = encode(im, qualities[2] if len(qualities) > 2 else None)
        if len(data) <= (max_bytes or len(data)):
            return data, im.size
    return None, im.size


def _render_animation(
    source: Image.Image, fmt: str, plan: _Plan, max_bytes: int | None
) -> tuple[bytes | None, tuple[int, int]]:
    scale = 1.0
    size = plan.size
    for _attempt in range(12):
        target = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))

        def transform(frame: Image.Image, target: tuple[int, int] = target) -> Image.Image:
            if plan.reshape:
                frame = _reshape(frame, plan.size, plan.fit)
            if frame.size != target:
                frame = frame.resize(target, Image.Resampling.LANCZOS)
            return frame

        data = _save_animation(source, fmt, transform)
        if not max_bytes or len(data) <= max_bytes:
            return data, target
        scale *= SHRINK_STEP
        if min(target) * SHRINK_STEP < SMALLEST_SIDE:
            break
    return None, size
