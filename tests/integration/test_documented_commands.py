"""The README's production commands work exactly as written, from the repository root.

Each process is started the way the README writes it (the project's environment's scripts on
PATH, the working directory the repository root, configuration in the environment only) and
must come up: gunicorn answers /healthz, a worker says it is ready, beat starts its schedule,
and `flask --app web` commands migrate and create a user.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import redis

from tests.conftest import OUTPUT_DIR, TEST_REDIS_URL, missing_service, scratch_database

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def production_env(pg_admin, tmp_path_factory):
    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        missing_service(f"Redis is not reachable at {TEST_REDIS_URL}: {exc}")
    with scratch_database(pg_admin, "commands") as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COOPMATCH_")}
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            COOPMATCH_ENV="production",
            SECRET_KEY="a-long-random-secret-for-the-command-tests-0123456789",
            DATABASE_URL=url,
            REDIS_URL=TEST_REDIS_URL,
            COOPMATCH_INSTANCE_PATH=str(tmp_path_factory.mktemp("instance")),
        )
        env.pop("PYTHONPATH", None)  # nothing but the installed project
        yield env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(command: str, env: dict, name: str) -> tuple[subprocess.Popen, Path]:
    log = OUTPUT_DIR / "commands" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        command,
        shell=True,  # the command line exactly as the README prints it
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc, log


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait_for_text(proc: subprocess.Popen, log: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        if text in output:
            return
        if proc.poll() is not None:
            pytest.fail(f"exited before printing {text!r}:\n{output[-3000:]}")
        time.sleep(0.2)
    pytest.fail(f"no {text!r} within {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def _flask(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["flask", "--app", "web", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_flask_commands_migrate_and_create_a_user(production_env):
    upgraded = _flask(production_env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    made = _flask(
        production_env,
        "create-user",
        "ana@agency.gov.co",
        "--role",
        "staff",
        "--password-stdin",
        stdin="a-long-enough-password\n",
    )
    assert made.returncode == 0, made.stderr
    assert "created staff ana@agency.gov.co" in made.stdout


def test_gunicorn_serves_the_app(production_env):
    port = _free_port()
    env = dict(production_env, GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{port} --workers 1")
    proc, log = _start('gunicorn "web.app:create_app()"', env, "gunicorn")
    try:
        _wait_for_text(proc, log, "Booting worker")
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    assert r.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        _stop(proc)


def test_celery_worker_starts_from_the_repository_root(production_env):
    import config as app_config
    from services import task_names
    from workers.celery_app import broker_client

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    proc, log = _start("celery -A workers.main worker", production_env, "worker")
    try:
        _wait_for_text(proc, log, "[queues]")
        client = broker_client(app_config.from_env(production_env))
        # The worker is up when it runs a task: the outbox sweep, with nothing waiting.
        assert client.send_task(task_names.SWEEP_OUTBOX).get(timeout=60) == 0
    finally:
        _stop(proc)
    assert "ModuleNotFoundError" not in log.read_text(errors="replace")


def test_celery_beat_starts_from_the_repository_root(production_env):
    proc, log = _start("celery -A workers.main beat", production_env, "beat")
    try:
        _wait_for_text(proc, log, "LocalTime ->")
        time.sleep(3)  # past start-up: the schedule is read and the first sweep is due
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
    finally:
        _stop(proc)
    assert "Error" not in log.read_text(errors="replace")
    instance = Path(production_env["COOPMATCH_INSTANCE_PATH"])
    assert list(instance.glob("celerybeat-schedule*"))  # its record, in the instance folder
    assert not list(ROOT.glob("celerybeat-schedule*"))
