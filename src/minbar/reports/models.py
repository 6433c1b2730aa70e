"""Scheduled email reports: what to send, to whom, when, and how the last send went."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minbar.workspaces.models import Workspace


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class ScopeKind(models.TextChoices):
    WORKSPACE = "workspace", _("Whole workspace")
    CHANNEL = "channel", _("One channel")
    POST = "post", _("One post")
    TAG = "tag", _("One tag")


class ReportSchedule(models.Model):
    """A report emailed every week or month, covering the last full week or month.

    ``next_run_at`` is the claim: a worker sends a due report only if it is the
    one that moved ``next_run_at`` on (a compare-and-set), so two workers never
    send the same report twice.
    """

    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="report_schedules"
    )
    name = models.CharField(_("name"), max_length=120)
    scope = models.CharField(
        _("scope"), max_length=16, choices=ScopeKind.choices, default=ScopeKind.WORKSPACE
    )
    # A removed channel or post leaves the schedule in place, failing with a reason
    # (never quietly widening to the whole workspace).
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    post = models.ForeignKey(
        "publishing.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tag = models.CharField(_("tag"), max_length=100, blank=True, default="")
    frequency = models.CharField(
        _("frequency"), max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    weekday = models.PositiveSmallIntegerField(_("day of the week"), default=0)  # Monday=0
    day_of_month = models.PositiveSmallIntegerField(_("day of the month"), default=1)
    hour = models.PositiveSmallIntegerField(_("hour"), default=9)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("members")
    )
    emails = models.JSONField(_("other email addresses"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Reports show what this person may see (response times need the inbox, say).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("report schedule")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["enabled", "next_run_at"])]

    def __str__(self) -> str:
        return self.name
