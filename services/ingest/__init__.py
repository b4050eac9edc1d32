"""Feeds stored: the records services.feeds reads become offers and allies' activity records.

- `orgs`: organisation references (XM-DAC-41114, SE-0, 44002) mapped to allies: suggested by an
  import, confirmed by staff.
- `store`: one parsed result into the database, idempotently (new, updated, unchanged, closed,
  skipped, failed), in the caller's transaction.
- `duplicates`: the cross-source duplicate check and the staff merge.
- `runs`: a feed's run (fetch, parse, store, the run's record), a file imported as a kind, the
  due feeds, one run at a time per feed.
- `admin`: configuring feeds, reading runs, deciding mappings.
- `activities`: what the stored activities give an ally: its record for the matcher, and what
  it funds in the agency's country ("active here").
"""
