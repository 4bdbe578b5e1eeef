"""Hardened streaming XML: no DTD loading, no entity expansion, no network, errors with places.

A DOCTYPE that only names an external DTD (Cobertura and JaCoCo write one) is tolerated: the DTD is
never loaded or fetched. A DOCTYPE with an internal subset (where ENTITY declarations live: billion
laughs, XXE to a file or a URL) is refused before the parser sees it, and again from the parsed
document's info, so nothing is ever expanded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
    rb"""|PUBLIC\s+(?:"[^"]*"|'[^']*')\s+(?:"[^"]*"|'[^']*')))?\s*>"""
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


def check_prolog(path: Path, head: bytes) -> None:
    """Refuse DTD internal subsets and entity declarations in the prolog (before the root)."""
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


def check_parsed(path: Path, context: Any) -> None:
    """After parsing: refuse a document whose info shows an internal DTD subset."""
    root = getattr(context, "root", None)
    dtd = root.getroottree().docinfo.internalDTD if root is not None else None
    if dtd is not None and (
        any(True for _ in dtd.iterentities()) or any(True for _ in dtd.iterelements())
    ):
        raise ReportError(path, "a DOCTYPE with an internal subset is refused")


def syntax_error(path: Path, error: etree.XMLSyntaxError) -> ReportError:
    """An lxml syntax error as a ReportError naming the file, line and column."""
    line, column = error.position if error.position else (None, None)
    message = str(error.msg or error).split(", line ")[0].strip()
    return ReportError(path, f"invalid XML: {message}", line=line or None, column=column or None)


def open_events(path: Path, tags: tuple[str, ...]) -> Any:
    """An iterparse context yielding ("end", element) for `tags`, with every hardening option."""
    return etree.iterparse(str(path), events=("end",), tag=tags, **_SAFE_OPTIONS)


@contextmanager
def xml_errors(path: Path) -> Iterator[None]:
    """Turn parser errors raised inside the block into ReportErrors naming the place."""
    try:
        yield
    except etree.XMLSyntaxError as error:
        raise syntax_error(path, error) from None
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
