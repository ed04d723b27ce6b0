"""Keys and primitives for personal data at rest and for the audit chain.

All keys derive from ``settings.FIELD_KEY`` through HKDF with a distinct label per use, so the
encryption key, the lookup-hash key and the audit-chain key are independent.
Ciphertexts are ``v1:`` + base64(nonce ‖ AES-256-GCM(ciphertext ‖ tag)).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

CIPHER_PREFIX = "v1:"


class DecryptionError(ValueError):
    """A stored value could not be decrypted: wrong key or altered data."""


@lru_cache(maxsize=8)
def _derive(master: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"rencai", info=label).derive(master.encode())


def derived_key(label: str) -> bytes:
    return _derive(settings.FIELD_KEY, label.encode())


@lru_cache(maxsize=8)
def _field_cipher(master: str) -> AESGCM:
    # One cipher object per key: building one per value was most of the cost of reading a
    # million protected values (an export's masked mobile column).
    return AESGCM(_derive(master, b"field-encryption"))


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = _field_cipher(settings.FIELD_KEY).encrypt(nonce, plaintext.encode("utf-8"), None)
    return CIPHER_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


# Nonces are read from the system's random source this many at a time by ``field_encrypter``.
NONCES_PER_READ = 1024
_forks = 0  # how many forks this process descends from (counted in the child, see _nonces)


def _count_fork() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_count_fork)


def _nonces():
    """Fresh 96-bit nonces, read from the system's random source a thousand at a time (one
    system call each per value costs as much as the encryption). A process forked while some
    were still unread drops them and reads its own, so parent and child never share one; and a
    generator run from two threads at once raises rather than hand both the same."""
    while True:
        forks = _forks
        pool = os.urandom(12 * NONCES_PER_READ)
        for start in range(0, len(pool), 12):
            if forks != _forks:
                break
            yield pool[start:start + 12]


def field_encrypter():
    """``encrypt`` for many values in a row (a bulk load): the key's cipher looked up once and
    nonces read in bulk (``_nonces``). The same ciphertexts as ``encrypt``."""
    cipher = _field_cipher(settings.FIELD_KEY)
    nonces = _nonces()

    def encrypt_value(plaintext: str) -> str:
        nonce = next(nonces)
        return CIPHER_PREFIX + base64.b64encode(nonce + cipher.encrypt(nonce, plaintext.encode("utf-8"), None)).decode("ascii")

    return encrypt_value


def lookup_hasher(kind: str):
    """``lookup_hash`` of ``kind`` for many values in a row, the key looked up once."""
    template = _lookup_mac(settings.FIELD_KEY)
    prefix = f"{kind}:".encode()

    def hash_value(normalized: str) -> str:
        mac = template.copy()
        mac.update(prefix + normalized.encode())
        return mac.hexdigest()

    return hash_value


def decrypt(token: str) -> str:
    if not token.startswith(CIPHER_PREFIX):
        raise DecryptionError("not a rencai ciphertext")
    raw = binascii.a2b_base64(token[len(CIPHER_PREFIX):])
    try:
        return _field_cipher(settings.FIELD_KEY).decrypt(raw[:12], raw[12:], None).decode("utf-8")
    except InvalidTag as exc:
        raise DecryptionError("ciphertext failed authentication") from exc


@lru_cache(maxsize=8)
def _lookup_mac(master: str):
    # Keyed once per key; each value's hash starts from a copy (an import hashes millions).
    return hmac.new(_derive(master, b"lookup-hash"), digestmod=hashlib.sha256)


def lookup_hash(kind: str, normalized: str) -> str:
    """A keyed hash for exact lookup of a protected value (a blind index)."""
    mac = _lookup_mac(settings.FIELD_KEY).copy()
    mac.update(f"{kind}:{normalized}".encode())
    return mac.hexdigest()


def chain_hash(prev_hash: str, payload: bytes) -> str:
    """The audit chain link: HMAC over the previous link and this entry's canonical content."""
    return hmac.new(derived_key("audit-chain"), prev_hash.encode() + b"|" + payload, hashlib.sha256).hexdigest()
