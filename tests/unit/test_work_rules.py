"""The small rules of staff work: reminder thresholds, their setting, and @mention handles."""

from __future__ import annotations

import pytest

import config as app_config
from services.work import notes, reminders


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(15, None), (14, 14), (4, 14), (3, 3), (0, 3), (-1, None)],
)
def test_a_match_gets_the_smallest_threshold_its_days_left_fit_in(days_left, expected):
    assert reminders.threshold_for(days_left, (14, 3)) == expected


def test_reminder_days_are_read_from_the_environment():
    assert app_config.from_env({}).reminder_days == (14, 3)
    assert app_config.from_env({"COOPMATCH_REMINDER_DAYS": "3, 30,7"}).reminder_days == (30, 7, 3)
    for bad in ("soon", "-1", "400", ","):
        with pytest.raises(app_config.ConfigError):
            app_config.from_env({"COOPMATCH_REMINDER_DAYS": bad})


def test_mention_handles_are_the_local_part_of_an_email_without_trailing_punctuation():
    text = "Hi @Ana.Gomez, ask @luis. Not ana@agency.gov.co nor @@x; (@carla-m)."
    assert notes.handles_in(text) == {"ana.gomez", "luis", "carla-m"}


def test_reminders_run_daily_from_beat_at_the_configured_hour():
    from celery.schedules import crontab

    from services import task_names
    from workers.celery_app import beat_schedule

    settings = app_config.from_env({"COOPMATCH_REMINDER_HOUR": "9"})
    entry = beat_schedule(settings)["deadline-reminders"]
    assert entry["task"] == task_names.REMINDERS_SEND_DUE
    assert entry["schedule"] == crontab(hour=9, minute=30)
