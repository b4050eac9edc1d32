"""The shared real feed files (../shared/feeds beside the repository), used unmodified."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import missing_service

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_FEEDS = REPO_ROOT.parent / "shared" / "feeds"


@pytest.fixture(scope="session")
def feeds() -> Path:
    """Return ../shared/feeds, or skip (fail with CI set) when it is not beside the repository."""
    if not (SHARED_FEEDS / "README.md").is_file():
        missing_service(f"the shared feed files are not at {SHARED_FEEDS}")
    return SHARED_FEEDS
