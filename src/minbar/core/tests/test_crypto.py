"""Secrets at rest survive key rotation and fail clearly with the wrong keys."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from minbar.accounts.models import User
from minbar.core import crypto


def _raw_secret(user: User) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()[0]


def test_rotation_moves_every_secret_to_the_newest_key(world, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.MINBAR_ENCRYPTION_KEYS = [old]
    world.alice.totp_secret = "JBSWY3DPEHPK3PXP"
    world.alice.save()
    settings.MINBAR_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_secrets")
    settings.MINBAR_ENCRYPTION_KEYS = [new]
    assert Fernet(new.encode()).decrypt(_raw_secret(world.alice).encode()) == b"JBSWY3DPEHPK3PXP"
    assert User.objects.get(pk=world.alice.pk).totp_secret == "JBSWY3DPEHPK3PXP"


def test_a_secret_written_with_an_unknown_key_fails_with_a_clear_error(settings):
    settings.MINBAR_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = crypto.encrypt("s3cret")
    settings.MINBAR_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.SECRET_KEY = "another-secret-key-entirely-for-this-test"
    with pytest.raises(crypto.DecryptionError, match="cannot be decrypted"):
        crypto.decrypt(token)
