"""The web addresses digest emails link to, on the public address (COOPMATCH_BASE_URL).

A worker writes these emails without the web app, so it cannot ask Flask for URLs. These paths
are the contract with the web's routes; tests/web/test_digest_pages.py checks that each one
opens the page it names.
"""

from __future__ import annotations

from config import Settings

STAFF_MATCH = "/staff/projects/{project_id}#match-{match_id}"
PARTNER_MATCH = "/digest/offers/{offer_id}/matches#match-{match_id}"
SUBSCRIPTIONS = "/digest/subscriptions"
UNSUBSCRIBE = "/digest/unsubscribe/{token}"
SENT_DIGEST = "/digest/sends/{send_id}"
PREVIEW = "/digest/preview/{subscription_id}"
# Saved searches (services.searches) and the public opportunities they point to.
OPPORTUNITIES = "/opportunities"
OPPORTUNITY = "/opportunities/{offer_id}"
QUEUE = "/staff/queue"
SAVED_SEARCHES = "/searches"
SEARCH_CONFIRM = "/searches/confirm/{token}"
SEARCH_UNSUBSCRIBE = "/searches/unsubscribe/{token}"


def url(settings: Settings, path: str, **values) -> str:
    """The absolute address of `path` (one of the constants above) filled with `values`."""
    return settings.base_url + path.format(**values)
