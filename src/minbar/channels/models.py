from __future__ import annotations

import json
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minbar.connectors.types import Credentials
from minbar.core.crypto import EncryptedTextField


class Health(models.TextChoices):
    CONNECTED = "connected", _("Connected")
    RATE_LIMITED = "rate_limited", _("Rate-limited")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnecting")
    ERROR = "error", _("Error")


class Channel(models.Model):
    """One social account a workspace publishes to and listens on."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="channels"
    )
    network = models.CharField(_("network"), max_length=32)
    server_url = models.CharField(max_length=300, blank=True, default="")
    remote_id = models.CharField(max_length=300)
    handle = models.CharField(max_length=300)
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    avatar_url = models.URLField(max_length=500, blank=True, default="")
    profile_url = models.URLField(max_length=500, blank=True, default="")
    # JSON of Credentials, encrypted with the rotatable keys; never logged or returned.
    credentials_blob = EncryptedTextField(blank=True, default="")
    token_expires_at = models.DateTimeField(null=True, blank=True)
    health = models.CharField(max_length=20, choices=Health.choices, default=Health.CONNECTED)
    health_message = models.CharField(max_length=500, blank=True, default="")
    health_detail = models.TextField(blank=True, default="")
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["network", "handle"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "network", "server_url", "remote_id"],
                name="one_channel_per_account_per_workspace",
            )
        ]

    def __str__(self) -> str:
        return f"{self.handle} ({self.network})"

    @property
    def display_name(self) -> str:
        return self.name or self.handle

    @property
    def is_usable(self) -> bool:
        if self.health == Health.RATE_LIMITED and self.rate_limited_until:
            return self.rate_limited_until <= timezone.now()
        return self.health in (Health.CONNECTED, Health.RATE_LIMITED)

    def get_credentials(self) -> Credentials:
        if not self.credentials_blob:
            return Credentials()
        raw = json.loads(self.credentials_blob)
        expires = raw.get("expires_at")
        return Credentials(
            secrets=dict(raw.get("secrets", {})),
            data=dict(raw.get("data", {})),
            expires_at=datetime.fromisoformat(expires) if expires else None,
        )

    def set_credentials(self, credentials: Credentials) -> None:
        self.credentials_blob = json.dumps(
            {
                "secrets": credentials.secrets,
                "data": credentials.data,
                "expires_at": credentials.expires_at.isoformat()
                if credentials.expires_at
                else None,
            }
        )
        self.token_expires_at = credentials.expires_at


class OAuthAttempt(models.Model):
    """A sign-in started in Minbar and finished on the network's page; single use, short-lived."""

    state = models.CharField(max_length=64, unique=True)
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="+"
    )
    network = models.CharField(max_length=32)
    server_url = models.CharField(max_length=300, blank=True, default="")
    code_verifier = EncryptedTextField(blank=True, default="")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.network} sign-in {self.state[:6]}…"


class ServerApp(models.Model):
    """Minbar's app registration on one server (a Mastodon instance), reused by every workspace."""

    network = models.CharField(max_length=32)
    server_url = models.CharField(max_length=300)
    client_id = models.CharField(max_length=300)
    client_secret = EncryptedTextField(blank=True, default="")
    redirect_uri = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "server_url", "redirect_uri"], name="one_app_per_server"
            )
        ]

    def __str__(self) -> str:
        return f"{self.network} app on {self.server_url}"
