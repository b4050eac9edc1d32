"""Matching use cases: what the matcher sees of offers and projects, the fitted index, storing
scored pairs, scoring one item, rebuilding everything, reading matches, training labels.

- `items`: the matcher's view of an offer or a project, and the allies' records.
- `index_cache`: fitting the matcher on every open item, cached per process until the corpus
  drifts.
- `store`: writing scored pairs (one row per pair, people's decisions kept) and withdrawing the
  ones that no longer hold.
- `queue`: asking for an item to be scored, in the caller's transaction, through the outbox.
- `scoring`: scoring one offer or project; closing offers past their deadline.
- `rebuild`: the full refit and rescore, in chunks, one at a time.
- `queries`: an item's ranked matches.
- `training_labels`: staff decisions as the labelled data `python -m matcher tune` reads.
"""
