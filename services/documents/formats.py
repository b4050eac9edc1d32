"""What an uploaded file is, whether to take it, and its text.

A file's kind comes from its bytes (magic numbers and, for zips, the entries that make a DOCX
or an ODT), never from its name; a name whose extension says another kind is refused, so a
file is never shown as something it is not. Hostile input is bounded everywhere:

- PDF (pypdf): refused when encrypted, without its end-of-file marker (truncated), unreadable,
  or over DEFAULT_MAX_PAGES pages; extraction stops after `seconds` (checked between pages).
- DOCX and ODT are zips: refused over DEFAULT_ZIP_MAX_ENTRIES entries, over
  DEFAULT_ZIP_MAX_TOTAL bytes uncompressed, or with an entry that inflates more than
  DEFAULT_ZIP_MAX_RATIO times (a zip bomb); the XML is streamed through defusedxml with DTDs
  forbidden (no entities, no external references: XXE and "billion laughs" fail), and read
  through a counter that stops at the declared size.
- TXT: UTF-8 (or UTF-16 with its byte-order mark), else Windows-1252 when it has no NUL bytes.

Every refusal is a DocumentError whose message a person can act on.
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pypdf
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from pypdf.errors import PyPdfError

DEFAULT_MAX_PAGES = 2000
DEFAULT_EXTRACT_SECONDS = 120.0
DEFAULT_MAX_TEXT = 2_000_000  # characters of text kept per document
DEFAULT_ZIP_MAX_ENTRIES = 2000
DEFAULT_ZIP_MAX_TOTAL = 200 * 1024 * 1024  # bytes uncompressed, all entries together
DEFAULT_ZIP_MAX_RATIO = 100  # uncompressed / compressed, per entry (text XML is ~5 to 20)
DEFAULT_ZIP_RATIO_FLOOR = 1024 * 1024  # smaller entries may have any ratio
DEFAULT_EOF_WINDOW = 4096  # a PDF ends with %%EOF within its last bytes
DEFAULT_FILENAME_CHARS = 150
CHUNK = 1024 * 1024

PDF, DOCX, ODT, TXT = "pdf", "docx", "odt", "txt"
KINDS = (PDF, DOCX, ODT, TXT)
MEDIA_TYPES = {
    PDF: "application/pdf",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ODT: "application/vnd.oasis.opendocument.text",
    TXT: "text/plain; charset=utf-8",
}
KIND_OF_MEDIA = {media.split(";")[0]: kind for kind, media in MEDIA_TYPES.items()}
EXTENSIONS = {".pdf": PDF, ".docx": DOCX, ".odt": ODT, ".txt": TXT, ".text": TXT}
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
DOCX_BODY = "word/document.xml"
ODT_BODY = "content.xml"
# Other formats recognised by their first bytes, so they are named in the refusal.
OTHER_MAGIC = (
    (b"\xd0\xcf\x11\xe0", "an old Word (.doc) or other OLE file"),
    (b"MZ", "a program"),
    (b"\x7fELF", "a program"),
    (b"\x89PNG", "an image"),
    (b"\xff\xd8\xff", "an image"),
    (b"GIF8", "an image"),
    (b"{\\rtf", "an RTF file"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_W_SPACES = {f"{_W}tab", f"{_W}br", f"{_W}cr"}
_ODF_SPACES = {f"{_TEXT_NS}s", f"{_TEXT_NS}tab", f"{_TEXT_NS}line-break"}
_UNSAFE_NAME = re.compile(r"[^\w .()+,-]+")
_SPACES = re.compile(r"\s+")


class DocumentError(Exception):
    """A file refused, or text that could not be extracted; `code` names the reason."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Limits:
    """How far extraction may go with one file."""

    max_pages: int = DEFAULT_MAX_PAGES
    seconds: float = DEFAULT_EXTRACT_SECONDS
    max_text: int = DEFAULT_MAX_TEXT
    zip_max_entries: int = DEFAULT_ZIP_MAX_ENTRIES
    zip_max_total: int = DEFAULT_ZIP_MAX_TOTAL
    zip_max_ratio: int = DEFAULT_ZIP_MAX_RATIO


# -- names ------------------------------------------------------------------------------------


def safe_filename(name: str | None, kind: str | None = None) -> str:
    """A file name fit to store and to send back: its last path part, no control characters,
    no leading dots, only letters, digits and ` .()+,-_`, at most DEFAULT_FILENAME_CHARS."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    base = _SPACES.sub(" ", _UNSAFE_NAME.sub("_", base)).strip(" ._")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext[:10]
    stem = stem[: DEFAULT_FILENAME_CHARS - len(ext) - 1].rstrip(" ._")
    if not stem:
        stem = "document"
    if not ext and kind:
        ext = kind
    return f"{stem}.{ext}" if ext else stem


def claimed_kind(name: str | None) -> str | None:
    """The kind a file name's extension claims (None: no extension)."""
    suffix = Path(name or "").suffix.lower()
    if not suffix:
        return None
    if suffix not in EXTENSIONS:
        raise DocumentError(
            "unsupported_type",
            f"Files ending in {suffix} are not accepted: attach a PDF, DOCX, ODT or TXT file.",
        )
    return EXTENSIONS[suffix]


# -- what a file is ---------------------------------------------------------------------------


def sniff(path: Path) -> str:
    """The kind of the file at `path`, from its bytes; DocumentError when it is none of KINDS."""
    with open(path, "rb") as stream:
        head = stream.read(8192)
    if not head:
        raise DocumentError("empty", "The file is empty.")
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    for magic, what in OTHER_MAGIC:
        if head.startswith(magic):
            raise DocumentError(
                "unsupported_type", f"This file is {what}: attach a PDF, DOCX, ODT or TXT file."
            )
    _decode_text(head, partial=True)
    return TXT


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == ODT_MIMETYPE:
                return ODT
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise DocumentError("broken", "The file is a damaged zip archive.") from exc
    if "[Content_Types].xml" in names and DOCX_BODY in names:
        return DOCX
    raise DocumentError(
        "unsupported_type",
        "This zip file is not a DOCX or ODT text document: attach a PDF, DOCX, ODT or TXT file.",
    )


def check(path: Path, name: str | None, limits: Limits | None = None) -> str:
    """Return the kind of the file at `path` if it may be stored; else raise DocumentError.

    Quick checks only (no text is extracted): the bytes' kind against the name's, and per
    kind its structure: PDF readable, not encrypted, whole, not too many pages; zip within the
    entry, size and ratio limits.
    """
    limits = limits or Limits()
    kind = sniff(path)
    claimed = claimed_kind(name)
    if claimed is not None and claimed != kind:
        raise DocumentError(
            "wrong_type",
            f"The file is named as {claimed.upper()} but its content is {kind.upper()}: "
            "attach the real file, or rename it.",
        )
    if kind == PDF:
        _check_pdf(path, limits)
    elif kind in (DOCX, ODT):
        with _open_zip(path) as archive:
            _check_zip(archive, limits)
    else:
        with open(path, "rb") as stream:
            _decode_text(stream.read(), partial=False)
    return kind


# -- PDF --------------------------------------------------------------------------------------


def _pdf_reader(path: Path) -> pypdf.PdfReader:
    with open(path, "rb") as stream:
        stream.seek(0, io.SEEK_END)
        stream.seek(max(stream.tell() - DEFAULT_EOF_WINDOW, 0))
        if b"%%EOF" not in stream.read():
            raise DocumentError("broken", "The PDF is incomplete (it has no end): send it again.")
    try:
        reader = pypdf.PdfReader(path, strict=False)
        encrypted = reader.is_encrypted
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise DocumentError("broken", "The PDF is damaged and cannot be read.") from exc
    if encrypted:
        raise DocumentError(
            "encrypted",
            "The PDF is encrypted or password-protected: attach a version without protection.",
        )
    return reader


def _check_pdf(path: Path, limits: Limits) -> None:
    reader = _pdf_reader(path)
    try:
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise DocumentError("broken", "The PDF is damaged and cannot be read.") from exc
    if pages > limits.max_pages:
        raise DocumentError(
            "too_many_pages", f"The PDF has {pages} pages; at most {limits.max_pages} are taken."
        )


def _pdf_text(path: Path, limits: Limits) -> str:
    reader = _pdf_reader(path)
    started = time.monotonic()
    parts: list[str] = []
    size = 0
    try:
        for number, page in enumerate(reader.pages, start=1):
            if number > limits.max_pages:
                break
            if time.monotonic() - started > limits.seconds:
                raise DocumentError(
                    "too_slow",
                    f"Reading the PDF took over {limits.seconds:.0f} s (stopped at page "
                    f"{number}): it may be damaged or made to be slow.",
                )
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size >= limits.max_text:
                break
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise DocumentError("broken", "The PDF is damaged and its text cannot be read.") from exc
    return "\n".join(parts)


# -- DOCX and ODT -----------------------------------------------------------------------------


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise DocumentError("broken", "The file is a damaged zip archive.") from exc


def _check_zip(archive: zipfile.ZipFile, limits: Limits) -> None:
    entries = archive.infolist()
    if len(entries) > limits.zip_max_entries:
        raise DocumentError(
            "zip_bomb",
            f"The document holds {len(entries)} files; at most {limits.zip_max_entries} are taken.",
        )
    total = sum(e.file_size for e in entries)
    if total > limits.zip_max_total:
        raise DocumentError(
            "zip_bomb",
            f"The document would unpack to {total // (1024 * 1024)} MB; at most "
            f"{limits.zip_max_total // (1024 * 1024)} MB are taken.",
        )
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise DocumentError(
                "encrypted", "The document is encrypted: attach a version without protection."
            )
        if (
            entry.file_size > DEFAULT_ZIP_RATIO_FLOOR
            and entry.file_size > limits.zip_max_ratio * max(entry.compress_size, 1)
        ):
            raise DocumentError(
                "zip_bomb",
                f"Part {entry.filename!r} of the document inflates "
                f"{entry.file_size // max(entry.compress_size, 1)} times: refused as a zip bomb.",
            )


class _Capped(io.RawIOBase):
    """A read-only stream that fails once more than `limit` bytes have been read."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream, self.left = stream, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        self.left -= len(data)
        if self.left < 0:
            raise DocumentError("zip_bomb", "The document unpacks to more than it declares.")
        buffer[: len(data)] = data
        return len(data)


def _xml_paragraphs(stream: BinaryIO, paragraph_tags: set[str], limits: Limits) -> str:
    """The text of every paragraph element in an XML stream, one per line (streamed)."""
    started = time.monotonic()
    lines: list[str] = []
    size = 0
    depth = 0
    try:
        for event, element in SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
            if element.tag not in paragraph_tags:
                continue
            if event == "start":
                depth += 1
                continue
            depth -= 1
            if depth:
                continue  # a paragraph inside another (a text box): read with the outer one
            text = _paragraph_text(element)
            element.clear()
            if text:
                lines.append(text)
                size += len(text) + 1
            if size >= limits.max_text:
                break
            if time.monotonic() - started > limits.seconds:
                raise DocumentError(
                    "too_slow", f"Reading the document took over {limits.seconds:.0f} s."
                )
    except DefusedXmlException as exc:
        raise DocumentError(
            "unsafe_xml",
            "The document declares XML entities or a DTD (which can read files or exhaust "
            "memory): refused.",
        ) from exc
    except SafeET.ParseError as exc:
        raise DocumentError("broken", "The document's XML is damaged.") from exc
    return "\n".join(lines)


def _paragraph_text(element) -> str:
    out: list[str] = []
    if element.tag.startswith(_W):
        for node in element.iter():
            if node.tag == f"{_W}t" and node.text:
                out.append(node.text)
            elif node.tag in _W_SPACES:
                out.append(" ")
    else:
        _odf_text(element, out)
    return _SPACES.sub(" ", "".join(out)).strip()


def _odf_text(element, out: list[str]) -> None:
    """ODF mixed content: text, spans, and elements that stand for spaces (text:s, tab)."""
    if element.text:
        out.append(element.text)
    for child in element:
        if child.tag in _ODF_SPACES:
            out.append(" ")
        _odf_text(child, out)
        if child.tail:
            out.append(child.tail)


def _zip_text(path: Path, body: str, tags: set[str], limits: Limits) -> str:
    with _open_zip(path) as archive:
        _check_zip(archive, limits)
        try:
            info = archive.getinfo(body)
        except KeyError as exc:
            raise DocumentError("broken", f"The document has no {body}.") from exc
        try:
            with archive.open(info) as raw:
                return _xml_paragraphs(_Capped(raw, info.file_size), tags, limits)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
            raise DocumentError("broken", "The document's zip archive is damaged.") from exc


# -- TXT --------------------------------------------------------------------------------------


def _decode_text(data: bytes, partial: bool) -> str:
    """Text of `data`; `partial`: it may end inside a character (a file's first bytes)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="ignore" if partial else "strict")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if partial and exc.reason == "unexpected end of data":  # cut inside a character
                text = data[: exc.start].decode("utf-8-sig")
            else:
                text = data.decode("cp1252", errors="replace")
    controls = sum(1 for c in text if c < " " and c not in "\t\n\r\f")
    if "\x00" in text or controls > len(text) // 100:
        raise DocumentError(
            "unsupported_type",
            "This file is not text, nor a PDF, DOCX or ODT document: attach one of those.",
        )
    return text


# -- text -------------------------------------------------------------------------------------


def extract_text(path: Path, kind: str, limits: Limits | None = None) -> str:
    """The text of the file at `path` (of `kind`), at most limits.max_text characters.

    Raises DocumentError when the file is refused or its text cannot be read.
    """
    limits = limits or Limits()
    if kind == PDF:
        text = _pdf_text(path, limits)
    elif kind == DOCX:
        text = _zip_text(path, DOCX_BODY, {f"{_W}p"}, limits)
    elif kind == ODT:
        text = _zip_text(path, ODT_BODY, {f"{_TEXT_NS}p", f"{_TEXT_NS}h"}, limits)
    elif kind == TXT:
        with open(path, "rb") as stream:
            data = stream.read(min(path.stat().st_size, limits.max_text * 4))
            text = _decode_text(data, partial=bool(stream.read(1)))
    else:
        raise DocumentError("unsupported_type", f"Unknown kind of document {kind!r}.")
    text = text.replace("\x00", "")
    return text[: limits.max_text]
