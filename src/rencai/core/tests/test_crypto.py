"""core.crypto's bulk helpers: the same ciphertexts and hashes as one value at a time, and a
nonce never handed out twice, by one process or by a parent and the child it forked."""

from __future__ import annotations

import binascii
import os

import pytest

from rencai.core import crypto


def test_the_bulk_encrypter_seals_what_decrypt_opens_with_a_fresh_nonce_each_time():
    encrypt = crypto.field_encrypter()
    tokens = [encrypt("140802198503120031") for _ in range(3000)]  # across three reads of nonces
    assert {crypto.decrypt(token) for token in tokens} == {"140802198503120031"}
    nonces = {binascii.a2b_base64(t[len(crypto.CIPHER_PREFIX):])[:12] for t in tokens}
    assert len(nonces) == 3000


def test_the_bulk_hasher_agrees_with_lookup_hash():
    hasher = crypto.lookup_hasher("mobile")
    assert hasher("13912345678") == crypto.lookup_hash("mobile", "13912345678")
    assert hasher("13912345678") != crypto.lookup_hash("id_card", "13912345678")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_reuses_its_parents_nonces():
    nonces = crypto._nonces()
    next(nonces)  # a pool is read; most of it is still unused when the process forks
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next nonce, sent to the parent
        os.close(read)
        os.write(write, next(nonces))
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    childs = os.read(read, 12)
    os.close(read)
    parents = [next(nonces) for _ in range(crypto.NONCES_PER_READ)]
    assert len(childs) == 12 and childs not in parents
