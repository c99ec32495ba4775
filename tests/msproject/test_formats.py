"""Files are routed by their content, not their name: an .mpp renamed .xml, a Primavera P6 export
saved as .xml, an .mpx with any suffix. Each goes to the reader that can read it, or fails with a
message that says what the file really is and what to install."""

from __future__ import annotations

from pathlib import Path

import pytest
from pmsync.connectors.msproject import connector as connector_module
from pmsync.connectors.msproject import read_mspdi
from pmsync.connectors.msproject.detect import detect

from pmsync.errors import SourceDataError
from pmsync.model import Project, WorkItem

from .conftest import DATA, connector, records
from .test_mpxj_crosscheck import _build_with_mpxj

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
PMXML_ROOT = b'<?xml version="1.0" encoding="UTF-8"?>\n<APIBusinessObjects xmlns="http://xmlns.oracle.com/Primavera/P6/V8.4/API/BusinessObjects">'


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ((DATA / "printer-refresh.xml").read_bytes(), "mspdi"),
        (OLE, "mpp"),
        (b"ERMHDR\t8.4\t2026-01-05\tProject\tadmin\n%T\tPROJECT\n", "xer"),
        (b"MPX,Microsoft Project for Windows,4.0,ANSI\r\n", "mpx"),
        (PMXML_ROOT + b"<ProjectList/></APIBusinessObjects>", "pmxml"),
        (b"<?xml version='1.0'?><project name='gantt'/>", "xml"),
        (b"", "empty"),
        (b"PK\x03\x04" + b"\x00" * 40, "zip"),
    ],
    ids=["mspdi", "ole", "xer", "mpx", "pmxml", "other-xml", "empty", "zip"],
)
def test_the_format_comes_from_the_content(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "whatever.xml"  # the name says XML every time; the content decides
    path.write_bytes(content)
    assert detect(path).format == expected


def test_an_ole_file_renamed_xml_is_not_called_empty(tmp_path: Path) -> None:
    path = tmp_path / "plan.xml"
    path.write_bytes(OLE)
    with pytest.raises(SourceDataError, match=r"plan.xml: not XML \(looks like an \.mpp; use type msproject"):
        read_mspdi(path)


def test_a_p6_export_given_to_the_mspdi_reader_is_named_before_any_row_is_read(tmp_path: Path) -> None:
    # P6 calendars have no MSPDI <UID>: reading rows first failed with "calendar UID None ... int()"
    path = tmp_path / "p6.xml"
    path.write_bytes(
        PMXML_ROOT + b"<Calendar><Name>Standard</Name></Calendar><Project><Name>x</Name></Project>"
        b"</APIBusinessObjects>"
    )
    with pytest.raises(SourceDataError, match=r"p6.xml: .*Primavera P6 XML export \(PMXML\).*MPXJ"):
        read_mspdi(path)


def test_without_mpxj_a_renamed_mpp_says_what_it_is_and_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # stands for a machine without the extra: the connector asks mpxj_problem() what is missing
    monkeypatch.setattr(
        connector_module, "mpxj_problem", lambda: "the mpxj extra is not installed: pip install 'pmsync[mpp]'"
    )
    (tmp_path / "plan.xml").write_bytes(OLE)
    with pytest.raises(SourceDataError) as caught:
        list(connector(tmp_path, path="plan.xml").extract({}))
    message = str(caught.value)
    assert "plan.xml" in message
    assert "not XML (looks like an .mpp; use type msproject with the mpp extra)" in message
    assert "empty" not in message


def test_without_mpxj_a_p6_export_names_the_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connector_module, "mpxj_problem", lambda: "no Java runtime found")
    (tmp_path / "p6.xml").write_bytes(PMXML_ROOT + b"<ProjectList/></APIBusinessObjects>")
    with pytest.raises(
        SourceDataError, match=r"p6.xml: a Primavera P6 XML export \(PMXML\): reading it needs MPXJ"
    ):
        list(connector(tmp_path, path="p6.xml").extract({}))


@pytest.mark.java
def test_an_ole_file_renamed_xml_goes_to_mpxj(tmp_path: Path, jvm: None) -> None:
    (tmp_path / "plan.xml").write_bytes(OLE)
    with pytest.raises(SourceDataError, match="plan.xml: MPXJ does not recognise"):
        list(connector(tmp_path, path="plan.xml").extract({}))


@pytest.mark.java
def test_an_mpx_saved_as_xml_is_read_through_mpxj(tmp_path: Path, jvm: None) -> None:
    mpx, _ = _build_with_mpxj(tmp_path)
    renamed = tmp_path / "exit-plan.xml"
    mpx.rename(renamed)
    items = records(connector(tmp_path, path=str(renamed)).extract({}))
    assert [r.name for r in items if isinstance(r, WorkItem)] == [
        "Migration",
        "Inventory",
        "Move racks",
        "Exit complete",
    ]


@pytest.mark.java
def test_a_p6_pmxml_export_saved_as_xml_is_read_through_mpxj(tmp_path: Path, jvm: None) -> None:
    import jpype

    mpx, _ = _build_with_mpxj(tmp_path)
    project = jpype.JClass("org.mpxj.reader.UniversalProjectReader")().read(str(mpx))
    p6 = tmp_path / "p6-export.xml"
    jpype.JClass("org.mpxj.primavera.PrimaveraPMFileWriter")().write(project, str(p6))
    assert detect(p6).format == "pmxml"
    items = records(connector(tmp_path, path=str(p6)).extract({}))
    [project_record] = [r for r in items if isinstance(r, Project)]
    names = [r.name for r in items if isinstance(r, WorkItem)]
    assert {"Inventory", "Move racks", "Exit complete"} <= set(names)
    assert project_record.key == "p6-export"


def test_doctor_asks_for_mpxj_when_an_xml_file_is_really_an_mpp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util
    from typing import Any

    real_find_spec = importlib.util.find_spec

    def without_mpxj(name: str, *args: Any) -> Any:
        return None if name in ("mpxj", "jpype") else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_mpxj)
    folder = tmp_path / "schedules"
    folder.mkdir()
    (folder / "good.xml").write_bytes((DATA / "printer-refresh.xml").read_bytes())
    results = {r.name: r for r in connector(tmp_path, path="schedules").check()}
    assert "mpxj" not in results  # MSPDI only: MPXJ is not needed
    (folder / "plan.xml").write_bytes(OLE)
    results = {r.name: r for r in connector(tmp_path, path="schedules").check()}
    assert results["mpxj"].status == "fail" and "pmsync[mpp]" in results["mpxj"].detail
