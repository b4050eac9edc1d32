"""Forms of saved searches: save the current search, change how often it emails."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

FREQUENCIES = {
    "immediate": _l("As soon as there is something new"),
    "daily": _l("Once a day"),
    "weekly": _l("Once a week"),
}


def frequency_choices(blank=None) -> list[SelectChoice]:
    items = [SelectChoice(code, text) for code, text in FREQUENCIES.items()]
    return ([SelectChoice("", blank)] if blank is not None else []) + items


class SaveSearchForm(FlaskForm):
    """Save the search shown (its filters ride along as hidden fields named like the query)."""

    scope = HiddenField()
    name = StringField(_l("Name of the search"), render_kw={"maxlength": 120})
    frequency = SelectField(_l("Email me what is new"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.frequency.choices = frequency_choices(_l("No email"))


class FrequencyForm(FlaskForm):
    frequency = SelectField(_l("Email me what is new"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.frequency.choices = frequency_choices(_l("No email"))


class ConfirmForm(FlaskForm):
    """Only the CSRF token: confirming is one button, so a link scanner's GET confirms nothing."""
