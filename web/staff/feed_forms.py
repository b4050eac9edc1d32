"""Forms of the feeds page: a feed's configuration and an organisation mapping's decision."""

from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from models.enums import FeedKind

KIND_NAMES = {
    FeedKind.IATI: _l("IATI activities (XML)"),
    FeedKind.EU_FT: _l("EU Funding & Tenders"),
    FeedKind.GRANTS_GOV: _l("Grants.gov"),
    FeedKind.WORLD_BANK: _l("World Bank projects"),
}


def _words(text: str | None) -> list[str]:
    return [w.strip() for w in (text or "").split(",") if w.strip()]


class FeedForm(FlaskForm):
    """A feed's configuration (administrators)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    kind = SelectField(
        _l("Source"), choices=[SelectChoice(k.value, v) for k, v in KIND_NAMES.items()]
    )
    url = StringField(_l("Address (URL)"), validators=[DataRequired(), Length(max=1000)])
    query = TextAreaField(_l("Query (JSON)"), validators=[Optional()])
    api_key_env = StringField(_l("API key variable"), validators=[Optional(), Length(max=80)])
    interval_minutes = IntegerField(
        _l("Every (minutes)"), default=1440, validators=[DataRequired(), NumberRange(5, 525600)]
    )
    countries = StringField(_l("Countries"), validators=[Optional(), Length(max=500)])
    keywords = StringField(_l("Keywords"), validators=[Optional(), Length(max=1000)])
    programmes = StringField(_l("Programmes"), validators=[Optional(), Length(max=1000)])
    publish_at_once = BooleanField(_l("Publish new offers at once (no moderation)"))
    enabled = BooleanField(_l("Enabled"), default=True)

    def validate_query(self, field) -> None:
        if not (field.data or "").strip():
            return
        try:
            value = json.loads(field.data)
        except ValueError as exc:
            raise ValidationError(_l("Give valid JSON.")) from exc
        if not isinstance(value, dict):
            raise ValidationError(_l("Give a JSON object."))

    def values(self) -> dict:
        """The form's values as the feeds service takes them."""
        return {
            "name": self.name.data.strip(),
            "kind": self.kind.data,
            "url": self.url.data.strip(),
            "query": json.loads(self.query.data) if (self.query.data or "").strip() else {},
            "api_key_env": self.api_key_env.data,
            "interval_minutes": self.interval_minutes.data,
            "countries": _words(self.countries.data),
            "keywords": _words(self.keywords.data),
            "programmes": _words(self.programmes.data),
            "publish_at_once": self.publish_at_once.data,
            "enabled": self.enabled.data,
        }

    @classmethod
    def of(cls, feed) -> FeedForm:
        """The form filled from a stored feed."""
        return cls(
            data={
                "name": feed.name,
                "kind": str(feed.kind),
                "url": feed.url,
                "query": json.dumps(feed.query, indent=1) if feed.query else "",
                "api_key_env": feed.api_key_env or "",
                "interval_minutes": feed.interval_minutes,
                "countries": ", ".join(feed.countries or ()),
                "keywords": ", ".join(feed.keywords or ()),
                "programmes": ", ".join(feed.programmes or ()),
                "publish_at_once": feed.publish_at_once,
                "enabled": feed.enabled,
            }
        )


class MappingForm(FlaskForm):
    """Confirm a suggested mapping (with the ally chosen) or reject it."""

    organization_id = SelectField(_l("Ally"), coerce=int, validators=[Optional()])
    decision = SelectField(
        choices=[SelectChoice("confirm", _l("Confirm")), SelectChoice("reject", _l("Reject"))]
    )
