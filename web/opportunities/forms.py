"""The public page's search form (GET) and the email-subscription form (POST, CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from services import opportunities
from web import vocabulary
from web.searches.forms import frequency_choices


class SearchForm(FlaskForm):
    """The filters, read from the query string; the service judges the values."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), render_kw={"maxlength": opportunities.MAX_Q})
    line = SelectField(_l("Thematic line"), validate_choice=False)
    modality = SelectField(_l("Modality"), validate_choice=False)
    kind = SelectField(_l("Kind of ally"), validate_choice=False)
    country = SelectField(_l("Open to applicants from"), validate_choice=False)
    closes_within = IntegerField(
        _l("Closes within (days)"), validators=[Optional()], render_kw={"min": 0, "max": 3650}
    )
    sort = SelectField(_l("Order"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.line.choices = vocabulary.choices("line", _l("Any line"))
        self.modality.choices = vocabulary.choices("modality", _l("Any modality"))
        self.kind.choices = vocabulary.choices(
            "kind", _l("Any kind"), only=opportunities.ALLY_KINDS
        )
        self.country.choices = [
            SelectChoice("", _l("Any country")),
            *vocabulary.sorted_choices("country"),
        ]
        self.sort.choices = [
            SelectChoice("", _l("Best fit when searching, else nearest deadline")),
            SelectChoice("deadline", _l("Nearest deadline")),
            SelectChoice("relevance", _l("Best fit")),
            SelectChoice("newest", _l("Newest")),
        ]


class AlertForm(FlaskForm):
    """Subscribe an email address to the current search (double opt-in)."""

    name = StringField(_l("Name of the search"), render_kw={"maxlength": 120})
    email = EmailField(_l("Your email"), render_kw={"maxlength": 254, "autocomplete": "email"})
    frequency = SelectField(_l("How often"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.frequency.choices = frequency_choices()
