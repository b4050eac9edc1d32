"""The application factory: the one place that wires settings, database, blueprints and tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, g
from sqlalchemy.orm import Session, sessionmaker

import config as app_config
from models.db import make_engine, make_session_factory


@dataclass
class Runtime:
    """What the app holds for its whole life: settings, engine and the session factory."""

    settings: app_config.Settings
    session_factory: sessionmaker[Session]
    engine: Any = None


def create_app(
    test_config: dict | None = None,
    settings: app_config.Settings | None = None,
    session_factory: sessionmaker[Session] | None = None,
) -> Flask:
    """Create the CoopMatch Flask app from the environment (or the given settings)."""
    try:
        settings = settings or app_config.from_env()
        settings.check()
    except app_config.ConfigError as exc:
        raise SystemExit(f"CoopMatch cannot start: {exc}") from None
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.production,
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,  # Redis down: limit in memory, keep serving
        BABEL_DEFAULT_LOCALE="es",
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config:
        app.config.update(test_config)
    settings.instance_path.mkdir(parents=True, exist_ok=True)

    engine = None
    if session_factory is None:
        engine = make_engine(settings.database_url)
        session_factory = make_session_factory(engine)
    app.extensions["coopmatch"] = Runtime(settings, session_factory, engine)
    from workers import main as worker_main

    # Tasks sent from this process use its settings; on the embedded default they run here.
    worker_main.configure(settings, session_factory)

    @app.teardown_appcontext
    def _close_session(_exc) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    _init_web(app, settings)
    return app


def _init_web(app: Flask, settings: app_config.Settings) -> None:
    from web import api, auth_views, cli, errors, i18n, nav, pages, security
    from web.api.health import healthz
    from web.extensions import babel, csrf, limiter, login_manager

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        i18n.compile_translations(settings.instance_path / "translations")
    )
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    csrf.exempt(api.bp)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str):
        from models import User

        user = db_session().get(User, int(user_id))
        return user if user is not None and user.active else None

    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
    security.register(app, settings.production)
    nav.init_app(app)
    errors.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(auth_views.bp)
    from web.digest import bp as digest_bp  # weekly digests (issue 7)

    app.register_blueprint(digest_bp)
    from web.staff import bp as staff_bp  # the staff workspace (issue 5)

    app.register_blueprint(staff_bp)
    from web.public import bp as public_bp  # the public offer forms (issue 6)

    app.register_blueprint(public_bp)
    app.add_url_rule("/healthz", "healthz", healthz)
    pages.register(app)
    cli.register(app)


def runtime(app: Flask) -> Runtime:
    return app.extensions["coopmatch"]


def db_session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    from flask import current_app

    if "db" not in g:
        g.db = runtime(current_app).session_factory()
    return g.db
