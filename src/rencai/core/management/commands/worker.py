"""``rencai worker``: run background jobs (see ``rencai.core.jobs``).

Polls the database every second, or blocks on Redis when ``RENCAI_JOB_QUEUE_URL`` is set. At
start-up it recovers jobs a restart cut off. SIGTERM lets the job in hand finish, then stops.
``--once`` recovers, runs at most one job and exits (for tests and cron-style use).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from rencai.core.jobs import Worker


class Command(BaseCommand):
    help = "Run background jobs."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run at most one queued job, then exit")
        parser.add_argument("--name", default=None, help="worker name shown on its jobs (default host:pid)")

    def handle(self, *args, once: bool = False, name: str | None = None, **options):
        from rencai import serving

        serving.prepare_worker()
        worker = Worker(name)
        if once:
            status = worker.run_once()
            self.stdout.write(status or "idle")
            return
        worker.install_signal_handlers()
        worker.run_forever()
