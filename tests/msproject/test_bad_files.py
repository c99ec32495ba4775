"""Hostile, truncated, mis-encoded and wrong files: a clear SourceDataError naming the file (and the
line where the parser knows it), and nothing of that file yielded."""

from __future__ import annotations

from pathlib import Path

import pytest
from pmsync.connectors.msproject import read_mspdi

from pmsync.connector import Checkpoint, SkippedRow, SnapshotComplete
from pmsync.errors import SourceDataError
from pmsync.model import Record

from .conftest import DATA, connector

GOOD = (DATA / "printer-refresh.xml").read_bytes()
NS = b'<Project xmlns="http://schemas.microsoft.com/project">'

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Project [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Project xmlns="http://schemas.microsoft.com/project"><Name>&lol9;</Name></Project>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Project xmlns="http://schemas.microsoft.com/project"><Name>&secret;</Name></Project>
"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<Project xmlns="http://schemas.microsoft.com/project"><Name>x</Name></Project>
"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Project SYSTEM "http://127.0.0.1:9/project.dtd">
<Project xmlns="http://schemas.microsoft.com/project"><Name>x</Name></Project>
"""


def _write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "content",
    [
        BILLION_LAUGHS,
        EXTERNAL_ENTITY,
        PARAMETER_ENTITY,
        EXTERNAL_DTD,
        # the same bomb in UTF-16: a byte-level search for "<!DOCTYPE" would miss it, the parser does not
        BILLION_LAUGHS.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"),
        # a DOCTYPE hidden after a comment and a processing instruction
        b"<?xml version='1.0'?><!-- hi --><?pi x?>" + EXTERNAL_ENTITY.split(b"?>", 1)[1],
    ],
    ids=[
        "billion-laughs",
        "external-entity",
        "parameter-entity",
        "external-dtd",
        "utf16-bomb",
        "after-comment",
    ],
)
def test_hostile_xml_is_refused_before_any_entity_is_expanded(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path, "hostile.xml", content)
    with pytest.raises(SourceDataError) as caught:
        read_mspdi(path)
    message = str(caught.value)
    assert "hostile.xml" in message
    assert "refused: the file declares a DTD or entities" in message
    assert "root:" not in message  # /etc/passwd was never read into the message


def test_an_entity_reference_without_a_dtd_is_an_error_not_an_expansion(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "undeclared.xml", b"<?xml version='1.0'?>" + NS + b"<Name>&lol9;</Name></Project>"
    )
    with pytest.raises(SourceDataError, match=r"undeclared\.xml, line 1 column \d+: not well-formed XML"):
        read_mspdi(path)


def test_a_doctype_after_the_root_element_is_a_syntax_error(tmp_path: Path) -> None:
    content = b"<?xml version='1.0'?>" + NS + b'<!DOCTYPE x [<!ENTITY a "b">]><Name>&a;</Name></Project>'
    with pytest.raises(SourceDataError, match="not well-formed XML"):
        read_mspdi(_write(tmp_path, "late-doctype.xml", content))


def test_truncated_file_names_file_and_line(tmp_path: Path) -> None:
    cut = GOOD[: len(GOOD) * 2 // 3]
    line = cut.count(b"\n") + 1
    path = _write(tmp_path, "truncated.xml", cut)
    with pytest.raises(SourceDataError) as caught:
        read_mspdi(path)
    assert f"truncated.xml, line {line} column" in str(caught.value)
    assert "truncated or not saved as XML" in str(caught.value)


def test_mis_encoded_bytes_name_the_line(tmp_path: Path) -> None:
    # Latin-1 bytes in a file that declares UTF-8 (a classic result of editing the XML by hand)
    content = GOOD.replace(b"<Name>Survey sites</Name>", "<Name>Vérifier les sites</Name>".encode("latin-1"))
    line = content[: content.index(b"V\xe9rifier")].count(b"\n") + 1
    with pytest.raises(SourceDataError, match=rf"mis-encoded\.xml, line {line} column \d+: not well-formed"):
        read_mspdi(_write(tmp_path, "mis-encoded.xml", content))


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(SourceDataError, match="empty.xml.*the file is empty"):
        read_mspdi(_write(tmp_path, "empty.xml", b""))


def test_xml_that_is_not_a_project_file(tmp_path: Path) -> None:
    content = b'<?xml version="1.0"?><APIBusinessObjects xmlns="http://xmlns.oracle.com/Primavera/P6"/>'
    with pytest.raises(SourceDataError, match="pmxml.xml: not an MS Project XML"):
        read_mspdi(_write(tmp_path, "pmxml.xml", content))


def test_a_bad_value_names_the_task_and_the_element(tmp_path: Path) -> None:
    content = GOOD.replace(b"<Start>2026-06-04T08:00:00</Start>", b"<Start>next Tuesday</Start>", 1)
    with pytest.raises(
        SourceDataError, match=r"bad-value.xml: task UID 2: <Start> 'next Tuesday' is not valid"
    ):
        read_mspdi(_write(tmp_path, "bad-value.xml", content))


def _folder(tmp_path: Path, bad: bytes) -> Path:
    folder = tmp_path / "schedules"
    folder.mkdir()
    (folder / "a-good.xml").write_bytes(GOOD)
    (folder / "b-bad.xml").write_bytes(bad)
    (folder / "c-good.xml").write_bytes((DATA / "network-core.xml").read_bytes())
    return folder


def test_a_bad_file_stops_the_run_after_the_good_files_before_it_and_yields_nothing_of_itself(
    tmp_path: Path,
) -> None:
    folder = _folder(tmp_path, GOOD[:5000])
    seen = []
    with pytest.raises(SourceDataError) as caught:
        for item in connector(tmp_path, path=str(folder)).extract({}):
            seen.append(item)
    assert caught.value.source == "schedules"
    assert "b-bad.xml" in str(caught.value)
    scopes = {item.scope for item in seen if isinstance(item, Record)}
    assert scopes == {"schedules:a-good.xml"}  # nothing of b-bad.xml, nothing after it
    assert isinstance(seen[-1], Checkpoint)
    assert seen[-1].cursor["files"].keys() == {"a-good.xml"}


def test_skip_bad_files_lists_the_file_and_goes_on(tmp_path: Path) -> None:
    folder = _folder(tmp_path, BILLION_LAUGHS)
    items = list(connector(tmp_path, path=str(folder), skip_bad_files=True).extract({}))
    skipped = [item for item in items if isinstance(item, SkippedRow)]
    assert [s.where for s in skipped] == ["b-bad.xml"]
    assert "refused" in skipped[0].reason
    assert [i.scope for i in items if isinstance(i, SnapshotComplete)] == [
        "schedules:a-good.xml",
        "schedules:c-good.xml",
    ]
    # the bad file is not in the cursor, so the next run tries it again
    assert items[-1].cursor["files"].keys() == {"a-good.xml", "c-good.xml"}  # type: ignore[union-attr]


def test_a_duplicated_task_uid_stops_the_file_naming_both_rows(tmp_path: Path) -> None:
    # printer-refresh.xml: make task UID 3 carry UID 2 as well; nothing of the file may be stored
    content = GOOD.replace(b"<UID>3</UID>", b"<UID>2</UID>", 1)
    assert content != GOOD
    _write(tmp_path, "dup.xml", content)
    items: list[object] = []
    with pytest.raises(SourceDataError, match=r"dup.xml: task UID 2 is used by 2 rows \(IDs 2, 3\)"):
        for item in connector(tmp_path, path="dup.xml").extract({}):
            items.append(item)
    assert items == []


def test_skip_bad_files_lists_a_file_with_a_duplicated_uid(tmp_path: Path) -> None:
    _write(tmp_path, "dup.xml", GOOD.replace(b"<UID>3</UID>", b"<UID>2</UID>", 1))
    [skipped] = [
        i
        for i in connector(tmp_path, path="dup.xml", skip_bad_files=True).extract({})
        if isinstance(i, SkippedRow)
    ]
    assert "task UID 2 is used by 2 rows" in skipped.reason
