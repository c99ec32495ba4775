"""Broken and hostile export files: each gives one clear error naming the file, and nothing of that
file is loaded, while good files next to it still load."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from pmsync.errors import SourceDataError

from .helpers import HEADER, file_connector, lines_of, write_csv

GOOD = "P-100,1.1,5110,Labor,Actual,JUL-25,15-JUL-2025,100.00,USD,Agency Staff,,Hours"

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>"""


def _xml_bomb(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.append(["x"])
    book.save(path.with_suffix(".tmp"))
    with zipfile.ZipFile(path.with_suffix(".tmp")) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, BOMB if item.filename == "xl/worksheets/sheet1.xml" else data)
    path.with_suffix(".tmp").unlink()
    return path


CASES = {
    "nul-byte.csv": (HEADER + "\n" + GOOD.replace("100.00", "1\x00") + "\n").encode(),
    "unterminated-quote.csv": (HEADER + "\n" + GOOD.replace("100.00", '"100.00') + "\n").encode(),
    "huge-field.csv": (HEADER + "\n" + GOOD.replace("Hours", "H" * 200_000) + "\n").encode(),
    "empty.csv": b"",
    "wrong-columns.csv": b"Project,Amount\nP-100,5\n",
    "not-text.csv": bytes(range(0x80, 0xA0)) * 10,
    "bad-number.csv": (HEADER + "\n" + GOOD.replace("100.00", "1.2.3") + "\n").encode(),
    "bad-date.csv": (HEADER + "\n" + GOOD.replace("15-JUL-2025", "2025-02-30") + "\n").encode(),
    "bad-kind.csv": (HEADER + "\n" + GOOD.replace("Actual", "Spend") + "\n").encode(),
    "bad-currency.csv": (HEADER + "\n" + GOOD.replace("USD", "DOLLARS") + "\n").encode(),
    "no-project.csv": (HEADER + "\n" + GOOD.replace("P-100", "") + "\n").encode(),
    "short-row.csv": (HEADER + "\nP-100,1.1,5110\n").encode(),
}
EXPECTED = {
    "nul-byte.csv": "row 2, column 'Burdened Cost'",
    "unterminated-quote.csv": "unexpected end of data",
    "huge-field.csv": "field larger than field limit",
    "empty.csv": "the file has no rows",
    "wrong-columns.csv": "no header row in the first 50 rows names the columns Project Number",
    "not-text.csv": "neither UTF-8 nor Windows-1252",
    "bad-number.csv": "value '1.2.3' is not an amount",
    "bad-date.csv": "value '2025-02-30' is not a date",
    "bad-kind.csv": "value 'Spend' is not a cost kind the mapping knows (Budget, Actual, Commitment",
    "bad-currency.csv": "value 'DOLLARS' is not a 3-letter currency code",
    "no-project.csv": "column 'Project Number': value '' is empty",
    "short-row.csv": "has fewer cells than the header row",
    "bomb.xlsx": "not a readable XLSX workbook",
    "zip-but-not-xlsx.xlsx": "not a readable XLSX workbook",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file_is_rejected_clearly_and_good_files_still_load(tmp_path: Path, name: str) -> None:
    if name == "bomb.xlsx":
        _xml_bomb(tmp_path / name)
    elif name == "zip-but-not-xlsx.xlsx":
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            archive.writestr("hello.txt", "hi")
    else:
        (tmp_path / name).write_bytes(CASES[name])
    write_csv(tmp_path / "good.csv", GOOD)
    items = []
    with pytest.raises(SourceDataError) as caught:
        for item in file_connector(tmp_path).extract({}):
            items.append(item)
    message = str(caught.value)
    assert f"{name}: " in message and EXPECTED[name] in message, message
    assert "Traceback" not in message and "\n" not in message
    [line] = lines_of(items)  # the good file loaded; nothing of the bad one
    assert line.amount == 100


def test_a_file_gone_between_listing_and_reading_is_rejected_and_the_others_load(tmp_path: Path) -> None:
    write_csv(tmp_path / "good.csv", GOOD)
    connector = file_connector(tmp_path)
    listed = [("gone.csv", tmp_path / "gone.csv"), *connector.files()]
    connector.files = lambda: listed  # type: ignore[method-assign]  # as if removed after listing
    items = []
    with pytest.raises(SourceDataError, match=r"gone.csv: cannot be read: No such file"):
        for item in connector.extract({}):
            items.append(item)
    assert len(lines_of(items)) == 1
