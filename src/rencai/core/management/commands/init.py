"""``rencai init``: make an installation ready to serve; safe to run again.

Migrates the database, loads the reference data (regions and dictionaries), collects static
files for WhiteNoise (``--no-static`` skips it) and creates the first system administrator
``admin`` if no active one exists. A second run changes nothing and says so.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from rencai.core.refdata import load_reference_data, summary_message
from rencai.core.services.setup import ADMIN_PASSWORD_ENV, ensure_first_admin


class Command(BaseCommand):
    help = "Migrate, load reference data, collect static files, create the first administrator."

    def add_arguments(self, parser):
        parser.add_argument("--no-static", action="store_true", help="do not run collectstatic")

    def handle(self, *args, no_static: bool = False, verbosity: int = 1, **options):
        self.verbosity = verbosity
        self.say("==> migrating the database")
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))

        self.say("==> loading reference data")
        summary = load_reference_data()
        self.say(f"    {summary_message(summary)}" if summary.changed else "    reference data up to date")

        if not no_static:
            self.say("==> collecting static files")
            call_command("collectstatic", interactive=False, verbosity=max(verbosity - 1, 0))

        try:
            result = ensure_first_admin()
        except ValidationError as exc:
            raise CommandError(f"{ADMIN_PASSWORD_ENV} does not meet the password policy: " + " ".join(exc.messages)) from exc
        if not result.created:
            self.say(f"==> a system administrator exists ({result.user.username}); no account created")
            return
        self.stdout.write(f"==> created the system administrator '{result.user.username}' (系统管理员)")
        if result.password:
            self.stdout.write(f"    password (shown only now, must be changed at first sign-in): {result.password}")
        else:
            self.stdout.write(f"    password: the value of {ADMIN_PASSWORD_ENV}")
        self.stdout.write(
            "    At first sign-in it enrols a TOTP authenticator app. Then sign in as it and create the\n"
            "    安全管理员 and 审计管理员 accounts: each duty needs its own account (三员分立)."
        )

    def say(self, message: str) -> None:
        if self.verbosity:
            self.stdout.write(message)
