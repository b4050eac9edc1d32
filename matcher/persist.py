"""Saving a fitted index as a small pickled skeleton plus one .npy file per large array, and
loading it back with the arrays memory-mapped.

Every process that loads the same directory shares the arrays' pages through the operating
system's page cache instead of holding its own copy, and loading costs what unpickling the small
skeleton costs. Large numpy arrays and the data / indices / indptr of CSR and CSC matrices are
written apart (pickle's persistent ids, https://docs.python.org/3/library/pickle.html#persistence-of-external-objects);
everything else (vocabularies, settings, small arrays) stays in the skeleton.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
from scipy import sparse

DEFAULT_MMAP_MIN_BYTES = 64 * 1024  # smaller arrays stay in the skeleton: fewer tiny files
# Copy-on-write mappings: the pages are the files' shared pages (nothing writes to them), and
# they stay writeable for sparse_dot_topn, whose bindings refuse read-only arrays ('r').
DEFAULT_MMAP_MODE = "c"
SKELETON_FILE = "skeleton.pkl"
ARRAYS_DIR = "arrays"


class _Saver(pickle.Pickler):
    def __init__(self, stream, arrays: Path) -> None:
        super().__init__(stream, protocol=pickle.HIGHEST_PROTOCOL)
        self.arrays = arrays
        self.count = 0
        self.seen: dict[int, tuple] = {}  # one file per array object, however often it appears
        self.kept: list[object] = []  # alive while pickling, so no id is reused

    def _array_file(self, array: np.ndarray) -> str:
        name = f"a{self.count:05d}.npy"
        self.count += 1
        np.save(self.arrays / name, np.ascontiguousarray(array), allow_pickle=False)
        return name

    def persistent_id(self, obj):
        key = id(obj)
        if key in self.seen:
            return self.seen[key]
        ref = None
        if sparse.issparse(obj) and obj.format in ("csr", "csc"):
            # Sorted indices on disk, so scipy never sorts the read-only arrays in place.
            canonical = obj if obj.has_sorted_indices else obj.sorted_indices()
            parts = tuple(
                self._array_file(a) for a in (canonical.data, canonical.indices, canonical.indptr)
            )
            ref = ("sparse", obj.format, type(obj).__name__, tuple(obj.shape), parts)
        elif (
            type(obj) in (np.ndarray, np.memmap)
            and obj.dtype != object
            and obj.nbytes >= DEFAULT_MMAP_MIN_BYTES
        ):
            ref = ("npy", self._array_file(obj))
        if ref is not None:
            self.seen[key] = ref
            self.kept.append(obj)
        return ref


class _Loader(pickle.Unpickler):
    def __init__(self, stream, arrays: Path, mmap_mode: str | None) -> None:
        super().__init__(stream)
        self.arrays = arrays
        self.mmap_mode = mmap_mode

    def _load(self, name: str) -> np.ndarray:
        return np.load(self.arrays / name, mmap_mode=self.mmap_mode, allow_pickle=False)

    def persistent_load(self, pid):
        if pid[0] == "npy":
            return self._load(pid[1])
        if pid[0] == "sparse":
            _, fmt, cls_name, shape, parts = pid
            cls = getattr(sparse, cls_name)
            data, indices, indptr = (self._load(p) for p in parts)
            matrix = cls((data, indices, indptr), shape=shape, copy=False)
            matrix.has_sorted_indices = True  # sorted when saved
            return matrix
        raise pickle.UnpicklingError(f"unknown persistent id {pid[0]!r}")


def save_state(obj: object, directory: str | Path) -> Path:
    """Write `obj` into `directory` (made if missing): skeleton.pkl and arrays/*.npy."""
    directory = Path(directory)
    arrays = directory / ARRAYS_DIR
    arrays.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    _Saver(buffer, arrays).dump(obj)
    (directory / SKELETON_FILE).write_bytes(buffer.getvalue())
    return directory


def load_state(directory: str | Path, mmap_mode: str | None = DEFAULT_MMAP_MODE) -> object:
    """Read what save_state wrote; large arrays are memory-mapped (`mmap_mode`, see
    DEFAULT_MMAP_MODE)."""
    directory = Path(directory)
    with (directory / SKELETON_FILE).open("rb") as stream:
        return _Loader(stream, directory / ARRAYS_DIR, mmap_mode).load()
