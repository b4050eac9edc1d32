"""Call documents: files attached to offers and projects, checked, stored, and read for text.

- `formats`: what a file is (by its bytes, never its name), the checks made while the upload
  is answered (type, size, encryption, zip structure), and text extraction with limits.
  Pure Python (pypdf, defusedxml, zipfile): no database.
- `storage`: the bytes on disk under their SHA-256; the same file attached twice is kept once.
- `store`: the use cases (attach, extract, list, download, remove, passages for the matcher).
"""
