"""Field encryption at rest and blind indexes for matching.

Sensitive identifiers (date of birth, SSN) are stored encrypted with Fernet (keys from
settings, newest first, so keys rotate). Matching and identity checks never decrypt a
table: they compare keyed hashes (HMAC-SHA256 under BLIND_INDEX_KEY) of normalised
values. This module must never log a plaintext value.
"""

import hashlib
import hmac
import unicodedata
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet():
    return MultiFernet([Fernet(k.strip().encode()) for k in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("Encrypted value cannot be read with the configured keys") from exc


def normalise(value: str) -> str:
    """Case-, accent- and space-insensitive form used before hashing."""
    value = unicodedata.normalize("NFKD", str(value))
    value = "".join(c for c in value if not unicodedata.combining(c))
    return " ".join(value.casefold().split())


def blind_index(*parts) -> str:
    """A keyed hash of normalised parts; equal inputs give equal indexes."""
    message = "\x1f".join(normalise(p) for p in parts).encode()
    key = settings.BLIND_INDEX_KEY.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python sees the plaintext string (or None)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
