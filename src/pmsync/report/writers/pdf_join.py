"""Joining printed chunks into one PDF: pages, bookmarks, links, one structure tree, "Page N of M".

A big report is printed in chunks (:mod:`pmsync.report.writers.pdf`); :func:`join_files` joins the
chunk files in order. With more than one chunk it runs in a process of its own
(``python -m pmsync.report.writers.pdf_join``), for three reasons measured at 500 projects (50
chunks, ~600,000 structure elements): the join (qpdf, ~12 s of CPU) then runs beside the printing
and the chunks' HTML rendering instead of taking turns with them for the interpreter's lock; the
process ends without freeing its ~2.6 GB of qpdf objects one by one (3.4 s); and the parent's
memory stays that of the chunks in flight.

The child reads one chunk file name per line on stdin as each chunk is printed, joins it, and at the
end of its input writes the joined PDF to the output file named on its command line. A failure is
one line on stderr and exit status 1; the parent turns it into a :class:`~pmsync.errors.ReportError`.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pmsync.report.writers.pdf_structure import StructureJoin, renumber_element_ids, renumber_element_names

#: where the stamped page number sits (points from the bottom-right corner), its size and colour: as
#: the single-pass footer of style.css.j2 (9px in the 10 mm right and 14 mm bottom page margins)
PAGE_NUMBER_RIGHT, PAGE_NUMBER_BASELINE, PAGE_NUMBER_SIZE = 28.35, 17.5, 6.75
PAGE_NUMBER_RGB = "0.341 0.376 0.416"
# Helvetica's advance widths (per 1000 em) for the characters of "Page N of M", to right-align it
_HELVETICA_WIDTHS = {" ": 278, "P": 667, "a": 556, "g": 556, "e": 556, "o": 556, "f": 278}


#: the documents of :func:`join_files_to`, referenced until the process exits (see there)
_NEVER_FREED: list[Any] = []


def join_files(paths: Iterable[Path], *, stamp: bool, creator: str, moment: str) -> bytes:
    """One PDF of the PDF files ``paths`` in order (each is renamed in place, see below), numbered
    "Page N of M" when ``stamp``, dated ``moment`` (a PDF date), its ``/Creator`` ``creator``.

    A single document is kept whole. Chunks are joined page by page with their bookmarks, links and
    structure trees (:class:`~pmsync.report.writers.pdf_structure.StructureJoin`); a chunk's printer
    dropped the links to anchors in other chunks (the portfolio table links only the projects
    printed with it). Element names are renumbered across the whole document, in the bytes of each
    file where Chromium's names allow it. Sources are opened from files, not from memory: qpdf reads
    a Python stream through a Python call per read, which made copying a chunk's tree 1.5x slower.
    qpdf copies page content lazily, so every source stays open until the joined document is saved.
    """
    sources: list[Any] = []
    out = io.BytesIO()
    try:
        _save_joined(paths, out, sources, stamp=stamp, creator=creator, moment=moment)
        return out.getvalue()
    finally:
        for source in sources:
            source.close()


def join_files_to(out: Path, paths: Iterable[Path], *, stamp: bool, creator: str, moment: str) -> None:
    """:func:`join_files`, saved to the file ``out``, for the join's own process: the sources are
    not closed, since the process ends right after without freeing its objects (closing 50 chunks'
    sources took 3 s, after the last chunk was printed, while the user waits). They are kept in
    :data:`_NEVER_FREED`: a list local to this call was dropped on return, and dropping the last
    reference to the documents freed them all the same (1.6 s at 500 projects)."""
    _save_joined(paths, out, _NEVER_FREED, stamp=stamp, creator=creator, moment=moment)


def _save_joined(
    paths: Iterable[Path],
    out: Path | io.BytesIO,
    sources: list[Any],
    *,
    stamp: bool,
    creator: str,
    moment: str,
) -> None:
    """Join ``paths`` (see :func:`join_files`) and save the result to ``out``; every source opened is
    added to ``sources``, for the caller to close."""
    import pikepdf

    named = 0

    def opened(path: Path) -> Any:
        nonlocal named
        renamed = renumber_element_names(path.read_bytes(), named)
        if renamed is not None:
            data, count = renamed
            named += count
            path.write_bytes(data)
        document = pikepdf.open(path)
        if renamed is None:
            named += renumber_element_ids(pikepdf, document, named)
        sources.append(document)
        return document

    chunks = iter(paths)
    first = opened(next(chunks))
    joined, structure = first, None
    for path in chunks:
        if joined is first:  # a second document: the first is joined too, not kept whole
            joined = document_like(pikepdf, first)
            sources.append(joined)
            structure = StructureJoin(pikepdf, joined)
            # with the pages: their links' targets; the bookmarks after the tree (append_outline)
            joined.add_pages_from(first, outlines="ignore")
            structure.add(first, 0)
            append_outline(pikepdf, joined, first, headings=structure.tagged)
        source = opened(path)
        start = len(joined.pages)
        joined.add_pages_from(source, outlines="ignore")
        assert structure is not None
        structure.add(source, start)
        append_outline(pikepdf, joined, source, headings=structure.tagged)
    if structure is not None:
        structure.finish()
        if not structure.tagged:  # a chunk came untagged: no tree, so no bookmark may name a heading
            drop_headings(joined.Root.get("/Outlines"))
    outline_sections_on_top(pikepdf, joined)
    if stamp:
        stamp_page_numbers(pikepdf, joined)
    joined.docinfo["/CreationDate"] = moment
    joined.docinfo["/ModDate"] = moment
    joined.docinfo["/Creator"] = creator
    # deterministic_id: the file identifier is derived from the content, not from the clock; qpdf
    # would keep the first half of an identifier the printer gave, so that one is dropped
    if "/ID" in joined.trailer:
        del joined.trailer.ID
    # Object streams: a tagged PDF is mostly small structure elements, one object each; packed
    # into compressed object streams the 500-project PDF is 40 MB instead of 117 MB, and saved
    # in 4.4 s instead of 6.9 s (less to write).
    joined.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def main() -> None:
    """``python -m pmsync.report.writers.pdf_join OUT '{"stamp": ..., "creator": ..., "moment": ...}'``,
    chunk file names on stdin, one per line."""
    out, how = Path(sys.argv[1]), json.loads(sys.argv[2])
    try:
        import pikepdf

        # The save is what the user waits for after the last chunk is printed, on one core: at 500
        # projects zlib's fastest level saves in 1.9-2.1 s instead of 2.3-3.1 s, for a file 6 % larger
        # (40.0 MB instead of 37.7). Only this process's saves are affected (the setting is qpdf's).
        pikepdf.settings.set_flate_compression_level(1)
        paths = (Path(line.rstrip("\n")) for line in sys.stdin)
        join_files_to(out, paths, **how)
    except Exception as exc:  # one line for the parent's error; the traceback helps no reader
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        os._exit(1)
    sys.stdout.flush()
    # Not a normal exit: freeing ~600,000 qpdf objects one by one would take seconds for nothing.
    os._exit(0)


def append_outline(pikepdf: Any, joined: Any, source: Any, *, headings: bool) -> None:
    """Append the bookmarks of ``source`` to those of ``joined``, after its pages and its structure
    tree were copied: qpdf copies each object of a source once, so a bookmark's page (``/Dest``)
    and the heading it stands for in the structure tree (``/SE``, which Chromium writes) lead to
    the copies already made, not to new ones. Without ``headings`` (the joined document will not
    be tagged) the ``/SE`` are dropped first, or the copy would carry a tree nothing uses.

    The items are copied by qpdf as they are and relinked, none rebuilt: pikepdf's own bookmark
    copy (``add_pages_from(outlines="preserve")``) rebuilt each item in Python, dropped its ``/SE``
    and took about 2 s of the join at 500 projects (10,514 bookmarks). Both printers write each
    bookmark's target as a page and a position, never as a named destination, which a copy as it
    is would not carry.
    """
    outlines = source.Root.get("/Outlines")
    if outlines is None or outlines.get("/First") is None:
        return
    if not headings:
        drop_headings(outlines)
    copied = joined.copy_foreign(outlines)
    mine = joined.Root.get("/Outlines")
    if mine is None:
        mine = joined.Root.Outlines = joined.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
    first = item = copied.First
    shown = 0  # /Count: the items a viewer shows at first, counted here rather than trusted
    while item is not None:
        item.Parent = mine
        shown += 1 + max(0, int(item.get("/Count", 0)))
        last, item = item, item.get("/Next")
    if mine.get("/Last") is not None:
        mine.Last.Next, first.Prev = first, mine.Last
    else:
        mine.First = first
    mine.Last = last
    mine.Count = int(mine.get("/Count", 0)) + shown


def drop_headings(outlines: Any) -> None:
    """Remove every bookmark's link to a structure element (``/SE``) under ``outlines``."""
    pending = [] if outlines is None else [outlines.get("/First")]
    while pending:
        item = pending.pop()
        while item is not None:
            if "/SE" in item:
                del item["/SE"]
            pending.append(item.get("/First"))
            item = item.get("/Next")


def outline_sections_on_top(pikepdf: Any, document: Any) -> None:
    """Bookmarks with the pack's sections at the top level: the committee summary, each project's
    summary, the appendix's parts and each project's detail, each with its own headings below it.

    A printer nests every bookmark under the first heading, the report's title (an h1 whose
    section is the whole document), so a reader saw one bookmark to open before any project. And
    a chunk printed without the title (every chunk but the first) put its sections at the top
    level, so a joined PDF had some projects under the title and others beside it. The title's
    bookmarks are moved up beside it, by relinking the outline's items (no item is copied): the
    same bookmarks, in the same order, however many chunks the PDF was printed in.
    """
    outlines = document.Root.get("/Outlines")
    title = None if outlines is None else outlines.get("/First")
    if title is None or "/First" not in title:
        return
    first, last, after = title.First, title.Last, title.get("/Next")
    item = first
    while item is not None:
        item.Parent = outlines
        item = item.get("/Next")
    title.Next, first.Prev = first, title
    if after is not None:
        last.Next, after.Prev = after, last
    else:
        outlines.Last = last
    for key in ("/First", "/Last", "/Count"):
        del title[key]
    # /Count: how many items a viewer shows at first, the top level and what is open below it
    shown, item = 0, outlines.First
    while item is not None:
        shown += 1 + max(0, int(item.get("/Count", 0)))
        item = item.get("/Next")
    outlines.Count = shown


def document_like(pikepdf: Any, first: Any) -> Any:
    """An empty PDF with the title, language and viewer preferences of ``first``."""
    joined = pikepdf.new()
    for key in ("/Lang", "/ViewerPreferences", "/MarkInfo"):
        if key in first.Root:
            joined.Root[key] = copied(pikepdf, joined, first, first.Root[key])
    if first.trailer.get("/Info") is not None:
        joined.trailer.Info = copied(pikepdf, joined, first, first.trailer.Info)
    return joined


def copied(pikepdf: Any, document: Any, source: Any, value: Any) -> Any:
    """``value`` from the PDF ``source``, made part of ``document``: dictionaries and arrays are
    copied over (qpdf copies only indirect objects, so a direct one is made indirect first)."""
    if isinstance(value, (pikepdf.Dictionary, pikepdf.Array)):
        return document.copy_foreign(value if value.is_indirect else source.make_indirect(value))
    return value


def _text_width(text: str, size: float) -> float:
    digit = 556  # every Helvetica digit is 556 units wide
    return sum(_HELVETICA_WIDTHS.get(char, digit) for char in text) * size / 1000


def stamp_page_numbers(pikepdf: Any, document: Any) -> None:
    """Write "Page N of M" at the bottom right of every page of the joined document.

    The page's own content streams are left as they are (not parsed); two small streams go around
    them, ``q`` before and ``Q`` plus the number after, so whatever graphics state the page leaves
    does not move the number.
    """
    font = document.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    save_state = document.make_stream(b"q\n")
    total = len(document.pages)
    for number, page in enumerate(document.pages, start=1):
        text = f"Page {number} of {total}"
        box = page.mediabox
        x = float(box[2]) - PAGE_NUMBER_RIGHT - _text_width(text, PAGE_NUMBER_SIZE)
        y = float(box[1]) + PAGE_NUMBER_BASELINE
        page.add_resource(font, pikepdf.Name.Font, pikepdf.Name("/PmsyncPageNumber"))
        stamp = (
            f"\nQ\nq {PAGE_NUMBER_RGB} rg BT /PmsyncPageNumber {PAGE_NUMBER_SIZE} Tf "
            f"{x:.2f} {y:.2f} Td ({text}) Tj ET Q\n"
        ).encode("ascii")
        page.contents_add(save_state, prepend=True)
        page.contents_add(document.make_stream(stamp), prepend=False)


if __name__ == "__main__":
    main()
