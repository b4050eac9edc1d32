"""Accessibility checks with axe-core (from the npm registry, pinned in tests/package.json).

`make test` installs it (`npm ci --prefix tests`); nothing is vendored into git. The script is
evaluated through the DevTools protocol, so the page's CSP (no inline script) stays on.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import missing_service

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def violations(page, impacts=SERIOUS) -> list[dict]:
    """axe-core's violations on the page's current state with one of `impacts`."""
    if not AXE.exists():
        missing_service(
            f"axe-core is not installed at {AXE} (run `make test`, or npm ci --prefix tests)"
        )
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [v for v in found if v.get("impact") in impacts]


def describe(found: list[dict]) -> str:
    """One line per violation and node, for assertion messages and the report."""
    lines = []
    for v in found:
        for node in v.get("nodes", [])[:5]:
            lines.append(f"{v['impact']} {v['id']}: {', '.join(node.get('target', []))}")
    return "\n".join(lines)
