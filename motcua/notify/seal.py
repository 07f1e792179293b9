"""The phone number an SMS/Zalo gateway needs, sealed while it waits.

Remote numbers otherwise keep only a keyed hash and a mask of the phone (engine.remote). An office
with a gateway must hand the number to it, so it is kept encrypted (Fernet: AES with an HMAC)
under a key derived from the instance secret, opened only by the webhook channel at send time,
and cleared when the ticket ends and by the day end.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


def _fernet(secret: str) -> Fernet:
    key = hmac.new(secret.encode(), b"motcua:phone-seal:v1", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, phone: str) -> str:
    return _fernet(secret).encrypt(phone.encode()).decode("ascii")


def unseal(secret: str, sealed: str) -> str | None:
    """The number, or None when it was sealed under another secret (the instance's was replaced)."""
    try:
        return _fernet(secret).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None
