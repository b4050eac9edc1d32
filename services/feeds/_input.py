"""Reading a feed input safely: bytes, a path or a binary stream, under a size cap.

Every parser goes through here, so a file on disk, a fetched response (a temporary file) and a
body in memory are read the same way and fail with the same FeedError subclasses.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from .errors import MalformedFeed, TooLarge, UnsafeFeed, WrongEncoding, WrongKind

Source = bytes | bytearray | memoryview | str | os.PathLike | BinaryIO

DEFAULT_MAX_XML_BYTES = 512 * 1024 * 1024  # a publisher's whole IATI file can be hundreds of MB
DEFAULT_MAX_JSON_BYTES = 64 * 1024 * 1024  # one page of a search API
HEAD_BYTES = 64 * 1024  # how far the prolog is searched for a DOCTYPE

_DTD_MARKERS = tuple(
    marker.encode(enc)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for enc in ("ascii", "utf-16-le", "utf-16-be")
)


class LimitedReader(io.RawIOBase):
    """A read-only stream that raises TooLarge once more than `limit` bytes were read."""

    def __init__(self, raw: BinaryIO, limit: int, what: str = "the file"):
        self._raw = raw
        self._limit = limit
        self._what = what
        self.count = 0
        self.lines = 1

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        self.count += n
        self.lines += data.count(b"\n")
        if self.count > self._limit:
            raise TooLarge(f"{self._what} is larger than the limit of {_size(self._limit)}")
        buffer[:n] = data
        return n


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


@contextmanager
def open_source(source: Source, max_bytes: int) -> Iterator[BinaryIO]:
    """Yield a buffered binary stream over `source` that refuses to read past max_bytes.

    A str or PathLike is a path (text bodies must be given as bytes); a zip archive holding
    one file (Grants.gov's daily extract) is opened and that member read instead, with the cap
    applying to its uncompressed size.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if len(data) > max_bytes:
            raise TooLarge(f"the body is larger than the limit of {_size(max_bytes)}")
        raw: BinaryIO = io.BytesIO(data)
        owned = False
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise MalformedFeed(f"cannot read {path}: {exc.strerror}") from exc
        if size > max_bytes:
            raise TooLarge(
                f"{path.name} is {_size(size)}, larger than the limit of {_size(max_bytes)}"
            )
        raw = path.open("rb")
        owned = True
    else:
        raw = source
        owned = False
    try:
        with _unzipped(raw, max_bytes) as inner:
            yield io.BufferedReader(LimitedReader(inner, max_bytes), buffer_size=256 * 1024)
    finally:
        if owned:
            raw.close()


@contextmanager
def _unzipped(raw: BinaryIO, max_bytes: int) -> Iterator[BinaryIO]:
    start = raw.tell() if raw.seekable() else None
    magic = raw.read(4)
    if start is not None:
        raw.seek(start)
    else:
        raw = _Prefixed(magic, raw)
    if magic != b"PK\x03\x04":
        yield raw
        return
    if start is None:
        raise WrongKind("a zip archive can only be read from a file, not a stream")
    try:
        archive = zipfile.ZipFile(raw)
    except zipfile.BadZipFile as exc:
        raise MalformedFeed(f"the zip archive is damaged: {exc}") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) != 1:
            raise WrongKind(f"the zip archive holds {len(members)} files; a feed extract holds one")
        try:
            with archive.open(members[0]) as member:
                yield LimitedReader(member, max_bytes, f"{members[0].filename} unpacked")
        except zipfile.BadZipFile as exc:
            raise MalformedFeed(f"the zip archive is damaged: {exc}") from exc


class _Prefixed(io.RawIOBase):
    """A stream that first returns bytes already read from another stream, then the rest."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def first_byte(stream: io.BufferedReader) -> bytes:
    """Return the first byte that is not whitespace or a byte-order mark, without consuming it."""
    head = stream.peek(HEAD_BYTES)[:HEAD_BYTES]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            head = head[len(bom) :].replace(b"\x00", b"")
            break
    stripped = head.lstrip()
    return stripped[:1]


def require_content(stream: io.BufferedReader, what: str) -> bytes:
    """Return the first meaningful byte; MalformedFeed when the input is empty or blank."""
    first = first_byte(stream)
    if not first:
        raise MalformedFeed(f"{what} is empty")
    return first


def describe_start(stream: io.BufferedReader) -> str:
    """Return a short phrase naming what the input looks like, for WrongKind messages."""
    first = first_byte(stream)
    if not first:
        return "an empty file"
    if first in (b"{", b"["):
        return "JSON"
    if first == b"<":
        head = stream.peek(HEAD_BYTES)[:512].lower()
        return "HTML" if b"<html" in head or b"<!doctype html" in head else "XML"
    return f"text starting with {first!r}"


def check_prolog(stream: io.BufferedReader) -> None:
    """Refuse XML whose start declares a DTD or entities (XXE, billion laughs)."""
    head = stream.peek(HEAD_BYTES)[:HEAD_BYTES]
    if any(marker in head for marker in _DTD_MARKERS):
        raise UnsafeFeed(
            "the XML declares a DTD (<!DOCTYPE ...>); feed files never need one, and its "
            "entities could expand without bound or read local files, so it is refused"
        )


def iterparse(
    stream: io.BufferedReader, tags: tuple[str, ...], source: Source | None = None
) -> etree.iterparse:
    """Return lxml's iterparse over `stream` with entity expansion and network access off.

    When `source` is the path of a plain (not zipped) file, libxml2 reads the file itself,
    which is faster than reading through Python; its size was checked when it was opened.
    """
    check_prolog(stream)
    target: object = stream
    if isinstance(source, str | os.PathLike) and stream.peek(4)[:4] == _file_head(source):
        target = os.fspath(source)
    return etree.iterparse(
        target,
        events=("end",),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _file_head(path: str | os.PathLike) -> bytes | None:
    with open(path, "rb") as f:
        head = f.read(4)
    return None if head == b"PK\x03\x04" else head


def check_no_doctype(tree: etree._ElementTree) -> None:
    """Refuse a document whose DOCTYPE the prolog search missed (behind a long comment)."""
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None:
        raise UnsafeFeed(
            "the XML declares a DTD (<!DOCTYPE ...>); feed files never need one, and its "
            "entities could expand without bound or read local files, so it is refused"
        )


def _ends_at(line: int, stream: io.BufferedReader, source: Source | None) -> bool:
    """Return whether an error on `line` is at the very end of the input (a cut-off file)."""
    if isinstance(source, str | os.PathLike) and _file_head(source) is not None:
        with open(source, "rb") as f:
            total = 1 + sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        return line >= total
    try:
        if stream.read(1):
            return False
    except (OSError, ValueError):
        return False
    reader = stream.raw
    return isinstance(reader, LimitedReader) and line >= reader.lines


def xml_error(
    exc: etree.XMLSyntaxError,
    what: str,
    stream: io.BufferedReader | None = None,
    source: Source | None = None,
) -> Exception:
    """Turn libxml2's error into the FeedError a person can act on."""
    last = exc.error_log.last_error if exc.error_log else None
    message = (last.message if last is not None else exc.msg) or str(exc)
    line = last.line if last is not None else exc.lineno
    message = message.strip()
    lowered = message.lower()
    if "amplification" in lowered or "entity" in lowered and "loop" in lowered:
        return UnsafeFeed(f"{what}: the XML expands entities beyond safe limits ({message})")
    if "not defined" in lowered and "entity" in lowered:
        return MalformedFeed(
            f"{what}: the XML uses an entity it does not define, line {line} ({message})"
        )
    if "encoding" in lowered or "utf-8" in lowered or "bytes:" in lowered:
        return WrongEncoding(
            f"{what}: the bytes at line {line} are not in the encoding the file declares "
            f"(UTF-8 when it declares none): {message}"
        )
    if (
        "premature end" in lowered
        or "end of data" in lowered
        or "not finished" in lowered
        or (stream is not None and _ends_at(line, stream, source))
    ):
        return MalformedFeed(
            f"{what}: the XML ends before it is complete (truncated?) at line {line}: {message}"
        )
    if "no element found" in lowered or "document is empty" in lowered:
        return MalformedFeed(f"{what}: the file holds no XML element")
    return MalformedFeed(f"{what}: not well-formed XML at line {line}: {message}")


def load_json(stream: io.BufferedReader, what: str, max_bytes: int | None = None) -> object:
    """Read and decode a whole JSON document, refusing more than max_bytes (if given)."""
    first = require_content(stream, what)
    if first not in (b"{", b"["):
        raise WrongKind(f"{what} must be JSON, but this is {describe_start(stream)}")
    data = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(f"{what} is larger than the limit of {_size(max_bytes)}")
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise WrongEncoding(
            f"{what}: the JSON is not valid UTF-8 (byte {data[exc.start]:#04x} at offset "
            f"{exc.start})"
        ) from exc
    except json.JSONDecodeError as exc:
        if exc.pos >= len(exc.doc.rstrip()) - 1 or "Unterminated" in exc.msg:
            raise MalformedFeed(
                f"{what}: the JSON ends before it is complete (truncated?): {exc.msg} "
                f"at line {exc.lineno}"
            ) from exc
        raise MalformedFeed(
            f"{what}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc


def to_int(value: object) -> int | None:
    """The value as an int, or None when it is not one (sources send counts as text too)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def describe_keys(doc: object) -> str:
    """Return what a decoded JSON document is, for WrongKind messages."""
    if isinstance(doc, dict):
        keys = ", ".join(sorted(map(str, doc))[:8])
        return f"it is a JSON object with keys {keys or '(none)'}"
    if isinstance(doc, list):
        return f"it is a JSON array of {len(doc)} items"
    return f"it is a JSON {type(doc).__name__}"
