"""``rencai restore FILE``: check a backup, then replace the database with it.

Before anything is touched the archive's checksum, the payload's integrity (SQLite
``integrity_check``, ``pg_restore --list``), the database vendor and the schema version are
checked; a damaged, truncated or foreign file is refused. The data being replaced is backed up
first (``--no-safety-backup`` skips that). After the restore an older schema is migrated and the
audit chain verified; a broken chain makes the command fail (the data stays restored).
Stop ``rencai serve`` (or at least the job worker) while restoring.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from rencai.core.services.backup import BackupError, restore_backup, verify_backup


class Command(BaseCommand):
    help = "Verify a backup archive and restore the database from it."

    def add_arguments(self, parser):
        parser.add_argument("file", help="a backup archive made by `rencai backup`")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive",
                            help="do not ask for confirmation")
        parser.add_argument("--no-safety-backup", action="store_false", dest="safety_backup",
                            help="do not back up the data being replaced first")
        parser.add_argument("--check", action="store_true", help="only verify the backup; change nothing")

    def handle(self, *args, file: str, interactive: bool = True, safety_backup: bool = True, check: bool = False, **options):
        try:
            manifest = verify_backup(file)
        except BackupError as exc:
            raise CommandError(f"refused: {exc}") from exc
        self.stdout.write(
            f"Backup of {manifest['created_at']} (rencai {manifest['rencai_version']}, {manifest['vendor']}, "
            f"{len(manifest['migrations'])} migrations): checksum and integrity OK."
        )
        if check:
            return
        if interactive:
            if not sys.stdin.isatty():
                raise CommandError("no terminal to confirm on: add --no-input to restore from a script")
            answer = input("This replaces ALL data of the configured database. Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                raise CommandError("restore cancelled")
        try:
            result = restore_backup(file, safety_backup=safety_backup)
        except BackupError as exc:
            raise CommandError(f"refused: {exc}") from exc
        if result.safety_backup:
            self.stdout.write(f"The replaced data was backed up first to {result.safety_backup}")
        if result.migrated:
            self.stdout.write("The restored database was migrated to this version's schema.")
        if not result.audit_ok:
            raise CommandError(
                f"restored, but the audit chain does not verify after {result.audit_checked} entries: {result.audit_reason}"
            )
        self.stdout.write(f"Restored. Audit chain verified ({result.audit_checked} entries).")
