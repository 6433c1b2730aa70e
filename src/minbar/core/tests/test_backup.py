"""minbar backup / minbar restore against the real database (SQLite, or PostgreSQL when
MINBAR_TEST_DATABASE_URL points at one): tests branch on the vendor instead of skipping."""

from __future__ import annotations

import hashlib
import io
import json
import re
import sqlite3
import stat
import tarfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection, transaction
from django.db.migrations.recorder import MigrationRecorder

import minbar
from minbar.audit.models import AuditEvent
from minbar.core import backup
from minbar.workspaces.models import Membership, Organization, Workspace

pytestmark = pytest.mark.django_db(transaction=True)

DB_FILE = {"sqlite": "database/minbar.sqlite3", "postgresql": "database/minbar.pgdump"}


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def data_dir(settings, tmp_path):
    """Point the data and media directories at tmp_path so nothing real is touched."""
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = tmp_path / "data" / "media"
    return tmp_path / "data"


@pytest.fixture
def media(data_dir):
    root = data_dir / "media"
    files = {
        "logo.png": bytes(range(256)) * 40,
        "posts/2026/قهوة.txt": "صباح الخير".encode(),
        "posts/2026/notes.txt": b"first draft\n",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def run_backup(*args: str) -> tuple[Path, str]:
    out = io.StringIO()
    call_command("backup", *args, stdout=out)
    match = re.search(r"Backup saved: (.+) \(", out.getvalue())
    assert match, out.getvalue()
    return Path(match.group(1)), out.getvalue()


def run_restore(archive: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def read_members(archive: Path) -> dict[str, bytes]:
    members = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            handle = tar.extractfile(member)
            if handle is not None:
                members[member.name] = handle.read()
    return members


def write_members(dest: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(dest, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def edit_manifest(members: dict[str, bytes], change: Callable[[dict], None]) -> None:
    manifest = json.loads(members["manifest.json"])
    change(manifest)
    members["manifest.json"] = json.dumps(manifest).encode()


# --- backup then restore ----------------------------------------------------


def test_restore_brings_back_rows_deleted_after_the_backup(world, data_dir, tmp_path):
    archive, output = run_backup("--output", str(tmp_path / "before.tar.gz"))
    assert "[1/3]" in output and "[3/3]" in output

    Workspace.objects.filter(slug="globex").delete()
    world.alice.delete()
    assert not Workspace.objects.filter(slug="globex").exists()

    output = run_restore(archive, "--yes")

    for step in range(1, 5):
        assert f"[{step}/4]" in output
    assert "Restore complete." in output
    globex = Workspace.objects.get(slug="globex")
    assert globex.name == "Globex Tea"
    assert Membership.objects.filter(workspace=globex, user__username="charlie").exists()
    assert Membership.objects.filter(workspace__slug="acme", user__username="alice").exists()
    # The restore is recorded in the restored database.
    event = AuditEvent.objects.get(action="backup.restored")
    assert event.via == "cli"
    assert event.data["path"] == str(archive)


def test_backup_is_recorded_and_manifest_describes_the_archive(world, data_dir, media, tmp_path):
    before = datetime.now(UTC)
    archive, _ = run_backup("--output", str(tmp_path / "b.tar.gz"))

    members = read_members(archive)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format_version"] == 1
    assert manifest["minbar_version"] == minbar.__version__
    created = datetime.fromisoformat(manifest["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert before <= created <= datetime.now(UTC)
    assert manifest["database"] == {"vendor": connection.vendor, "file": DB_FILE[connection.vendor]}
    latest = {}
    for app, name in MigrationRecorder.Migration.objects.order_by("applied", "id").values_list(
        "app", "name"
    ):
        latest[app] = name
    assert manifest["migrations"] == latest
    assert {"accounts", "workspaces", "audit"} <= set(manifest["migrations"])

    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(members) - {"manifest.json"}
    assert {"media/logo.png", "media/posts/2026/قهوة.txt"} <= set(listed)
    for name, data in members.items():
        if name != "manifest.json":
            assert listed[name]["size"] == len(data)
            assert listed[name]["sha256"] == hashlib.sha256(data).hexdigest()
    if connection.vendor == "sqlite":
        assert members[DB_FILE["sqlite"]].startswith(b"SQLite format 3\x00")
    else:
        assert members[DB_FILE["postgresql"]].startswith(b"PGDMP")

    event = AuditEvent.objects.get(action="backup.created")
    assert event.data == {"path": str(archive), "size": archive.stat().st_size}
    assert event.via == "cli"


def test_default_output_is_a_private_file_in_the_data_dir(world, data_dir):
    archive, _ = run_backup()
    assert archive.parent == data_dir / "backups"
    assert re.fullmatch(r"minbar-\d{8}-\d{6}\.tar\.gz", archive.name)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    # Nothing left behind from staging.
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]


def test_output_directory_gets_the_default_name(world, data_dir, tmp_path):
    archive, _ = run_backup("--output", str(tmp_path))
    assert archive.parent == tmp_path
    assert archive.name.startswith("minbar-")


def test_existing_output_is_refused_without_force(world, data_dir, tmp_path):
    target = tmp_path / "b.tar.gz"
    target.write_bytes(b"keep me")

    with pytest.raises(CommandError, match=r"already exists.*--force"):
        call_command("backup", "--output", str(target), verbosity=0)
    assert target.read_bytes() == b"keep me"
    assert not AuditEvent.objects.filter(action="backup.created").exists()

    archive, _ = run_backup("--output", str(target), "--force")
    assert archive == target
    assert "manifest.json" in read_members(target)


def test_output_inside_the_media_directory_is_refused(world, data_dir, media):
    with pytest.raises(CommandError, match=r"inside the media directory"):
        call_command("backup", "--output", str(media / "b.tar.gz"), verbosity=0)
    assert not (media / "b.tar.gz").exists()


def test_restoring_an_older_schema_says_to_migrate(world, data_dir, tmp_path):
    # Forget the audit app's migration before the backup, as if it came from
    # a Minbar that did not have it yet.
    recorder = MigrationRecorder(connection)
    row = recorder.migration_qs.filter(app="audit").order_by("-id").first()
    assert row is not None
    row.delete()
    try:
        archive, _ = run_backup("--output", str(tmp_path / "old.tar.gz"))
        assert "audit" not in json.loads(read_members(archive)["manifest.json"])["migrations"]
        recorder.record_applied("audit", row.name)
        output = run_restore(archive, "--yes")
        assert "1 migration is pending" in output
        assert "minbar migrate" in output
    finally:
        recorder.record_applied("audit", row.name)


def test_backup_completes_and_verifies_while_another_thread_writes(world, data_dir, tmp_path):
    stop = threading.Event()
    created: list[str] = []
    errors: list[BaseException] = []

    def writer() -> None:
        # Each organization and its workspace are written in one transaction,
        # so a consistent backup never holds one without the other.
        try:
            n = 0
            while not stop.is_set():
                try:
                    with transaction.atomic():
                        org = Organization.objects.create(name=f"W{n}", slug=f"w-{n}")
                        Workspace.objects.create(organization=org, name=f"W{n}", slug=f"w-{n}")
                except OperationalError:
                    continue  # shared-cache SQLite: "table is locked" while the copy reads
                created.append(f"w-{n}")
                n += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def progress(line: str) -> None:
        # The writer runs through the database copy (step 1) and stops before
        # the audit event is written: the in-memory test database uses
        # shared-cache locks, which do not wait like a real file's busy timeout.
        if line.startswith("[2/3]"):
            stop.set()
            thread.join(timeout=30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(created) < 5 and thread.is_alive():
            time.sleep(0.005)
        archive = backup.create_backup(tmp_path / "busy.tar.gz", progress=progress).path
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors
    written = len(created)

    with backup.check_archive(archive) as checked:  # raises if any file fails its sha256
        assert checked.database_file.stat().st_size > 0

    run_restore(archive, "--yes")
    restored_orgs = set(
        Organization.objects.filter(slug__startswith="w-").values_list("slug", flat=True)
    )
    restored_workspaces = set(
        Workspace.objects.filter(slug__startswith="w-").values_list("slug", flat=True)
    )
    assert 5 <= len(restored_orgs) <= written
    assert restored_orgs == restored_workspaces


def test_sqlite_online_copy_is_a_consistent_snapshot_under_writes(tmp_path):
    """The copy function itself, on a WAL file database as in production (no Django)."""
    live = tmp_path / "live.sqlite3"
    setup = sqlite3.connect(live)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER)")
    setup.executemany("INSERT INTO account VALUES (?, 100)", [(i,) for i in range(10)])
    setup.commit()
    setup.close()
    stop = threading.Event()

    def transfer() -> None:
        # Moves money between accounts; the total is 1000 in every committed state.
        db = sqlite3.connect(live, timeout=10)
        n = 0
        while not stop.is_set():
            with db:
                db.execute("UPDATE account SET balance = balance - 7 WHERE id = ?", (n % 10,))
                db.execute("UPDATE account SET balance = balance + 7 WHERE id = ?", ((n + 3) % 10,))
            n += 1
        db.close()

    thread = threading.Thread(target=transfer)
    thread.start()
    source = sqlite3.connect(live, timeout=10)
    try:
        for i in range(15):
            copy = tmp_path / f"copy{i}.sqlite3"
            backup.copy_sqlite(source, copy)
            assert not (tmp_path / f"copy{i}.sqlite3-wal").exists()
            check = sqlite3.connect(copy)
            assert check.execute("SELECT sum(balance) FROM account").fetchone() == (1000,)
            assert check.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            check.close()
    finally:
        stop.set()
        thread.join(timeout=30)
        source.close()


# --- refusing bad archives --------------------------------------------------


def _change_database_byte(members: dict[str, bytes]) -> None:
    name = DB_FILE[connection.vendor]
    data = bytearray(members[name])
    data[len(data) // 2] ^= 0xFF
    members[name] = bytes(data)


def _other_vendor(manifest: dict) -> None:
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    manifest["database"]["vendor"] = other


def _future_migration(manifest: dict) -> None:
    manifest["migrations"]["workspaces"] = "9999_from_the_future"


def _drop_media_file(members: dict[str, bytes]) -> None:
    del members["media/logo.png"]


def _unlisted_file(members: dict[str, bytes]) -> None:
    members["media/extra.txt"] = b"not in the manifest"


def _escaping_path(members: dict[str, bytes]) -> None:
    members["media/../../escaped.txt"] = b"outside"


TAMPERING = [
    pytest.param(
        _change_database_byte,
        r"database/minbar\.\w+ does not match its sha256",
        id="changed-db-byte",
    ),
    pytest.param(lambda m: m.pop("manifest.json"), r"no manifest\.json", id="no-manifest"),
    pytest.param(
        lambda m: m.update({"manifest.json": b"{not json"}),
        r"manifest\.json is not valid JSON",
        id="broken-manifest",
    ),
    pytest.param(
        lambda m: edit_manifest(m, lambda d: d.update(format_version=2)),
        r"format version 2 is not supported",
        id="format-version",
    ),
    pytest.param(
        lambda m: edit_manifest(m, _other_vendor),
        r"holds a \w+ database but Minbar is configured for",
        id="vendor",
    ),
    pytest.param(
        lambda m: edit_manifest(m, _future_migration),
        r"newer Minbar.*workspaces\.9999_from_the_future",
        id="newer-schema",
    ),
    pytest.param(_drop_media_file, r"media/logo\.png is listed .* but missing", id="missing-file"),
    pytest.param(
        _unlisted_file, r"media/extra\.txt is in the archive but not listed", id="unlisted-file"
    ),
    pytest.param(_escaping_path, r"unsafe path", id="path-traversal"),
]


@pytest.mark.parametrize(("tamper", "message"), TAMPERING)
def test_damaged_archive_is_refused_and_nothing_changes(
    world, data_dir, media, tmp_path, tamper, message
):
    archive, _ = run_backup("--output", str(tmp_path / "good.tar.gz"))
    members = read_members(archive)
    tamper(members)
    bad = write_members(tmp_path / "bad.tar.gz", members)
    Workspace.objects.filter(slug="globex").delete()
    (media / "new-upload.jpg").write_bytes(b"uploaded after the backup")
    media_before = tree(media)

    with pytest.raises(CommandError, match=message):
        call_command("restore", str(bad), "--yes", verbosity=0)

    assert not Workspace.objects.filter(slug="globex").exists()
    assert Workspace.objects.filter(slug="acme").exists()
    assert tree(media) == media_before
    assert sorted(p.name for p in data_dir.iterdir()) == ["media"]  # no staging, nothing aside
    assert not AuditEvent.objects.filter(action="backup.restored").exists()


def test_file_that_is_not_an_archive_is_refused(world, data_dir, tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not gzip at all")
    with pytest.raises(CommandError, match=r"not a readable \.tar\.gz"):
        call_command("restore", str(junk), "--yes", verbosity=0)
    with pytest.raises(CommandError, match=r"does not exist"):
        call_command("restore", str(tmp_path / "missing.tar.gz"), "--yes", verbosity=0)


def test_truncated_archive_is_refused(world, data_dir, tmp_path):
    archive, _ = run_backup("--output", str(tmp_path / "b.tar.gz"))
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(CommandError, match=r"not a readable \.tar\.gz"):
        call_command("restore", str(cut), "--yes", verbosity=0)
    assert Workspace.objects.count() == 2


# --- media ------------------------------------------------------------------


def test_media_files_round_trip_and_current_media_is_kept_aside(world, data_dir, media, tmp_path):
    original = tree(media)
    archive, output = run_backup("--output", str(tmp_path / "b.tar.gz"))
    assert "3 media files" in output

    (media / "posts/2026/notes.txt").write_bytes(b"second draft\n")
    (media / "logo.png").unlink()
    (media / "after.txt").write_bytes(b"after")
    changed = tree(media)

    output = run_restore(archive, "--yes")

    assert tree(media) == original
    aside = [p for p in data_dir.iterdir() if p.name.startswith("media.before-restore-")]
    assert len(aside) == 1
    assert re.fullmatch(r"media\.before-restore-\d{8}-\d{6}", aside[0].name)
    assert tree(aside[0]) == changed
    assert str(aside[0]) in output
    event = AuditEvent.objects.get(action="backup.restored")
    assert event.data["media_moved_to"] == str(aside[0])
    # Nothing but media, the set-aside copy and nothing from staging.
    assert sorted(p.name for p in data_dir.iterdir()) == sorted(["media", aside[0].name])


def test_missing_media_directory_backs_up_as_empty(world, data_dir, tmp_path):
    assert not (data_dir / "media").exists()
    archive, output = run_backup("--output", str(tmp_path / "b.tar.gz"))
    assert "0 media files" in output
    assert [n for n in read_members(archive) if n.startswith("media/")] == []

    run_restore(archive, "--yes")
    assert (data_dir / "media").is_dir()
    assert list((data_dir / "media").iterdir()) == []


# --- confirmation -----------------------------------------------------------


def test_restore_without_yes_refuses_when_not_on_a_terminal(world, data_dir, tmp_path, monkeypatch):
    archive, _ = run_backup("--output", str(tmp_path / "b.tar.gz"))
    Workspace.objects.filter(slug="globex").delete()
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))

    with pytest.raises(CommandError, match=r"pass --yes"):
        call_command("restore", str(archive), verbosity=0)
    assert not Workspace.objects.filter(slug="globex").exists()


def test_restore_asks_on_a_terminal(world, data_dir, tmp_path, monkeypatch):
    archive, _ = run_backup("--output", str(tmp_path / "b.tar.gz"))
    Workspace.objects.filter(slug="globex").delete()

    monkeypatch.setattr("sys.stdin", FakeTerminal("no\n"))
    with pytest.raises(CommandError, match=r"cancelled; nothing was changed"):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert not Workspace.objects.filter(slug="globex").exists()

    monkeypatch.setattr("sys.stdin", FakeTerminal("yes\n"))
    out = io.StringIO()
    call_command("restore", str(archive), stdout=out)
    assert "This replaces the" in out.getvalue()
    assert Workspace.objects.filter(slug="globex").exists()


# --- PostgreSQL client tools ------------------------------------------------


def test_missing_postgresql_client_tools_are_reported(world, data_dir, tmp_path, monkeypatch):
    archive, _ = run_backup("--output", str(tmp_path / "b.tar.gz"))
    Workspace.objects.filter(slug="globex").delete()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))

    if connection.vendor == "postgresql":
        with pytest.raises(CommandError, match=r"pg_dump is not installed or not on PATH"):
            call_command("backup", "--output", str(tmp_path / "c.tar.gz"), verbosity=0)
        assert not (tmp_path / "c.tar.gz").exists()
        with pytest.raises(CommandError, match=r"pg_restore is not installed or not on PATH"):
            call_command("restore", str(archive), "--yes", verbosity=0)
        assert not Workspace.objects.filter(slug="globex").exists()
    else:
        # SQLite needs no external program: both directions still work.
        call_command("backup", "--output", str(tmp_path / "c.tar.gz"), verbosity=0)
        call_command("restore", str(archive), "--yes", verbosity=0)
        assert Workspace.objects.filter(slug="globex").exists()
