"""Ed25519 keys and signatures for evidence packages (the `cryptography` package).

Signatures are the raw 64 bytes, so anyone can check a package without Basira:
`openssl pkeyutl -verify -pubin -inkey basira-evidence.pub -rawin -in manifest.json -sigfile manifest.sig`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from basira.core.errors import BasiraError
from basira.core.i18n import N_

PRIVATE_NAME = "basira-evidence.key"
PUBLIC_NAME = "basira-evidence.pub"


class SigningKeyError(BasiraError):
    """A key file that is missing, unreadable or not an Ed25519 key (the CLI exits 2)."""


@dataclass(frozen=True)
class KeyPaths:
    private: Path
    public: Path


def generate_keypair(out_dir: str | Path, *, overwrite: bool = False) -> KeyPaths:
    """Write a new private key (PEM, PKCS#8, mode 0600) and its public key (PEM) into out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = KeyPaths(out / PRIVATE_NAME, out / PUBLIC_NAME)
    if not overwrite and (paths.private.exists() or paths.public.exists()):
        raise SigningKeyError.of(N_("%(path)s: a key pair already exists there (refusing to overwrite it)"), path=out)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    # Create with 0600 from the start: never a moment when others could read the key.
    fd = os.open(paths.private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(paths.private, 0o600)
    paths.public.write_bytes(public_pem(key.public_key()))
    return paths


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex: what to read out over the phone to confirm a key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningKeyError.of(N_("%(path)s: cannot read the signing key (%(error)s)"), path=path,
                                 error=exc.strerror or exc) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError.of(N_("%(path)s: not a PEM private key (%(error)s)"), path=path, error=exc) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError.of(N_("%(path)s: not an Ed25519 key"), path=path)
    return key


def parse_public_key(data: bytes, source: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError.of(N_("%(path)s: not a PEM public key (%(error)s)"), path=source, error=exc) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError.of(N_("%(path)s: not an Ed25519 public key"), path=source)
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningKeyError.of(N_("%(path)s: cannot read the public key (%(error)s)"), path=path,
                                 error=exc.strerror or exc) from None
    return parse_public_key(data, str(path))


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def verify(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
