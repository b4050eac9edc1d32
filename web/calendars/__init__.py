"""Staff calendar feeds: GET /calendar/<signed token>.ics, read by calendar programs."""

from web.calendars import views  # noqa: F401  (routes register)
from web.calendars.blueprint import bp

__all__ = ["bp"]
