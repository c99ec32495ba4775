"""The tagged structure of a PDF joined from chunks: one structure tree for the whole document.

A tagged PDF carries, beside its pages, a structure tree (headings, paragraphs, tables, their cells)
that screen readers read instead of the page content. Each chunk printed on its own has its own
tree, and a join of pages alone loses them all (the joined PDF was untagged). :class:`StructureJoin`
joins the trees as the pages are joined:

- each chunk's tree is copied into the joined document after its pages (qpdf maps the elements'
  ``/Pg`` page references onto the pages already copied), and its top element (``Document``) becomes
  a ``Div`` under one ``Document`` for the whole file;
- the parent tree (the number tree from each page's ``/StructParents`` and each annotation's
  ``/StructParent`` to the elements that own its content) is joined with each chunk's keys moved on
  past the keys of the chunks before it, and the pages' and annotations' keys moved with them;
- element names (``/ID``, the ID tree, and the ``/Headers`` of table cells that name their header
  cells) are renumbered across the whole document, so that no two chunks share a name.

Renumbering works on the printed bytes where it can (:func:`renumber_element_names`): Chromium names
its elements ``nodeNNNNNNNN`` in plain (uncompressed) objects, and a same-length rename there keeps
every byte offset valid and costs a regular expression, where walking ~15,000 elements of a
20-project chunk in Python took 0.35 s. Anything else goes through the walk
(:func:`renumber_element_ids`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

#: an element name as Chromium writes it: a literal string ``(node00000031)`` (its DOM node id). A
#: literal prefix (no look-behind) lets the engine scan for it at memchr speed.
_ELEMENT_NAME = re.compile(rb"\(node(\d{8})\)")
#: names are kept at eight digits, so that a rename never changes a byte offset
_LAST_NAME_NUMBER = 99_999_999


def renumber_element_names(data: bytes, first: int) -> tuple[bytes, int] | None:
    """``data`` (a PDF as Chromium prints it) with its element names renumbered ``first + 1``,
    ``first + 2``, ... in the order of their old names; and how many names there were. ``None`` when
    the names cannot be renamed in the bytes (compressed object streams, too many names): the caller
    then walks the tree (:func:`renumber_element_ids`).

    The old names are DOM node ids, a counter of the browser process that moves with whatever it
    printed before, so without the rename the same report printed twice differed (seen in CI).
    Skia escapes parentheses inside literal strings, so a report text such as "(node00000001)"
    is written ``\\(node00000001\\)``, which the pattern does not match (the backslash stands
    before the closing parenthesis); an alternative text that is exactly a node name would be
    renamed with it (harmless: it is a name, not a figure)."""
    if b"/ObjStm" in data:  # names inside compressed object streams would be missed
        return None
    names = sorted(set(_ELEMENT_NAME.findall(data)))
    if not names:
        return data, 0
    if first + len(names) > _LAST_NAME_NUMBER:
        return None
    renamed = {old: b"(node%08d)" % number for number, old in enumerate(names, start=first + 1)}
    return _ELEMENT_NAME.sub(lambda match: renamed[match[1]], data), len(names)


def renumber_element_ids(pikepdf: Any, document: Any, first: int = 0) -> int:
    """Name the tagged elements of ``document`` ``node{first + 1:08d}``, ... in the order of their
    names, by walking its structure tree; returns how many were named. The names are referenced
    from the ID tree and from table cells' ``/Headers``; both are rewritten."""
    root = document.Root.get("/StructTreeRoot")
    if root is None or "/IDTree" not in root:
        return 0
    elements = dict(pikepdf.NameTree(root.IDTree).items())
    old_names = sorted(elements, key=lambda name: (len(name), name))
    renamed = {old: f"node{number:08d}" for number, old in enumerate(old_names, start=first + 1)}
    tree = pikepdf.NameTree.new(document)
    for old in old_names:
        element = elements[old]
        element.ID = pikepdf.String(renamed[old])
        tree[renamed[old]] = element
    root.IDTree = tree.obj
    for element in structure_elements(pikepdf, root):
        attributes = element.get("/A")
        for owner in attributes if isinstance(attributes, pikepdf.Array) else [attributes]:
            if isinstance(owner, pikepdf.Dictionary) and isinstance(owner.get("/Headers"), pikepdf.Array):
                owner.Headers = pikepdf.Array(
                    [pikepdf.String(renamed.get(str(name), str(name))) for name in owner.Headers]
                )
    return len(old_names)


def structure_elements(pikepdf: Any, root: Any) -> Iterator[Any]:
    """Every structure element under ``root`` (the StructTreeRoot), each once."""
    seen: set[tuple[int, int]] = set()
    pending = [root.get("/K")]
    while pending:
        node = pending.pop()
        if isinstance(node, pikepdf.Array):
            pending.extend(node)
        elif (
            isinstance(node, pikepdf.Dictionary)
            and node.get("/Type", pikepdf.Name.StructElem) == "/StructElem"
        ):
            if node.is_indirect:
                if node.objgen in seen:
                    continue
                seen.add(node.objgen)
            if "/S" in node:  # marked-content and object references (/MCR, /OBJR) have no /S
                yield node
                pending.append(node.get("/K"))


class StructureJoin:
    """The structure tree of ``joined``, made from the trees of the documents whose pages are
    appended to it; :meth:`add` after each document's pages, :meth:`finish` once at the end.

    When a document has no structure tree (it was printed untagged) the join cannot be tagged as a
    whole: :attr:`tagged` turns false and :meth:`finish` leaves the document untagged."""

    def __init__(self, pikepdf: Any, joined: Any) -> None:
        self._pikepdf = pikepdf
        self._joined = joined
        self._document = joined.make_indirect(
            pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Document, K=pikepdf.Array())
        )
        self._nums: list[Any] = []  # the joined parent tree, flat: key, value, key, value, ...
        self._next_key = 0
        self._id_trees: list[Any] = []
        self._role_map: dict[str, Any] = {}
        self._class_map: dict[str, Any] = {}
        self.tagged = True

    def add(self, source: Any, first_page: int) -> None:
        """Join the tree of ``source``, whose pages are ``joined.pages[first_page:]``."""
        pikepdf = self._pikepdf
        root = source.Root.get("/StructTreeRoot")
        if root is None:
            self.tagged = False
        if not self.tagged:
            return
        # After the pages: qpdf copies each object of a source once, so the elements' /Pg lead to
        # the pages already copied, not to new copies of them.
        copied = self._joined.copy_foreign(root)
        offset = self._next_key
        for page in self._joined.pages[first_page:]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annotation in page.obj.get("/Annots", ()):
                if isinstance(annotation, pikepdf.Dictionary) and "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + offset
        last = -1
        if "/ParentTree" in copied:
            for key, value in pikepdf.NumberTree(copied.ParentTree).items():
                self._nums.extend((key + offset, value))
                last = max(last, key)
        self._next_key = offset + max(int(copied.get("/ParentTreeNextKey", 0)), last + 1)
        kids = copied.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if not isinstance(kid, pikepdf.Dictionary):
                continue
            if kid.get("/S") == "/Document":  # one Document per file: a chunk's becomes a division
                kid.S = pikepdf.Name.Div
            kid.P = self._document
            self._document.K.append(kid)
        ids = copied.get("/IDTree")
        if ids is not None and (len(ids.get("/Names", ())) or len(ids.get("/Kids", ()))):
            self._id_trees.append(ids)
        for key, mapping in (("/RoleMap", self._role_map), ("/ClassMap", self._class_map)):
            for name, value in copied.get(key, {}).items():
                mapping.setdefault(name, value)

    def finish(self) -> None:
        """Give ``joined`` the joined tree, and mark it tagged; nothing when a document had none."""
        if not self.tagged:
            return
        pikepdf = self._pikepdf
        root = self._joined.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.StructTreeRoot,
                K=pikepdf.Array([self._document]),
                ParentTree=self._joined.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(self._nums))),
                ParentTreeNextKey=self._next_key,
            )
        )
        self._document.P = root
        if self._id_trees:
            root.IDTree = self._joined.make_indirect(
                pikepdf.Dictionary(Kids=pikepdf.Array([self._limited(tree) for tree in self._id_trees]))
            )
        if self._role_map:
            root.RoleMap = pikepdf.Dictionary(self._role_map)
        if self._class_map:
            root.ClassMap = pikepdf.Dictionary(self._class_map)
        self._joined.Root.StructTreeRoot = root
        self._joined.Root.MarkInfo = pikepdf.Dictionary(Marked=True)

    def _limited(self, tree: Any) -> Any:
        """A chunk's ID tree as an intermediate node of the joined one, which needs its /Limits (the
        chunks' names are numbered in chunk order, so the kids are in name order)."""
        pikepdf = self._pikepdf
        if "/Limits" not in tree:
            if "/Names" in tree:
                names = tree.Names
                low, high = names[0], names[len(names) - 2]
            else:
                low, high = tree.Kids[0].Limits[0], tree.Kids[len(tree.Kids) - 1].Limits[1]
            tree.Limits = pikepdf.Array([low, high])
        return tree if tree.is_indirect else self._joined.make_indirect(tree)
