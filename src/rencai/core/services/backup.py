"""Online backups and verified restores of the database (备份与恢复).

A backup is one tar archive holding ``manifest.json``, the payload, and the stored documents
(``DOCUMENT_DIR``: agreement documents the database points to) under ``documents/``:

- SQLite: a copy made with SQLite's online backup API (``sqlite3.Connection.backup``), which
  gives a consistent snapshot while the application keeps running; the archive is gzipped;
- PostgreSQL: ``pg_dump --format=custom`` of the whole database (tables, sequences, triggers,
  extensions), taken in one snapshot; connection parameters come from the database settings,
  the password through ``PGPASSWORD``, never on a command line.

The manifest names the rencai version, the database vendor, the applied migrations, when the
backup was made, and the SHA-256 of the payload and of each document. A restore first proves the file is whole and
usable — checksum, ``PRAGMA integrity_check`` on the extracted SQLite copy, ``pg_restore
--list`` on a dump — and refuses another vendor's backup or a newer schema, all before anything
is touched. Only then does it replace the data, bring an older schema up to date with
``migrate``, and verify the audit chain of what it restored. Temporary files are removed
whatever happens. Both operations are audited (``backup`` / ``restore``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

import rencai
from rencai.core import audit
from rencai.core.models import AuditChainHead
from rencai.core.models.audit import AuditAction

FORMAT_VERSION = 2  # 2: the stored documents beside the payload
READABLE_FORMATS = (1, 2)  # a backup of format 1 simply has no documents
DOCUMENTS_PREFIX = "documents/"  # stored documents sit under this folder of the archive
MANIFEST_NAME = "manifest.json"
PAYLOAD_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
SUFFIXES = {"sqlite": ".tar.gz", "postgresql": ".tar"}
VENDOR_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup could not be made, or a file is not a backup that can be restored here."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    audit_ok: bool
    audit_checked: int
    audit_reason: str
    migrated: bool
    safety_backup: Path | None


# --- helpers -------------------------------------------------------------------------------------
def backup_dir() -> Path:
    path = Path(settings.BACKUP_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _has_schema(connection) -> bool:
    """Whether the database has been migrated at all (a fresh scratch database has not)."""
    return AuditChainHead._meta.db_table in connection.introspection.table_names()


def _applied_migrations(connection) -> list[str]:
    return sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())


def _known_migrations(connection) -> set[str]:
    return {f"{app}.{name}" for app, name in MigrationLoader(connection, ignore_no_migrations=True).disk_migrations}


def _default_output(vendor: str, label: str = "rencai-backup") -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    directory = backup_dir()
    path = directory / f"{label}-{stamp}{SUFFIXES[vendor]}"
    n = 2
    while path.exists():
        path = directory / f"{label}-{stamp}-{n}{SUFFIXES[vendor]}"
        n += 1
    return path


def _pg_env_and_args(connection) -> tuple[dict[str, str], list[str]]:
    """libpq connection arguments of the configured database; the password goes in the env."""
    params = connection.settings_dict
    env = dict(os.environ)
    args = []
    if params.get("HOST"):
        args += ["--host", str(params["HOST"])]
    if params.get("PORT"):
        args += ["--port", str(params["PORT"])]
    if params.get("USER"):
        args += ["--username", str(params["USER"])]
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = str(params["PASSWORD"])
    options = params.get("OPTIONS") or {}
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"),
                             ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY")):
        if options.get(option):
            env[variable] = str(options[option])
    return env, args


def _run(argv: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as exc:
        raise BackupError(f"{argv[0]} is not installed (install the PostgreSQL client tools)") from exc
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}")
    return done


# --- stored documents ----------------------------------------------------------------------------
def _document_files() -> list[tuple[str, Path]]:
    """The files under ``DOCUMENT_DIR`` (agreement documents …), by their path relative to it:
    the database points to them, so a backup holds them beside it."""
    root = Path(settings.DOCUMENT_DIR)
    if not root.is_dir():
        return []
    # Regular files only: a link would be archived as a link, which a restore refuses.
    return sorted((path.relative_to(root).as_posix(), path) for path in root.rglob("*")
                  if path.is_file() and not path.is_symlink())


def _safe_document_name(name) -> bool:
    """A relative path inside ``DOCUMENT_DIR``: no absolute path, no ``..``, nothing but text."""
    if not isinstance(name, str):
        return False
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def _restore_documents(workdir: Path, manifest: dict[str, Any]) -> int:
    """Put the backup's documents (extracted and checked in ``workdir``) back under ``DOCUMENT_DIR``."""
    root = Path(settings.DOCUMENT_DIR)
    count = 0
    for entry in manifest.get("documents") or []:
        target = root / entry["name"]
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(workdir / DOCUMENTS_PREFIX / entry["name"], target)
        count += 1
    return count


# --- backup --------------------------------------------------------------------------------------
def _sqlite_snapshot(connection, target: Path) -> None:
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        # One step copies every page under one read lock: a consistent snapshot, while other
        # connections go on reading and writing (WAL).
        connection.connection.backup(destination)
        result = destination.execute("PRAGMA integrity_check").fetchone()
    finally:
        destination.close()
    if not result or result[0] != "ok":
        raise BackupError(f"the database copy failed its integrity check: {result}")


def _pg_dump(connection, target: Path) -> None:
    env, args = _pg_env_and_args(connection)
    argv = ["pg_dump", "--format=custom", "--no-password", "--file", str(target), *args,
            "--dbname", str(connection.settings_dict["NAME"])]
    _run(argv, env, "pg_dump")


def create_backup(output: Path | str | None = None, *, using: str = "default", label: str = "rencai-backup") -> BackupResult:
    """Back the database up into one archive (mode 0600) and audit it; return its path."""
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in PAYLOAD_NAMES:
        raise BackupError(f"backups of {vendor} databases are not supported")
    output = Path(output) if output else _default_output(vendor, label)
    output = output.resolve()
    if output.exists():
        raise BackupError(f"{output} exists already; choose another file name")
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    workdir = Path(tempfile.mkdtemp(prefix=".rencai-backup-", dir=output.parent))
    try:
        payload = workdir / PAYLOAD_NAMES[vendor]
        created_at = timezone.now()
        if vendor == "sqlite":
            _sqlite_snapshot(connection, payload)
        else:
            _pg_dump(connection, payload)
        head = AuditChainHead.objects.using(using).filter(pk=1).first() if _has_schema(connection) else None
        manifest = {
            "format": FORMAT_VERSION,
            "application": "rencai",
            "rencai_version": rencai.__version__,
            "vendor": vendor,
            "created_at": created_at.isoformat(),
            "migrations": _applied_migrations(connection),
            "audit_chain_length": head.length if head else 0,
            "payload": payload.name,
            "payload_size": payload.stat().st_size,
            "payload_sha256": _sha256(payload),
        }
        documents = _document_files()
        manifest["documents"] = [{"name": name, "size": path.stat().st_size, "sha256": _sha256(path)}
                                 for name, path in documents]
        archive = workdir / "archive"
        fd = os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz" if vendor == "sqlite" else "w") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mode, info.mtime = len(data), 0o600, int(created_at.timestamp())
            tar.addfile(info, fileobj=_BytesReader(data))
            info = tar.gettarinfo(str(payload), arcname=payload.name)
            info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
            with payload.open("rb") as handle:
                tar.addfile(info, fileobj=handle)
            for name, path in documents:
                info = tar.gettarinfo(str(path), arcname=DOCUMENTS_PREFIX + name)
                info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                with path.open("rb") as handle:
                    tar.addfile(info, fileobj=handle)
        os.replace(archive, output)
        os.chmod(output, 0o600)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    audit.record(
        AuditAction.BACKUP,
        object_type="backup",
        object_repr=output.name,
        changes={"vendor": vendor, "size": output.stat().st_size, "payload_sha256": manifest["payload_sha256"]},
        message=f"备份数据库到 {output.name}",
    )
    return BackupResult(output, manifest)


class _BytesReader:
    """A minimal file object over bytes for ``TarFile.addfile``."""

    def __init__(self, data: bytes):
        self.data, self.offset = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size is None or size < 0 else self.offset + size
        chunk = self.data[self.offset:end]
        self.offset += len(chunk)
        return chunk


# --- verification --------------------------------------------------------------------------------
def read_backup(path: Path | str, workdir: Path) -> tuple[dict[str, Any], Path]:
    """Open a backup archive, check its manifest and checksum, extract the payload to ``workdir``.

    Raises BackupError naming what is wrong; nothing outside ``workdir`` is written.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        with tarfile.open(path, mode="r:*") as tar:
            members = {member.name: member for member in tar.getmembers()}
            if MANIFEST_NAME not in members or not members[MANIFEST_NAME].isfile():
                raise BackupError("not a rencai backup: the archive has no manifest")
            manifest = json.loads(tar.extractfile(members[MANIFEST_NAME]).read().decode("utf-8"))
            if not isinstance(manifest, dict) or manifest.get("application") != "rencai":
                raise BackupError("not a rencai backup: unknown manifest")
            if manifest.get("format") not in READABLE_FORMATS:
                raise BackupError(f"backup format {manifest.get('format')} is not supported by this version")
            name = manifest.get("payload")
            if name not in PAYLOAD_NAMES.values() or name not in members or not members[name].isfile():
                raise BackupError("the archive does not hold the payload its manifest names")
            documents = manifest.get("documents") or []
            if not isinstance(documents, list) or not all(
                    isinstance(d, dict) and _safe_document_name(d.get("name")) for d in documents):
                raise BackupError("the manifest lists documents it cannot hold")
            if set(members) != {MANIFEST_NAME, name, *(DOCUMENTS_PREFIX + d["name"] for d in documents)}:
                raise BackupError("the archive holds unexpected files")
            for entry in documents:
                member = members[DOCUMENTS_PREFIX + entry["name"]]
                if not member.isfile():
                    raise BackupError("the archive holds unexpected files")
                if member.size != entry.get("size"):
                    raise BackupError(f"the document {entry['name']} does not match the manifest's checksum")
                copy = workdir / DOCUMENTS_PREFIX / entry["name"]
                copy.parent.mkdir(parents=True, exist_ok=True)
                data = tar.extractfile(member).read()
                if len(data) != entry.get("size") or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
                    raise BackupError(f"the document {entry['name']} does not match the manifest's checksum")
                copy.write_bytes(data)
            target = workdir / name
            digest = hashlib.sha256()
            size = 0
            source = tar.extractfile(members[name])
            with target.open("wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
    except (tarfile.TarError, EOFError, zlib.error, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"the backup file is damaged or truncated ({exc.__class__.__name__}: {exc})") from exc
    if size != manifest.get("payload_size") or digest.hexdigest() != manifest.get("payload_sha256"):
        raise BackupError("the payload does not match the manifest's checksum: the file is damaged or altered")
    return manifest, target


def check_compatible(manifest: dict[str, Any], connection) -> None:
    vendor = manifest.get("vendor")
    if vendor != connection.vendor:
        raise BackupError(
            f"this is a backup of a {VENDOR_LABELS.get(vendor, vendor)} database; the configured "
            f"database is {VENDOR_LABELS.get(connection.vendor, connection.vendor)}"
        )
    unknown = sorted(set(manifest.get("migrations") or []) - _known_migrations(connection))
    if unknown:
        raise BackupError(
            "the backup comes from a newer version of rencai (its schema has migrations this version "
            f"does not know: {', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}); upgrade rencai first"
        )


def check_payload(manifest: dict[str, Any], payload: Path) -> None:
    if manifest["vendor"] == "sqlite":
        try:
            database = sqlite3.connect(payload)
            try:
                result = database.execute("PRAGMA integrity_check").fetchone()
                has_migrations = database.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
                ).fetchone()
            finally:
                database.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"the SQLite copy in the backup is damaged: {exc}") from exc
        if not result or result[0] != "ok":
            raise BackupError(f"the SQLite copy in the backup failed its integrity check: {result}")
        if not has_migrations:
            raise BackupError("the SQLite copy in the backup is not a rencai database")
    else:
        done = _run(["pg_restore", "--list", str(payload)], dict(os.environ), "pg_restore --list")
        if "django_migrations" not in done.stdout:
            raise BackupError("the dump in the backup is not a rencai database")


def verify_backup(path: Path | str, *, using: str = "default") -> dict[str, Any]:
    """Check a backup fully without restoring it; return its manifest (raises BackupError)."""
    workdir = Path(tempfile.mkdtemp(prefix=".rencai-verify-", dir=backup_dir()))
    try:
        manifest, payload = read_backup(path, workdir)
        check_compatible(manifest, connections[using])
        check_payload(manifest, payload)
        return manifest
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- restore -------------------------------------------------------------------------------------
def _sqlite_replace(connection, payload: Path) -> None:
    connection.close()
    connection.ensure_connection()
    source = sqlite3.connect(payload)
    try:
        # The backup API writes every page of the verified copy into the live database under
        # its write lock; other connections see the restored data at their next transaction.
        source.backup(connection.connection)
    finally:
        source.close()
        connection.close()


def _dumped_tables(listing: str) -> set[str]:
    """Table names in a ``pg_restore --list`` table of contents.

    Entries read ``<id>; <oid> <oid> TABLE [DATA] <schema> <name> <owner>``.
    """
    tables = set()
    for line in listing.splitlines():
        tokens = line.split()
        if line.startswith(";") or "TABLE" not in tokens:
            continue
        rest = tokens[tokens.index("TABLE") + 1:]
        if rest[:1] == ["DATA"]:
            rest = rest[1:]
        if len(rest) >= 2:
            tables.add(rest[1])
    return tables


def _pg_replace(connection, payload: Path) -> None:
    listing = _run(["pg_restore", "--list", str(payload)], dict(os.environ), "pg_restore --list").stdout
    dumped_tables = _dumped_tables(listing)
    connection.close()
    env, args = _pg_env_and_args(connection)
    argv = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
            "--no-password", *args, "--dbname", str(connection.settings_dict["NAME"]), str(payload)]
    _run(argv, env, "pg_restore")
    # Tables of a newer schema than the backup's are not in the dump, so --clean leaves them;
    # drop those rencai's models know, and migrate creates them again, empty.
    leftovers = sorted(set(connection.introspection.django_table_names(only_existing=True)) - dumped_tables)
    if leftovers:
        with connection.cursor() as cursor:
            for table in leftovers:
                cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)} CASCADE")
    connection.close()


def restore_backup(path: Path | str, *, using: str = "default", safety_backup: bool = True) -> RestoreResult:
    """Verify ``path`` and replace the database with it; migrate and verify the audit chain after.

    Unless ``safety_backup`` is false, the data being replaced is first backed up itself.
    """
    connection = connections[using]
    path = Path(path).resolve()
    workdir = Path(tempfile.mkdtemp(prefix=".rencai-restore-", dir=backup_dir()))
    try:
        manifest, payload = read_backup(path, workdir)
        check_compatible(manifest, connection)
        check_payload(manifest, payload)
        # An empty database (a restore drill, a new server) has nothing worth keeping.
        keep = safety_backup and _has_schema(connection)
        safety = create_backup(using=using, label="rencai-pre-restore").path if keep else None
        # The documents first: their names are unique, so putting them back only adds files, and
        # a failure here (a full disk) leaves the database as it was.
        documents = _restore_documents(workdir, manifest)
        if manifest["vendor"] == "sqlite":
            _sqlite_replace(connection, payload)
        else:
            _pg_replace(connection, payload)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    missing = _known_migrations(connection) - set(manifest.get("migrations") or [])
    if missing:
        call_command("migrate", database=using, interactive=False, verbosity=0)
    result = audit.verify()
    audit.record(
        AuditAction.RESTORE,
        object_type="backup",
        object_repr=path.name,
        changes={
            "backup_created_at": manifest["created_at"],
            "payload_sha256": manifest["payload_sha256"],
            "audit_chain_ok": result.ok,
            "audit_entries_checked": result.checked,
            "safety_backup": safety.name if safety else "",
            "documents": documents,
        },
        message=f"从 {path.name} 恢复数据库" + ("" if result.ok else f"；审计链校验未通过：{result.reason}"),
    )
    return RestoreResult(manifest, result.ok, result.checked, result.reason, bool(missing), safety)
