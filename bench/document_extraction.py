"""Time and measure text extraction of the largest call documents CoopMatch accepts.

Writes, in a temporary folder, one file per kind at the size limit (COOPMATCH_DOCUMENT_MAX_MB,
20 MB by default; --mb to change) from the words of bench/data/bilingual (seeded): a PDF of
uncompressed text pages (under the page limit), a DOCX and an ODT (deflated XML, as office
suites write them) and a UTF-8 TXT; plus a 100-page PDF, the size of a typical call. Each file
is extracted DEFAULT_REPEAT times, each time in a fresh Python process (so its peak memory is
its own), with the production limits (services.documents.formats.Limits(): text kept up to
DEFAULT_MAX_TEXT characters) and once more without the text cap, to show the raw rate.

Prints per file: size, characters extracted, median seconds, MB/s of file read, and the
process's peak resident memory with its growth over the interpreter with the
modules imported (VmHWM).

Usage: python bench/document_extraction.py [--mb 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.documents import formats  # noqa: E402
from tests import document_files  # noqa: E402

DEFAULT_MB = 20
DEFAULT_REPEAT = 3
DEFAULT_SEED = 17
LINE_WORDS = 14
PDF_LINES_PER_PAGE = 110
TYPICAL_PAGES = 100
TYPICAL_LINES_PER_PAGE = 45


def vocabulary() -> list[str]:
    words: list[str] = []
    for name in ("supply.jsonl", "demand.jsonl"):
        for line in (ROOT / "bench" / "data" / "bilingual" / name).read_text().splitlines():
            item = json.loads(line)
            words += f"{item.get('title', '')} {item.get('description', '')}".split()
    return [w for w in words if w.isprintable()]


def lines(rng: random.Random, words: list[str], count: int) -> list[str]:
    return [" ".join(rng.choices(words, k=LINE_WORDS)) for _ in range(count)]


def latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def make_files(folder: Path, mb: int) -> dict[str, tuple[Path, str]]:
    rng = random.Random(DEFAULT_SEED)
    words = vocabulary()
    target = mb * 1024 * 1024
    out: dict[str, tuple[Path, str]] = {}

    page = [latin1(x) for x in lines(rng, words, PDF_LINES_PER_PAGE)]
    page_bytes = len(document_files.pdf([page]))
    pages = min(int(target * 0.97 / page_bytes), formats.DEFAULT_MAX_PAGES)
    body = [[latin1(x) for x in lines(rng, words, PDF_LINES_PER_PAGE)] for _ in range(pages)]
    out[f"pdf-{mb}MB"] = (_write(folder / "largest.pdf", document_files.pdf(body)), formats.PDF)

    typical = [
        [latin1(x) for x in lines(rng, words, TYPICAL_LINES_PER_PAGE)] for _ in range(TYPICAL_PAGES)
    ]
    out["pdf-100-pages"] = (
        _write(folder / "typical.pdf", document_files.pdf(typical)),
        formats.PDF,
    )

    for kind, build in ((formats.DOCX, document_files.docx), (formats.ODT, document_files.odt)):
        paragraphs: list[str] = []
        data = b""
        while len(data) < target * 0.97:  # grow until the zip reaches the limit
            paragraphs += lines(rng, words, 20_000)
            data = build(paragraphs)
        while len(data) > target:
            paragraphs = paragraphs[: int(len(paragraphs) * 0.98)]
            data = build(paragraphs)
        out[f"{kind}-{mb}MB"] = (_write(folder / f"largest.{kind}", data), kind)

    text = []
    size = 0
    while size < target * 0.99:
        line = " ".join(rng.choices(words, k=LINE_WORDS))
        text.append(line)
        size += len(line.encode()) + 1
    data = "\n".join(text).encode()[:target]
    out[f"txt-{mb}MB"] = (
        _write(folder / "largest.txt", data.decode(errors="ignore").encode()),
        formats.TXT,
    )
    return out


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def high_water_kb() -> int:
    """This process's peak resident memory (VmHWM: reset at exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure_one(path: str, kind: str, capped: bool) -> None:
    """Child process: extract once, print seconds, characters and memory as JSON."""
    base = high_water_kb()
    limits = formats.Limits() if capped else formats.Limits(max_text=10**9, seconds=3600)
    started = time.perf_counter()
    text = formats.extract_text(Path(path), kind, limits)
    seconds = time.perf_counter() - started
    peak = high_water_kb()
    print(json.dumps({"seconds": seconds, "chars": len(text), "peak_kb": peak, "base_kb": base}))


def run(path: Path, kind: str, capped: bool, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(path), kind, "capped" if capped else "raw"],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(done.stdout))
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "chars": runs[0]["chars"],
        "peak_mb": max(r["peak_kb"] for r in runs) / 1024,
        "growth_mb": max(r["peak_kb"] - r["base_kb"] for r in runs) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=DEFAULT_MB)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--one", nargs=3, metavar=("PATH", "KIND", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        measure_one(args.one[0], args.one[1], args.one[2] == "capped")
        return
    with tempfile.TemporaryDirectory(prefix="coopmatch-docs-") as tmp:
        files = make_files(Path(tmp), args.mb)
        print(
            f"{'file':<16} {'limits':<7} {'size MB':>8} {'chars':>11} {'median s':>9} "
            f"{'MB/s':>7} {'peak RSS MB':>12} {'growth MB':>10}"
        )
        for name, (path, kind) in files.items():
            size_mb = path.stat().st_size / (1024 * 1024)
            for capped in (True, False):
                r = run(path, kind, capped, args.repeat)
                print(
                    f"{name:<16} {'default' if capped else 'no cap':<7} {size_mb:>8.2f} "
                    f"{r['chars']:>11,} {r['seconds']:>9.2f} {size_mb / r['seconds']:>7.1f} "
                    f"{r['peak_mb']:>12.0f} {r['growth_mb']:>10.0f}"
                )


if __name__ == "__main__":
    main()
