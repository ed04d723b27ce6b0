"""``rencai backup [--output FILE]``: an online backup of the database with a manifest.

Safe while rencai runs. Writes to ``RENCAI_BACKUP_DIR`` by default (mode 0600) and prints the
file's path alone on the last line. The field key (``RENCAI_FIELD_KEY`` or ``var/field_key``) is
not in the backup: keep it apart, without it the encrypted personal data cannot be read.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from rencai.core.services.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Back the database up (SQLite online backup API or pg_dump) into one archive with a manifest."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default=None, help="the archive to write (default: a new file in RENCAI_BACKUP_DIR)")

    def handle(self, *args, output: str | None = None, **options):
        try:
            result = create_backup(output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = result.path.stat().st_size
        self.stderr.write(
            f"Backed up the {result.manifest['vendor']} database ({size:,} bytes, "
            f"sha256 {result.manifest['payload_sha256'][:16]}…) to:"
        )
        self.stdout.write(str(result.path))
