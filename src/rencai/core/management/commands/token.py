"""``rencai token``: personal API tokens from the command line.

``rencai token create USERNAME [--days N] [--name NAME]`` prints the new token alone on its last
line, so a script can take it with ``tail -n 1``; ``list USERNAME`` and ``revoke PREFIX`` manage
the rest. The token is never shown again: only its digest is stored.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rencai.core.models import ApiToken, User
from rencai.core.services.tokens import create_token, revoke_token, token_status, tokens_of


class Command(BaseCommand):
    help = "Create, list or revoke personal API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print it (once)")
        create.add_argument("username")
        create.add_argument("--days", type=int, default=None, help="lifetime in days (default RENCAI_API_TOKEN_DAYS)")
        create.add_argument("--name", default="", help="what the token is for")
        listing = sub.add_parser("list", help="list a user's tokens (prefixes only)")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, action: str, **options):
        return getattr(self, f"do_{action}")(**options)

    def _user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"no such user: {username}") from exc

    def do_create(self, username: str, days: int | None, name: str, **options):
        user = self._user(username)
        try:
            token, raw = create_token(user, name=name, days=days)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        expires = timezone.localtime(token.expires_at)
        self.stderr.write(f"Token for {user.username}, valid until {expires:%Y-%m-%d %H:%M}. It is shown only now:")
        self.stdout.write(raw)

    def do_list(self, username: str, **options):
        user = self._user(username)
        now = timezone.now()
        for token in tokens_of(user):
            expires = timezone.localtime(token.expires_at)
            self.stdout.write(f"{token.prefix}…\t{token_status(token, now)}\t{expires:%Y-%m-%d}\t{token.name}")

    def do_revoke(self, prefix: str, **options):
        prefix = prefix.rstrip("…")
        matches = list(ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True)[:2])
        if not matches:
            raise CommandError(f"no active token with prefix {prefix}")
        if len(matches) > 1:
            raise CommandError(f"several active tokens share the prefix {prefix}; revoke them in the web UI")
        revoke_token(matches[0])
        self.stdout.write(f"revoked {prefix}…")
