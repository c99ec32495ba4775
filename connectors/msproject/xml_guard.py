"""The two things that make reading an untrusted MSPDI file safe and checkable, kept apart from the
parser: :func:`refuse_dtd` (defusedxml reads the prolog and refuses any DTD or entity declaration,
which every XML bomb and external-entity attack needs) and :class:`HashingReader` (the SHA-256 of
exactly the bytes parsed, for the connector's change detection).
"""

from __future__ import annotations

import hashlib
from typing import IO

from defusedxml.ElementTree import DefusedXMLParser


class _RootReached(Exception):
    """The prolog has been read: the root element started."""

    def __init__(self, tag: str) -> None:
        super().__init__(tag)
        self.tag = tag


class _StopAtRoot:
    """A parser target that ends parsing at the root element's start tag."""

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        raise _RootReached(tag)

    def end(self, tag: str) -> None:
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        return None


def refuse_dtd(raw: IO[bytes]) -> None:
    """Read the prolog with defusedxml (no DTD, no entities); raise if it declares any.

    Leaves ``raw`` wherever reading stopped; the caller rewinds it.
    """
    root_tag(raw)


def root_tag(raw: IO[bytes]) -> str | None:
    """The root element's tag (``{namespace}name``), read safely: a DTD or entity raises first.

    A document without a root element raises ``ParseError`` ("no element found"). Leaves ``raw``
    wherever reading stopped.
    """
    parser = DefusedXMLParser(
        target=_StopAtRoot(), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    while True:
        chunk = raw.read(1 << 16)
        if not chunk:
            parser.close()  # no root element at all: raises ParseError ("no element found")
            return None
        try:
            parser.feed(chunk)
        except _RootReached as reached:
            return reached.tag


class HashingReader:
    """A binary file wrapper that hashes what the parser reads, so the hash is of the parsed bytes."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.sha256.update(data)
        self.bytes_read += len(data)
        return data
