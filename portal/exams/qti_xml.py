"""QTI XML read as hostile input: defusedxml with no DTD at all (so no entity expansion and no
external entity), a size and a depth limit, and every element carrying its line number.

QTI 3.0's `qti-` prefixed kebab-case names (`qti-choice-interaction`, `response-identifier`) are
turned into QTI 2.1's camelCase (`choiceInteraction`, `responseIdentifier`) and namespaces are
dropped, so one importer reads both versions.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from portal.errors import InputError
from portal.i18n import _, format_number, ngettext

MAX_XML_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 128
_KEBAB = re.compile(r"-([a-z0-9])")
_unpacked: ContextVar[tuple[Path, Path] | None] = ContextVar("unpacked", default=None)


class QtiError(InputError):
    """A QTI file that cannot be read; the message names the file, the line and the problem."""


@contextmanager
def unpacked_from(archive: Path, folder: Path) -> Iterator[None]:
    """While a zip is read from the temporary folder it was unpacked to, messages name the zip
    and the entry, never a folder the user has not seen."""
    token = _unpacked.set((archive, folder.resolve()))
    try:
        yield
    finally:
        _unpacked.reset(token)


def shown(path: Path) -> str:
    """`path` as a message names it: an entry of the zip being read as "entry in zip"."""
    unpacked = _unpacked.get()
    if unpacked is None:
        return str(path)
    archive, folder = unpacked
    try:
        entry = path.resolve().relative_to(folder)
    except ValueError:
        return str(path)
    if entry == Path():
        return str(archive)
    return _("{entry} in {archive}").format(entry=entry.as_posix(), archive=archive)


class Node(ET.Element):
    """An element that remembers the line it started on."""

    line: int = 0


class _Builder(ET.TreeBuilder):
    """Builds Nodes with their line numbers, with QTI 3.0 names made QTI 2.1 names."""

    def __init__(self, path: Path) -> None:
        super().__init__(element_factory=self._make)
        self.path = path
        self.parser: DefusedXMLParser | None = None
        self.depth = 0

    def _make(self, tag: str, attrs: dict[str, str]) -> Node:
        node = Node(local_name(tag), {local_name(k): v for k, v in attrs.items()})
        node.line = self.parser.parser.CurrentLineNumber if self.parser else 0
        return node

    def start(self, tag: Any, attrs: Any) -> ET.Element:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            line = self.parser.parser.CurrentLineNumber if self.parser else 0
            raise QtiError(
                ngettext(
                    "{path}, line {line}: elements are nested more than {n} level deep.",
                    "{path}, line {line}: elements are nested more than {n} levels deep.",
                    MAX_DEPTH,
                ).format(path=shown(self.path), line=line, n=MAX_DEPTH)
            )
        return super().start(tag, attrs)

    def end(self, tag: Any) -> ET.Element:
        self.depth -= 1
        return super().end(tag)


def local_name(name: str) -> str:
    """`{namespace}qti-choice-interaction` → `choiceInteraction`; `xml:lang` keeps its meaning."""
    if name == "{http://www.w3.org/XML/1998/namespace}lang":
        return "lang"
    name = name.rsplit("}", 1)[-1].split(":")[-1]
    if name.startswith("qti-"):
        name = name[4:]
    return _KEBAB.sub(lambda m: m.group(1).upper(), name)


def parse_xml(path: Path) -> Node:
    """The root element of the XML file at `path`, or a QtiError saying why it is refused."""
    try:
        size = path.stat().st_size
        if size > MAX_XML_BYTES:
            raise QtiError(
                ngettext(
                    "{path} is refused: it is larger than {n} byte.",
                    "{path} is refused: it is larger than {n} bytes.",
                    MAX_XML_BYTES,
                ).format(path=shown(path), n=format_number(MAX_XML_BYTES))
            )
        data = path.read_bytes()
    except OSError as exc:
        raise QtiError(
            _("{path} cannot be read: {problem}").format(
                path=shown(path), problem=exc.strerror or exc
            )
        ) from exc
    builder = _Builder(path)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as exc:
        raise QtiError(
            _(
                "{path} is refused: it declares a document type (DTD) or entities, which QTI does "
                "not need and which can expand without end or read other files."
            ).format(path=shown(path))
        ) from exc
    except ET.ParseError as exc:
        line, _column = exc.position
        raise QtiError(
            _("{path}, line {line}: not well-formed XML ({problem}).").format(
                path=shown(path), line=line, problem=str(exc).split(":")[0]
            )
        ) from exc
    assert isinstance(root, Node)
    return root


def text_of(node: ET.Element, *, replace: dict[ET.Element, str] | None = None) -> str:
    """The readable text under `node`, paragraphs on their own lines; an element in `replace`
    stands as the text given (its tail kept), feedback is left out."""
    parts: list[str] = []
    _collect(node, replace or {}, parts)
    text = "".join(parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


BLOCKS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
     "blockquote", "pre", "prompt", "dl", "dt", "dd"}
)  # fmt: skip
FEEDBACK = frozenset({"feedbackInline", "feedbackBlock", "modalFeedback", "rubricBlock"})


def _collect(node: ET.Element, replace: dict[ET.Element, str], parts: list[str]) -> None:
    if node.tag in BLOCKS:
        parts.append("\n")
    if node.text:
        parts.append(node.text)
    for child in node:
        if child in replace:
            parts.append(replace[child])
        elif child.tag not in FEEDBACK:
            _collect(child, replace, parts)
        if child.tail:
            parts.append(child.tail)
    if node.tag in BLOCKS:
        parts.append("\n")
