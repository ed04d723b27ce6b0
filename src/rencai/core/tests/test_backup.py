"""Backup and restore: what was backed up comes back; a damaged, truncated or foreign backup is
refused before anything is replaced; both are audited and the audit chain verifies after."""

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from rencai.core import audit
from rencai.core.models import AuditEntry, OrgUnit, Region, User
from rencai.core.services.backup import BackupError, create_backup, restore_backup, verify_backup

# The backup reads committed data through its own connection (pg_dump) or the SQLite backup API,
# and the restore replaces the whole database: these tests need real commits.
transactional = pytest.mark.django_db(transaction=True)


@pytest.fixture
def backups(settings, tmp_path) -> Path:
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.DOCUMENT_DIR = tmp_path / "documents"  # stored documents: none unless a test puts some
    return settings.BACKUP_DIR


@pytest.fixture
def units(refdata, city_admin):
    yanhu, hejin = Region.objects.get(code="140802"), Region.objects.get(code="140882")
    with audit.acting(city_admin):
        return [
            OrgUnit.objects.create(name="盐湖区人才办", region=yanhu, contact_name="张三", contact_mobile="13912345678"),
            OrgUnit.objects.create(name="河津市人才办", region=hejin, contact_name="李四", contact_mobile="13812345678"),
            OrgUnit.objects.create(name="河津市科技局", region=hejin, contact_name="王五"),
        ]


def _state() -> dict:
    return {
        "units": sorted(
            (u.name, u.region.code, u.contact_name, u.contact_mobile, u.contact_mobile_hash)
            for u in OrgUnit.objects.select_related("region")
        ),
        "users": sorted(User.objects.values_list("username", "password", "is_active")),
        "regions": Region.objects.count(),
        "audit": list(AuditEntry.objects.order_by("id").values_list("id", "entry_hash")),
    }


def _change_everything(city_admin) -> None:
    with audit.acting(city_admin):
        unit = OrgUnit.objects.get(name="盐湖区人才办")
        unit.contact_mobile = "13700000000"
        unit.save()
        OrgUnit.objects.get(name="河津市科技局").delete()
        OrgUnit.objects.create(name="新绛县人才办", region=Region.objects.get(code="140825"))
    User.objects.filter(username="city_admin").update(is_active=False)
    Region.objects.filter(code="140821").update(name="改过的名字")


@transactional
def test_it_restores_what_was_backed_up(backups, units, city_admin):
    before = _state()
    result = create_backup()
    assert result.path.parent == backups
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    manifest = result.manifest
    assert manifest["vendor"] == connection.vendor
    assert "core.0001_initial" in manifest["migrations"]
    assert manifest["rencai_version"] and manifest["created_at"] and len(manifest["payload_sha256"]) == 64
    assert AuditEntry.objects.filter(action="backup", object_repr=result.path.name).exists()

    _change_everything(city_admin)
    assert _state() != before

    restored = restore_backup(result.path)
    after = _state()
    # The restore appends its own audit entry to the restored chain; all before it is as it was.
    assert after["audit"][: len(before["audit"])] == before["audit"]
    assert {k: v for k, v in after.items() if k != "audit"} == {k: v for k, v in before.items() if k != "audit"}
    assert restored.audit_ok and restored.audit_checked == len(before["audit"])
    assert AuditEntry.objects.filter(action="restore", object_repr=result.path.name).exists()
    assert audit.verify().ok
    # What was replaced was backed up first, and no temporary file is left behind.
    assert restored.safety_backup is not None and restored.safety_backup.exists()
    assert sorted(p.name for p in backups.iterdir()) == sorted([result.path.name, restored.safety_backup.name])


@transactional
def test_the_commands_back_up_and_restore(backups, units, city_admin):
    target = backups / "nightly.tar"
    out = StringIO()
    call_command("backup", "--output", str(target), stdout=out, stderr=StringIO())
    assert out.getvalue().strip().splitlines()[-1] == str(target)
    before = _state()
    _change_everything(city_admin)
    out = StringIO()
    call_command("restore", str(target), "--no-input", "--no-safety-backup", stdout=out)
    assert "Audit chain verified" in out.getvalue()
    after = _state()
    assert after["units"] == before["units"] and after["users"] == before["users"]
    assert sorted(p.name for p in backups.iterdir()) == ["nightly.tar"]


def _rewrite(source: Path, target: Path, *, manifest=None, payload=None) -> Path:
    """A copy of a backup archive with its manifest or payload replaced."""
    with tarfile.open(source, "r:*") as tar:
        old_manifest = json.loads(tar.extractfile("manifest.json").read())
        name = old_manifest["payload"]
        old_payload = tar.extractfile(name).read()
    new_manifest = manifest(old_manifest) if manifest else old_manifest
    new_payload = payload(old_payload) if payload else old_payload
    with tarfile.open(target, "w") as tar:
        for member, data in (("manifest.json", json.dumps(new_manifest).encode()), (name, new_payload)):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def _flip_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]


def _assert_refused(path: Path, match: str, backups: Path) -> None:
    state = _state()
    files = sorted(p.name for p in backups.iterdir())
    with pytest.raises(BackupError, match=match):
        restore_backup(path)
    assert _state() == state  # nothing replaced
    assert sorted(p.name for p in backups.iterdir()) == files  # no safety backup, no leftovers
    with pytest.raises(CommandError, match="refused"):
        call_command("restore", str(path), "--no-input", stdout=StringIO())


@transactional
def test_a_tampered_backup_is_refused_before_anything_is_replaced(backups, units, city_admin):
    good = create_backup().path
    _change_everything(city_admin)
    tampered = _rewrite(good, backups / "tampered.tar", payload=_flip_byte)
    _assert_refused(tampered, "checksum", backups)
    # Bytes changed in the archive itself (not re-packed) are caught too.
    raw = backups / "raw.tar"
    raw.write_bytes(_flip_byte(good.read_bytes()))
    _assert_refused(raw, "damaged|checksum", backups)


@transactional
def test_stored_documents_come_back_with_the_database(backups, units, city_admin, settings):
    documents = Path(settings.DOCUMENT_DIR)
    (documents / "agreements" / "2024" / "05").mkdir(parents=True)
    kept = documents / "agreements" / "2024" / "05" / "协议正文.pdf"
    kept.write_bytes(b"%PDF-1.4 agreement")
    result = create_backup()
    assert [d["name"] for d in result.manifest["documents"]] == ["agreements/2024/05/协议正文.pdf"]
    kept.unlink()
    restore_backup(result.path)
    assert kept.read_bytes() == b"%PDF-1.4 agreement"

    # A document altered inside the archive is refused before anything is replaced.
    tampered = backups / "tampered-document.tar"
    with tarfile.open(result.path, "r:*") as source, tarfile.open(tampered, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("documents/"):
                data = _flip_byte(data)
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    kept.unlink()
    _assert_refused(tampered, "document .* checksum", backups)
    assert not kept.exists()

    # A manifest naming a document outside the documents folder is refused, whatever the archive holds.
    for name in ("../escape.pdf", "/etc/escape.pdf", 7):
        crafted = backups / f"crafted-{len(str(name))}.tar"
        _rewrite(result.path, crafted, manifest=lambda m, name=name: {
            **m, "documents": [{"name": name, "size": 1, "sha256": "0" * 64}]})
        _assert_refused(crafted, "cannot hold", backups)
    assert not (documents.parent / "escape.pdf").exists()


@transactional
def test_a_truncated_backup_is_refused(backups, units, city_admin):
    good = create_backup().path
    _change_everything(city_admin)
    truncated = backups / "truncated.tar"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    _assert_refused(truncated, "damaged|truncated", backups)
    empty = backups / "empty.tar"
    empty.write_bytes(b"")
    _assert_refused(empty, "damaged|not a rencai backup", backups)


@transactional
def test_a_backup_of_another_vendor_or_a_newer_schema_is_refused(backups, units):
    good = create_backup().path
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    foreign = _rewrite(good, backups / "foreign.tar", manifest=lambda m: {**m, "vendor": other})
    _assert_refused(foreign, "backup of a", backups)
    newer = _rewrite(
        good, backups / "newer.tar", manifest=lambda m: {**m, "migrations": [*m["migrations"], "core.9999_future"]}
    )
    _assert_refused(newer, "newer version", backups)


@transactional
def test_a_payload_that_is_not_a_database_is_refused(backups, units):
    good = create_backup().path
    junk = b"not a database at all " * 100
    bogus = _rewrite(
        good, backups / "bogus.tar",
        payload=lambda _old: junk,
        manifest=lambda m: {**m, "payload_size": len(junk), "payload_sha256": hashlib.sha256(junk).hexdigest()},
    )
    _assert_refused(bogus, "damaged|not a rencai database|pg_restore", backups)


@transactional
def test_verify_checks_without_changing_anything(backups, units, city_admin):
    good = create_backup().path
    _change_everything(city_admin)
    state = _state()
    out = StringIO()
    call_command("restore", str(good), "--check", stdout=out)
    assert "checksum and integrity OK" in out.getvalue()
    assert verify_backup(good)["vendor"] == connection.vendor
    assert _state() == state
    assert os.listdir(backups) == [good.name]


def test_the_restore_drill_into_an_empty_database(tmp_path):
    """The drill of docs/operations.md, end to end through the command line, on scratch SQLite files."""
    env = {**os.environ, "RENCAI_VAR_DIR": str(tmp_path / "var"), "RENCAI_BACKUP_DIR": str(tmp_path / "backups")}
    rencai = [sys.executable, "-m", "rencai.cli"]

    def run(database: Path, *args: str) -> str:
        done = subprocess.run(
            [*rencai, *args], env={**env, "RENCAI_DATABASE_URL": f"sqlite:///{database}"},
            capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    production, drill = tmp_path / "production.sqlite3", tmp_path / "drill.sqlite3"
    run(production, "init", "--no-static")
    archive = run(production, "backup").strip().splitlines()[-1]
    output = run(drill, "restore", archive, "--no-input")
    assert "Restored. Audit chain verified" in output
    assert "backed up first" not in output  # an empty database has nothing to keep
    run(drill, "audit", "verify")
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [Path(archive).name]
