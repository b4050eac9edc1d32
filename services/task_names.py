"""The names of the background tasks: the contract between the use cases that queue work
(through the outbox) and the worker modules that run it (workers/*_tasks.py)."""

SCORE_OFFER = "scoring.score_offer"
SCORE_PROJECT = "scoring.score_project"
REBUILD_MATCHES = "scoring.rebuild_matches"
NIGHTLY_REBUILD = "scoring.nightly_rebuild"
EXPIRE_OFFERS = "scoring.expire_offers"
SWEEP_OUTBOX = "scoring.sweep"
DIGEST_SEND_WEEKLY = "digest.send_weekly"
DIGEST_SEND_ONE = "digest.send_one"
SEARCH_SEND_DUE = "searches.send_due"
SEARCH_SEND_ONE = "searches.send_one"
EXTRACT_DOCUMENT = "documents.extract"
