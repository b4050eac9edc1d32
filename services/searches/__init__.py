"""Saved searches: a review-queue filter or a public opportunities search kept by name, and
the emails of what is new in the ones subscribed to.

- `filters`: reading and checking a search's parameters, per scope.
- `store`: saving, listing, subscribing (by account, or by email with a confirmation link),
  unsubscribing.
- `delivery`: what is new for each subscribed search, sent exactly once per period through
  the digest's delivery machinery (services.digest.sending).
- `emails`: the emails themselves, in the subscriber's language.
"""
