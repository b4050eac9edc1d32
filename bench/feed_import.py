"""Time the IATI parser on a ~50 MB activity file and report its peak memory.

Builds the file in a temporary directory (never committed) by repeating every activity of the
shared IATI activity files (`../shared/feeds/iati/`: the World Bank and Sida D-Portal pages, the
Inter-American Foundation file with its extension elements, the 2.03 and 2.01 examples) in
turn, each copy with a new iati-identifier, until the file reaches the requested size. The mix
is the shared files' own: large D-Portal records (hundreds of monthly budgets) beside small
publisher records.

The parse then runs in a fresh child process (`--parse FILE`), so its peak resident set
(VmHWM) is the parser's own plus the interpreter and imports, not the building of the file.
It is run --runs times; the best and the median are reported.

Targets (issue 16): >= 2,000 activities/s and <= 300 MiB peak RSS.

Usage: python bench/feed_import.py [--size-mb 50] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "feeds" / "iati"
DEFAULT_FILES = (
    "worldbank_dportal_4.xml",
    "sida_dportal_49.xml",
    "iaf_colombia.xml",
    "activity-standard-example-annotated.xml",
    "activity-standard-example-annotated-2.01.xml",
)
DEFAULT_SIZE_MB = 50
DEFAULT_RUNS = 3
TARGET_RATE = 2000
TARGET_RSS_MIB = 300
HEADER = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<iati-activities version="2.03" generated-datetime="2026-01-01T00:00:00Z">\n'
)
FOOTER = b"</iati-activities>\n"


PLACEHOLDER = "__COPY__"


def templates(data: Path) -> list[bytes]:
    """Return every shared activity serialised, its identifier ending in "-R" + PLACEHOLDER."""
    out = []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    for name in DEFAULT_FILES:
        root = etree.parse(str(data / name), parser).getroot()
        for activity in root.iter("iati-activity"):
            ident = activity.find("iati-identifier")
            ident.text = f"{ident.text.strip()}-R{PLACEHOLDER}"
            out.append(etree.tostring(activity, with_tail=False))
    return out


def build(path: Path, data: Path, size_mb: float) -> int:
    """Write the repeated-activity file; return its number of activities."""
    target = int(size_mb * 1024 * 1024)
    items = templates(data)
    written = len(HEADER) + len(FOOTER)
    count = 0
    with path.open("wb") as out:
        out.write(HEADER)
        while written < target:
            for body in items:
                chunk = body.replace(PLACEHOLDER.encode(), b"%d" % count, 1) + b"\n"
                out.write(chunk)
                written += len(chunk)
                count += 1
                if written >= target:
                    break
        out.write(FOOTER)
    return count


def _status_kib(field: str) -> int:
    """Return a /proc/self/status memory field in KiB (VmHWM: peak RSS of this process image).

    Not ru_maxrss: that survives exec, so a child would report its parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def parse_once(path: Path) -> dict:
    """Parse the file (in this process) and return count, seconds and peak RSS."""
    from services.feeds import iati
    from services.feeds.records import FeedActivity

    before = _status_kib("VmHWM")
    start, cpu_start = time.perf_counter(), time.process_time()
    count = sum(1 for r in iati.iter_records(path) if isinstance(r, FeedActivity))
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak = _status_kib("VmHWM")
    return {
        "activities": count,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rss_before_kib": before,
        "peak_kib": peak,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=DEFAULT_SIZE_MB)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--keep", type=Path, help="write the file into DIR and keep it")
    parser.add_argument("--parse", type=Path, help=argparse.SUPPRESS)  # the child's entry
    args = parser.parse_args(argv)

    if args.parse:
        print(json.dumps(parse_once(args.parse)))
        return 0

    with tempfile.TemporaryDirectory(prefix="feed-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "iati_bench.xml"
        t0 = time.perf_counter()
        built = build(path, args.data, args.size_mb)
        size_mib = path.stat().st_size / (1024 * 1024)
        print(
            f"built {path.name}: {size_mib:.1f} MiB, {built:,} activities "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        runs = []
        for _ in range(args.runs):
            child = subprocess.run(
                [sys.executable, __file__, "--parse", str(path)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            runs.append(json.loads(child.stdout))
    if any(r["activities"] != built for r in runs):
        print(f"error: parsed {[r['activities'] for r in runs]} activities, built {built}")
        return 1
    rates = [r["activities"] / r["seconds"] for r in runs]
    cpu_rates = [r["activities"] / r["cpu_seconds"] for r in runs]
    peak = max(r["peak_kib"] for r in runs) / 1024
    base = min(r["rss_before_kib"] for r in runs) / 1024
    best, median = max(rates), statistics.median(rates)
    cpu_best = max(cpu_rates)
    load = os.getloadavg()[0]
    print(
        f"parse: {len(runs)} runs, {built:,} activities each (load average {load:.1f} "
        f"on {os.cpu_count()} cores)"
    )
    print(
        f"  activities/s  wall best {best:,.0f}  median {median:,.0f};  per CPU-second best "
        f"{cpu_best:,.0f}  (target >= {TARGET_RATE:,}: wall best "
        f"{'met' if best >= TARGET_RATE else 'NOT met'}, CPU "
        f"{'met' if cpu_best >= TARGET_RATE else 'NOT met'})"
    )
    print(
        f"  MiB/s         wall best {size_mib * best / built:,.1f}  median "
        f"{size_mib * median / built:,.1f}"
    )
    print(
        f"  peak RSS      {peak:,.0f} MiB (before parsing, with imports: {base:,.0f} MiB; "
        f"target <= {TARGET_RSS_MIB}: {'met' if peak <= TARGET_RSS_MIB else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
