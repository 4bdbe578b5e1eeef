"""Hardened streaming XML: no DTD loading, no entity expansion, no network, errors with places.

A DOCTYPE that only names an external DTD (Cobertura and JaCoCo write one), or has an empty internal
subset (``[]``, Pester's JaCoCo: nothing can be declared in it), is tolerated: the DTD is never
loaded or fetched. Whitespace before the XML declaration (a blank first line) is skipped.
A DOCTYPE with a non-empty internal subset (where ENTITY declarations live: billion
laughs, XXE to a file or a URL) is refused before the parser sees it; and when the parser meets a
DOCTYPE, the prolog is checked again and any DOCTYPE that check did not vet stops the parse before
its internal subset is read, so nothing is ever declared or expanded.

Parsers are lxml parser targets (SAX-style callbacks, no tree): `StreamTarget` keeps the depth,
takes end events through a C-level ``list.append`` and tells the subclass when a watched element
closes, so Python runs only where a format needs it. A reference to an undeclared entity (possible
only under an external DTD, which is never loaded) is dropped and the text around it kept.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from lxml import etree

from gatekeeper.errors import ReportError

PROLOG_LIMIT = 1024 * 1024
"""The XML prolog (declaration, comments, DOCTYPE before the root) may be at most this long."""

_SAFE_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": True,  # long text nodes (captured output) are legitimate; size is capped per file
    "remove_comments": True,
    "remove_pis": True,
}

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_SAFE_DOCTYPE = re.compile(
    rb"""<!DOCTYPE\s+[\w:.-]+(?:\s+(?:SYSTEM\s+(?:"[^"]*"|'[^']*')"""
    rb"""|PUBLIC\s+(?:"[^"]*"|'[^']*')\s+(?:"[^"]*"|'[^']*')))?\s*(?:\[\s*\]\s*)?>"""
)
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_COMMENTS_AND_PIS = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.DOTALL)


def _decoded_head(head: bytes) -> bytes:
    """The head as ASCII-compatible bytes (UTF-16/32 with a BOM are transcoded)."""
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="replace").encode("utf-8", "replace")
    return head


def check_prolog(path: Path, head: bytes) -> bool:
    """Refuse DTD internal subsets and entity declarations in the prolog (before the root).

    True when the prolog holds a DOCTYPE, and that DOCTYPE only names an external DTD.
    """
    decoded = _decoded_head(head)
    text = _COMMENTS_AND_PIS.sub(b"", decoded)
    root = _ROOT_START.search(text)
    prolog = text[: root.start()] if root else text
    if b"<!--" in prolog or b"<?" in prolog:
        raise ReportError(path, "an unterminated comment or instruction before the root element")
    if root is None and len(head) >= PROLOG_LIMIT:
        raise ReportError(path, f"no root element in the first {PROLOG_LIMIT} bytes")
    if b"<!ENTITY" in prolog.upper():
        raise ReportError(
            path, "XML entity declarations are refused (possible billion-laughs or XXE attack)"
        )
    found = _DOCTYPE.search(prolog)
    if found is not None and not _SAFE_DOCTYPE.match(prolog, found.start()):
        original = _DOCTYPE.search(decoded)
        line = decoded.count(b"\n", 0, original.start()) + 1 if original else None
        raise ReportError(
            path,
            "a DOCTYPE with an internal subset is refused (DTDs are never processed)",
            line=line,
        )
    return found is not None


_SENTENCES = {
    "ERR_CDATA_NOT_FINISHED": "a CDATA section never ends (no ']]>'): the file is truncated",
    "ERR_DOCUMENT_EMPTY": "no XML element at all",
    "ERR_DOCUMENT_END": "more content after the root element ended",
}
_ERROR_NAMES = {
    code: name for name, code in vars(etree.ErrorTypes).items() if name.startswith("ERR_")
}


def syntax_error(path: Path, error: etree.XMLSyntaxError) -> ReportError:
    """An lxml syntax error as a ReportError naming the file, line and column.

    libxml2's own wording is kept where it is a sentence; where it has none ("Unregistered error
    message") or would quote the file's text (an unfinished CDATA section), ours is used.
    """
    # lxml-stubs type position as always set; a libxml2 error without a place leaves it empty
    line, column = error.position if error.position else (None, None)  # type: ignore[redundant-expr]
    name = _ERROR_NAMES.get(getattr(error, "code", 0), "")  # lxml-stubs lack `code`
    message = str(error.msg or error).split(", line ")[0].split("\n")[0].strip()
    if name in _SENTENCES:
        message = _SENTENCES[name]
    elif not message or message.startswith("Unregistered error"):
        message = name.removeprefix("ERR_").replace("_", " ").lower() or "a syntax error"
    return ReportError(path, f"invalid XML: {message}", line=line or None, column=column or None)


_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.-]+)""")


def _undecodable(path: Path) -> ReportError:
    """Where the first byte that is not UTF-8 is, for libxml2's placeless encoding error."""
    with path.open("rb") as handle:
        head = handle.read(4096)
        declared = _DECLARED_ENCODING.match(head)
        if declared is not None and declared.group(1).lower() not in (b"utf-8", b"utf8"):
            encoding = declared.group(1).decode("ascii")
            return ReportError(path, f"invalid XML: bytes that are not valid {encoding}")
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        line, column = 1, 1
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                chunk = chunk[: error.start]
                bad = True
            else:
                bad = False
            newline = chunk.rfind(b"\n")
            line += chunk.count(b"\n")
            column = len(chunk) - newline if newline >= 0 else column + len(chunk)
            if bad:
                return ReportError(
                    path,
                    "invalid XML: a byte that is not UTF-8 (the file declares no other encoding)",
                    line=line,
                    column=column,
                )
    return ReportError(path, "invalid XML: bytes that are not valid in the file's encoding")


@contextmanager
def xml_errors(path: Path) -> Iterator[None]:
    """Turn parser errors raised inside the block into ReportErrors naming the place."""
    try:
        yield
    except etree.XMLSyntaxError as error:
        raise syntax_error(path, error) from None
    except OSError as error:  # libxml2 reports bad encodings of a file it reads as OSError
        if "encoding" in str(error):
            raise _undecodable(path) from None
        raise ReportError(path, f"cannot read the file: {error.strerror or error}") from None
    except (UnicodeError, LookupError) as error:
        raise ReportError(path, f"cannot decode the text: {error}") from None
    except (ValueError, OverflowError) as error:
        raise ReportError(path, f"invalid value: {error}") from None


def drop_previous(element: Any) -> None:
    """Free what the parser already built before `element`, at every level up to the root.

    Everything before `element` in document order has been seen (iterparse yields at end tags),
    so earlier siblings of it and of its ancestors can go: memory stays bounded by the depth
    and the batch size, not the file size.
    """
    node = element
    parent = node.getparent()
    while parent is not None:
        position = parent.index(node)
        if position:
            del parent[:position]
        node = parent
        parent = node.getparent()


def _read_prolog(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(PROLOG_LIMIT)
    except OSError as error:
        raise ReportError(path, f"cannot read the file: {error.strerror or error}") from None


class StreamTarget:
    """Base of the parser targets: the depth, end events through C, callbacks on watched closes.

    A subclass's ``start(tag, attrib)`` begins with the same few lines (inlined for speed)::

        ends = self._ends
        depth = self._depth
        if ends:
            depth -= len(ends)
            ends.clear()
            if depth < self._watch:
                self.closed(depth)
        depth += 1
        self._depth = depth

    End events are only counted, at the next start or at `finish`; an element whose close
    matters is registered with `watch`, and its callback runs when the depth falls below it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ends: list[str] = []
        self.end: Callable[[str], None] = self._ends.append
        self._depth = 0
        self._watched: list[tuple[int, Callable[[], None]]] = []
        self._watch = 0  # depth of the innermost watched open element; 0 when none

    def doctype(self, name: str | None, pubid: str | None, system: str | None) -> None:
        """Stop before any internal subset unless the prolog check vetted this DOCTYPE."""
        if not check_prolog(self.path, _read_prolog(self.path)):
            raise ReportError(self.path, "a DOCTYPE the prolog check could not read is refused")

    def watch(self, depth: int, on_close: Callable[[], None]) -> None:
        """Call `on_close` when the element just opened at `depth` closes."""
        self._watched.append((depth, on_close))
        self._watch = depth

    def closed(self, depth: int) -> None:
        """Every element deeper than `depth` has closed: run the callbacks of the watched ones."""
        watched = self._watched
        while watched and watched[-1][0] > depth:
            watched.pop()[1]()
        self._watch = watched[-1][0] if watched else 0

    def finish(self) -> None:
        """The document has ended: every element is closed."""
        self._ends.clear()
        self._depth = 0
        self.closed(0)


def _leading_space(path: Path) -> int:
    """How many whitespace bytes precede the first markup (libxml2 refuses them before a
    declaration); 0 when the file starts with a BOM or markup."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as error:
        raise ReportError(path, f"cannot read the file: {error.strerror or error}") from None
    return len(head) - len(head.lstrip(b" \t\r\n"))


def parse_target(path: Path, target: StreamTarget) -> Any:
    """Run the hardened parser over `path` with `target`; the result of ``target.close()``."""
    # The stub's ParserTarget demands every callback; lxml calls only those a target has.
    # "internal": a target gets raw attribute values otherwise ("&" as "&#38;"); internal
    # entities can only be declared in an internal subset, which is refused before this point.
    options = {**_SAFE_OPTIONS, "resolve_entities": "internal"}
    parser = etree.XMLParser(target=cast(Any, target), **options)
    skip = _leading_space(path)
    with xml_errors(path):
        if not skip:
            return etree.parse(str(path), parser)
        with path.open("rb") as handle:
            handle.seek(skip)
            return etree.parse(handle, parser)


def locate(path: Path, tag: str, name: str, value: str | None) -> int | None:
    """The line of the first <tag> whose attribute `name` is `value` (None: absent).

    A second pass, taken only to name the place of an error the parser target found.
    """
    try:
        events = etree.iterparse(str(path), events=("end",), tag=(tag,), **_SAFE_OPTIONS)
        for _, element in events:
            if element.get(name) == value:
                return cast(int | None, element.sourceline)
            drop_previous(element)
            element.clear()
    except (etree.XMLSyntaxError, OSError):
        pass
    return None
