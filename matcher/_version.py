"""The matcher's version: part of every index's version id and of each stored match."""

__version__ = "1.6.0"
