"""Use cases of CoopMatch: each takes a Session, owns its transaction and raises domain errors."""
