"""The vault: provider keys sealed with AES-256-GCM under one master key.

The master key is 32 random bytes, given base64-encoded in ``AI_GATEWAY_MASTER_KEY``. For the
embedded default only (SQLite, no key in the environment) a key file is generated beside
the database with mode 0600, so ``ai-gateway serve`` works with no set-up.

Each ciphertext is ``nonce (12 bytes) || AES-GCM(plaintext)`` with the secret's id as
associated data, so a sealed key cannot be moved to another row. Each row also records a
fingerprint of the master key (``key_id``) so a wrong master key is reported as exactly that,
not as a corrupt secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ai_gateway.errors import VaultError

__all__ = [
    "MasterKey",
    "generate_master_key",
    "load_or_create_key_file",
    "mask_secret",
    "resolve_master_key",
    "write_key_file",
]

_NONCE_BYTES = 12
KEY_FILE_NAME = "master.key"


def mask_secret(secret: str) -> str:
    """``sk-proj-abc...wxyz`` -> ``sk-...wxyz``: enough to recognise a key, never to use it."""
    tail = secret[-4:] if len(secret) >= 12 else ""
    head = secret.split("-", 1)[0] + "-" if "-" in secret[:8] else secret[:3]
    return f"{head}...{tail}" if tail else "****"


def generate_master_key() -> str:
    """A new master key in the form ``AI_GATEWAY_MASTER_KEY`` takes."""
    return base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True, slots=True)
class MasterKey:
    """A validated 256-bit key; ``key_id`` fingerprints it without revealing it."""

    raw: bytes

    @classmethod
    def from_base64(cls, value: str) -> MasterKey:
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise VaultError(
                "AI_GATEWAY_MASTER_KEY is not valid base64; generate one with "
                '`python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"`'
            ) from exc
        if len(raw) != 32:
            raise VaultError(
                f"AI_GATEWAY_MASTER_KEY must decode to 32 bytes (AES-256), not {len(raw)}"
            )
        return cls(raw)

    @property
    def key_id(self) -> str:
        return hmac.new(self.raw, b"ai-gateway master key id", hashlib.sha256).hexdigest()[:16]

    def seal(self, secret_id: str, plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self.raw).encrypt(nonce, plaintext.encode(), secret_id.encode())

    def open(self, secret_id: str, sealed: bytes, *, key_id: str) -> str:
        if key_id != self.key_id:
            raise VaultError(
                "the master key does not match the one these secrets were sealed with; "
                "set AI_GATEWAY_MASTER_KEY to the original key"
            )
        nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return AESGCM(self.raw).decrypt(nonce, body, secret_id.encode()).decode()
        except InvalidTag as exc:
            raise VaultError(f"secret '{secret_id}' is corrupt or was tampered with") from exc

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id})"


def load_or_create_key_file(directory: Path) -> MasterKey:
    """The embedded default's key file (mode 0600), created on first use."""
    path = directory / KEY_FILE_NAME
    if path.exists():
        return MasterKey.from_base64(path.read_text())
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_master_key() + "\n")
    return MasterKey.from_base64(path.read_text())


def write_key_file(directory: Path, key: str) -> Path:
    """Replace the key file atomically (used by master-key rotation)."""
    path = directory / KEY_FILE_NAME
    tmp = directory / (KEY_FILE_NAME + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    os.replace(tmp, path)
    return path


def resolve_master_key(*, configured: str | None, embedded_dir: Path | None) -> MasterKey | None:
    """The master key in force: the environment's, else (embedded SQLite only) the key
    file beside the database, created on first use; None when neither applies."""
    if configured:
        return MasterKey.from_base64(configured)
    if embedded_dir is not None:
        return load_or_create_key_file(embedded_dir)
    return None
