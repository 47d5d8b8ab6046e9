"""The deployment's VAPID key for Web Push (RFC 8292): browsers subscribe with its public half,
push services accept only messages signed with its private half."""

import base64
import hashlib
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from py_vapid import Vapid02

# The order of P-256: a derived private scalar must lie in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _private_key_text() -> str:
    if settings.WEB_PUSH_VAPID_PRIVATE_KEY:
        return settings.WEB_PUSH_VAPID_PRIVATE_KEY
    if settings.IS_PRODUCTION:
        return ""
    digest = hashlib.sha256(f"nevermisscall-vapid:{settings.SECRET_KEY}".encode()).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    return _b64url(scalar.to_bytes(32, "big"))


@lru_cache(maxsize=4)
def _vapid_for(text: str) -> Vapid02:
    if "BEGIN" in text:
        return Vapid02.from_pem(text.encode())
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    return Vapid02.from_pem(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def enabled() -> bool:
    return bool(_private_key_text())


def vapid() -> Vapid02:
    """The signer pywebpush uses; only call when ``enabled()``."""
    return _vapid_for(_private_key_text())


def application_server_key() -> str:
    """The public key as browsers' ``pushManager.subscribe`` wants it (uncompressed point, base64url)."""
    if not enabled():
        return ""
    public = vapid().public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return _b64url(public)
