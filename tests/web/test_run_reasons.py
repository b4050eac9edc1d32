"""A retrain's reason, recorded in English, is read in the reader's language."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from web.staff.run_reasons import reason_text

REASONS = [
    (
        "adopted: 0.500 → 1.000 on 25 held-out projects (difference +0.500, 95 % interval "
        "[+0.500, +0.500])",
        "Adoptado: 0.500 → 1.000 en 25 proyectos reservados para la prueba (diferencia +0.500, "
        "intervalo del 95% de +0.500 a +0.500).",
    ),
    (
        "refused: not better (0.216 → 0.243 on 25 held-out projects, difference +0.027, 95 % "
        "interval [-0.067, +0.120])",
        "Rechazado: no es mejor (0.216 → 0.243 en 25 proyectos reservados para la prueba, "
        "diferencia +0.027, intervalo del 95% de -0.067 a +0.120).",
    ),
    (
        "refused: worse on lang=en 1.000 → 0.500; line=human_development 0.778 → 0.722",
        "Rechazado: empeoraría en lang=en 1.000 → 0.500; line=human_development 0.778 → 0.722.",
    ),
    (
        "refused: 12 accepted decisions, 25 needed (20 to learn from and 5 to measure on)",
        "Rechazado: 12 decisiones de aceptación, se necesitan 25 (20 para aprender y 5 para "
        "medir).",
    ),
    (
        "refused: 3 held-out projects, 5 needed",
        "Rechazado: 3 proyectos reservados para la prueba; se necesitan 5.",
    ),
    ("failed: not finished 6 hours after it was started", "No terminó en 6 horas."),
    ("failed: RuntimeError: the disk is full", "No terminó: RuntimeError: the disk is full"),
    ("something else", "something else"),
]


@pytest.mark.parametrize(("reason", "spanish"), REASONS)
def test_every_shape_the_service_writes_reads_in_spanish(app, reason, spanish):
    with app.test_request_context(), force_locale("es"):
        assert reason_text(reason) == spanish


def test_english_keeps_the_numbers(app):
    with app.test_request_context(), force_locale("en"):
        assert reason_text(REASONS[0][0]) == (
            "Adopted: 0.500 → 1.000 on 25 held-out projects (difference +0.500, 95% interval "
            "+0.500 to +0.500)."
        )
        assert reason_text(None) == ""


@pytest.mark.parametrize(("pattern", "projects"), [("amount", 100), ("amount", 12)])
def test_what_the_service_writes_is_recognised(app, session, settings, pattern, projects):
    from models.enums import RankerTrigger
    from services.matching import retrain
    from tests import retrain_world

    retrain_world.build(session, n_projects=projects, pattern=pattern)
    run = retrain.request_retrain(session, RankerTrigger.WEEKLY)
    run = retrain.run_retrain(session, settings, run.id)
    with app.test_request_context(), force_locale("es"):
        said = reason_text(run.reason)
    assert said != run.reason and said.startswith(("Adoptado: ", "Rechazado: "))
