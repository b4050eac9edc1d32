"""The public offer forms: WTForms draws the fields and checks CSRF; OfferIn judges the values.

The fields carry no validators of their own: every rule lives in `web.schemas.OfferIn` (and
`OrganizationIn`), which the API uses too, so the form and the API cannot disagree. The
schema's messages are shown beside the fields by web.form_errors, in the page's language.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, NumberInput, URLInput

from models.enums import SDGS, Currency, OrgKind
from web import documents, form_errors, vocabulary
from web.schemas import MAX_DESCRIPTION, MAX_TITLE, OFFER_LANGUAGES

SUPPLY_KINDS = [kind.value for kind in OrgKind if kind != OrgKind.LOCAL_PUBLIC]
LIST_FIELDS = ("modalities", "lines", "sdgs", "eligible_kinds", "eligible_countries")
OPTIONAL_FIELDS = ("amount_min", "amount_max", "currency", "opens_on", "deadline")
REQUIRED_FIELDS = ("title", "description", "language")
ORG_FIELDS = {
    "org_name": "name",
    "org_kind": "kind",
    "org_country": "country",
    "org_website": "website",
}


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
        self.modalities.choices = vocabulary.choices("modality")
        self.lines.choices = vocabulary.choices("line")
        self.sdgs.choices = [(str(n), f"{n} · {vocabulary.label('sdg', n)}") for n in SDGS]
        self.currency.choices = [("", _("No amount given"))] + [
            (c.value, c.value) for c in Currency
        ]
        self.eligible_kinds.choices = vocabulary.choices("kind")
        self.eligible_countries.choices = vocabulary.sorted_choices("country")
        self.language.choices = vocabulary.choices(
            "offer_language", _("Choose…"), only=OFFER_LANGUAGES
        )

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
        form_errors.show(self, errors, fallback="title")


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
    documents = MultipleFileField(
        _l("Call documents"), render_kw={"accept": documents.ACCEPT, "multiple": True}
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
        self.org_kind.choices = vocabulary.choices("kind", _("Choose…"), only=SUPPLY_KINDS)
        self.org_country.choices = [("", _("Choose…"))] + vocabulary.sorted_choices("country")

    def offer_payload(self) -> dict:
        payload = super().offer_payload()
        payload["contact_email"] = (self.contact_email.data or "").strip() or None
        payload["contact_private"] = not self.contact_public.data
        return payload

    def uploads(self) -> list:
        """The files chosen in the documents field (an empty file input sends none)."""
        return [f for f in self.documents.data or [] if getattr(f, "filename", "")]

    def chosen_organization_id(self) -> int | None:
        value = (self.organization_id.data or "").strip()
        # ASCII digits only ("²".isdigit() is True, int("²") fails) and short enough for an id.
        return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None

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
        form_errors.show(self, errors, rename=names, fallback="org_name")


class DocumentForm(FlaskForm):
    """One more call document for a submitted offer (services.documents judges the file)."""

    file = FileField(_l("Document (PDF, DOCX, ODT or TXT)"), render_kw={"accept": documents.ACCEPT})


class FollowLinkForm(FlaskForm):
    email = EmailField(
        _l("The contact email you gave with the offer"), render_kw={"maxlength": 254}
    )


class WithdrawForm(FlaskForm):
    """A form with only its CSRF token: withdrawing is one confirmed button."""
