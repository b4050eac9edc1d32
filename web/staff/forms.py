"""Forms of the staff workspace (Flask-WTF: every POST form carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    FloatField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from services import reasons
from web import vocabulary

CURRENCIES = [SelectChoice(c, c) for c in ("COP", "USD", "EUR")]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QueueFilterForm(FlaskForm):
    """The queue's filters, read from the query string (GET: no CSRF needed)."""

    class Meta:
        csrf = False

    line = SelectField(
        _l("Thematic line"),
        choices=vocabulary.choices("line", _l("Any line")),
        validators=[Optional()],
    )
    modality = SelectField(
        _l("Modality"),
        choices=vocabulary.choices("modality", _l("Any modality")),
        validators=[Optional()],
    )
    kind = SelectField(
        _l("Kind of ally"),
        choices=vocabulary.choices("kind", _l("Any kind")),
        validators=[Optional()],
    )
    min_score = FloatField(_l("Minimum score"), validators=[Optional(), NumberRange(0, 1)])
    deadline_days = IntegerField(
        _l("Deadline within (days)"), validators=[Optional(), NumberRange(0, 3650)]
    )
    status = SelectField(
        _l("Status"),
        choices=vocabulary.choices("match_status"),
        default="open",
        validators=[Optional()],
    )


class DecisionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    reason = SelectField(
        _l("Reason"),
        choices=vocabulary.choices("reject_reason", _l("Choose…")),
        validators=[Optional()],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=reasons.MAX_NOTE)])
    next = HiddenField()


class BulkRejectForm(FlaskForm):
    match_ids = SelectMultipleField(coerce=int, validate_choice=False)
    reason = SelectField(
        _l("Reason"),
        choices=vocabulary.choices("reject_reason", _l("Choose…")),
        validators=[DataRequired(_l("Choose a reason for the rejection."))],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=reasons.MAX_NOTE)])
    next = HiddenField()


class UndoForm(FlaskForm):
    match_ids = SelectMultipleField(coerce=int, validate_choice=False)
    next = HiddenField()


class ActionForm(FlaskForm):
    """A bare POST form: its only field is the CSRF token."""

    next = HiddenField()


class OfferRejectForm(FlaskForm):
    reason = SelectField(
        _l("Reason"),
        choices=vocabulary.choices("offer_reject_reason", _l("Choose…")),
        validators=[DataRequired(_l("Choose a reason for the rejection."))],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])


class OfferEditForm(FlaskForm):
    """Every field moderation.edit takes (moderation.EDITABLE); the service judges the rules."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=20000)])
    modalities = MultiCheckboxField(_l("Modalities"), choices=vocabulary.choices("modality"))
    lines = MultiCheckboxField(_l("Thematic lines"), choices=vocabulary.choices("line"))
    sdgs = MultiCheckboxField(_l("Sustainable Development Goals"), coerce=int)
    eligible_kinds = MultiCheckboxField(_l("Who may apply"), choices=vocabulary.choices("kind"))
    eligible_countries = SelectMultipleField(
        _l("Eligible countries (none chosen: every country)"),
        validate_choice=False,
        render_kw={"size": 8},
    )
    amount_min = DecimalField(
        _l("Minimum amount"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    amount_max = DecimalField(
        _l("Maximum amount"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    currency = SelectField(
        _l("Currency"), choices=[SelectChoice("", "—"), *CURRENCIES], validators=[Optional()]
    )
    opens_on = DateField(_l("Opens on"), validators=[Optional()])
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    language = SelectField(_l("Language"), choices=vocabulary.choices("offer_language"))
    contact_email = EmailField(
        _l("Contact email"), validators=[Optional(), Email(), Length(max=254)]
    )
    contact_private = BooleanField(_l("Keep the contact email off the public opportunities page"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sdgs.choices = [
            SelectChoice(str(n), f"{n} · {vocabulary.label('sdg', n)}") for n in vocabulary.SDGS
        ]
        # Codes the offer holds stay choosable even when the list does not name them.
        countries = vocabulary.sorted_choices("country")
        known = {choice.value for choice in countries}
        held = [c for c in (self.eligible_countries.data or []) if c not in known]
        self.eligible_countries.choices = [*countries, *(SelectChoice(c, c) for c in held)]


class DocumentForm(FlaskForm):
    """One document to attach; the service judges the file (services.documents)."""

    file = FileField(_l("Document (PDF, DOCX, ODT or TXT)"), validators=[FileRequired()])
    public = BooleanField(_l("Show it on the public opportunities page"))
    next = HiddenField()


class OwnerForm(FlaskForm):
    """Who follows a record: a staff member, or nobody (0); choices set per request."""

    owner_id = SelectField(_l("Owner"), coerce=int, choices=[])
    next = HiddenField()


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired()])


class AllianceForm(FlaskForm):
    stage = SelectField(_l("Stage"), choices=vocabulary.choices("stage"))
    amount = DecimalField(
        _l("Amount mobilised"), places=2, validators=[InputRequired(), NumberRange(min=0)]
    )
    currency = SelectField(_l("Currency"), choices=CURRENCIES)
    usd_rate = DecimalField(
        _l("USD per unit of the currency"),
        places=None,
        validators=[InputRequired(), NumberRange(min=0.0000000001)],
    )
    started_on = DateField(_l("Started on"), validators=[InputRequired()])
    formalised_on = DateField(_l("Formalised on"), validators=[Optional()])
    ended_on = DateField(_l("Ended on"), validators=[Optional()])


class NewUserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=vocabulary.choices("role"), default="staff")
    organization_id = SelectField(
        _l("Organisation (partners only)"), coerce=int, choices=[], validate_choice=False
    )
    language = SelectField(_l("Language"), choices=vocabulary.ui_language_choices())
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(12, 200)])


class UserChangeForm(FlaskForm):
    role = SelectField(_l("Role"), choices=vocabulary.choices("role"))
    organization_id = SelectField(
        _l("Organisation (partners only)"), coerce=int, choices=[], validate_choice=False
    )
    active = BooleanField(_l("May sign in"))
