"""Short links, the clicks on them (raw and rolled up) and the conversions they lead to.

Clicks are stored raw (one row per human click, no IP address) and summed per
UTC hour and per UTC day by the batch writer in the same transaction
(:mod:`minbar.links.recorder`), so dashboards read small rollup tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minbar.core.crypto import EncryptedTextField

DEFAULT_ATTRIBUTION_DAYS = 7


class UaClass(models.TextChoices):
    DESKTOP = "desktop", _("Desktop")
    MOBILE = "mobile", _("Mobile")
    TABLET = "tablet", _("Tablet")
    OTHER = "other", _("Other")


class LinkSettings(models.Model):
    """A workspace's link and conversion settings (one row, made on first use)."""

    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="link_settings"
    )
    auto_apply = models.BooleanField(_("track links in posts"), default=True)
    # A host name people's DNS points at Minbar (docs/links.md); empty: MINBAR_BASE_URL.
    short_domain = models.CharField(_("short domain"), max_length=200, blank=True, default="")
    attribution_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"), default=DEFAULT_ATTRIBUTION_DAYS
    )
    # Identifies the workspace on both conversion paths; public (it is in the snippet).
    public_key = models.CharField(max_length=40, unique=True)
    # Signs server-to-server conversions; encrypted at rest, rotatable, never logged.
    conversion_secret = EncryptedTextField()
    secret_rotated_at = models.DateTimeField(default=timezone.now)
    # Events the browser snippet may send (others need the signed server API).
    browser_events = models.JSONField(default=list, blank=True)
    # Origins (scheme://host[:port]) allowed to send browser conversions.
    allowed_origins = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"link settings of {self.workspace_id}"


class Link(models.Model):
    """A short code that redirects to one stored destination (with its UTM tags)."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="links"
    )
    # Unique across workspaces: /l/<code> carries no workspace.
    code = models.CharField(max_length=16, unique=True)
    title = models.CharField(_("title"), max_length=200, blank=True, default="")
    destination = models.URLField(_("destination"), max_length=2000)
    utm_source = models.CharField(_("source"), max_length=100, blank=True, default="")
    utm_medium = models.CharField(_("medium"), max_length=100, blank=True, default="")
    utm_campaign = models.CharField(_("campaign"), max_length=200, blank=True, default="")
    utm_content = models.CharField(_("content"), max_length=200, blank=True, default="")
    utm_term = models.CharField(_("term"), max_length=200, blank=True, default="")
    post = models.ForeignKey(
        "publishing.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A referral link: clicks and conversions through it are credited to this contact.
    contact = models.ForeignKey(
        "inbox.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Made by publishing for one post x channel x destination (see autolink.py).
    auto = models.BooleanField(default=False)
    # NULL (not "") for links made by people, so the unique constraint skips them.
    dedupe_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"], name="link_ws_created")]

    def __str__(self) -> str:
        return self.code


class Click(models.Model):
    """One human click (bots are not stored). No IP address, no full user agent."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="clicks")
    # Copied from the link when the click is written, for grouping without joins.
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    post = models.ForeignKey(
        "publishing.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "inbox.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Given to the destination as ?mb_click=, so a conversion can name its click.
    click_id = models.CharField(max_length=24, unique=True)
    clicked_at = models.DateTimeField()
    referrer_host = models.CharField(max_length=200, blank=True, default="")
    ua_class = models.CharField(max_length=12, choices=UaClass.choices, default=UaClass.OTHER)
    # Keyed hash of IP + user agent with a salt that changes every UTC day and is
    # then deleted: equal within a day, unlinkable across days.
    visitor = models.CharField(max_length=32, blank=True, default="")
    # This visitor's first click on this link that UTC day (the unique estimate).
    first_of_day = models.BooleanField(default=False)

    class Meta:
        ordering = ["-clicked_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "clicked_at"], name="click_ws_time"),
            models.Index(fields=["link", "clicked_at"], name="click_link_time"),
            models.Index(fields=["link", "visitor", "clicked_at"], name="click_link_visitor"),
        ]

    def __str__(self) -> str:
        return self.click_id


class ClickHour(models.Model):
    """Clicks per link, UTC hour, device class and referrer host (the dashboards' table)."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    ua_class = models.CharField(max_length=12)
    referrer_host = models.CharField(max_length=200, blank=True, default="")
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    post = models.ForeignKey(
        "publishing.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "inbox.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    clicks = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["link", "hour", "ua_class", "referrer_host"], name="one_click_hour_row"
            )
        ]
        indexes = [models.Index(fields=["workspace", "hour"], name="clickhour_ws_hour")]

    def __str__(self) -> str:
        return f"{self.link_id} {self.hour:%Y-%m-%d %H}h: {self.clicks}"


class ClickDay(models.Model):
    """Clicks, unique visitors and filtered bot hits per link and UTC day (lists, sparklines)."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    clicks = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    bots = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["link", "day"], name="one_click_day_row")]
        indexes = [models.Index(fields=["workspace", "day"], name="clickday_ws_day")]

    def __str__(self) -> str:
        return f"{self.link_id} {self.day}: {self.clicks}"


class RollupLock(models.Model):
    """One row: batch writes and recomputations of the rollups take turns on it."""

    name = models.CharField(max_length=20, unique=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # The last recomputation, for the settings page and the command's output.
    recomputed_from = models.DateField(null=True, blank=True)
    recomputed_to = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class VisitorSalt(models.Model):
    """A random salt per UTC day for the visitor hash; deleted after the day is over."""

    day = models.DateField(unique=True)
    salt = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"salt of {self.day}"


class ConversionSource(models.TextChoices):
    SERVER = "server", _("Server (signed)")
    BROWSER = "browser", _("Browser snippet")


class Conversion(models.Model):
    """A conversion event, attributed to the last click within the window when there is one."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="conversions"
    )
    event = models.CharField(max_length=60)
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    order_id = models.CharField(max_length=200, blank=True, default="")
    source = models.CharField(max_length=8, choices=ConversionSource.choices)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    # The click ids the caller sent, as sent (shown when none could be attributed).
    click_refs = models.JSONField(default=list, blank=True)
    click = models.ForeignKey(
        Click, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversions"
    )
    link = models.ForeignKey(
        Link, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    post = models.ForeignKey(
        "publishing.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "inbox.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The post's campaign (its first tag, or the link's utm_campaign) when attributed.
    campaign = models.CharField(max_length=200, blank=True, default="")
    # Why it is not attributed: "no_click", "unknown_click", "outside_window".
    unattributed_reason = models.CharField(max_length=20, blank=True, default="")
    # SHA-256 of the signature header: the same signed request is accepted once.
    signature_digest = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "order_id"],
                condition=~models.Q(order_id=""),
                name="one_conversion_per_order",
            ),
            models.UniqueConstraint(
                fields=["workspace", "signature_digest"],
                condition=models.Q(signature_digest__isnull=False),
                name="one_conversion_per_signature",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "occurred_at"], name="conversion_ws_time"),
            models.Index(fields=["click", "event"], name="conversion_click_event"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.value or ''} {self.currency}".strip()


class PostTracking(models.Model):
    """A post whose links are not tracked (the composer's "Track links" toggle, off).

    Kept here rather than as a column on the post so publishing's tables stay as
    they are; a row exists only for posts that opted out.
    """

    post = models.OneToOneField("publishing.Post", on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"tracking of post {self.post_id}: {self.enabled}"
