"""Settings come from the environment only, and production refuses unsafe ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import config

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_default_with_nothing_set(tmp_path):
    settings = config.from_env({"COOPMATCH_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'coopmatch.sqlite3'}"
    assert settings.eager_tasks and settings.broker_url == "memory://"
    assert settings.ratelimit_storage_uri == "memory://"
    assert settings.timezone == "America/Bogota"
    settings.check()


def test_the_embedded_default_makes_its_own_secret_and_keeps_it(tmp_path):
    first = config.from_env({"COOPMATCH_INSTANCE_PATH": str(tmp_path)})
    again = config.from_env({"COOPMATCH_INSTANCE_PATH": str(tmp_path)})
    other = config.from_env({"COOPMATCH_INSTANCE_PATH": str(tmp_path / "elsewhere")})
    assert first.secret_key == again.secret_key != config.DEV_SECRET_KEY
    assert len(first.secret_key) >= 48 and other.secret_key != first.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("value", ["Production", "prod", "production ", "", "test"])
def test_an_unknown_environment_is_refused(tmp_path, value):
    with pytest.raises(config.ConfigError, match="COOPMATCH_ENV"):
        config.from_env({"COOPMATCH_ENV": value, "COOPMATCH_INSTANCE_PATH": str(tmp_path)})


def test_production_urls(tmp_path):
    settings = config.from_env(
        {
            "DATABASE_URL": "postgres://u@db/coop",
            "REDIS_URL": "redis://cache:6379/0",
            "COOPMATCH_INSTANCE_PATH": str(tmp_path),
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@db/coop"
    assert not settings.eager_tasks and settings.broker_url == "redis://cache:6379/0"


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": config.DEV_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 40}, "SQLite"),
        ({"SECRET_KEY": "x" * 40, "DATABASE_URL": "postgresql://db/x"}, "REDIS_URL"),
    ],
)
def test_production_refuses_unsafe_settings(env, message):
    settings = config.from_env({"COOPMATCH_ENV": "production", **env})
    with pytest.raises(config.ConfigError, match=message):
        settings.check()


def test_bad_numbers_are_a_config_error():
    with pytest.raises(config.ConfigError):
        config.from_env({"COOPMATCH_PER_PAGE": "many"})
    with pytest.raises(config.ConfigError):
        config.from_env({"COOPMATCH_MATCH_WEIGHTS": "text=heavy"})


def test_app_refuses_to_start_with_one_clear_line(tmp_path):
    env = {
        "COOPMATCH_ENV": "production",
        "COOPMATCH_INSTANCE_PATH": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    code = "from web.app import create_app; create_app()"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0], result.stderr


def test_index_directory_and_drift(tmp_path):
    default = config.from_env({"COOPMATCH_INSTANCE_PATH": str(tmp_path)})
    assert default.index_path == tmp_path / "index" and default.refit_drift == 0.1
    shared = config.from_env(
        {
            "COOPMATCH_INSTANCE_PATH": str(tmp_path),
            "COOPMATCH_INDEX_DIR": "/srv/coopmatch/index",
            "COOPMATCH_REFIT_DRIFT": "0.25",
        }
    )
    assert str(shared.index_path) == "/srv/coopmatch/index" and shared.refit_drift == 0.25
    refused = config.from_env(
        {"COOPMATCH_INSTANCE_PATH": str(tmp_path), "COOPMATCH_REFIT_DRIFT": "0"}
    )
    with pytest.raises(config.ConfigError, match="COOPMATCH_REFIT_DRIFT"):
        refused.check()


def test_document_settings(tmp_path):
    default = config.from_env({"COOPMATCH_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 20})
    assert default.documents_path == tmp_path / "documents"
    assert default.document_max_bytes == 20 * 1024 * 1024
    chosen = config.from_env(
        {
            "COOPMATCH_INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "x" * 20,
            "COOPMATCH_DOCUMENT_DIR": str(tmp_path / "files"),
            "COOPMATCH_DOCUMENT_MAX_MB": "5",
        }
    )
    assert chosen.documents_path == tmp_path / "files"
    assert chosen.document_max_bytes == 5 * 1024 * 1024
    zero = config.from_env(
        {"COOPMATCH_INSTANCE_PATH": str(tmp_path), "COOPMATCH_DOCUMENT_MAX_MB": "0"}
    )
    with pytest.raises(config.ConfigError, match="COOPMATCH_DOCUMENT_MAX_MB"):
        zero.check()
