"""The media library: each workspace's images and videos, and their per-network variants.

Files live under ``MEDIA_ROOT/<workspace id>/`` and are only ever served
through views that check membership (see ``views.serve_file``), never from a
public URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")
    GIF = "gif", _("GIF")
    DOCUMENT = "document", _("Document")


TYPE_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "image/avif": "AVIF",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
    "video/webm": "WebM",
    "application/pdf": "PDF",
}


class MediaAsset(models.Model):
    """One uploaded file, cleaned on upload: orientation applied, private metadata removed."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="media_assets"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file = models.FileField(_("file"), max_length=300)
    thumbnail = models.FileField(max_length=300, blank=True, default="")
    thumbnail_mime_type = models.CharField(max_length=100, blank=True, default="")
    original_filename = models.CharField(_("file name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    # Sniffed from the content, never from the file name.
    mime_type = models.CharField(_("type"), max_length=100)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration = models.FloatField(_("duration"), null=True, blank=True)  # seconds
    animated = models.BooleanField(default=False)
    # Images with see-through pixels: converted to PNG or WebP rather than JPEG when possible.
    transparent = models.BooleanField(default=False)
    # Videos: whether ffprobe read the duration and dimensions (it may not be installed).
    probed = models.BooleanField(default=False)
    bytes = models.PositiveBigIntegerField(_("size"))
    # Of the file as uploaded: uploading the same file again finds this asset.
    sha256 = models.CharField(max_length=64)
    alt_text = models.TextField(_("alt text"), blank=True, default="")
    folder = models.CharField(_("folder"), max_length=200, blank=True, default="")
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # "|tag one|tag two|", lower-cased, so that every database can filter by tag.
    tag_index = models.CharField(max_length=1200, blank=True, default="", editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("media file")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "sha256"], name="one_asset_per_file")
        ]
        indexes = [models.Index(fields=["workspace", "folder"])]

    def __str__(self) -> str:
        return self.original_filename

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.tag_index = tag_index(self.tags)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "tags" in update_fields:
            kwargs["update_fields"] = {*update_fields, "tag_index"}
        super().save(*args, **kwargs)

    @property
    def is_visual(self) -> bool:
        """Images and GIFs: what Pillow can open."""
        return self.kind in (Kind.IMAGE, Kind.GIF)

    @property
    def type_label(self) -> str:
        return TYPE_NAMES.get(self.mime_type, self.mime_type)

    @property
    def duration_label(self) -> str:
        """1:05 — minutes and seconds."""
        if self.duration is None:
            return ""
        seconds = round(self.duration)
        return f"{seconds // 60}:{seconds % 60:02d}"

    @property
    def aspect_ratio(self) -> float | None:
        if not self.width or not self.height:
            return None
        return self.width / self.height


def tag_index(tags: object) -> str:
    if not isinstance(tags, list) or not tags:
        return ""
    return "|" + "|".join(str(t).casefold() for t in tags) + "|"


class MediaRendition(models.Model):
    """A variant of an asset made for one set of network rules (type, size, aspect ratio)."""

    asset = models.ForeignKey(MediaAsset, on_delete=models.CASCADE, related_name="renditions")
    # Hash of the rules that matter and of Minbar's processing version.
    rules_key = models.CharField(max_length=64)
    file = models.FileField(max_length=300)
    mime_type = models.CharField(max_length=100)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "rules_key"], name="one_rendition_per_rules")
        ]

    def __str__(self) -> str:
        return f"{self.asset_id}:{self.rules_key[:8]}"
