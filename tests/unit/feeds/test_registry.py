"""services.feeds.parse: one entry point for every kind, each refusing the others' files."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services import feeds as feed_service
from services.feeds.errors import FeedError
from tests.unit.feeds.conftest import REPO_ROOT

SAMPLES = {
    "iati": "iati/sida_dportal_49.xml",
    "eu_ft": "eu_ft/topic_details_HORIZON-WIDERA-2025-ACCESS-01-01-two-stage.json",
    "grants_gov": "grants_gov/opportunity_detail_329382.json",
    "world_bank": "world_bank/world_bank_projects_less.json",
}


@pytest.mark.parametrize("kind", feed_service.KINDS)
def test_each_kind_reads_its_own_file_and_refuses_the_others(feeds, kind):
    assert feed_service.parse(kind, feeds / SAMPLES[kind]).records
    for other, name in SAMPLES.items():
        if other != kind:
            with pytest.raises(FeedError) as info:
                feed_service.parse(kind, feeds / name)
            assert info.value.code == "wrong_kind", (kind, other, info.value)


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown feed kind 'rss'"):
        feed_service.parse("rss", b"<rss/>")


def test_feeds_load_no_flask_sqlalchemy_or_celery():
    code = (
        "import sys, services.feeds, services.feeds.fetch, services.feeds.iati_export;"
        "print(sorted(m for m in ('flask', 'sqlalchemy', 'celery') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert out.stdout.strip() == "[]"
