"""Passwords and bearer tokens.

Tokens are 256-bit random strings, so a plain SHA-256 of them is a safe, fast lookup key;
passwords are hashed with werkzeug's salted scrypt."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def check_password(hashed: str, password: str) -> bool:
    return check_password_hash(hashed, password)


def derived_secret(secret_key: str, purpose: str, length: int = 32) -> str:
    """A stable secret for the demo office (its tokens and passwords survive restarts and never
    sit in the repository, because they derive from this instance's own secret key)."""
    digest = hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
    import base64

    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def load_or_create_secret_key(instance: Path) -> str:
    """The secret key lives in the instance folder, created on first run with mode 0600."""
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()
