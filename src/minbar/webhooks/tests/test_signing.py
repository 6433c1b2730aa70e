from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from minbar.webhooks.signing import SignatureError, new_secret, sign, verify

SECRET = "whsec_test-secret"
BODY = b'{"id":"e1","type":"post.failed"}'


def test_signature_is_hmac_sha256_of_timestamp_dot_raw_body():
    header = sign(SECRET, BODY, timestamp=1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_verify_accepts_a_fresh_genuine_signature():
    header = sign(SECRET, BODY)
    assert abs(verify(SECRET, header, BODY) - time.time()) < 5


def test_verify_rejects_a_tampered_body():
    header = sign(SECRET, BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, header, BODY.replace(b"failed", b"published"))


def test_verify_rejects_the_wrong_secret():
    header = sign(SECRET, BODY)
    with pytest.raises(SignatureError, match="does not match"):
        verify("whsec_another", header, BODY)


def test_verify_rejects_a_timestamp_older_than_the_tolerance():
    old = int(time.time()) - 301
    header = sign(SECRET, BODY, timestamp=old)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(SECRET, header, BODY)
    assert verify(SECRET, header, BODY, tolerance=600) == old


def test_verify_rejects_a_replayed_signature_moved_to_a_new_timestamp():
    # An attacker cannot refresh the timestamp: it is part of the signed text.
    old = int(time.time()) - 3600
    digest = sign(SECRET, BODY, timestamp=old).split("v1=")[1]
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, f"t={int(time.time())},v1={digest}", BODY)


@pytest.mark.parametrize("header", ["", "v1=abc", "t=123", "t=abc,v1=def", "garbage"])
def test_verify_rejects_malformed_headers(header):
    with pytest.raises(SignatureError):
        verify(SECRET, header, BODY)


def test_new_secrets_are_long_and_different():
    first, second = new_secret(), new_secret()
    assert first != second and first.startswith("whsec_") and len(first) > 40
