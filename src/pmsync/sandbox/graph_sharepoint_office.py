"""What SharePoint does to an Office file saved into a document library: it rewrites it.

SharePoint parses Office Open XML files (.docx, .xlsx, .pptx, ...) on upload and whenever their list
item's columns change: it promotes document properties into library columns and demotes the columns'
values back into the file (``customXml/`` parts holding the library's content type properties). The
bytes, the size and the QuickXorHash of what it stores therefore differ from what the client sent,
even though the workbook or document is the same. This is a well-known trap for sync tools:

- rclone's OneDrive backend documents it ("Unexpected file size/hash differences on Sharepoint":
  SharePoint "silently modifies uploaded files, mainly Office files (.docx, .xlsx, etc.), causing
  file size and hash checks to fail"; https://rclone.org/onedrive/#unexpected-file-size-hash-differences-on-sharepoint);
- abraunegg/onedrive added "Sharepoint Document Library modified file handling" (#590, #594) for the
  same reason.

The sandbox does the same by default (``SharePointState.rewrite_office_files``; set it False to get
byte-identical storage): a valid Office zip gets a ``customXml/item1.xml`` part with the item's column
values and a ``customXml/itemProps1.xml`` with a per-library schema id, written with the current time
in the zip entries, so the stored file is still a valid Office file with every original part intact.
Content that is not a zip is left as is (SharePoint's parser gives up on it too).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

#: Office Open XML extensions SharePoint's document parser handles
OFFICE_SUFFIXES = frozenset(
    {".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".xltx", ".xlsb", ".pptx", ".pptm", ".potx"}
)
#: parts SharePoint adds or rewrites; everything else in the package is kept byte for byte
REWRITTEN_PARTS = ("customXml/",)


def is_office_name(name: str) -> bool:
    dot = name.rfind(".")
    return dot >= 0 and name[dot:].lower() in OFFICE_SUFFIXES


def demote_properties(
    name: str, content: bytes | bytearray, fields: Mapping[str, Any], *, library_id: str, stamp: str
) -> bytes | bytearray:
    """The bytes SharePoint stores for ``content`` saved as ``name`` with the item's ``fields``."""
    if not is_office_name(name):
        return content
    try:
        source = zipfile.ZipFile(io.BytesIO(bytes(content)))
        members = [(info, source.read(info)) for info in source.infolist()]
    except (zipfile.BadZipFile, OSError, ValueError):
        return content
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            if not info.filename.startswith(REWRITTEN_PARTS):
                target.writestr(info, data)
        properties = "".join(
            f"<{_tag(key)}>{escape(str(value))}</{_tag(key)}>"
            for key, value in sorted(fields.items())
            if value is not None and not key.startswith("@")
        )
        target.writestr(
            "customXml/item1.xml",
            '<?xml version="1.0" encoding="utf-8"?><p:properties '
            'xmlns:p="http://schemas.microsoft.com/office/2006/metadata/properties">'
            f"<documentManagement>{properties}</documentManagement>"
            f"<!-- saved {escape(stamp)} --></p:properties>",
        )
        target.writestr(
            "customXml/itemProps1.xml",
            '<?xml version="1.0" encoding="utf-8"?><ds:datastoreItem '
            f'ds:itemID="{{{library_id.upper()}}}" '
            'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml"/>',
        )
    return out.getvalue()


def _tag(key: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in key)
    return cleaned if cleaned[:1].isalpha() else f"f_{cleaned}"
