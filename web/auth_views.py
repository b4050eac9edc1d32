"""Sign-in, sign-out, password change and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from services import sign_in
from services.errors import Invalid
from web import form_errors, sessions, vocabulary
from web.db import db_session, settings
from web.extensions import limiter

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(12, 200)])
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(), EqualTo("new_password")]
    )


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=vocabulary.ui_language_choices())


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


def _posted_email() -> str:
    return sign_in.normalise_email(request.form.get("email", ""))[:254]


def _address_and_email() -> str:
    return f"{get_remote_address()}|{_posted_email()}"


def _failed(response) -> bool:
    return response.status_code == 400  # a refused sign-in; a success redirects


# Three limits (settings COOPMATCH_LOGIN_LIMIT_*): every attempt per address; failures per
# (address, account), which a stranger elsewhere cannot use up for the account's owner; and
# failures per account from anywhere, a ceiling on slow guessing spread over many addresses.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: settings().login_limit_ip, methods=["POST"])
@limiter.limit(
    lambda: settings().login_limit_account,
    key_func=_address_and_email,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    lambda: settings().login_limit_account_total,
    key_func=_posted_email,
    methods=["POST"],
    deduct_when=_failed,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = sign_in.sign_in(db_session(), form.email.data, form.password.data)
        except sign_in.SignInRefused:
            form.password.errors.append(
                _("Wrong email or password, or the account may not sign in now.")
            )
        else:
            sessions.start(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("home"))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 400


@bp.post("/logout")
@login_required
def logout():
    sessions.end()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            version = sign_in.change_password(
                db_session(), current_user, form.current_password.data, form.new_password.data
            )
        except Invalid as exc:
            form_errors.show(form, exc.fields, fallback="new_password")
        else:
            sessions.carry_version(version)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("home"))
    return render_template("auth/password.html", form=form), 200 if not form.errors else 400


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["lang"] = form.language.data
        if current_user.is_authenticated:
            sign_in.set_language(db_session(), current_user, form.language.data)
    return redirect(_safe_next(request.form.get("next")) or url_for("home"))
