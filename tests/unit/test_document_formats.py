"""services.documents.formats on real files made in the test: kinds by content, names,
extraction, and every hostile variant refused with its reason."""

from __future__ import annotations

import pytest

from services.documents import formats
from services.documents.formats import DocumentError
from tests import document_files as files


@pytest.fixture
def write(tmp_path):
    def _write(name: str, data: bytes):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return _write


def refused(code: str, fn, *args) -> str:
    with pytest.raises(DocumentError) as caught:
        fn(*args)
    assert caught.value.code == code, caught.value.message
    return caught.value.message


def test_pdf_text_is_read_page_by_page(write):
    path = write("call.pdf", files.pdf([["Drinking water for hillside comunas"], ["Página dos"]]))
    assert formats.check(path, "call.pdf") == formats.PDF
    text = formats.extract_text(path, formats.PDF)
    assert "Drinking water for hillside comunas" in text
    assert "Página dos" in text


def test_docx_and_odt_paragraphs_become_lines(write):
    docx = write("c.docx", files.docx(["Agua potable", "Saneamiento & riego <rural>"]))
    odt = write("c.odt", files.odt(["Convocatoria", "Movilidad eléctrica"]))
    assert formats.check(docx, "c.docx") == formats.DOCX
    assert formats.check(odt, "c.odt") == formats.ODT
    assert formats.extract_text(docx, formats.DOCX) == "Agua potable\nSaneamiento & riego <rural>"
    assert formats.extract_text(odt, formats.ODT) == "Convocatoria\nMovilidad eléctrica"


def test_text_files_in_utf8_utf16_and_windows_1252(write):
    assert formats.extract_text(write("a.txt", "café ñ".encode()), formats.TXT) == "café ñ"
    utf16 = write("b.txt", "agua potable".encode("utf-16"))
    assert formats.check(utf16, "b.txt") == formats.TXT
    assert formats.extract_text(utf16, formats.TXT) == "agua potable"
    assert formats.extract_text(write("c.txt", "año".encode("cp1252")), formats.TXT) == "año"


def test_the_kind_comes_from_the_content_not_the_name(write):
    # A PDF without extension is a PDF; a DOCX named .pdf, or a PDF named .docx, is refused.
    assert formats.check(write("noext", files.pdf([["x"]])), "noext") == formats.PDF
    message = refused("wrong_type", formats.check, write("a.pdf", files.docx(["x"])), "a.pdf")
    assert "PDF" in message and "DOCX" in message
    refused("wrong_type", formats.check, write("b.docx", files.pdf([["x"]])), "b.docx")
    refused("wrong_type", formats.check, write("c.odt", files.docx(["x"])), "c.odt")


def test_other_files_are_refused_by_their_bytes(write):
    refused(
        "unsupported_type",
        formats.check,
        write("a.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 50),
        "a.pdf",
    )
    refused("unsupported_type", formats.check, write("a.txt", b"MZ\x90\x00" + b"\0" * 50), "a.txt")
    refused("unsupported_type", formats.check, write("a.txt", b"abc\x00\x01\x02" * 10), "a.txt")
    refused("unsupported_type", formats.check, write("a.exe", b"hello"), "a.exe")
    zipped = files.zipped({"readme.txt": "a plain zip"})
    refused("unsupported_type", formats.check, write("a.docx", zipped), "a.docx")
    refused("empty", formats.check, write("e.txt", b""), "e.txt")


def test_an_encrypted_pdf_is_refused(write):
    message = refused(
        "encrypted", formats.check, write("e.pdf", files.encrypted_pdf(["s"])), "e.pdf"
    )
    assert "password" in message


def test_truncated_and_garbled_pdfs_are_refused(write):
    whole = files.pdf([["line"] * 40] * 3)
    refused("broken", formats.check, write("t.pdf", whole[: len(whole) // 2]), "t.pdf")
    garbled = b"%PDF-1.4\n" + b"garbage " * 200 + b"\n%%EOF\n"
    refused("broken", formats.check, write("g.pdf", garbled), "g.pdf")


def test_too_many_pages_and_too_slow(write):
    path = write("long.pdf", files.pdf([[f"page {i}"] for i in range(12)]))
    refused("too_many_pages", formats.check, path, "long.pdf", formats.Limits(max_pages=10))
    refused("too_slow", formats.extract_text, path, formats.PDF, formats.Limits(seconds=-1))


def test_zip_bombs_are_refused_before_anything_is_unpacked(write):
    big = write("big.docx", files.bomb_docx(megabytes=210))
    assert "210 MB" in refused("zip_bomb", formats.check, big, "big.docx")
    dense = write("dense.docx", files.bomb_docx(megabytes=20))
    assert "inflates" in refused("zip_bomb", formats.check, dense, "dense.docx")
    refused("zip_bomb", formats.extract_text, dense, formats.DOCX)
    many = write("many.docx", files.many_entries_docx(30))
    refused("zip_bomb", formats.check, many, "many.docx", formats.Limits(zip_max_entries=20))


def test_external_entities_are_never_resolved(write, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    path = write("xxe.docx", files.xxe_docx(str(secret)))
    assert formats.check(path, "xxe.docx") == formats.DOCX  # the zip itself is fine
    message = refused("unsafe_xml", formats.extract_text, path, formats.DOCX)
    assert "TOP-SECRET" not in message


def test_a_damaged_docx_is_refused(write):
    data = files.docx(["Agua potable"] * 50)
    refused("broken", formats.check, write("t.docx", data[: len(data) // 2]), "t.docx")
    broken_xml = files.zipped(
        {"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document><w:body>"}
    )
    refused("broken", formats.extract_text, write("x.docx", broken_xml), formats.DOCX)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\ana\\Convocatoria 2027.pdf", "Convocatoria 2027.pdf"),
        ("..pdf", "pdf.pdf"),
        ("...", "document.pdf"),
        ("evil\x00name\r\n.docx", "evilname.docx"),
        ("<script>alert(1)</script>.odt", "script.odt"),
        ("a<b>|c?.txt", "a_b_c.txt"),
        ("términos de referencia.pdf", "términos de referencia.pdf"),
        ("", "document.pdf"),
        ("a" * 400 + ".pdf", "a" * 146 + ".pdf"),
    ],
)
def test_file_names_are_made_safe(raw, safe):
    assert formats.safe_filename(raw, "pdf") == safe
