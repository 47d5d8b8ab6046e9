"""Secrets the product must be able to read back (webhook signing secrets), encrypted at rest with
Fernet. ``OUTBOX_ENCRYPTION_KEYS`` lists keys newest first: the first encrypts, any decrypts, so a
key is rotated by putting a new one first and running ``manage.py outbox_rotate_secrets``."""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _fernet_key(key: str) -> bytes:
    """A Fernet key as given, or one derived from any other string (development keys)."""
    try:
        if len(base64.urlsafe_b64decode(key.encode())) == 32:
            return key.encode()
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.OUTBOX_ENCRYPTION_KEYS))


def encrypt(secret: str) -> str:
    return cipher().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return cipher().decrypt(token.encode()).decode()


def reencrypt(token: str) -> str:
    """``token`` under the newest key."""
    return cipher().rotate(token.encode()).decode()
