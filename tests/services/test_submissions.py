"""Offers from the public form: stored first, duplicates recognised, followed by signed link."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import Offer, Organization, OutboxMessage
from models.enums import MatchStatus, OfferSource, OfferStatus, Side
from services import audit, catalog, moderation, submissions
from services.errors import Conflict, Invalid, NotFound
from tests import factories as f

SECRET = "a-test-secret-that-is-long-enough"


def offer_data(**kw) -> dict:
    data = {
        "title": "Resilient neighbourhoods fund",
        "description": "Grants for landslide risk reduction in hillside settlements.",
        "modalities": ["grant"],
        "lines": ["sustainable_territory"],
        "sdgs": [11, 13],
        "amount_min": Decimal("50000"),
        "amount_max": Decimal("250000"),
        "currency": "USD",
        "eligible_kinds": ["local_public"],
        "eligible_countries": ["CO"],
        "opens_on": date(2026, 1, 1),
        "deadline": date(2027, 3, 31),
        "language": "en",
        "contact_email": "Ana@Example.org",
    }
    data.update(kw)
    return data


NEW_ORG = {
    "name": "Fundación Ladera",
    "kind": "foundation",
    "country": "ES",
    "website": "https://ladera.example.org",
    "side": "supply",
}


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_submit_with_a_new_organisation_stores_both_as_submitted(session):
    result = submissions.submit_offer(session, offer_data(), new_organization=NEW_ORG)
    assert not result.duplicate
    offer = session.get(Offer, result.offer.id)
    assert offer.status == OfferStatus.SUBMITTED and offer.source == OfferSource.FORM
    assert offer.contact_email == "ana@example.org"
    org = session.get(Organization, offer.organization_id)
    assert (org.name, org.side, org.kind, org.country) == (
        "Fundación Ladera",
        Side.SUPPLY,
        "foundation",
        "ES",
    )
    assert count(session, OutboxMessage) == 0  # a submitted offer is not scored yet


def test_submit_for_an_existing_supply_organisation(session):
    ally = f.organization(session, name="UN-Habitat")
    result = submissions.submit_offer(session, offer_data(), organization_id=ally.id)
    assert result.offer.organization_id == ally.id
    assert count(session, Organization) == 1


def test_a_new_organisation_named_like_an_existing_ally_reuses_it(session):
    ally = f.organization(session, name="Fundación Ladera", kind="foundation")
    result = submissions.submit_offer(
        session, offer_data(), new_organization={**NEW_ORG, "name": " fundación  LADERA"}
    )
    assert result.offer.organization_id == ally.id
    assert count(session, Organization) == 1


def test_a_local_entity_cannot_be_named_as_the_offering_organisation(session):
    local = f.organization(
        session, name="Secretaría de Movilidad", kind="local_public", side="demand", country="CO"
    )
    with pytest.raises(Invalid) as caught:
        submissions.submit_offer(
            session, offer_data(), new_organization={**NEW_ORG, "name": local.name}
        )
    assert "name" in caught.value.fields
    with pytest.raises(Invalid) as caught:
        submissions.submit_offer(session, offer_data(), organization_id=local.id)
    assert "organization_id" in caught.value.fields
    assert count(session, Offer) == 0


def test_unknown_organisation_and_missing_email_are_refused(session):
    with pytest.raises(Invalid) as caught:
        submissions.submit_offer(session, offer_data(), organization_id=999_999)
    assert "organization_id" in caught.value.fields
    with pytest.raises(Invalid) as caught:
        submissions.submit_offer(session, offer_data(contact_email="  "), new_organization=NEW_ORG)
    assert caught.value.fields == {"contact_email": [submissions.CONTACT_REQUIRED]}
    assert count(session, Offer) == 0 and count(session, Organization) == 0


def test_cross_field_rules_are_checked_and_nothing_half_stored(session):
    with pytest.raises(Invalid) as caught:
        submissions.submit_offer(
            session,
            offer_data(amount_min=Decimal(9), amount_max=Decimal(1)),
            new_organization=NEW_ORG,
        )
    assert "amount_max" in caught.value.fields
    assert count(session, Organization) == 0


def test_same_email_and_title_within_minutes_is_a_duplicate(session):
    first = submissions.submit_offer(session, offer_data(), new_organization=NEW_ORG).offer
    again = submissions.submit_offer(
        session,
        offer_data(title="  resilient   NEIGHBOURHOODS fund ", contact_email="ANA@example.org "),
        new_organization=NEW_ORG,
    )
    assert again.duplicate and again.offer.id == first.id
    assert count(session, Offer) == 1


def test_other_email_other_title_or_later_is_not_a_duplicate(session):
    first = submissions.submit_offer(session, offer_data(), new_organization=NEW_ORG).offer
    other_email = submissions.submit_offer(
        session, offer_data(contact_email="bo@example.org"), organization_id=first.organization_id
    )
    other_title = submissions.submit_offer(
        session, offer_data(title="Another fund"), organization_id=first.organization_id
    )
    assert not other_email.duplicate and not other_title.duplicate
    later = datetime.now(UTC) + submissions.DEFAULT_DUPLICATE_WINDOW + timedelta(minutes=1)
    assert submissions.find_duplicate(session, "ana@example.org", first.title, now=later) is None
    assert submissions.find_duplicate(session, "ana@example.org", first.title).id == first.id


def test_a_withdrawn_offer_is_not_a_duplicate(session):
    first = submissions.submit_offer(session, offer_data(), new_organization=NEW_ORG).offer
    submissions.withdraw_offer(session, first)
    again = submissions.submit_offer(session, offer_data(), organization_id=first.organization_id)
    assert not again.duplicate and again.offer.id != first.id


def test_follow_token_round_trip_and_tampering(session):
    offer = f.offer(session, status="submitted", contact_email="ana@example.org")
    token = submissions.follow_token(SECRET, offer)
    assert "ana" not in token  # the email is bound by digest, not shown in the URL
    assert submissions.read_follow_token(session, SECRET, token).id == offer.id
    with pytest.raises(NotFound):
        submissions.read_follow_token(session, "another-secret-key-entirely", token)
    with pytest.raises(NotFound):
        submissions.read_follow_token(session, SECRET, token[:-2] + "xx")
    with pytest.raises(NotFound):
        submissions.read_follow_token(session, SECRET, "not-a-token")


def test_follow_token_expires(session):
    offer = f.offer(session, status="submitted", contact_email="ana@example.org")
    token = submissions.follow_token(SECRET, offer)
    with pytest.raises(submissions.LinkExpired):
        submissions.read_follow_token(session, SECRET, token, max_age=timedelta(seconds=-1))


def test_follow_token_stops_working_when_the_contact_changes(session):
    offer = f.offer(session, status="submitted", contact_email="ana@example.org")
    token = submissions.follow_token(SECRET, offer)
    catalog.update(session, offer, {"contact_email": "new@example.org"})
    with pytest.raises(NotFound):
        submissions.read_follow_token(session, SECRET, token)


def test_edit_only_while_submitted(session):
    offer = f.offer(session, status="submitted", contact_email="ana@example.org")
    submissions.edit_offer(
        session,
        offer,
        {
            **offer_data(title="Changed title"),
            "contact_email": "evil@example.org",
            "status": "published",
        },
    )
    session.refresh(offer)
    assert offer.title == "Changed title"
    assert offer.contact_email == "ana@example.org" and offer.status == OfferStatus.SUBMITTED
    catalog.update(session, offer, {"status": "published"})
    with pytest.raises(Conflict):
        submissions.edit_offer(session, offer, offer_data(title="Too late"))
    session.refresh(offer)
    assert offer.title == "Changed title"


def test_withdraw_withdraws_proposed_matches(session):
    offer = f.offer(session, status="published", contact_email="ana@example.org")
    proposed = f.match(session, f.project(session), offer)
    accepted = f.match(session, f.project(session), offer, status="accepted")
    submissions.withdraw_offer(session, offer)
    for row in (offer, proposed, accepted):
        session.refresh(row)
    assert offer.status == OfferStatus.WITHDRAWN
    assert proposed.status == MatchStatus.WITHDRAWN and accepted.status == MatchStatus.ACCEPTED
    with pytest.raises(Conflict):
        submissions.withdraw_offer(session, offer)


@pytest.mark.parametrize("status", ["rejected", "closed"])
def test_a_rejected_or_closed_offer_cannot_be_withdrawn(session, status):
    offer = f.offer(session, status=status)
    with pytest.raises(Conflict):
        submissions.withdraw_offer(session, offer)


def test_matched_projects_counts_live_matches_once_published(session):
    offer = f.offer(session, status="submitted")
    assert submissions.matched_projects(session, offer) is None
    catalog.update(session, offer, {"status": "published"})
    f.match(session, f.project(session), offer)
    f.match(session, f.project(session), offer, status="shortlisted")
    f.match(session, f.project(session), offer, status="withdrawn")
    assert submissions.matched_projects(session, offer) == 2


def test_rejection_reason_comes_from_moderation(session):
    staff = f.token(session, "staff")[0]
    offer = f.offer(session, status="submitted")
    assert submissions.rejection(session, offer) is None
    moderation.reject(session, offer, staff.id, "incomplete", "Please add the amounts.")
    found = submissions.rejection(session, offer)
    assert (found.reason, found.note) == ("incomplete", "Please add the amounts.")
    assert audit.trail(session, "offer", [offer.id])[0].action == "reject"


def test_offers_for_email_newest_first_and_only_theirs(session):
    ally = f.organization(session)
    a = f.offer(session, ally, contact_email="ana@example.org")
    b = f.offer(session, ally, contact_email="ANA@example.org")
    f.offer(session, ally, contact_email="bo@example.org")
    assert [o.id for o in submissions.offers_for_email(session, " Ana@example.org")] == [b.id, a.id]
    assert submissions.offers_for_email(session, "") == []


def test_supply_organizations_lists_only_allies(session):
    f.organization(session, name="Zeta Fund")
    f.organization(session, name="Alpha Bank")
    f.organization(session, name="Secretaría", side="demand", kind="local_public", country="CO")
    assert [o.name for o in submissions.supply_organizations(session)] == [
        "Alpha Bank",
        "Zeta Fund",
    ]
