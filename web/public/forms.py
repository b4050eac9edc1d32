"""The public offer forms: WTForms draws the fields and checks CSRF; OfferIn judges the values.

The fields carry no validators of their own: every rule lives in `web.schemas.OfferIn` (and
`OrganizationIn`), which the API uses too, so the form and the API cannot disagree. The
schema's messages are shown beside the fields, translated by `translate_error`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, NumberInput, URLInput

from models.enums import SDGS, Currency, Line, Modality, OrgKind
from web.schemas import MAX_DESCRIPTION, MAX_TITLE, OFFER_LANGUAGES

MODALITIES = {
    Modality.GRANT: _l("Grant (non-reimbursable)"),
    Modality.LOAN: _l("Loan or credit (reimbursable)"),
    Modality.TECHNICAL_ASSISTANCE: _l("Technical assistance"),
    Modality.KNOWLEDGE_EXCHANGE: _l("Knowledge exchange"),
    Modality.IN_KIND: _l("In-kind donation"),
}
LINES = {
    Line.SOCIAL_INCLUSION: _l("Social inclusion and rights"),
    Line.ECONOMIC_DEVELOPMENT: _l("Economic development"),
    Line.SUSTAINABLE_TERRITORY: _l("Sustainable territory"),
    Line.HUMAN_DEVELOPMENT: _l("Human development"),
    Line.GOVERNANCE_PEACE: _l("Governance, peace and security"),
}
KINDS = {
    OrgKind.BILATERAL: _l("Government or bilateral agency"),
    OrgKind.MULTILATERAL: _l("Multilateral organisation"),
    OrgKind.FOUNDATION: _l("Foundation"),
    OrgKind.CITY_NETWORK: _l("City network"),
    OrgKind.COMPANY: _l("Company"),
    OrgKind.UNIVERSITY: _l("University"),
    OrgKind.NGO: _l("NGO"),
    OrgKind.LOCAL_PUBLIC: _l("Local public entity"),
}
SUPPLY_KINDS = [kind for kind in KINDS if kind != OrgKind.LOCAL_PUBLIC]
SDG_NAMES = [
    _l("No poverty"),
    _l("Zero hunger"),
    _l("Good health and well-being"),
    _l("Quality education"),
    _l("Gender equality"),
    _l("Clean water and sanitation"),
    _l("Affordable and clean energy"),
    _l("Decent work and economic growth"),
    _l("Industry, innovation and infrastructure"),
    _l("Reduced inequalities"),
    _l("Sustainable cities and communities"),
    _l("Responsible consumption and production"),
    _l("Climate action"),
    _l("Life below water"),
    _l("Life on land"),
    _l("Peace, justice and strong institutions"),
    _l("Partnerships for the goals"),
]
LANGUAGES = {
    "es": _l("Spanish"),
    "en": _l("English"),
    "fr": _l("French"),
    "pt": _l("Portuguese"),
    "de": _l("German"),
    "it": _l("Italian"),
}
# Latin America and the Caribbean, then the usual sources of cooperation (ISO 3166 alpha-2).
COUNTRIES = {
    "AR": _l("Argentina"),
    "BO": _l("Bolivia"),
    "BR": _l("Brazil"),
    "CL": _l("Chile"),
    "CO": _l("Colombia"),
    "CR": _l("Costa Rica"),
    "CU": _l("Cuba"),
    "DO": _l("Dominican Republic"),
    "EC": _l("Ecuador"),
    "SV": _l("El Salvador"),
    "GT": _l("Guatemala"),
    "HN": _l("Honduras"),
    "MX": _l("Mexico"),
    "NI": _l("Nicaragua"),
    "PA": _l("Panama"),
    "PY": _l("Paraguay"),
    "PE": _l("Peru"),
    "UY": _l("Uruguay"),
    "VE": _l("Venezuela"),
    "AU": _l("Australia"),
    "AT": _l("Austria"),
    "BE": _l("Belgium"),
    "CA": _l("Canada"),
    "CN": _l("China"),
    "DK": _l("Denmark"),
    "FI": _l("Finland"),
    "FR": _l("France"),
    "DE": _l("Germany"),
    "IE": _l("Ireland"),
    "IT": _l("Italy"),
    "JP": _l("Japan"),
    "KR": _l("South Korea"),
    "LU": _l("Luxembourg"),
    "NL": _l("Netherlands"),
    "NZ": _l("New Zealand"),
    "NO": _l("Norway"),
    "PT": _l("Portugal"),
    "ES": _l("Spain"),
    "SE": _l("Sweden"),
    "CH": _l("Switzerland"),
    "GB": _l("United Kingdom"),
    "US": _l("United States"),
}
REJECT_REASONS = {
    "out_of_scope": _l("It is outside the agency's scope."),
    "incomplete": _l("Some information was missing."),
    "not_eligible": _l("The city is not eligible."),
    "duplicate": _l("It duplicates another offer."),
    "other": _l("Another reason."),
}
LIST_FIELDS = ("modalities", "lines", "sdgs", "eligible_kinds", "eligible_countries")
OPTIONAL_FIELDS = ("amount_min", "amount_max", "currency", "opens_on", "deadline")
REQUIRED_FIELDS = ("title", "description", "language")
ORG_FIELDS = {
    "org_name": "name",
    "org_kind": "kind",
    "org_country": "country",
    "org_website": "website",
}


def _choices(labels: dict, blank: str | None = None) -> Callable[[], list]:
    """Choices computed per request, so the labels come in the page's language."""

    def build() -> list[tuple[str, str]]:
        out = [(str(code), str(label)) for code, label in labels.items()]
        return ([("", blank)] if blank is not None else []) + out

    return build


def _sort_key(text: str) -> str:
    # Alphabetical as people expect it: "Bélgica" between "Austria" and "Bolivia".
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def _sorted_countries() -> list[tuple[str, str]]:
    return sorted(
        ((code, str(name)) for code, name in COUNTRIES.items()), key=lambda pair: _sort_key(pair[1])
    )


class CheckboxesField(SelectMultipleField):
    """Several choices shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OfferFieldsForm(FlaskForm):
    """The offer's own fields: shown when submitting and when editing a submitted offer."""

    title = StringField(_l("Title"), render_kw={"maxlength": MAX_TITLE})
    description = TextAreaField(
        _l("Description"), render_kw={"rows": 8, "maxlength": MAX_DESCRIPTION}
    )
    modalities = CheckboxesField(_l("What you offer (modality)"), validate_choice=False)
    lines = CheckboxesField(_l("Thematic lines"), validate_choice=False)
    sdgs = CheckboxesField(_l("Sustainable Development Goals"), validate_choice=False)
    amount_min = StringField(_l("Minimum amount"), widget=NumberInput(step="0.01", min=0))
    amount_max = StringField(_l("Maximum amount"), widget=NumberInput(step="0.01", min=0))
    currency = SelectField(_l("Currency"), validate_choice=False)
    eligible_kinds = CheckboxesField(_l("Who may apply"), validate_choice=False)
    eligible_countries = SelectMultipleField(
        _l("Eligible countries"), validate_choice=False, render_kw={"size": 8}
    )
    opens_on = StringField(_l("Opens on"), widget=DateInput())
    deadline = StringField(_l("Deadline"), widget=DateInput())
    language = SelectField(_l("Language of the offer"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.modalities.choices = _choices(MODALITIES)()
        self.lines.choices = _choices(LINES)()
        self.sdgs.choices = [(str(n), f"{n} · {SDG_NAMES[n - 1]}") for n in SDGS]
        self.currency.choices = [("", _("No amount given"))] + [
            (c.value, c.value) for c in Currency
        ]
        self.eligible_kinds.choices = _choices(KINDS)()
        self.eligible_countries.choices = _sorted_countries()
        self.language.choices = [("", _("Choose…"))] + [
            (code, str(LANGUAGES[code])) for code in OFFER_LANGUAGES
        ]

    def offer_payload(self) -> dict:
        """Return the posted offer fields in the shape OfferIn loads."""
        payload: dict = {}
        for name in REQUIRED_FIELDS:
            value = (getattr(self, name).data or "").strip()
            if value:
                payload[name] = value
        for name in OPTIONAL_FIELDS:
            payload[name] = (getattr(self, name).data or "").strip() or None
        for name in LIST_FIELDS:
            payload[name] = list(getattr(self, name).data or [])
        payload["sdgs"] = [int(v) if str(v).isdigit() else v for v in payload["sdgs"]]
        return payload

    def show_errors(self, errors: dict) -> None:
        """Put schema or service errors (per field name) beside the matching fields."""
        for name, messages in errors.items():
            field = getattr(self, name, None)
            if field is None or not hasattr(field, "errors"):
                field = self.title
            field.errors = list(field.errors or []) + [
                translate_error(name, m) for m in flatten(messages)
            ]


class NewOfferForm(OfferFieldsForm):
    """Everything a partner sends with a new offer, with the honeypot."""

    organization_id = SelectField(_l("Your organisation"), validate_choice=False)
    org_name = StringField(_l("Name of the organisation"), render_kw={"maxlength": 200})
    org_kind = SelectField(_l("Kind of organisation"), validate_choice=False)
    org_country = SelectField(_l("Country"), validate_choice=False)
    org_website = StringField(_l("Website"), widget=URLInput(), render_kw={"maxlength": 300})
    contact_email = EmailField(_l("Contact email"), render_kw={"maxlength": 254})
    contact_public = BooleanField(
        _l("Show this email on the public opportunities page, for applicants to write to")
    )
    # The honeypot: hidden from people by CSS, filled by bots that fill every field.
    homepage = StringField(
        _l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"}
    )

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organization_id.choices = [("", _("— My organisation is not listed —"))] + [
            (str(org.id), org.name) for org in organizations
        ]
        self.org_kind.choices = [("", _("Choose…"))] + [
            (kind.value, str(KINDS[kind])) for kind in SUPPLY_KINDS
        ]
        self.org_country.choices = [("", _("Choose…"))] + _sorted_countries()

    def offer_payload(self) -> dict:
        payload = super().offer_payload()
        payload["contact_email"] = (self.contact_email.data or "").strip() or None
        payload["contact_private"] = not self.contact_public.data
        return payload

    def chosen_organization_id(self) -> int | None:
        value = (self.organization_id.data or "").strip()
        return int(value) if value.isdigit() else None

    def organization_payload(self) -> dict | None:
        """Return the new organisation's fields, or None when an existing one is chosen."""
        values = {
            target: (getattr(self, name).data or "").strip() for name, target in ORG_FIELDS.items()
        }
        if self.chosen_organization_id() is not None:
            return None
        payload = {k: v for k, v in values.items() if v}
        payload.setdefault("website", None)
        payload["side"] = "supply"
        return payload

    def organization_conflict(self) -> bool:
        """True when an organisation is chosen from the list and a new one is typed too."""
        return self.chosen_organization_id() is not None and bool(
            (self.org_name.data or "").strip()
        )

    def show_organization_errors(self, errors: dict) -> None:
        names = {target: name for name, target in ORG_FIELDS.items()}
        self.show_errors({names.get(key, "org_name"): messages for key, messages in errors.items()})


class FollowLinkForm(FlaskForm):
    email = EmailField(
        _l("The contact email you gave with the offer"), render_kw={"maxlength": 254}
    )


class WithdrawForm(FlaskForm):
    """A form with only its CSRF token: withdrawing is one confirmed button."""


def flatten(messages) -> list[str]:
    """Return marshmallow's messages (lists, or dicts per list index) as one flat list."""
    if isinstance(messages, str):
        return [messages]
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in flatten(value)]
    return [m for value in messages for m in flatten(value)]


_PATTERNS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (
        re.compile(r"Length must be between (\d+) and (\d+)\."),
        lambda m: _("Use between %(min)s and %(max)s characters.", min=m[1], max=m[2]),
    ),
    (
        re.compile(r"Shorter than minimum length (\d+)\."),
        lambda m: _("Use at least %(min)s characters.", min=m[1]),
    ),
    (
        re.compile(r"Longer than maximum length (\d+)\."),
        lambda m: _("Use at most %(max)s characters.", max=m[1]),
    ),
    (re.compile(r"Must be at most ([\d,]+)\."), lambda m: _("Must be at most %(max)s.", max=m[1])),
    (re.compile(r"Must be one of: .*"), lambda m: _("Choose one of the options.")),
]
_PLAIN = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field is required."),
    "Not a valid email address.": _l("Give a valid email address."),
    "Not a valid date.": _l("Give a valid date (YYYY-MM-DD)."),
    "Not a valid number.": _l("Give a number, e.g. 250000 (digits only)."),
    "Not a valid integer.": _l("Choose one of the options."),
    "Not a valid URL.": _l("Give a web address starting with https:// or http://."),
    "Unknown field.": _l("This field is not accepted."),
}


def translate_error(field: str, message: str) -> str:
    """Return a schema or service message in the page's language."""
    if field in LIST_FIELDS and message.startswith("Shorter than minimum length"):
        return _("Choose at least one.")
    if message in _PLAIN:
        return str(_PLAIN[message])
    for pattern, render in _PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return render(found)
    # The schema's own sentences ("Give the currency of the amounts.") are msgids as they are.
    return _(message)
