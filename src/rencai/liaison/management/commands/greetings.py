"""``rencai greetings``: queue the daily job that drafts the coming days' greetings.

Run it once a day from cron or a systemd timer (docs/campaigns.md); ``--now`` does the work in
this process instead of queueing it for the worker.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from rencai.core import audit
from rencai.core.jobs import enqueue


class Command(BaseCommand):
    help = "Queue (or, with --now, run) the daily greetings drafts (liaison.greetings)."

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="make the drafts in this process")

    def handle(self, *args, now: bool = False, **options):
        if now:
            from rencai.liaison import greetings

            with audit.acting(None):
                made = greetings.prepare_drafts()
            self.stdout.write("created {created}, updated {updated}".format(**made))
            return
        job = enqueue("liaison.greetings", {})
        self.stdout.write(f"queued job {job.pk}")
