from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from minbar.core.crypto import EncryptedTextField, rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the newest key of MINBAR_ENCRYPTION_KEYS, "
        "so that older keys can then be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(str(model._meta.pk.column))
            for field in fields:
                column = connection.ops.quote_name(str(field.column))
                done = 0
                # Raw SQL: the field would decrypt on read, and rotation needs the ciphertext.
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''")  # noqa: S608
                    for row_id, token in cursor.fetchall():
                        cursor.execute(
                            f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                            [rotate(token), row_id],
                        )
                        done += 1
                if done:
                    self.stdout.write(f"{model._meta.label}.{field.name}: {done} re-encrypted")
                total += done
        self.stdout.write(self.style.SUCCESS(f"{total} secrets now use the newest key."))
