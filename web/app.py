"""The application factory: the one place in the web that wires settings, the runtime, the
task sender, extensions and blueprints together."""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

import config as app_config
from services.runtime import Runtime
from web import (
    api,
    auth_views,
    calendars,
    cli,
    db,
    digest,
    documents,
    errors,
    i18n,
    input_guard,
    nav,
    opportunities,
    pages,
    public,
    searches,
    security,
    sessions,
    staff,
)
from web.api.health import healthz
from web.extensions import babel, csrf, limiter, login_manager
from workers import main as workers  # the wiring exception: how this app's tasks reach a worker


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

    runtime = Runtime.create(settings, session_factory)
    # Tasks sent from this app: to Redis when configured, else run at once in this process.
    runtime.use_sender(workers.sender_for(runtime))
    db.init_app(app, runtime)
    documents.init_app(app)  # before the CSRF check reads an upload's form
    _init_extensions(app, settings)
    sessions.init_app(app, settings)
    security.register(app, settings.production)
    if settings.proxy_hops:  # behind reverse proxies: the client's address and scheme are theirs
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=settings.proxy_hops,
            x_proto=settings.proxy_hops,
            x_host=settings.proxy_hops,
        )
    input_guard.init_app(app)  # before any route is added: bounds `<int:...>`
    nav.init_app(app, [*opportunities.NAV, *staff.NAV, *digest.NAV, *searches.NAV])
    errors.register(app)
    for blueprint in (
        api.bp,
        auth_views.bp,
        digest.bp,
        staff.bp,
        public.bp,
        opportunities.bp,
        searches.bp,
        calendars.bp,
    ):
        app.register_blueprint(blueprint)
    app.add_url_rule("/healthz", "healthz", healthz)
    pages.register(app)
    cli.register(app)
    return app


def _init_extensions(app: Flask, settings: app_config.Settings) -> None:
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
    login_manager.user_loader(sessions.load_user)
    app.jinja_env.globals["get_locale"] = get_locale
