"""The bytes of documents on disk, under their SHA-256: `<root>/ab/cd/abcd…`.

An upload is streamed into a temporary file in `<root>/tmp` (hashed and counted on the way,
never held in memory), checked, then moved into place with one rename; a file already there
(the same content attached before) is kept and the new copy dropped. Content addressing means
a path never depends on a name a person chose.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
_HASH = re.compile(r"^[0-9a-f]{64}$")


class TooLarge(Exception):
    """The stream holds more than the limit."""


@dataclass
class Upload:
    """A stream written to a temporary file: its hash and size, until kept or dropped."""

    path: Path
    sha256: str
    size: int

    def drop(self) -> None:
        self.path.unlink(missing_ok=True)


def path_of(root: Path, sha256: str) -> Path:
    """Where the file with this hash lives."""
    if not _HASH.match(sha256):
        raise ValueError(f"not a SHA-256: {sha256!r}")
    return root / sha256[:2] / sha256[2:4] / sha256


def receive(root: Path, stream: BinaryIO, max_bytes: int) -> Upload:
    """Write `stream` to a temporary file under `root`; TooLarge past `max_bytes`."""
    tmp = root / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=tmp, prefix="upload-")
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"more than {max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(path, digest.hexdigest(), size)


def keep(root: Path, upload: Upload) -> Path:
    """Move the upload to its place by hash (or drop it when that content is there already)."""
    final = path_of(root, upload.sha256)
    if final.exists():
        upload.drop()
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(upload.path, 0o640)
    os.replace(upload.path, final)
    return final


def remove(root: Path, sha256: str) -> None:
    """Delete the file with this hash (the caller checked that nothing refers to it)."""
    path_of(root, sha256).unlink(missing_ok=True)
