"""``rencai expire_agreements``: mark 到期 every 有效 agreement whose term has ended.

Run it once a day from cron or a systemd timer, beside ``rencai greetings`` (docs/cooperation.md).
An agreement saved after its expiry date is marked at once; this catches those that simply ran out.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from rencai.core import audit


class Command(BaseCommand):
    help = "Mark expired every active cooperation agreement whose term has ended."

    def handle(self, *args, **options):
        from rencai.cooperation.services import mark_expired_agreements

        with audit.acting(None):
            count = mark_expired_agreements()
        self.stdout.write(f"expired {count}")
