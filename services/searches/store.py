"""Saving searches, and subscribing to them: by account, or by email with double opt-in.

A signed-in person saves any search of a page they may see (staff: the review queue; anyone:
the public opportunities page) and chooses, per search, no email or a frequency. Someone
without an account subscribes to a public search by email: the search is kept `pending` and
nothing is sent to the address until the signed link emailed to it is used (double opt-in).
The page answers the same whatever the address (known, unknown, already subscribed), and the
emails go to that address only, so it never tells anyone whether an address is known.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from models import SavedSearch, User
from models.enums import Language
from models.searches import Frequency, SearchScope, SearchStatus
from services import clock, signed_links
from services.db import committing
from services.digest import sending
from services.errors import Forbidden, Invalid, NotFound
from services.searches import filters

MAX_NAME = 120
MAX_PER_USER = 50
MAX_PENDING_PER_EMAIL = 5  # unconfirmed requests kept per address; more are dropped quietly
DEFAULT_CONFIRM_MAX_AGE = timedelta(days=7)
CONFIRM_SALT = "saved-search-confirm"
UNSUBSCRIBE_SALT = "saved-search-unsubscribe"
SUBSCRIBED = (SearchStatus.PENDING, SearchStatus.SUBSCRIBED)

InvalidLink = signed_links.InvalidLink
LinkExpired = signed_links.LinkExpired


def _checked(name: str, scope: str, params, frequency: str | None, language: str | None):
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = ["Give the search a name."]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"Use at most {MAX_NAME} characters."]
    if frequency and frequency not in {f.value for f in Frequency}:
        errors["frequency"] = ["Choose immediately, daily or weekly."]
    if language and language not in {v.value for v in Language}:
        errors["language"] = ["Choose Spanish or English."]
    try:
        normal = filters.normalise(scope, params or {})
    except Invalid as exc:
        errors.update(exc.fields)
        normal = {}
    if errors:
        raise Invalid("the search cannot be saved", errors)
    return name, normal


def _subscribe(search: SavedSearch, frequency: str, now: datetime) -> None:
    if search.status != SearchStatus.SUBSCRIBED:
        search.covered_until = now  # new from now on: nothing already there is emailed
    search.frequency = Frequency(frequency)
    search.status = SearchStatus.SUBSCRIBED


def save(
    session: Session,
    user: User,
    *,
    scope: str,
    name: str,
    params,
    frequency: str | None = None,
    now: datetime | None = None,
) -> SavedSearch:
    """Save a search for `user` and, with a frequency, subscribe them to it."""
    if scope == SearchScope.QUEUE and not user.is_staff:
        raise Forbidden("only staff can save review-queue searches")
    name, normal = _checked(name, scope, params, frequency, None)
    held = session.scalar(
        sa.select(sa.func.count()).select_from(SavedSearch).where(SavedSearch.user_id == user.id)
    )
    if held >= MAX_PER_USER:
        raise Invalid(
            "too many saved searches",
            {"name": [f"You have {MAX_PER_USER} saved searches: delete one first."]},
        )
    now = now or clock.now()
    search = SavedSearch(
        scope=SearchScope(scope),
        name=name,
        params=normal,
        user_id=user.id,
        language=Language(str(user.language or "es")),
        status=SearchStatus.SAVED,
    )
    if frequency:
        _subscribe(search, frequency, now)
    with committing(session):
        session.add(search)
    return search


def list_for(session: Session, user: User) -> list[SavedSearch]:
    """The user's saved searches, newest first."""
    return list(
        session.scalars(
            sa.select(SavedSearch)
            .where(SavedSearch.user_id == user.id)
            .order_by(SavedSearch.id.desc())
        )
    )


def get_own(session: Session, user: User, search_id: int) -> SavedSearch:
    """The user's saved search `search_id`; NotFound for anyone else's."""
    search = session.get(SavedSearch, search_id)
    if search is None or search.user_id != user.id:
        raise NotFound(f"saved search {search_id} does not exist")
    return search


def set_frequency(
    session: Session, search: SavedSearch, frequency: str | None, now: datetime | None = None
) -> SavedSearch:
    """Subscribe an account's search at `frequency`, or stop its emails (None or "")."""
    _checked(search.name, str(search.scope), search.params, frequency, None)
    with committing(session):
        if frequency:
            _subscribe(search, frequency, now or clock.now())
        elif search.status == SearchStatus.SUBSCRIBED:
            search.status, search.frequency = SearchStatus.SAVED, None
            search.unsubscribed_at = now or clock.now()
    return search


def delete(session: Session, search: SavedSearch) -> None:
    with committing(session):
        session.delete(search)


def _valid_email(email: str) -> str:
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid(
            f"the email address is not valid: {exc}", {"email": ["Give a valid email address."]}
        ) from exc


def subscribe_by_email(
    session: Session,
    *,
    email: str,
    name: str,
    params,
    frequency: str,
    language: str,
    now: datetime | None = None,
) -> SavedSearch | None:
    """Keep a public search for `email`, pending until the emailed link confirms it.

    Returns the pending search to send the confirmation for, or None when that address already
    has MAX_PENDING_PER_EMAIL requests waiting (nothing more is sent to it).
    """
    errors: dict[str, list[str]] = {}
    if not frequency:
        errors["frequency"] = ["Choose how often to get the emails."]
    try:
        email = _valid_email(email)
    except Invalid as exc:
        errors.update(exc.fields)
    try:
        name, normal = _checked(name, SearchScope.OPPORTUNITIES, params, frequency, language)
    except Invalid as exc:
        errors = {**exc.fields, **errors}
    if errors:
        raise Invalid("the subscription cannot be kept", errors)
    now = now or clock.now()
    waiting = list(
        session.scalars(
            sa.select(SavedSearch).where(
                SavedSearch.email == email, SavedSearch.status == SearchStatus.PENDING
            )
        )
    )
    same = next((s for s in waiting if s.params == normal and str(s.frequency) == frequency), None)
    if same is None and len(waiting) >= MAX_PENDING_PER_EMAIL:
        return None
    with committing(session):
        search = same or SavedSearch(scope=SearchScope.OPPORTUNITIES, email=email)
        search.name, search.params, search.language = name, normal, Language(language)
        search.status, search.frequency = SearchStatus.PENDING, Frequency(frequency)
        search.covered_until = now
        session.add(search)
    return search


def confirmation_token(secret_key: str, search: SavedSearch) -> str:
    return signed_links.sign(secret_key, CONFIRM_SALT, {"c": search.id, "e": search.email})


def read_confirmation(
    session: Session,
    secret_key: str,
    token: str,
    max_age: timedelta = DEFAULT_CONFIRM_MAX_AGE,
) -> SavedSearch:
    """The pending (or already confirmed) search a confirmation link names."""
    payload = signed_links.read(
        secret_key,
        CONFIRM_SALT,
        token,
        max_age,
        expired="this confirmation link has expired",
        invalid="this confirmation link is not valid",
    )
    search = (
        session.get(SavedSearch, payload.get("c")) if isinstance(payload.get("c"), int) else None
    )
    if search is None or search.email != payload.get("e"):
        raise InvalidLink("this confirmation link is not valid")
    return search


def confirm(
    session: Session, search: SavedSearch, now: datetime | None = None
) -> tuple[SavedSearch, bool]:
    """Start the emails of a pending search: (the subscribed search, whether this link started
    it). False when the link was used before.

    When the address already gets the same search, that one takes the new frequency and the
    request is removed, so nothing is sent twice.
    """
    now = now or clock.now()
    twin = session.scalar(
        sa.select(SavedSearch)
        .where(
            SavedSearch.email == search.email,
            SavedSearch.status == SearchStatus.SUBSCRIBED,
            SavedSearch.id != search.id,
        )
        .where(SavedSearch.scope == search.scope)
        .order_by(SavedSearch.id)
    )
    if twin is not None and twin.params == search.params and search.status == SearchStatus.PENDING:
        with committing(session):
            twin.frequency, twin.name = search.frequency, search.name
            session.delete(search)
        return twin, True
    with committing(session):
        changed = session.execute(
            sa.update(SavedSearch)
            .where(SavedSearch.id == search.id, SavedSearch.status == SearchStatus.PENDING)
            .values(
                status=SearchStatus.SUBSCRIBED,
                confirmed_at=now,
                covered_until=now,
                updated_at=sa.func.now(),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    session.refresh(search)
    return search, changed == 1


def unsubscribe_token(secret_key: str, search: SavedSearch) -> str:
    """A signed token naming the search and its subscription period (a link works once)."""
    generation = sending.link_generation(clock.aware(search.unsubscribed_at))
    return sending.unsubscribe_token(secret_key, UNSUBSCRIBE_SALT, search.id, generation)


def read_unsubscribe_token(session: Session, secret_key: str, token: str) -> SavedSearch:
    """The search an unsubscribe link names; InvalidLink when altered, LinkExpired when old."""
    search_id, generation = sending.read_unsubscribe_token(secret_key, UNSUBSCRIBE_SALT, token)
    search = session.get(SavedSearch, search_id)
    if search is None:
        raise InvalidLink("this unsubscribe link is not valid")
    sending.check_generation(
        generation,
        clock.aware(search.unsubscribed_at),
        search.status != SearchStatus.SUBSCRIBED,
    )
    return search


def unsubscribe(session: Session, search: SavedSearch, now: datetime | None = None) -> bool:
    """Stop the search's emails; False when they were already stopped (a link works once).

    An account's search stays saved (without emails); an email address's is ended.
    """
    stopped = SearchStatus.SAVED if search.user_id is not None else SearchStatus.UNSUBSCRIBED
    values = {"status": stopped, "unsubscribed_at": now or clock.now(), "updated_at": sa.func.now()}
    if stopped == SearchStatus.SAVED:
        values["frequency"] = None
    with committing(session):
        changed = session.execute(
            sa.update(SavedSearch)
            .where(SavedSearch.id == search.id, SavedSearch.status == SearchStatus.SUBSCRIBED)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
    session.refresh(search)
    return changed == 1


def purge_unconfirmed(
    session: Session, now: datetime | None = None, max_age: timedelta = DEFAULT_CONFIRM_MAX_AGE
) -> int:
    """Delete email subscriptions never confirmed within `max_age`; return how many."""
    cutoff = (now or clock.now()) - max_age
    with committing(session):
        return session.execute(
            sa.delete(SavedSearch).where(
                SavedSearch.status == SearchStatus.PENDING, SavedSearch.created_at < cutoff
            )
        ).rowcount
