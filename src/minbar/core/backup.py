"""Backups: a consistent copy of the database and media, and putting one back.

An archive is a .tar.gz holding ``manifest.json``, the database (a SQLite file
or a ``pg_dump --format=custom`` file) under ``database/`` and the media
directory under ``media/``. The manifest lists every other file with its size
and sha256, so a restore can prove the archive is whole before it touches
anything. See docs/backup.md for the user's side of this.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

import minbar
from minbar.audit.actions import record
from minbar.core.actor import Actor

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_DIR = "media"
DATABASE_FILES = {"sqlite": "database/minbar.sqlite3", "postgresql": "database/minbar.pgdump"}
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
BACKUP_STEPS = 3
RESTORE_STEPS = 4
_CHUNK = 1024 * 1024

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    manifest: dict[str, Any]


@dataclass(frozen=True)
class CheckedArchive:
    """An archive whose every file matched the manifest, unpacked into ``staging``."""

    source: Path
    staging: Path
    manifest: dict[str, Any]

    @property
    def database_file(self) -> Path:
        return self.staging / self.manifest["database"]["file"]

    @property
    def media_dir(self) -> Path:
        return self.staging / MEDIA_DIR


@dataclass(frozen=True)
class RestoreResult:
    media_moved_to: Path | None
    pending_migrations: int
    audit_recorded: bool


def quiet(message: str) -> None:
    pass


def _step(progress: Progress, number: int, total: int, text: str) -> None:
    progress(f"[{number}/{total}] {text}")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def human_size(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _vendor() -> str:
    vendor = connection.vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


# --- writing a backup -------------------------------------------------------


def default_output(now: datetime | None = None) -> Path:
    now = now or datetime.now(UTC)
    return Path(settings.DATA_DIR) / "backups" / f"minbar-{now:%Y%m%d-%H%M%S}.tar.gz"


def resolve_output(output: Path | None, force: bool) -> Path:
    """Where the archive goes; refuses early so a long dump is not wasted."""
    # Absolute, so the audit log says where the file really is.
    path = default_output() if output is None else output.expanduser().absolute()
    if path.is_dir():
        path = path / default_output().name
    if path.exists() and not force:
        raise BackupError(
            f"{path} already exists; choose another --output or pass --force to overwrite it"
        )
    media_root = Path(settings.MEDIA_ROOT).resolve()
    if path.resolve().is_relative_to(media_root):
        # The archive being written would be packed into itself.
        raise BackupError(
            f"{path} is inside the media directory {media_root}; write the backup somewhere else"
        )
    # Backups hold password hashes and encrypted secrets: keep them private.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def copy_sqlite(source: sqlite3.Connection, dest: Path) -> None:
    """Copy a live SQLite database with the online backup API.

    The backup reads one consistent snapshot even while other connections
    write, which copying the file (and its -wal) would not.
    """
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
        # The copy inherits WAL mode from the header; switch it back so the
        # archived file is complete on its own, without -wal or -shm beside it.
        target.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite online backup failed: {exc}") from None
    finally:
        target.close()


def _pg_command(tool: str, settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Arguments and environment that point a PostgreSQL client tool at our database."""
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(
            f"{tool} is not installed or not on PATH; install the PostgreSQL "
            "client tools (e.g. apt install postgresql-client) in the version "
            "of your server"
        )
    args = [executable, "--no-password"]
    if settings_dict.get("HOST"):
        args.append(f"--host={settings_dict['HOST']}")
    if settings_dict.get("PORT"):
        args.append(f"--port={settings_dict['PORT']}")
    if settings_dict.get("USER"):
        args.append(f"--username={settings_dict['USER']}")
    env = dict(os.environ)
    # A password on the command line would be visible to every user in `ps`.
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    options = settings_dict.get("OPTIONS") or {}
    for option in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if options.get(option):
            env[f"PG{option.upper()}"] = str(options[option])
    return args, env


def _run_pg_tool(args: list[str], env: dict[str, str]) -> None:
    tool = Path(args[0]).name
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = " ".join(line.strip() for line in done.stderr.splitlines() if line.strip())
        raise BackupError(f"{tool} failed (exit {done.returncode}): {detail or 'no message'}")


def dump_database(dest_dir: Path) -> Path:
    """Write a consistent copy of the live database into ``dest_dir``."""
    vendor = _vendor()
    dest = dest_dir / PurePosixPath(DATABASE_FILES[vendor]).name
    if vendor == "sqlite":
        # Django's own connection, so this also works for the in-memory test database.
        connection.ensure_connection()
        copy_sqlite(connection.connection, dest)
    else:
        # settings_dict, not settings.DATABASES: under pytest NAME is the test database.
        args, env = _pg_command("pg_dump", connection.settings_dict)
        args += ["--format=custom", f"--file={dest}", str(connection.settings_dict["NAME"])]
        _run_pg_tool(args, env)
    return dest


def applied_migrations(database_file: Path | None = None) -> dict[str, str]:
    """The most recently applied migration of each app.

    For SQLite it is read from the copy itself so it describes exactly the
    data in the archive; pg_dump's snapshot cannot be shared, so PostgreSQL
    uses the live database (migrations do not run during a backup).
    """
    query = "SELECT app, name FROM django_migrations ORDER BY applied, id"
    if database_file is not None:
        copy = sqlite3.connect(database_file)
        try:
            rows = copy.execute(query).fetchall()
        finally:
            copy.close()
    else:
        with connection.cursor() as cursor:
            cursor.execute(query)
            rows = cursor.fetchall()
    latest: dict[str, str] = {}
    for app, name in rows:
        latest[app] = name
    return dict(sorted(latest.items()))


class _HashingReader:
    """Passes reads through while hashing them, so each file is read only once."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.ended = False

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        if size < 0 or len(data) < size:
            self.ended = True
        return data


def _add_file(tar: tarfile.TarFile, source: Path, name: str) -> FileEntry:
    try:
        handle = source.open("rb")
    except PermissionError as exc:
        raise BackupError(f"cannot read {source}: {exc.strerror}") from None
    with handle:
        stat = os.fstat(handle.fileno())
        info = tarfile.TarInfo(name)
        info.size = stat.st_size
        info.mtime = int(stat.st_mtime)
        info.mode = 0o600
        reader = _HashingReader(handle)
        try:
            tar.addfile(info, reader)
        except OSError:
            if not reader.ended:
                raise  # writing failed (disk full): reported by create_backup
            # tarfile reads exactly st_size bytes and fails when a file shrank
            # meanwhile; a growing file is cut at its size, which is consistent.
            raise BackupError(
                f"{source} changed while it was being copied; run the backup again"
            ) from None
    return FileEntry(name, info.size, reader.digest.hexdigest())


def _media_files(media_root: Path) -> Iterator[tuple[Path, str]]:
    """Regular files under the media root with their names in the archive, sorted."""
    if not media_root.is_dir():
        return
    for folder, dirs, files in os.walk(media_root):
        dirs.sort()
        for filename in sorted(files):
            path = Path(folder) / filename
            if path.is_file():
                relative = path.relative_to(media_root).as_posix()
                yield path, f"{MEDIA_DIR}/{relative}"


def _add_media(tar: tarfile.TarFile, media_root: Path) -> list[FileEntry]:
    entries = []
    for path, name in _media_files(media_root):
        try:
            entries.append(_add_file(tar, path, name))
        except FileNotFoundError:
            # Deleted since the directory was listed: nothing left to keep.
            continue
    return entries


def _add_json(tar: tarfile.TarFile, name: str, payload: dict[str, Any]) -> None:
    data = json.dumps(payload, indent=2, ensure_ascii=False).encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def build_manifest(
    vendor: str, created_at: datetime, migrations: dict[str, str], files: list[FileEntry]
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "minbar_version": minbar.__version__,
        "created_at": created_at.isoformat(),
        "database": {"vendor": vendor, "file": DATABASE_FILES[vendor]},
        "migrations": migrations,
        "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in files],
    }


def _publish(partial: Path, path: Path, force: bool) -> None:
    """Move the finished archive into place without clobbering a file that appeared meanwhile."""
    if force:
        os.replace(partial, path)
        return
    try:
        # link() fails if the name is taken, unlike rename(); it closes the
        # window between the early exists() check and now.
        os.link(partial, path)
    except FileExistsError:
        raise BackupError(
            f"{path} already exists; choose another --output or pass --force to overwrite it"
        ) from None
    except OSError:
        # Some file systems have no hard links; fall back to a plain check.
        if path.exists():
            raise BackupError(f"{path} already exists; pass --force to overwrite it") from None
        os.replace(partial, path)
        return
    partial.unlink()


def create_backup(
    output: Path | None = None, *, force: bool = False, progress: Progress = quiet
) -> BackupResult:
    """Write a backup archive and record it in the audit log."""
    vendor = _vendor()
    path = resolve_output(output, force)
    media_root = Path(settings.MEDIA_ROOT)
    created_at = datetime.now(UTC)
    # Staged beside the output, not in /tmp: dumps can be large and the final
    # move is then a rename on the same file system.
    with tempfile.TemporaryDirectory(prefix=".minbar-backup-", dir=path.parent) as tmp:
        staging = Path(tmp)
        how = "online backup" if vendor == "sqlite" else "pg_dump"
        _step(progress, 1, BACKUP_STEPS, f"Copying the {VENDOR_NAMES[vendor]} database ({how})")
        # Database first, media second: files uploaded meanwhile end up as
        # harmless extras rather than rows pointing at missing files.
        database_file = dump_database(staging)
        migrations = applied_migrations(database_file if vendor == "sqlite" else None)
        _step(progress, 2, BACKUP_STEPS, f"Packing the database and the media in {media_root}")
        partial = staging / "archive.tar.gz"
        try:
            with tarfile.open(partial, "w:gz", format=tarfile.PAX_FORMAT) as tar:
                files = [_add_file(tar, database_file, DATABASE_FILES[vendor])]
                files += _add_media(tar, media_root)
                manifest = build_manifest(vendor, created_at, migrations, files)
                _add_json(tar, MANIFEST, manifest)
        except OSError as exc:
            raise BackupError(f"cannot write the archive in {path.parent}: {exc}") from None
        media_bytes = sum(f.size for f in files[1:])
        progress(
            f"      database {human_size(files[0].size)}, "
            f"{_plural(len(files) - 1, 'media file')} ({human_size(media_bytes)})"
        )
        partial.chmod(0o600)
        _publish(partial, path, force)
    size = path.stat().st_size
    _step(progress, 3, BACKUP_STEPS, "Recording the backup in the audit log")
    try:
        record(Actor.cli(), "backup.created", data={"path": str(path), "size": size})
    except DatabaseError as exc:
        raise BackupError(
            f"the backup was written to {path} but could not be recorded in the audit log ({exc})"
        ) from None
    return BackupResult(path=path, size=size, manifest=manifest)


# --- checking an archive ----------------------------------------------------


def _member_name(member: tarfile.TarInfo) -> str:
    """The member's path, refusing anything that could land outside the staging directory."""
    name = member.name
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or ".." in parts or "\\" in name:
        raise BackupError(
            f"archive contains an unsafe path {name!r}; it was not written by 'minbar backup'"
        )
    if name != MANIFEST and (len(parts) < 2 or parts[0] not in {"database", MEDIA_DIR}):
        raise BackupError(
            f"archive contains an unexpected file {name!r}; it was not written by 'minbar backup'"
        )
    return PurePosixPath(*parts).as_posix()


def _extract_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, name: str, staging: Path
) -> FileEntry:
    source = tar.extractfile(member)
    if source is None:
        raise BackupError(f"archive member {name!r} cannot be read")
    digest = hashlib.sha256()
    size = 0
    dest = staging / name
    with source:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            out = dest.open("xb")
        except OSError as exc:
            raise BackupError(f"cannot unpack {name} into {staging}: {exc}") from None
        with out:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                try:
                    out.write(chunk)
                except OSError as exc:
                    # Kept apart from read errors so a full disk is not
                    # reported as a broken archive.
                    raise BackupError(f"cannot unpack {name} into {staging}: {exc}") from None
    os.utime(dest, (member.mtime, member.mtime))  # media keeps its dates
    return FileEntry(name, size, digest.hexdigest())


def _extract(archive: Path, staging: Path) -> dict[str, FileEntry]:
    """Unpack regular files only, hashing them on the way; links and devices are refused."""
    found: dict[str, FileEntry] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.isdir():
                    continue
                name = _member_name(member)
                if not member.isfile():
                    raise BackupError(
                        f"archive member {name!r} is not a regular file; Minbar "
                        "backups hold only regular files"
                    )
                if name in found:
                    raise BackupError(f"archive holds {name!r} twice")
                found[name] = _extract_member(tar, member, name, staging)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{archive} is not a readable .tar.gz archive ({exc})") from None
    return found


def _read_manifest(staging: Path, found: dict[str, FileEntry]) -> dict[str, Any]:
    if MANIFEST not in found:
        raise BackupError(
            "archive has no manifest.json; it is not a Minbar backup or it is incomplete"
        )
    try:
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"manifest.json is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise BackupError("manifest.json does not hold a JSON object")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BackupError(
            f"backup format version {version!r} is not supported; this Minbar "
            f"({minbar.__version__}) reads version {FORMAT_VERSION}"
        )
    for key, kind in (("files", list), ("database", dict), ("migrations", dict)):
        if not isinstance(manifest.get(key), kind):
            raise BackupError(f"manifest.json has no valid {key!r} entry")
    return manifest


def _check_files(manifest: dict[str, Any], found: dict[str, FileEntry]) -> None:
    """Every listed file is present with its size and sha256, and nothing else is."""
    listed: dict[str, dict[str, Any]] = {}
    for entry in manifest["files"]:
        if not isinstance(entry, dict) or not {"path", "size", "sha256"} <= entry.keys():
            raise BackupError("manifest.json has a file entry without path, size and sha256")
        listed[entry["path"]] = entry
    for name, entry in listed.items():
        actual = found.get(name)
        if actual is None:
            raise BackupError(f"{name} is listed in manifest.json but missing from the archive")
        if actual.size != entry["size"] or actual.sha256 != entry["sha256"]:
            raise BackupError(
                f"{name} does not match its sha256 in manifest.json; the archive "
                "is damaged or was altered"
            )
    extra = sorted(set(found) - set(listed) - {MANIFEST})
    if extra:
        raise BackupError(f"{extra[0]} is in the archive but not listed in manifest.json")


def _check_database(manifest: dict[str, Any]) -> None:
    vendor = manifest["database"].get("vendor")
    configured = _vendor()
    if vendor != configured:
        raise BackupError(
            f"this backup holds a {vendor} database but Minbar is configured "
            f"for {configured}; restore it into a {vendor} database"
        )
    expected = DATABASE_FILES[configured]
    if manifest["database"].get("file") != expected or not any(
        entry["path"] == expected for entry in manifest["files"]
    ):
        raise BackupError(f"the archive has no {expected}; it holds no database to restore")
    if configured == "postgresql":
        _pg_command("pg_restore", connection.settings_dict)  # missing tool: fail before changes


def _check_migrations(manifest: dict[str, Any]) -> None:
    """Refuse a backup whose schema is newer than this code knows how to run."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces)  # squashed away but still a known state
    for app, name in sorted(manifest["migrations"].items()):
        if app in loader.migrated_apps and (app, name) not in known:
            raise BackupError(
                f"this backup was made by a newer Minbar ({manifest.get('minbar_version')}): "
                f"migration {app}.{name} is unknown to this version ({minbar.__version__}); "
                "upgrade Minbar, then restore"
            )


def _staging_parent() -> Path:
    # Beside the media root so the extracted media can be renamed into place.
    parent = Path(settings.MEDIA_ROOT).parent
    parent.mkdir(parents=True, exist_ok=True)
    return parent


@contextmanager
def check_archive(archive: Path, progress: Progress = quiet) -> Iterator[CheckedArchive]:
    """Unpack and verify an archive without changing anything; clean up afterwards."""
    archive = archive.expanduser().absolute()
    _step(progress, 1, RESTORE_STEPS, f"Checking {archive}")
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist or is not a file")
    with tempfile.TemporaryDirectory(prefix=".minbar-restore-", dir=_staging_parent()) as tmp:
        staging = Path(tmp)
        found = _extract(archive, staging)
        manifest = _read_manifest(staging, found)
        _check_files(manifest, found)
        _check_database(manifest)
        _check_migrations(manifest)
        (staging / MEDIA_DIR).mkdir(exist_ok=True)  # an archive without media restores none
        progress(
            f"      {_plural(len(found) - 1, 'file')} verified, made "
            f"{manifest.get('created_at')} by Minbar {manifest.get('minbar_version')}"
        )
        yield CheckedArchive(source=archive, staging=staging, manifest=manifest)


# --- restoring --------------------------------------------------------------


def restore_database(checked: CheckedArchive) -> None:
    if connection.in_atomic_block:
        raise BackupError("cannot restore inside a database transaction")
    vendor = checked.manifest["database"]["vendor"]
    if vendor == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(checked.database_file)
        try:
            # Copies into the live connection in one transaction, so it works
            # for the in-memory test database and for a file others have open.
            source.backup(connection.connection)
        except sqlite3.Error as exc:
            raise BackupError(f"the SQLite restore failed, nothing was changed: {exc}") from None
        finally:
            source.close()
    else:
        # Close ours so it holds no lock that pg_restore's DROPs would wait for.
        connection.close()
        args, env = _pg_command("pg_restore", connection.settings_dict)
        args += [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={connection.settings_dict['NAME']}",
            str(checked.database_file),
        ]
        _run_pg_tool(args, env)
    # Content type ids come from the restored rows, not from the cache.
    ContentType.objects.clear_cache()


def restore_media(checked: CheckedArchive, stamp: str) -> Path | None:
    """Swap the archived media in; the current media is kept aside, never deleted."""
    media_root = Path(settings.MEDIA_ROOT)
    moved_to = None
    try:
        if media_root.is_dir() and any(media_root.iterdir()):
            moved_to = media_root.parent / f"media.before-restore-{stamp}"
            media_root.rename(moved_to)
        elif media_root.is_dir():
            media_root.rmdir()
        # A rename, not a copy: the staging directory is beside the media root.
        checked.media_dir.rename(media_root)
    except OSError as exc:
        kept = f"; the previous media is in {moved_to}" if moved_to else ""
        raise BackupError(
            f"the database was restored but the media was not ({exc}){kept}; extract the "
            f"media/ folder of {checked.source} into {media_root} by hand"
        ) from None
    return moved_to


def pending_migrations() -> int:
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def _record_restore(checked: CheckedArchive, moved_to: Path | None) -> bool:
    data = {
        "path": str(checked.source),
        "created_at": checked.manifest.get("created_at"),
        "minbar_version": checked.manifest.get("minbar_version"),
        "media_moved_to": str(moved_to or ""),
    }
    try:
        record(Actor.cli(), "backup.restored", data=data)
    except DatabaseError:
        # An older backup may predate the audit table's current shape; the
        # restore itself succeeded and 'minbar migrate' will fix the schema.
        return False
    return True


def restore_backup(checked: CheckedArchive, progress: Progress = quiet) -> RestoreResult:
    """Replace the database and media with a checked archive's."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    _step(progress, 2, RESTORE_STEPS, f"Restoring the {VENDOR_NAMES[connection.vendor]} database")
    restore_database(checked)
    _step(progress, 3, RESTORE_STEPS, f"Restoring media into {settings.MEDIA_ROOT}")
    moved_to = restore_media(checked, stamp)
    if moved_to is not None:
        progress(f"      previous media kept in {moved_to}")
    _step(progress, 4, RESTORE_STEPS, "Recording the restore in the audit log")
    recorded = _record_restore(checked, moved_to)
    return RestoreResult(moved_to, pending_migrations(), recorded)
