"""Office files that SharePoint rewrites, and how pmsync still checks that what it stores is the report.

SharePoint parses Office Open XML files (.docx, .xlsx, .pptx, ...) saved into a document library and
writes the library's column values into them (property promotion and demotion, in ``customXml/``
parts, ``docProps/`` and the package relationships), so the stored size and QuickXorHash differ from
the file pmsync sent (rclone's OneDrive docs: "Unexpected file size/hash differences on Sharepoint").
For those files pmsync verifies what it controls (the upload completed, into the item it named, with
the bytes it hashed) and, with ``verify: download``, that every *content* part of the stored package
(worksheets, document body, slides, styles, media) is byte-identical to the local file's.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

#: Office Open XML extensions SharePoint's document parser rewrites
OFFICE_SUFFIXES = frozenset(
    {".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx", ".xlsb", ".pptx", ".pptm", ".potx"}
)


def is_office_file(name: str) -> bool:
    return PurePath(name).suffix.lower() in OFFICE_SUFFIXES


def _is_property_part(part: str) -> bool:
    """Parts SharePoint may add or rewrite: document properties, custom XML data, the content-type
    list and relationship files that point at them."""
    return (
        part.startswith(("customXml/", "docProps/"))
        or part == "[Content_Types].xml"
        or part.endswith(".rels")
    )


def content_parts(data: bytes) -> dict[str, bytes] | None:
    """The package's content parts by name, or None when ``data`` is not a zip package."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return {
                info.filename: package.read(info)
                for info in package.infolist()
                if not info.is_dir() and not _is_property_part(info.filename)
            }
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def same_office_content(local: bytes, stored: bytes) -> str | None:
    """None when ``stored`` holds the same content parts as ``local``; else what differs."""
    mine = content_parts(local)
    theirs = content_parts(stored)
    if mine is None:
        return "the local file is not an Office package"
    if theirs is None:
        return "the stored file is not an Office package"
    missing = sorted(set(mine) - set(theirs))
    if missing:
        return f"the stored file lacks {', '.join(missing[:3])}"
    changed = sorted(name for name in mine if mine[name] != theirs[name])
    if changed:
        return f"the stored file's {', '.join(changed[:3])} differ"
    return None
