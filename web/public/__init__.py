"""Public pages for partners, no account needed: send an offer, then follow it by signed link."""

from web.public import views  # noqa: F401  (routes register)
from web.public.blueprint import bp

__all__ = ["bp"]
