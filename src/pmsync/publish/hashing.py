"""Content hashes for publishing: SHA-256 (what pmsync records) and QuickXorHash (what SharePoint and
OneDrive for Business report in ``file.hashes.quickXorHash``, so an upload can be checked without
downloading it again).

QuickXorHash XORs every input byte into a 160-bit register at a bit offset that advances by 11 per
byte, then XORs the input length into the register's last 8 bytes; the result is base64. Bytes whose
stream positions are equal modulo 160 land at the same offset, so whole 160-byte blocks are first
XOR-folded together as big integers, which keeps hashing a 20 MB report fast in pure Python.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path

_WIDTH_BITS = 160
_WIDTH_BYTES = _WIDTH_BITS // 8
_SHIFT = 11
_MASK = (1 << _WIDTH_BITS) - 1
_BLOCK = _WIDTH_BITS  # bytes per fold block: positions congruent mod 160 share a bit offset


class QuickXorHash:
    """Incremental QuickXorHash, with the ``update`` / ``digest`` shape of :mod:`hashlib`."""

    def __init__(self) -> None:
        self._length = 0
        # XOR of all bytes per stream position modulo 160, kept as one little-endian integer
        self._fold = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        phase = self._length % _BLOCK
        self._length += len(view)
        if phase:
            # Align to a block boundary so the rest folds as whole blocks.
            head = view[: _BLOCK - phase]
            self._fold ^= int.from_bytes(head, "little") << (8 * phase)
            view = view[len(head) :]
        whole = len(view) - len(view) % _BLOCK
        fold = 0
        for start in range(0, whole, _BLOCK):
            fold ^= int.from_bytes(view[start : start + _BLOCK], "little")
        self._fold ^= fold
        if whole < len(view):
            self._fold ^= int.from_bytes(view[whole:], "little")

    def digest(self) -> bytes:
        register = 0
        fold = self._fold
        for position in range(_BLOCK):
            byte = (fold >> (8 * position)) & 0xFF
            if byte:
                offset = (position * _SHIFT) % _WIDTH_BITS
                register ^= ((byte << offset) | (byte >> (_WIDTH_BITS - offset))) & _MASK
        out = bytearray(register.to_bytes(_WIDTH_BYTES, "little"))
        for index, byte in enumerate(self._length.to_bytes(8, "little")):
            out[_WIDTH_BYTES - 8 + index] ^= byte
        return bytes(out)

    def b64digest(self) -> str:
        return base64.b64encode(self.digest()).decode("ascii")


def quickxor_b64(data: bytes | bytearray | memoryview) -> str:
    """QuickXorHash of ``data``, base64 as Graph reports it."""
    hasher = QuickXorHash()
    hasher.update(data)
    return hasher.b64digest()


class FileDigest:
    """SHA-256 (hex), QuickXorHash (base64) and size of a file, read once in 1 MiB blocks."""

    def __init__(self, sha256: str, quickxor: str, size: int) -> None:
        self.sha256 = sha256
        self.quickxor = quickxor
        self.size = size

    @classmethod
    def of_file(cls, path: Path) -> FileDigest:
        with path.open("rb") as stream:
            return cls.of_blocks(iter(lambda: stream.read(1 << 20), b""))

    @classmethod
    def of_blocks(cls, blocks: Iterable[bytes]) -> FileDigest:
        sha = hashlib.sha256()
        qx = QuickXorHash()
        size = 0
        for block in blocks:
            sha.update(block)
            qx.update(block)
            size += len(block)
        return cls(sha.hexdigest(), qx.b64digest(), size)
