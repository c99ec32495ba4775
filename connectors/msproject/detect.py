"""What a schedule file really is, from its content, not its name.

People rename files: an .mpp saved as ``plan.xml`` (or sent through a mail filter that only lets XML
through), a Primavera P6 export whose ``.xml`` says nothing about P6, an .mpx with an old
extension. Reading by suffix sent those to the wrong reader, which then failed with a message about
the wrong thing ("the file is empty", "calendar UID None"). This module looks at the first bytes:

- ``D0 CF 11 E0 A1 B1 1A E1``: an OLE2 compound document, which is what Project's .mpp/.mpt are
  (other Office 97-2003 documents are too; MPXJ says so when it is not a schedule);
- ``ERMHDR``: a Primavera P6 XER export (its first record);
- ``MPX`` followed by a delimiter: Project 98's MPX text format;
- ``PK\\x03\\x04``: a zip archive (MPXJ looks inside for a schedule);
- otherwise XML, whose root element decides: ``Project`` in the MSPDI namespace is MS Project XML,
  ``APIBusinessObjects`` is Primavera P6 PMXML. The prolog is read by :func:`~.xml_guard.root_tag`
  (defusedxml, no DTD, no entities), so sniffing a hostile file expands nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal
from xml.etree.ElementTree import ParseError

import defusedxml

from pmsync.errors import SourceDataError

from .xml_guard import root_tag

FileFormat = Literal["mspdi", "pmxml", "xml", "mpp", "xer", "mpx", "zip", "empty", "unknown"]

MSPDI_NAMESPACE = "http://schemas.microsoft.com/project"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

#: how each format is named in messages
DESCRIPTIONS: dict[str, str] = {
    "mspdi": "MS Project XML (MSPDI)",
    "pmxml": "a Primavera P6 XML export (PMXML)",
    "xml": "XML that is not a schedule format pmsync knows",
    "mpp": "an OLE compound file (an .mpp/.mpt saved by MS Project)",
    "xer": "a Primavera P6 XER export",
    "mpx": "an MPX file (MS Project 98 exchange format)",
    "zip": "a zip archive",
    "empty": "an empty file",
    "unknown": "not a schedule format pmsync knows",
}

#: formats only MPXJ reads
MPXJ_FORMATS = frozenset({"pmxml", "mpp", "xer", "mpx", "zip"})


@dataclass(frozen=True)
class Detected:
    """A file's format and, for XML, its root element as ``{namespace}name``."""

    format: FileFormat
    root: str | None = None

    @property
    def description(self) -> str:
        if self.format == "xml" and self.root:
            return f"XML whose root element is {self.root}, not a schedule format pmsync knows"
        return DESCRIPTIONS[self.format]


def sniff_binary(head: bytes) -> FileFormat | None:
    """The format given by the first bytes alone; ``None`` when the text must be read as XML."""
    if not head:
        return "empty"
    if head.startswith(_OLE_MAGIC):
        return "mpp"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    text = head.lstrip(b"\xef\xbb\xbf")
    if text.startswith(b"ERMHDR"):
        return "xer"
    if text[:3].upper() == b"MPX" and text[3:4] in (b",", b";", b"\t", b" ", b"."):
        return "mpx"
    return None


def detect_stream(raw: IO[bytes]) -> Detected:
    """Sniff a seekable binary stream (left at its start)."""
    raw.seek(0)
    head = raw.read(512)
    raw.seek(0)
    known = sniff_binary(head)
    if known is not None:
        return Detected(known)
    try:
        tag = root_tag(raw)
    except (ParseError, defusedxml.DefusedXmlException, UnicodeDecodeError):
        # not XML, or hostile XML: the MSPDI reader gives the precise reason (line, column, DTD)
        return Detected("unknown")
    finally:
        raw.seek(0)
    if tag is None:
        return Detected("unknown")
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if local == "Project" and namespace in ("", MSPDI_NAMESPACE):
        return Detected("mspdi", tag)
    if local == "APIBusinessObjects" or "primavera" in namespace.lower():
        return Detected("pmxml", tag)
    return Detected("xml", tag)


def detect(path: Path, name: str | None = None) -> Detected:
    """Sniff the file at ``path``; ``name`` is how errors refer to it."""
    try:
        with path.open("rb") as raw:
            return detect_stream(raw)
    except OSError as exc:
        raise SourceDataError(f"cannot read the file: {exc.strerror}", record=name or path.name) from None
