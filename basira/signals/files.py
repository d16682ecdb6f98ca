"""Cryptographic file hashes (MD5, SHA-256, SHA-512): exact matches only, on the file's bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import ClassVar

from basira.core.i18n import N_
from basira.signals.base import SignalError, SignalType, register
from basira.signals.content import MediaContent

_HEX = frozenset("0123456789abcdef")
_BLOCK = 1 << 20


def file_digests(path: str | Path, algorithms: tuple[str, ...] = ("md5", "sha256")) -> dict[str, str]:
    """Hex digests of a file, reading it once."""
    hashers = {a: hashlib.new(a) for a in algorithms}
    try:
        with open(path, "rb") as f:
            while block := f.read(_BLOCK):
                for h in hashers.values():
                    h.update(block)
    except OSError as exc:
        raise SignalError.of(N_("%(path)s: cannot read (%(error)s)"), path=path, error=exc.strerror or exc) from exc
    return {a: h.hexdigest() for a, h in hashers.items()}


class _Digest(SignalType):
    algorithm: ClassVar[str]
    hex_len: ClassVar[int]
    index_kind = "exact"
    content = "file"
    default_threshold = 0
    post_content = MediaContent  # the digest ingest stored for each photo or video

    @classmethod
    def validate(cls, signal: str) -> str:
        s = signal.strip().lower()
        if len(s) != cls.hex_len or not _HEX.issuperset(s):
            raise SignalError.of(N_("not a %(type)s hash (%(n)s hex characters): %(signal)s"), type=cls.name,
                                     n=cls.hex_len, signal=repr(signal[:80]))
        return s

    @classmethod
    def hash_file(cls, path: str | Path) -> str:
        return file_digests(path, (cls.algorithm,))[cls.algorithm]

    @classmethod
    def hash_bytes(cls, data: bytes) -> str:
        return hashlib.new(cls.algorithm, data).hexdigest()


@register
class Md5Signal(_Digest):
    """MD5 of a file's bytes (python-threatexchange's `video_md5` is this too)."""

    name = "md5"
    aliases: ClassVar[tuple[str, ...]] = ("video_md5", "photo_md5", "file_md5", "md5_hash", "hash_md5", "md5sum")
    algorithm = "md5"
    hex_len = 32


@register
class Sha256Signal(_Digest):
    """SHA-256 of a file's bytes."""

    name = "sha256"
    #: python-threatexchange calls it `video_sha256` (its only SHA-256 type); the value is the same.
    aliases: ClassVar[tuple[str, ...]] = ("sha-256", "sha256_hash", "hash_sha256", "file_sha256", "sha256sum",
                                          "video_sha256", "photo_sha256")
    algorithm = "sha256"
    hex_len = 64


@register
class Sha512Signal(_Digest):
    """SHA-512 of a file's bytes (Tech Against Terrorism's hash list carries it)."""

    name = "sha512"
    aliases: ClassVar[tuple[str, ...]] = ("sha-512", "sha512_hash", "hash_sha512", "file_sha512", "sha512sum")
    algorithm = "sha512"
    hex_len = 128
