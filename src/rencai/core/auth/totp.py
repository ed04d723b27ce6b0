"""Time-based one-time passwords (TOTP, RFC 6238) for two-factor sign-in.

A code is accepted for the current 30-second step and one step either side (clock drift of a
phone), and only once: the step it matched is stored in ``User.totp_last_step`` by a conditional
UPDATE, so a code seen over a shoulder or replayed from a log is refused, even by two requests
racing each other.
"""

from __future__ import annotations

import hmac

import pyotp
import segno
from django.conf import settings
from django.utils import timezone

# Steps either side of "now" that still count: 30 s of phone clock drift each way.
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=settings.SITE_TITLE)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG, drawn here: no image service, no network."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#182433", light="#ffffff")


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str) -> int | None:
    """The time step ``code`` belongs to (within the drift window), or None if it is wrong."""
    code = (code or "").strip().replace(" ", "")
    if not secret or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(timezone.now())
    found = None
    # Compare every candidate so the time taken says nothing about which step matched.
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    return found


def consume_code(user, code: str) -> bool:
    """Accept ``code`` for ``user`` once: True if it is right and its step was never used."""
    from rencai.core.models import User

    step = matching_step(user.totp_secret, code)
    if step is None:
        return False
    claimed = User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(totp_last_step=step)
    if claimed:
        user.totp_last_step = step
    return bool(claimed)


def is_replay(user, code: str) -> bool:
    """Whether ``code`` is right but was already used (to tell the user to wait for the next)."""
    step = matching_step(user.totp_secret, code)
    return step is not None and step <= user.totp_last_step
