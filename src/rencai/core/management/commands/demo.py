"""``rencai demo [--size N] [--seed S] [--if-empty]``: load synthetic demo data.

The same seed gives the same data. The demo accounts share one generated password, printed
once here and stored nowhere else. ``--if-empty`` (what ``./run`` uses) loads nothing when demo
data was loaded before or the database already holds data of its own, so running it again
duplicates nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from rencai.core.services.accounts import generate_password
from rencai.demo import DemoAlreadyLoaded, demo_loaded, run_demo
from rencai.demo.registry import DEFAULT_SEED, has_own_data


class Command(BaseCommand):
    help = "Load deterministic synthetic demo data (Faker zh_CN)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--size", type=int, default=1,
            help="scale: 1 is a small city with 2,200 talents (1,600 在外, 600 本土; default 1); below 1000 a "
                 "multiple of it, from 1000 up the number of talents (--size 1000000: a million)",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
        parser.add_argument(
            "--if-empty", action="store_true",
            help="do nothing when demo data was loaded before or the database holds data of its own",
        )

    def handle(self, *args, size: int, seed: int, if_empty: bool, **options):
        if size < 1:
            raise CommandError("--size must be at least 1")
        if if_empty and (demo_loaded() or has_own_data()):
            self.stdout.write("==> demo data: the database is not empty; nothing loaded")
            return
        password = generate_password(16)
        try:
            context = run_demo(seed=seed, size=size, password=password)
        except DemoAlreadyLoaded as exc:
            raise CommandError("demo data was loaded into this database before; use a fresh database") from exc
        counts = ", ".join(f"{label} {n}" for label, n in sorted(context.counts.items()))
        self.stdout.write(f"==> demo data loaded (seed {seed}, size {size}): {counts}")
        if context.accounts:
            self.stdout.write("    demo accounts:")
            for username, description in context.accounts:
                self.stdout.write(f"      {username:<22} {description}")
            self.stdout.write(f"    their password (shown only now): {password}")
            self.stdout.write("    Administrators among them enrol a TOTP authenticator app at first sign-in.")
