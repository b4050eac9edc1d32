"""Every component the matcher can put in a pair has a name staff read, in both languages."""

from __future__ import annotations

from flask_babel import force_locale

from matcher.index import COMPONENTS
from web import vocabulary


def test_every_matcher_component_is_named_in_english_and_spanish(app):
    names = (*COMPONENTS, "feedback")
    with app.test_request_context(), force_locale("en"):
        english = {c: vocabulary.label("component", c) for c in names}
    with app.test_request_context(), force_locale("es"):
        spanish = {c: vocabulary.label("component", c) for c in names}
    assert all(english[c] != c for c in names), english  # not the bare code
    assert all(spanish[c] != english[c] for c in names), spanish
    assert spanish["record"] == "Tamaño del historial"
