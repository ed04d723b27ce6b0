"""Generated keys for the embedded set-up.

When ``RENCAI_SECRET_KEY`` or ``RENCAI_FIELD_KEY`` is not set, a random key is generated once
and kept in ``var/`` with owner-only permissions, outside the repository. Losing the field key
makes encrypted personal data unreadable, so it is never regenerated over an existing file.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def load_or_create_key(path: Path, *, nbytes: int) -> str:
    """Return the key kept in ``path``, creating it (mode 0600) on first use."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode("ascii")
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key
